//! One cluster's collapsible section: counts, dashboard link, problems in plain words, then
//! workloads with their pods, services, ingresses, config maps and custom resources.

use crate::components::safe_url::external_href;
use leptos::prelude::*;

use super::pods::PodsTable;
use crate::wire::kubernetes::{ClusterView, Workload};

/// The anchor id of an object, for links from the error table.
pub fn anchor(cluster: &str, kind: &str, namespace: &str, name: &str) -> String {
    format!("{}-{}-{}-{}", kind.to_lowercase(), cluster, namespace, name)
}

#[component]
pub fn ClusterSection(cluster: ClusterView) -> impl IntoView {
    let heading = cluster
        .title
        .clone()
        .unwrap_or_else(|| cluster.name.clone());
    let c = cluster.name.clone();
    let errors_text = match cluster.pods_with_errors {
        0 => "no pods with errors".to_string(),
        1 => "1 pod with errors".to_string(),
        n => format!("{n} pods with errors"),
    };
    let pods_text = if cluster.pods == 1 {
        "1 pod".to_string()
    } else {
        format!("{} pods", cluster.pods)
    };
    view! {
        <details class="cluster card" open data-cluster=cluster.name.clone()>
            <summary>
                <h3 class="cluster-title">{heading}</h3>
                {cluster.title.is_some().then(|| view! { <span class="muted">{format!("({})", cluster.name)}</span> })}
                <span class="chip">{pods_text}</span>
                <span class={if cluster.pods_with_errors > 0 { "chip status-error" } else { "chip status-ok" }}>{errors_text}</span>
                {cluster.dashboard_url.as_deref().and_then(external_href).map(|u| view! { <a class="dashboard-link" href=u rel="noopener noreferrer" target="_blank">"Dashboard ↗"</a> })}
            </summary>
            {cluster.problems.into_iter().map(|p| view! {
                <div class="banner error cluster-problem" role="alert">
                    <strong>{p.message}</strong>
                    <span class="problem-detail">{p.detail}</span>
                </div>
            }).collect_view()}
            {cluster.workloads.into_iter().map(|w| view! { <WorkloadCard cluster=c.clone() workload=w/> }).collect_view()}
            {(!cluster.services.is_empty()).then(|| view! {
                <h4>"Services"</h4>
                <table class="k8s">
                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Namespace"</th><th scope="col">"Type"</th><th scope="col">"Cluster IP"</th><th scope="col">"Ports"</th></tr></thead>
                    <tbody>{cluster.services.into_iter().map(|s| view! {
                        <tr><td>{s.name}</td><td>{s.namespace}</td><td>{s.service_type}</td><td><code>{s.cluster_ip}</code></td><td>{s.ports.join(", ")}</td></tr>
                    }).collect_view()}</tbody>
                </table>
            })}
            {(!cluster.ingresses.is_empty()).then(|| view! {
                <h4>"Ingresses"</h4>
                <table class="k8s">
                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Routes"</th></tr></thead>
                    <tbody>{cluster.ingresses.into_iter().map(|i| view! {
                        <tr><td>{i.name}</td><td><ul class="plain">{i.routes.into_iter().map(|(url, backend)| {
                            match external_href(&url) {
                                Some(href) => view! { <li><a href=href rel="noopener noreferrer" target="_blank">{url}</a> " → " <code>{backend}</code></li> }.into_any(),
                                None => view! { <li><code>{url}</code> " → " <code>{backend}</code></li> }.into_any(),
                            }
                        }).collect_view()}</ul></td></tr>
                    }).collect_view()}</tbody>
                </table>
            })}
            {(!cluster.config_maps.is_empty()).then(|| view! {
                <h4>"ConfigMaps"</h4>
                <table class="k8s">
                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Keys"</th></tr></thead>
                    <tbody>{cluster.config_maps.into_iter().map(|m| view! {
                        <tr><td>{m.name}</td><td>{m.keys.into_iter().map(|k| view! { <code class="key">{k}</code> " " }).collect_view()}</td></tr>
                    }).collect_view()}</tbody>
                </table>
            })}
            {(!cluster.custom_resources.is_empty()).then(|| view! {
                <h4>"Custom resources"</h4>
                <table class="k8s">
                    <thead><tr><th scope="col">"Kind"</th><th scope="col">"Name"</th><th scope="col">"Namespace"</th><th scope="col">"API version"</th><th scope="col">"Status"</th></tr></thead>
                    <tbody>{cluster.custom_resources.into_iter().map(|r| view! {
                        <tr><td>{r.kind}</td><td>{r.name}</td><td>{r.namespace}</td><td><code>{r.api_version}</code></td><td>{r.status.unwrap_or_else(|| "—".into())}</td></tr>
                    }).collect_view()}</tbody>
                </table>
            })}
        </details>
    }
}

#[component]
fn WorkloadCard(cluster: String, workload: Workload) -> impl IntoView {
    let id = anchor(
        &cluster,
        &workload.kind,
        &workload.namespace,
        &workload.name,
    );
    let hpa = workload.hpa.clone();
    view! {
        <section class="workload" id=id aria-label=format!("{} {} on {}", workload.kind, workload.name, cluster)>
            <header class="workload-head">
                <span class="workload-kind">{workload.kind.clone()}</span>
                <h4 class="workload-name">{workload.name.clone()}</h4>
                <span class="muted">{workload.namespace.clone()}</span>
                <span class="workload-status">{workload.status.clone()}</span>
                {workload.dashboard_link.as_deref().and_then(external_href).map(|u| view! { <a href=u rel="noopener noreferrer" target="_blank">"Dashboard ↗"</a> })}
            </header>
            {workload.failing_conditions.into_iter().map(|m| view! { <p class="banner warning condition">{m}</p> }).collect_view()}
            {hpa.map(|h| view! {
                <p class="hpa">
                    <strong>"Autoscaler " {h.name}</strong> ": "
                    {format!("{} replicas (min {}, max {})", h.current, h.min, h.max)}
                    {h.cpu_target.map(|t| format!("; CPU target {t}%"))}
                    {h.cpu_current.map(|c| format!(", current {c}%"))}
                    {(h.current == h.max).then(|| view! { " " <span class="chip status-warning">"at max replicas"</span> })}
                </p>
            })}
            {(!workload.pods.is_empty()).then(|| view! { <PodsTable pods=workload.pods.clone()/> })}
            {workload.jobs.into_iter().map(|j| view! {
                <div class="job">
                    <WorkloadCard cluster=cluster.clone() workload=j/>
                </div>
            }).collect_view()}
        </section>
    }
    .into_any()
}
