//! The page chrome: header with the portal title, the collapsible navigation sidebar, and the
//! main content area. Owns the `app.title` resource and the page `<title>` format.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

use crate::backend::get_portal_info;

/// Header, sidebar and content area around every page.
#[component]
pub fn Layout(
    /// The routed page.
    children: Children,
) -> impl IntoView {
    // Blocking: the title must be in the server-rendered <head> and header, not filled in later.
    let info = Resource::new_blocking(|| (), |_| get_portal_info());
    let (nav_open, set_nav_open) = signal(true);

    view! {
        <div class="shell" class:nav-collapsed=move || !nav_open.get()>
            <header class="topbar">
                <button
                    type="button"
                    class="nav-toggle"
                    aria-controls="sidebar"
                    aria-expanded=move || nav_open.get().to_string()
                    on:click=move |_| set_nav_open.update(|open| *open = !*open)
                >
                    <span class="nav-toggle-icon" aria-hidden="true">"☰"</span>
                    {move || if nav_open.get() { "Hide navigation" } else { "Show navigation" }}
                </button>
                <Suspense fallback=|| view! { <span class="brand">"Greenroom"</span> }>
                    {move || Suspend::new(async move {
                        let title = match info.await {
                            Ok(info) => info.title,
                            Err(_) => "Greenroom".to_string(),
                        };
                        let in_page_title = title.clone();
                        view! {
                            <Title formatter=move |page: String| {
                                if page.is_empty() {
                                    in_page_title.clone()
                                } else {
                                    format!("{page} | {in_page_title}")
                                }
                            }/>
                            <a class="brand" href="/catalog">{title}</a>
                        }
                    })}
                </Suspense>
            </header>
            <nav id="sidebar" class="sidebar" aria-label="Main" hidden=move || !nav_open.get()>
                <ul>
                    <li><NavLink href="/catalog" label="Catalog"/></li>
                    <li><NavLink href="/catalog-problems" label="Catalog problems"/></li>
                </ul>
            </nav>
            <main class="content">{children()}</main>
        </div>
    }
}

/// A sidebar link that marks itself as the current page.
#[component]
fn NavLink(href: &'static str, label: &'static str) -> impl IntoView {
    let location = use_location();
    let current = move || {
        let path = location.pathname.get();
        path == href || path.starts_with(&format!("{href}/"))
    };
    view! {
        <a href=href aria-current=move || current().then_some("page")>{label}</a>
    }
}
