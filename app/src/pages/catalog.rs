//! `/catalog`: the software catalog list.

use leptos::prelude::*;
use leptos_meta::Title;

/// The catalog list page.
#[component]
pub fn CatalogPage() -> impl IntoView {
    view! {
        <Title text="Catalog"/>
        <section class="page">
            <h1>"Catalog"</h1>
            <p class="empty-state">
                "No entities are loaded. Catalog ingestion from "
                <code>"catalog.locations"</code>
                " is not part of this build yet."
            </p>
        </section>
    }
}
