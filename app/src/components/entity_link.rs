//! A link to an entity; dangling references are shown as text marked "missing".

use leptos::prelude::*;

use crate::wire::EntityLink;

/// Renders `link` as an `<a>`, or, for a missing entity, as its ref with a "missing" marker.
#[component]
pub fn EntityLinkView(link: EntityLink) -> impl IntoView {
    if link.exists {
        view! { <a href=link.href title=link.entity_ref>{link.label}</a> }.into_any()
    } else {
        view! {
            <span class="dangling" title="This entity is not in the catalog">
                {link.label} <span class="chip muted">"missing"</span>
            </span>
        }
        .into_any()
    }
}
