//! `/catalog/:namespace/:kind/:name[/tab]`: an entity page with a tab bar whose tabs are
//! sub-paths (Backstage's URL scheme).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Outlet, hooks::use_params_map};

use crate::components::tabs::{Tab, TabBar};

/// The route parameters of an entity page, as typed in the URL.
#[derive(Clone, Debug, PartialEq, Eq)]
struct EntityParams {
    namespace: String,
    kind: String,
    name: String,
}

impl EntityParams {
    fn base_path(&self) -> String {
        format!("/catalog/{}/{}/{}", self.namespace, self.kind, self.name)
    }
}

fn use_entity_params() -> Memo<EntityParams> {
    let params = use_params_map();
    Memo::new(move |_| {
        params.with(|p| EntityParams {
            namespace: p.get("namespace").unwrap_or_default(),
            kind: p.get("kind").unwrap_or_default(),
            name: p.get("name").unwrap_or_default(),
        })
    })
}

/// Header and tab bar of an entity page; the selected tab renders in the outlet.
#[component]
pub fn EntityPage() -> impl IntoView {
    let params = use_entity_params();
    view! {
        {move || {
            let p = params.get();
            let base = p.base_path();
            let tabs = vec![
                Tab { label: "Overview", href: base.clone() },
                Tab { label: "Kubernetes", href: format!("{base}/kubernetes") },
            ];
            view! {
                <Title text=p.name.clone()/>
                <header class="entity-header">
                    <p class="entity-kind">{p.kind.clone()} " · " {p.namespace.clone()}</p>
                    <h1>{p.name.clone()}</h1>
                </header>
                <TabBar label="Entity sections" tabs/>
            }
        }}
        <section class="tab-panel">
            <Outlet/>
        </section>
    }
}

/// The Overview tab.
#[component]
pub fn OverviewTab() -> impl IntoView {
    view! {
        <h2>"Overview"</h2>
        <p class="empty-state">"Entity details appear here once the catalog is loaded."</p>
    }
}

/// The Kubernetes tab.
#[component]
pub fn KubernetesTab() -> impl IntoView {
    view! {
        <h2>"Kubernetes"</h2>
        <p class="empty-state">"Workloads appear here once clusters are configured."</p>
    }
}
