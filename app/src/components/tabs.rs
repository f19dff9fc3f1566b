//! A tab bar of real links: each tab is a sub-path, so tabs work before hydration, can be
//! opened in a new browser tab, and survive reloads.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// One tab: its label and absolute href.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tab {
    /// Text on the tab.
    pub label: &'static str,
    /// Absolute path the tab links to.
    pub href: String,
}

/// Renders `tabs` as a navigation bar; the tab whose href equals the current path is marked.
#[component]
pub fn TabBar(
    /// Accessible name of the tab list, e.g. "Entity sections".
    label: &'static str,
    /// The tabs, in order.
    tabs: Vec<Tab>,
) -> impl IntoView {
    let location = use_location();
    view! {
        <nav class="tabbar" aria-label=label>
            {tabs
                .into_iter()
                .map(|tab| {
                    let href = tab.href.clone();
                    let current = move || {
                        location.pathname.get().trim_end_matches('/') == href.trim_end_matches('/')
                    };
                    view! {
                        <a class="tab" href=tab.href aria-current=move || current().then_some("page")>
                            {tab.label}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}
