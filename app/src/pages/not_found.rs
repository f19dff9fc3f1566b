//! The 404 page. On the server it also sets the HTTP status, so crawlers, scripts and
//! monitoring see a real 404 rather than a 200 with an error message.

use leptos::prelude::*;
use leptos_meta::Title;

/// Shown for any path no route matches (`entity`: the entity page of a ref the catalog does not
/// have, which the page names).
#[component]
pub fn NotFound(#[prop(optional, into)] entity: Option<String>) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    let (title, text) = match entity {
        Some(r) => (
            "Entity not found".to_string(),
            format!("The catalog has no entity {r} (or you may not see it). It may have been renamed, moved or removed, or its catalog file may have a problem (see Catalog problems)."),
        ),
        None => (
            "Page not found".to_string(),
            "Nothing lives at this address. It may have been moved or removed.".to_string(),
        ),
    };
    view! {
        <Title text=title.clone()/>
        <section class="page">
            <h1>{title}</h1>
            <p>{text}</p>
            <p><a href="/catalog">"Go to the catalog"</a></p>
        </section>
    }
}
