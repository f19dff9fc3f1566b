//! The pod panel (open while the URL has `?pod=cluster/namespace/name`): the logs first (see
//! `logs`), then phase, IP, node, conditions, containers (image, state, restarts, last
//! termination, probes, usage), events of the pod and its workload, and the YAML.

use std::time::Duration;

use leptos::prelude::*;

use super::logs::LogsSection;
use super::TabContext;
use crate::backend::get_pod_detail;
use crate::components::error_panel::{plain_error, ErrorPanel};
use crate::components::gauge::Gauge;
use crate::wire::kubernetes::{PodDetail, PodRef};

#[component]
pub fn PodPanel(pod: PodRef) -> impl IntoView {
    let ctx = expect_context::<TabContext>();
    let (er, p) = (ctx.entity_ref.clone(), pod.clone());
    let detail = LocalResource::new(move || get_pod_detail(er.clone(), p.clone()));
    // The panel's own data refreshes with the tab's interval.
    Effect::new(move |_| {
        if let Ok(handle) =
            set_interval_with_handle(move || detail.refetch(), Duration::from_secs(10))
        {
            on_cleanup(move || handle.clear());
        }
    });
    // Without kubernetes.proxy the panel says so, and shows no log controls.
    let denied = Memo::new(move |_| {
        detail
            .get()
            .is_some_and(|r| r.is_ok_and(|d| d.access_denied.is_some()))
    });
    let title = format!("Pod {}", pod.name);
    let dialog = NodeRef::<leptos::html::Div>::new();
    dialog_behaviour(dialog, ctx.path.clone(), ctx.pod_href(&pod));
    view! {
        <div class="pod-panel" role="dialog" aria-modal="true" aria-labelledby="pod-panel-title" data-pod=pod.name.clone() node_ref=dialog>
            <header class="pod-panel-head">
                <h3 id="pod-panel-title" tabindex="-1">{title}</h3>
                <span class="muted">{format!("{} · {}", pod.cluster, pod.namespace)}</span>
                <a class="close" href=ctx.path.clone() data-noscroll="" aria-label="Close the pod panel">"×"</a>
            </header>
            // Logs first: the reason to open a pod, most of the time.
            <LogsSection pod=pod.clone() detail denied/>
            <Transition fallback=|| view! { <p class="loading">"Loading pod…"</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(PodDetail { access_denied: Some(why), .. }) => view! { <super::NoAccess message=why/> }.into_any(),
                        Ok(d) => view! { <Details detail=d/> }.into_any(),
                        Err(e) => view! { <ErrorPanel title="The pod could not be read" message=plain_error(&e)/> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

/// The panel as a dialog: focus moves to its title when it opens (without scrolling the page),
/// Tab and Shift+Tab stay inside it, Escape closes it (as × does, without scrolling), and when
/// it closes focus returns to the link that opened it (or, if the list was re-rendered
/// meanwhile, the link to the same pod).
#[allow(unused_variables)]
fn dialog_behaviour(dialog: NodeRef<leptos::html::Div>, close_href: String, opener_href: String) {
    #[cfg(feature = "hydrate")]
    {
        use leptos_router::{hooks::use_navigate, NavigateOptions};
        use wasm_bindgen::JsCast;
        // The link that opened the panel (not `<body>`, which has focus after a page load).
        let opener = StoredValue::new_local(
            document()
                .active_element()
                .filter(|e| e.tag_name().eq_ignore_ascii_case("a")),
        );
        Effect::new(move |_| {
            if let Some(el) = dialog.get() {
                if let Some(h) = el
                    .query_selector("#pod-panel-title")
                    .ok()
                    .flatten()
                    .and_then(|h| h.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let options = web_sys::FocusOptions::new();
                    options.set_prevent_scroll(true);
                    let _ = h.focus_with_options(&options);
                }
            }
        });
        let navigate = use_navigate();
        let keys = window_event_listener(leptos::ev::keydown, move |ev| match ev.key().as_str() {
            // Not when a control inside used it already (an open <select> closes itself).
            "Escape" if !ev.default_prevented() => {
                ev.prevent_default();
                navigate(
                    &close_href,
                    NavigateOptions {
                        scroll: false,
                        ..Default::default()
                    },
                );
            }
            "Tab" => {
                let Some(el) = dialog.get_untracked() else {
                    return;
                };
                let Ok(list) = el.query_selector_all(
                    "a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), summary, [tabindex]:not([tabindex=\"-1\"])",
                ) else {
                    return;
                };
                let focusable: Vec<web_sys::HtmlElement> = (0..list.length())
                    .filter_map(|i| list.item(i))
                    .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
                    .filter(|e| e.offset_parent().is_some())
                    .collect();
                let (Some(first), Some(last)) = (focusable.first(), focusable.last()) else {
                    return;
                };
                let active = document().active_element();
                let inside = active
                    .as_ref()
                    .is_some_and(|a| el.contains(Some(a.as_ref())));
                let at = |e: &web_sys::HtmlElement| {
                    active
                        .as_ref()
                        .is_some_and(|a| a == e.unchecked_ref::<web_sys::Element>())
                };
                if ev.shift_key() && (!inside || at(first)) {
                    ev.prevent_default();
                    let _ = last.focus();
                } else if !ev.shift_key() && (!inside || at(last)) {
                    ev.prevent_default();
                    let _ = first.focus();
                }
            }
            _ => {}
        });
        on_cleanup(move || {
            keys.remove();
            let opener = opener.get_value();
            set_timeout(
                move || {
                    let doc = document();
                    // Another pod's panel opened instead: it has the focus.
                    if doc.query_selector(".pod-panel").ok().flatten().is_some() {
                        return;
                    }
                    let escaped = opener_href.replace('\\', "\\\\").replace('"', "\\\"");
                    let target = opener
                        .filter(|o| o.is_connected())
                        .or_else(|| {
                            doc.query_selector(&format!("main a[href=\"{escaped}\"]"))
                                .ok()
                                .flatten()
                        })
                        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
                    if let Some(t) = target {
                        let options = web_sys::FocusOptions::new();
                        options.set_prevent_scroll(true);
                        let _ = t.focus_with_options(&options);
                    }
                },
                std::time::Duration::from_millis(50),
            );
        });
    }
}

#[component]
fn Details(detail: PodDetail) -> impl IntoView {
    view! {
        <dl class="pod-facts">
            <div><dt>"Phase"</dt><dd>{detail.phase.clone()}</dd></div>
            <div><dt>"Pod IP"</dt><dd><code>{detail.pod_ip.clone()}</code></dd></div>
            <div><dt>"Node"</dt><dd>{detail.node.clone()}</dd></div>
            {detail.owner.clone().map(|o| view! { <div><dt>"Owner"</dt><dd>{o}</dd></div> })}
        </dl>
        <h4>"Conditions"</h4>
        <table class="k8s conditions">
            <thead><tr><th scope="col">"Type"</th><th scope="col">"Status"</th><th scope="col">"Reason"</th><th scope="col">"Message"</th></tr></thead>
            <tbody>{detail.conditions.into_iter().map(|c| view! {
                <tr><td>{c.condition_type}</td><td>{c.status}</td><td>{c.reason.unwrap_or_default()}</td><td>{c.message.unwrap_or_default()}</td></tr>
            }).collect_view()}</tbody>
        </table>
        <h4>"Containers"</h4>
        {detail.containers.into_iter().map(|c| { let id = c.name.clone(); view! {
            <div class="container-detail" data-container=id>
                <p><strong>{c.name}</strong> " " <code>{c.image}</code></p>
                <p>{c.state}</p>
                {c.message.map(|m| view! { <p class="muted">{m}</p> })}
                <p>{format!("Restarts: {}", c.restarts)}
                    {c.last_termination.map(|t| view! { " · Last termination: " {t} })}</p>
                <p>{if c.probes.is_empty() { "No probes".to_string() } else { format!("Probes: {}", c.probes.join(", ")) }}</p>
                <p class="usage">"CPU " <Gauge usage=c.cpu/> " Memory " <Gauge usage=c.memory/></p>
            </div>
        } }).collect_view()}
        <h4>"Events"</h4>
        {if detail.events.is_empty() {
            view! { <p class="muted">"No events."</p> }.into_any()
        } else {
            view! {
                <table class="k8s events">
                    <thead><tr><th scope="col">"Object"</th><th scope="col">"Type"</th><th scope="col">"Reason"</th><th scope="col">"Message"</th><th scope="col">"Count"</th><th scope="col">"Last seen"</th></tr></thead>
                    <tbody>{detail.events.into_iter().map(|e| {
                        let class = if e.event_type == "Warning" { "warning" } else { "" };
                        view! {
                            <tr class=class>
                                <td>{e.object}</td><td>{e.event_type}</td><td>{e.reason}</td><td>{e.message}</td><td>{e.count}</td><td>{e.last_seen}</td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
            }.into_any()
        }}
        <details class="yaml">
            <summary>"YAML"</summary>
            <pre><code>{detail.yaml}</code></pre>
        </details>
    }
}
