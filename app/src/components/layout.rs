//! The page chrome: a skip link, the header with the portal title, the navigation (a collapsible
//! sidebar on wide screens, a menu button and an off-canvas drawer on narrow ones, hidden from
//! focus while closed), and the main content area. Owns the `app.title` resource and the page
//! `<title>` format. After a client-side navigation it moves focus to the new page's heading
//! and announces the page's title, as a full page load would.

use leptos::prelude::*;
use leptos_meta::{Html, Title};
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
    let info = crate::page_data::blocking_page_data(|| (), |_| get_portal_info());
    let viewer = crate::page_data::blocking_page_data(|| (), |_| get_viewer());
    // The theme picked with the switch on this page (else the cookie's, else the system's).
    let chosen_theme = RwSignal::new(None::<String>);
    let (nav_open, set_nav_open) = signal(true);
    // The narrow-screen drawer (closed on every navigation and by Escape).
    let menu_open = RwSignal::new(false);
    let announcement = RwSignal::new(String::new());
    let location = use_location();
    Effect::new(move |previous: Option<String>| {
        let path = location.pathname.get();
        if let Some(p) = previous.filter(|p| *p != path) {
            menu_open.set(false);
            // Another tab of the same entity: announce, but leave focus in the tab bar.
            let page = |s: &str| s.split('/').take(5).collect::<Vec<_>>().join("/");
            let same_entity = path.starts_with("/catalog/") && page(&p) == page(&path);
            after_navigation(announcement, !same_entity, path.clone(), 0);
        }
        path
    });
    let menu_button = NodeRef::<leptos::html::Button>::new();
    let main_area = NodeRef::<leptos::html::Main>::new();
    let sidebar = NodeRef::<leptos::html::Nav>::new();
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && menu_open.get_untracked() {
            menu_open.set(false);
            if let Some(b) = menu_button.get_untracked() {
                let _ = b.focus();
            }
        }
    };
    // An opened drawer takes focus (its first link).
    Effect::new(move |_| {
        if menu_open.get() {
            // Once the drawer is displayed.
            set_timeout(
                move || {
                    if let Some(first) = sidebar
                        .get_untracked()
                        .and_then(|s| s.query_selector("a").ok().flatten())
                    {
                        use leptos::wasm_bindgen::JsCast;
                        if let Ok(a) = first.dyn_into::<leptos::web_sys::HtmlElement>() {
                            let _ = a.focus();
                        }
                    }
                },
                std::time::Duration::from_millis(0),
            );
        }
    });

    view! {
        <a class="skip-link" href="#main" on:click=move |ev| {
            // The router would treat it as a navigation: move focus as the browser would.
            ev.prevent_default();
            if let Some(main) = main_area.get_untracked() {
                let _ = main.focus();
            }
        }>"Skip to content"</a>
        <div class="shell" class:nav-collapsed=move || !nav_open.get() class:menu-open=move || menu_open.get() on:keydown=on_keydown>
            <header class="topbar">
                <button
                    type="button"
                    node_ref=menu_button
                    class="menu-toggle"
                    aria-controls="sidebar"
                    aria-expanded=move || menu_open.get().to_string()
                    on:click=move |_| menu_open.update(|open| *open = !*open)
                >
                    <span aria-hidden="true">"☰ "</span>"Menu"
                </button>
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
                        let (title, theme) = match info.await {
                            Ok(info) => (info.title, info.theme),
                            Err(_) => ("Greenroom".to_string(), String::new()),
                        };
                        let in_page_title = title.clone();
                        view! {
                            <Html {..} data-theme=move || chosen_theme.get().unwrap_or_else(|| theme.clone())/>
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
            <nav id="sidebar" class="sidebar" aria-label="Main" hidden=move || !nav_open.get() node_ref=sidebar>
                <ul>
                    <li><NavLink href="/catalog" label="Catalog"/></li>
                    <li><NavLink href="/api-docs" label="APIs"/></li>
                    <li><NavLink href="/search" label="Search"/></li>
                    <li><NavLink href="/clusters" label="Clusters"/></li>
                    <li><NavLink href="/catalog-problems" label="Catalog problems"/></li>
                    <li><NavLink href="/catalog-import" label="Register a component"/></li>
                </ul>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let initial = info.await.map(|i| i.theme).unwrap_or_default();
                        view! { <ThemeSwitch initial chosen=chosen_theme/> }
                    })}
                </Suspense>
            </nav>
            <div class="menu-backdrop" aria-hidden="true" on:click=move |_| menu_open.set(false)></div>
            <main id="main" class="content" tabindex="-1" node_ref=main_area>{children()}</main>
            <p class="visually-hidden" aria-live="polite" aria-atomic="true">{move || announcement.get()}</p>
        </div>
    }
}

