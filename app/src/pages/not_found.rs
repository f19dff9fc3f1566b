//! The 404 page. On the server it also sets the HTTP status, so crawlers, scripts and
//! monitoring see a real 404 rather than a 200 with an error message.

use leptos::prelude::*;
use leptos_meta::Title;

/// Shown for any path no route matches.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <Title text="Page not found"/>
        <section class="page">
            <h1>"Page not found"</h1>
            <p>"Nothing lives at this address. It may have been moved or removed."</p>
            <p><a href="/catalog">"Go to the catalog"</a></p>
        </section>
    }
}
