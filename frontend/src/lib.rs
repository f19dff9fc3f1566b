//! The browser entry point: hydrates the HTML the server rendered.
//!
//! Deliberately nothing else lives here. Credentials, cluster clients and the catalog engine are
//! server-only (`server` crate) and must never enter this crate's dependency tree;
//! `scripts/check-wasm-deps.sh` enforces that in CI.

#![recursion_limit = "256"]

/// Called by the generated JS glue once the wasm module is loaded. Hydration is asynchronous: a
/// page's own code is a separate wasm chunk (see `app::App`), loaded before that page hydrates.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let Some(body) = leptos::prelude::document().body() else {
        return;
    };
    wasm_bindgen_futures::spawn_local(async {
        let app = leptos::mount::hydrate_from_async(body, app::App).await;
        app.forget();
        // Every chunk is loaded and event handlers are attached now. Mark it, so automation (and
        // people debugging with devtools) can tell a hydrated page from a server-rendered one.
        if let Some(root) = leptos::prelude::document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}