/// After a client-side navigation to `path`, once the new page has rendered: focus its main
/// heading (or the main area) without scrolling (if `move_focus`), and announce its title.
///
/// The router changes its location at once but puts the new URL in the address bar only when
/// the page is in place (its code may have to load first): that is checked every 100 ms, for at
/// most 2 s.
#[allow(unused_variables)]
fn after_navigation(announcement: RwSignal<String>, move_focus: bool, path: String, waited: u32) {
    #[cfg(feature = "hydrate")]
    set_timeout(
        move || {
            use wasm_bindgen::JsCast;
            let doc = document();
            let arrived = window().location().pathname().is_ok_and(|p| p == path);
            if !arrived && waited < 20 {
                after_navigation(announcement, move_focus, path, waited + 1);
                return;
            }
            // Someone typing (the header search) keeps the focus.
            let typing = doc.active_element().is_some_and(|e| {
                matches!(
                    e.tag_name().to_ascii_lowercase().as_str(),
                    "input" | "select" | "textarea"
                )
            });
            if !move_focus || typing {
                announcement.set(doc.title());
                return;
            }
            let target = doc
                .query_selector("main h1")
                .ok()
                .flatten()
                .or_else(|| doc.get_element_by_id("main"));
            if let Some(el) = target.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
                if !el.has_attribute("tabindex") {
                    let _ = el.set_attribute("tabindex", "-1");
                }
                let options = web_sys::FocusOptions::new();
                options.set_prevent_scroll(true);
                let _ = el.focus_with_options(&options);
            }
            announcement.set(doc.title());
        },
        std::time::Duration::from_millis(100),
    );
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
            <summary>
                {match picture {
                    Some(src) => view! { <img class="avatar" src=src alt="" width="24" height="24"/> }.into_any(),
                    None => view! { <span class="avatar" aria-hidden="true">{initial}</span> }.into_any(),
                }}
                <span class="visually-hidden">"Signed in as "</span>
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

/// The colour theme: the system's, light or dark. The choice applies at once and is kept in the
/// `greenroom_theme` cookie, so the server renders the next page in it (no flash of the other).
#[component]
fn ThemeSwitch(initial: String, chosen: RwSignal<Option<String>>) -> impl IntoView {
    let initial = StoredValue::new(initial);
    let current = move || chosen.get().unwrap_or_else(|| initial.get_value());
    let option = move |value: &'static str, label: &'static str| {
        view! { <option value=value selected=move || current() == value>{label}</option> }
    };
    view! {
        <label class="theme-switch">
            "Theme"
            <select
                prop:value=current
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    remember_theme(&value);
                    chosen.set(Some(value));
                }
            >
                {option("", "System")}
                {option("light", "Light")}
                {option("dark", "Dark")}
            </select>
        </label>
    }
}

/// Keeps the theme choice for a year (an empty choice, the system's, removes the cookie).
#[allow(unused_variables)]
fn remember_theme(value: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let cookie = if value.is_empty() {
            "greenroom_theme=; Path=/; Max-Age=0; SameSite=Lax".to_string()
        } else {
            format!("greenroom_theme={value}; Path=/; Max-Age=31536000; SameSite=Lax")
        };
        if let Ok(doc) = document().dyn_into::<web_sys::HtmlDocument>() {
            let _ = doc.set_cookie(&cookie);
        }
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
