//! The page chrome: header with the portal title, the collapsible navigation sidebar, and the
//! main content area. Owns the `app.title` resource and the page `<title>` format.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

use crate::backend::{get_portal_info, get_viewer};
use crate::wire::Viewer;

/// Header, sidebar and content area around every page.
#[component]
pub fn Layout(
    /// The routed page.
    children: Children,
) -> impl IntoView {
    // Blocking: the title must be in the server-rendered <head> and header, not filled in later.
    let info = Resource::new_blocking(|| (), |_| get_portal_info());
    let viewer = Resource::new_blocking(|| (), |_| get_viewer());
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
                <crate::pages::search::HeaderSearch/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        viewer.await.ok().flatten().map(|v| view! { <UserMenu viewer=v/> })
                    })}
                </Suspense>
            </header>
            <nav id="sidebar" class="sidebar" aria-label="Main" hidden=move || !nav_open.get()>
                <ul>
                    <li><NavLink href="/catalog" label="Catalog"/></li>
                    <li><NavLink href="/api-docs" label="APIs"/></li>
                    <li><NavLink href="/search" label="Search"/></li>
                    <li><NavLink href="/catalog-problems" label="Catalog problems"/></li>
                    <li><NavLink href="/catalog-import" label="Register a component"/></li>
                </ul>
            </nav>
            <main class="content">{children()}</main>
        </div>
    }
}

/// The signed-in user: name, picture, groups and sign-out, in a disclosure.
#[component]
fn UserMenu(viewer: Viewer) -> impl IntoView {
    let groups: Vec<String> = viewer
        .ownership_refs
        .iter()
        .filter(|r| r.starts_with("group:"))
        .map(|r| {
            r.trim_start_matches("group:")
                .trim_start_matches("default/")
                .to_string()
        })
        .collect();
    let initial = viewer
        .display_name
        .chars()
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default();
    let picture = viewer.picture.clone();
    let entity_link = viewer
        .entity_ref
        .strip_prefix("user:")
        .and_then(|rest| rest.split_once('/'))
        .map(|(ns, name)| format!("/catalog/{ns}/user/{name}"));
    view! {
        <details class="user-menu">
            <summary aria-label=format!("Signed in as {}", viewer.display_name)>
                {match picture {
                    Some(src) => view! { <img class="avatar" src=src alt="" width="24" height="24"/> }.into_any(),
                    None => view! { <span class="avatar" aria-hidden="true">{initial}</span> }.into_any(),
                }}
                <span class="user-name">{viewer.display_name.clone()}</span>
            </summary>
            <div class="user-menu-panel">
                <p class="user-ref">
                    {match entity_link {
                        Some(href) => view! { <a href=href>{viewer.entity_ref.clone()}</a> }.into_any(),
                        None => view! { <span>{viewer.entity_ref.clone()}</span> }.into_any(),
                    }}
                </p>
                {viewer.email.clone().map(|e| view! { <p class="user-email">{e}</p> })}
                {(!groups.is_empty()).then(|| view! {
                    <p class="user-groups">"Groups: " {groups.join(", ")}</p>
                })}
                {viewer.sign_in_required.then(|| view! {
                    <form method="post" action=format!("/api/auth/{}/logout", viewer.provider)>
                        <button type="submit">"Sign out"</button>
                    </form>
                })}
            </div>
        </details>
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
