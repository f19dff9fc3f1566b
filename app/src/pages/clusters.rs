//! `/clusters`: every cluster the viewer may see, its health as the portal's watches see it,
//! its namespaces, and the workloads there that no catalog entity claims, each with the
//! annotations that would claim it. Server-rendered from the watch cache (no request reaches a
//! cluster for this page); works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::backend::get_clusters_overview;
use crate::components::error_panel::{plain_error, ErrorPanel};
use crate::components::health_chip::HealthChip;
use crate::components::safe_url::external_href;
use crate::wire::clusters::{ClusterHealth, ClustersOverview};

/// The Clusters page.
#[component]
pub fn ClustersPage() -> impl IntoView {
    let data = crate::page_data::page_data(|| (), |_| get_clusters_overview());
    view! {
        <Title text="Clusters"/>
        <section class="page clusters-page">
            <h1>"Clusters"</h1>
            <p class="muted">"The clusters the portal reads, how it sees them, and the workloads there that no catalog entity claims."</p>
            <Transition fallback=|| view! { <p class="loading">"Loading the clusters…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(o) => view! { <Overview overview=o/> }.into_any(),
                        Err(e) => view! { <ErrorPanel title="The clusters could not be loaded" message=plain_error(&e)/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Overview(overview: ClustersOverview) -> impl IntoView {
    if !overview.configured {
        return view! {
            <p class="muted">"Kubernetes is not configured: there is no kubernetes: block in app-config."</p>
        }
        .into_any();
    }
    let hidden = overview.hidden_clusters;
    view! {
        {overview.unclaimed_note.map(|n| view! { <p class="banner info" role="note">{n}</p> })}
        {(hidden > 0).then(|| view! {
            <p class="muted">{format!("{hidden} more cluster(s) are not shown: you may not see them (kubernetes.clusters.read).")}</p>
        })}
        {overview.clusters.is_empty().then(|| view! { <p class="muted">"No cluster to show."</p> })}
        {overview.clusters.into_iter().map(|c| view! { <ClusterCard cluster=c/> }).collect_view()}
    }
    .into_any()
}

#[component]
fn ClusterCard(cluster: ClusterHealth) -> impl IntoView {
    let heading_id = format!("cluster-{}", cluster.name);
    let labelled_by = heading_id.clone();
    let shown_name = cluster
        .title
        .clone()
        .unwrap_or_else(|| cluster.name.clone());
    let alias = cluster
        .title
        .as_ref()
        .map(|_| format!(" ({})", cluster.name));
    let dashboard = cluster.dashboard_url.as_deref().and_then(external_href);
    let claimed = cluster.workloads.saturating_sub(cluster.unclaimed_total);
    let counted = cluster.counted;
    let coverage = if !counted || cluster.coverage_note.is_some() || cluster.workloads == 0 {
        None
    } else {
        Some(format!(
            "{claimed} of {} workloads claimed by the catalog ({}%)",
            cluster.workloads,
            claimed * 100 / cluster.workloads
        ))
    };
    let listed = cluster.unclaimed.len();
    let total = cluster.unclaimed_total;
    let ns_more = cluster
        .namespaces_total
        .saturating_sub(cluster.namespaces.len());
    view! {
        <section class="card cluster-card" aria-labelledby=labelled_by data-cluster=cluster.name.clone()>
            <h2 id=heading_id>{shown_name}<span class="muted">{alias}</span></h2>
            <p class="cluster-health">
                <HealthChip state=cluster.state reason=cluster.reason.clone()/>
                " "<span class="muted">{cluster.reason.clone()}</span>
            </p>
            <ul class="cluster-stats">
                {counted.then(|| view! {
                    <li>{format!("{} namespaces", cluster.namespaces_total)}</li>
                    <li>{format!("{} workloads", cluster.workloads)}</li>
                })}
                {(counted && cluster.coverage_note.is_none()).then(|| view! {
                    <li>{format!("{} distinct catalog selectors on it", cluster.claimed_by)}</li>
                })}
                {coverage.map(|c| view! { <li class="coverage">{c}</li> })}
                {dashboard.map(|href| view! { <li><a href=href rel="noopener noreferrer" target="_blank">"Dashboard"</a></li> })}
            </ul>
            {cluster.coverage_note.clone().map(|n| view! { <p class="muted">{n}</p> })}
            {(!cluster.namespaces.is_empty()).then(|| view! {
                <details class="namespaces">
                    <summary>{format!("Namespaces ({})", cluster.namespaces_total)}</summary>
                    <div class="table-scroll">
                        <table class="entities">
                            <thead><tr>
                                <th scope="col">"Namespace"</th>
                                <th scope="col">"Pods"</th>
                                <th scope="col">"Workloads"</th>
                                <th scope="col">"Unclaimed"</th>
                            </tr></thead>
                            <tbody>
                                {cluster.namespaces.into_iter().map(|n| view! {
                                    <tr>
                                        <th scope="row">{n.name}</th>
                                        <td class="number">{n.pods}</td>
                                        <td class="number">{n.workloads}</td>
                                        <td class="number">{n.unclaimed}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    {(ns_more > 0).then(|| view! { <p class="muted">{format!("{ns_more} more not listed.")}</p> })}
                </details>
            })}
            {(counted && cluster.coverage_note.is_none() && total == 0 && cluster.workloads > 0).then(|| view! {
                <p class="muted">"Every workload here is claimed by a catalog entity."</p>
            })}
            {(total > 0).then(|| view! {
                <h3>{format!("Workloads no catalog entity claims ({total})")}</h3>
                {(listed < total).then(|| view! { <p class="muted">{format!("The first {listed} are listed.")}</p> })}
                <div class="table-scroll">
                    <table class="entities unclaimed">
                        <thead><tr>
                            <th scope="col">"Workload"</th>
                            <th scope="col">"Namespace"</th>
                            <th scope="col">"Labels"</th>
                            <th scope="col">"Claim it"</th>
                        </tr></thead>
                        <tbody>
                            {cluster.unclaimed.into_iter().map(|u| view! {
                                <tr data-workload=format!("{}/{}", u.namespace, u.name)>
                                    <th scope="row">{u.name.clone()}<span class="muted">{format!(" {}", u.kind)}</span></th>
                                    <td>{u.namespace.clone()}</td>
                                    <td><ul class="tags">{u.labels.into_iter().map(|l| view! { <li class="tag">{l}</li> }).collect_view()}</ul></td>
                                    <td>
                                        <details>
                                            <summary>{format!("Annotations for {}", u.name)}</summary>
                                            <p class="muted">"Add under metadata.annotations in the entity's catalog file:"</p>
                                            <pre class="snippet"><code>{u.annotations}</code></pre>
                                            {u.hint.map(|h| view! { <p class="muted">{h}</p> })}
                                        </details>
                                    </td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })}
        </section>
    }
}
