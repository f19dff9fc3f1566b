//! The Kubernetes tab (`/catalog/:namespace/:kind/:name/kubernetes`): is my service healthy, and
//! if not, why. Cluster data is loaded by the server and streamed with the page (the route
//! renders in order: everything above the tab is sent first, and a slow cluster holds up only
//! this section, at most its `fetchTimeoutMs`), so it shows without JavaScript and before the
//! wasm has loaded. In the browser it is then kept current by live updates pushed from the
//! server's watch cache (`live`), or, where push is unavailable, refreshed on the configured
//! interval. The data on
//! screen stays while the next arrives, and the open pod panel lives in the URL
//! (`?pod=cluster/namespace/name`), so it survives refreshes and can be shared.

mod cluster;
mod errors;
mod fleet;
#[cfg(feature = "hydrate")]
mod live;
mod logs;
mod pod_panel;
mod pods;

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::backend::get_kubernetes_view;
use crate::components::error_panel::{plain_error, ErrorPanel};
use crate::wire::kubernetes::{KubernetesView, PodRef};
use crate::wire::EntityDetail;

/// A query-string value, escaped as `encodeURIComponent` escapes it.
pub(crate) fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// "45 s", "12 min", "5 h", "7 d": units spelled so that an age never reads like CPU (`12m`).
pub fn age_text(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    }
}

/// Shown until the first cluster data is there.
fn loading() -> impl IntoView {
    view! { <p class="loading" role="status">"Loading cluster data…"</p> }
}

/// Which entity the tab is about, and where its tab lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TabContext {
    /// `kind:namespace/name`.
    pub entity_ref: String,
    /// `/catalog/ns/kind/name/kubernetes`.
    pub path: String,
}

impl TabContext {
    /// The link that opens a pod's panel.
    pub fn pod_href(&self, pod: &PodRef) -> String {
        format!("{}?pod={}", self.path, pod.to_param())
    }
}

/// The tab for a loaded entity.
#[component]
pub fn KubernetesTabView(entity: EntityDetail) -> impl IntoView {
    if matches!(
        entity.kind.to_ascii_lowercase().as_str(),
        "group" | "system" | "domain"
    ) {
        return view! { <fleet::FleetTab entity/> }.into_any();
    }
    if !entity.has_kubernetes_annotation {
        return view! { <MissingAnnotation/> }.into_any();
    }
    let ctx = TabContext {
        entity_ref: entity.link.entity_ref.clone(),
        path: format!("{}/kubernetes", entity.link.href),
    };
    let (ns, kind, name) = (
        entity.namespace.clone(),
        entity.kind.clone(),
        entity.name.clone(),
    );
    // Loaded on the server with the page (the route streams in order, so the rows are in the
    // first response, without JavaScript), then hydrated from the serialized result; later
    // loads are the polls.
    let data = crate::page_data::page_data(
        move || (ns.clone(), kind.clone(), name.clone()),
        |(ns, kind, name)| get_kubernetes_view(ns, kind, name),
    );
    // What is on screen once the browser runs: from the first load, from polling, or pushed.
    let current: RwSignal<Option<Result<KubernetesView, String>>> = RwSignal::new(None);
    // True while the live stream delivers views (polling pauses).
    let pushing = RwSignal::new(false);
    // How many times the data on screen was replaced (`data-updates`, for tests and debugging).
    let updates = RwSignal::new(0u32);
    Effect::new(move |_| {
        current.track();
        updates.update(|n| *n += 1);
    });
    let interval = RwSignal::new(10_000u64);
    Effect::new(move |_| {
        if let Some(r) = data.get() {
            if let Ok(v) = &r {
                if v.refresh_interval_ms != interval.get_untracked() && v.refresh_interval_ms > 0 {
                    interval.set(v.refresh_interval_ms);
                }
            }
            if !pushing.get_untracked() || current.with_untracked(Option::is_none) {
                current.set(Some(r.map_err(|e| plain_error(&e))));
            }
        }
    });
    // Set once the tab's section has been hydrated (or built): until then what is shown is the
    // server's first load, whatever a push or a poll brings, so the browser hydrates the markup
    // the server sent (a different tree there is a hydration panic).
    let settled = RwSignal::new(false);
    Effect::new(move |_| {
        let ms = interval.get();
        if !settled.get() {
            return;
        }
        let poll = move || {
            if !pushing.get_untracked() {
                data.refetch();
            }
        };
        if let Ok(handle) = set_interval_with_handle(poll, Duration::from_millis(ms)) {
            on_cleanup(move || handle.clear());
        }
    });
    #[cfg(feature = "hydrate")]
    {
        let entity_ref = ctx.entity_ref.clone();
        Effect::new(move |_| {
            if settled.get() {
                live::connect(&entity_ref, current, pushing);
            }
        });
    }
    let query = use_query_map();
    let open_pod =
        Memo::new(move |_| query.with(|q| q.get("pod").and_then(|p| PodRef::from_param(&p))));
    provide_context(ctx.clone());
    // Effects run only in the browser: until then (on the server and while hydrating) the
    // tab shows the first load, so both render the same; the pod panel opens once mounted.
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    let shown = move || {
        settled
            .get()
            .then(|| current.get())
            .flatten()
            .or_else(|| data.get().map(|r| r.map_err(|e| plain_error(&e))))
    };
    view! {
        <h2>"Kubernetes"</h2>
        <div class="kubernetes-data" data-live=move || if pushing.get() { "push" } else { "poll" } data-updates=move || updates.get()>
            <p class="live-status muted">{move || if pushing.get() {
                view! { <span class="dot" aria-hidden="true">"● "</span>"Live: changes in the clusters appear as they happen" }.into_any()
            } else if mounted.get() {
                format!("Refreshed every {} s", interval.get() / 1000).into_any()
            } else {
                "As of the page load".into_any()
            }}</p>
            <Transition fallback=loading>
                {move || {
                    let r = shown();
                    if r.is_some() {
                        settle_after_hydration(settled);
                    }
                    match r {
                        None => loading().into_any(),
                        Some(Ok(v)) => view! { <TabBody view=v/> }.into_any(),
                        Some(Err(e)) => view! { <ErrorPanel title="Kubernetes data could not be loaded" message=e/> }.into_any(),
                    }
                }}
            </Transition>
        </div>
        {move || mounted.get().then(|| open_pod.get().map(|pod| view! { <pod_panel::PodPanel pod=pod/> }))}
    }
    .into_any()
}

