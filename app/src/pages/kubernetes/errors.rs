//! "Error reporting": every detected problem across clusters, most severe first, each linking to
//! the object (a pod opens its panel; others jump to their card) with Backstage's explanation.

use leptos::prelude::*;

use super::cluster::anchor;
use super::TabContext;
use crate::wire::kubernetes::{DetectedError, PodRef};

#[component]
pub fn ErrorReporting(errors: Vec<DetectedError>) -> impl IntoView {
    let ctx = expect_context::<TabContext>();
    if errors.is_empty() {
        return view! { <p class="banner ok" role="status">"No problems detected."</p> }.into_any();
    }
    view! {
        <section class="card error-reporting" aria-labelledby="error-reporting-title">
            <h3 id="error-reporting-title">"Error reporting"</h3>
            <table class="k8s">
                <thead><tr>
                    <th scope="col">"Severity"</th><th scope="col">"Object"</th><th scope="col">"Cluster"</th>
                    <th scope="col">"Problem"</th><th scope="col">"Occurrences"</th><th scope="col">"Explanation and fix"</th>
                </tr></thead>
                <tbody>
                    {errors.into_iter().map(|e| {
                        let href = if e.kind == "Pod" {
                            ctx.pod_href(&PodRef { cluster: e.cluster.clone(), namespace: e.namespace.clone(), name: e.name.clone() })
                        } else {
                            let kind = if e.kind == "HorizontalPodAutoscaler" { "Deployment" } else { e.kind.as_str() };
                            format!("#{}", anchor(&e.cluster, kind, &e.namespace, &e.name))
                        };
                        let level = match e.severity { 8.. => "high", 6..=7 => "medium", _ => "low" };
                        view! {
                            <tr class=format!("severity-{level}")>
                                <td><span class=format!("chip severity-{level}") title=format!("Severity {} on Backstage's scale of 1 (informational) to 10 (the service is down): {}", e.severity, match level { "high" => "high is 8 and up", "medium" => "medium is 6 or 7", _ => "low is 5 and below" })>{format!("{level} ({} of 10)", e.severity)}</span></td>
                                <td><a href=href data-noscroll="">{format!("{} {}", e.kind, e.name)}</a><div class="muted">{e.namespace.clone()}</div></td>
                                <td>{e.cluster.clone()}</td>
                                <td class="problem-message">{e.message.clone()}</td>
                                <td>{e.occurrence_count}</td>
                                <td>{e.fix.map(|f| view! {
                                    <div class="fix">
                                        <p>{f.root_cause}</p>
                                        <ul>{f.actions.into_iter().map(|a| view! { <li>{a}</li> }).collect_view()}</ul>
                                        {f.docs_url.map(|u| view! { <a href=u rel="noopener noreferrer" target="_blank">"Learn more ↗"</a> })}
                                    </div>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}