#[component]
fn TabBody(view: KubernetesView) -> impl IntoView {
    if !view.configured {
        return view! {
            <div class="empty-state">
                <p>"No Kubernetes clusters are configured. Add a " <code>"kubernetes:"</code> " block to app-config.yaml (see the README's Kubernetes section)."</p>
            </div>
        }
        .into_any();
    }
    if let Some(why) = view.access_denied {
        return view! { <NoAccess message=why/> }.into_any();
    }
    let hidden = (view.hidden_clusters > 0).then(|| {
        let n = view.hidden_clusters;
        let text = if n == 1 {
            "1 cluster is not shown: you don't have access to it (permission kubernetes.clusters.read).".to_string()
        } else {
            format!("{n} clusters are not shown: you don't have access to them (permission kubernetes.clusters.read).")
        };
        view! { <p class="banner no-access-note" role="note" data-testid="hidden-clusters">{text}</p> }
    });
    if view.clusters.is_empty() {
        return view! {
            {hidden}
            <div class="empty-state" data-testid="no-objects">
                <p>"No objects with this entity's labels were found on any cluster you can see."</p>
                <LabelHelp/>
            </div>
        }
        .into_any();
    }
    view! {
        {hidden}
        <errors::ErrorReporting errors=view.errors.clone()/>
        {view.clusters.into_iter().map(|c| view! { <cluster::ClusterSection cluster=c/> }).collect_view()}
    }
    .into_any()
}

/// "You don't have access to …": what was refused and which permission would grant it.
#[component]
pub fn NoAccess(message: String) -> impl IntoView {
    view! {
        <div class="empty-state no-access" role="status" data-testid="no-access">
            <p><strong>"No access. "</strong>{message}</p>
            <p class="muted">"Permissions are set by your platform team in the portal's policy files (see the README's Permissions section)."</p>
        </div>
    }
}

/// Why pods might not be found: the label must be on the pod template too.
#[component]
fn LabelHelp() -> impl IntoView {
    view! {
        <p class="muted">
            "Objects are matched by the label " <code>"backstage.io/kubernetes-id"</code>
            " (or the entity's " <code>"backstage.io/kubernetes-label-selector"</code>
            "). Put the label on the Deployment " <strong>"and"</strong> " on its pod template, or the pods are not found. "
            <a href="/help/kubernetes">"How Greenroom matches objects"</a>
        </p>
    }
}

/// Sets `settled` once the view being built now is in the page: effects run after the
/// (synchronous) hydration or build of the view they were created with, never during it.
fn settle_after_hydration(settled: RwSignal<bool>) {
    Effect::new(move |_| {
        if !settled.get_untracked() {
            settled.set(true);
        }
    });
}

/// The state shown for an entity without Kubernetes annotations.
#[component]
fn MissingAnnotation() -> impl IntoView {
    view! {
        <h2>"Kubernetes"</h2>
        <div class="empty-state missing-annotation">
            <p><strong>"Missing annotation."</strong> " This entity has no " <code>"backstage.io/kubernetes-id"</code> " or " <code>"backstage.io/kubernetes-label-selector"</code> " annotation. Add one of these to its catalog file:"</p>
            <pre><code>{"metadata:\n  annotations:\n    backstage.io/kubernetes-id: my-service\n    backstage.io/kubernetes-namespace: my-namespace   # optional; a comma-separated list works too"}</code></pre>
            <p>"or, to match by any labels:"</p>
            <pre><code>{"metadata:\n  annotations:\n    backstage.io/kubernetes-label-selector: 'app=my-app,component=front-end'\n    backstage.io/kubernetes-namespace: my-namespace   # optional"}</code></pre>
            <LabelHelp/>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_are_escaped_like_encode_uri_component() {
        assert_eq!(
            query_escape("component:default/my app"),
            "component%3Adefault%2Fmy%20app"
        );
    }

    #[test]
    fn ages_have_units_that_cannot_be_read_as_cpu() {
        assert_eq!(age_text(5), "5 s");
        assert_eq!(age_text(600), "10 min");
        assert_eq!(age_text(7300), "2 h");
        assert_eq!(age_text(7 * 86_400), "7 d");
    }
}
