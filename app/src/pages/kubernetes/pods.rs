//! A sortable pods table: name (opens the pod panel), phase, a status chip per container,
//! containers ready, restarts, CPU and memory against request and limit, age, node.

use leptos::prelude::*;

use super::{age_text, TabContext};
use crate::components::gauge::Gauge;
use crate::components::status_chip::StatusChip;
use crate::wire::kubernetes::{PodRef, PodRow};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Col {
    Name,
    Phase,
    Ready,
    Restarts,
    Cpu,
    Memory,
    Age,
    Node,
}

fn pct(u: &Option<crate::wire::kubernetes::Usage>) -> u32 {
    u.as_ref()
        .and_then(|u| u.of_limit.or(u.of_request))
        .unwrap_or(0)
}

fn sort(rows: &mut [PodRow], col: Col, asc: bool) {
    rows.sort_by(|a, b| {
        let o = match col {
            Col::Name => a.name.cmp(&b.name),
            Col::Phase => a.phase.cmp(&b.phase),
            Col::Ready => (a.ready * 1000 / a.total.max(1)).cmp(&(b.ready * 1000 / b.total.max(1))),
            Col::Restarts => a.restarts.cmp(&b.restarts),
            Col::Cpu => pct(&a.cpu).cmp(&pct(&b.cpu)),
            Col::Memory => pct(&a.memory).cmp(&pct(&b.memory)),
            Col::Age => a.age_seconds.cmp(&b.age_seconds),
            Col::Node => a.node.cmp(&b.node),
        };
        if asc {
            o.then_with(|| a.name.cmp(&b.name))
        } else {
            o.reverse().then_with(|| a.name.cmp(&b.name))
        }
    });
}

#[component]
pub fn PodsTable(pods: Vec<PodRow>) -> impl IntoView {
    let ctx = expect_context::<TabContext>();
    let order = RwSignal::new((Col::Name, true));
    let header = move |label: &'static str, col: Col| {
        let aria = move || {
            let (c, asc) = order.get();
            if c == col {
                if asc {
                    "ascending"
                } else {
                    "descending"
                }
            } else {
                "none"
            }
        };
        view! {
            <th scope="col" aria-sort=aria>
                <button type="button" class="sort" on:click=move |_| order.update(|(c, asc)| { if *c == col { *asc = !*asc } else { *c = col; *asc = true } })>
                    {label}
                </button>
            </th>
        }
    };
    view! {
        <div class="table-scroll">
        <table class="k8s pods">
            <thead><tr>
                {header("Name", Col::Name)}{header("Phase", Col::Phase)}<th scope="col">"Status"</th>
                {header("Ready", Col::Ready)}{header("Restarts", Col::Restarts)}{header("CPU", Col::Cpu)}
                {header("Memory", Col::Memory)}{header("Age", Col::Age)}{header("Node", Col::Node)}
            </tr></thead>
            <tbody>
                {move || {
                    let (col, asc) = order.get();
                    let mut rows = pods.clone();
                    sort(&mut rows, col, asc);
                    rows.into_iter().map(|p| {
                        let href = ctx.pod_href(&PodRef { cluster: p.cluster.clone(), namespace: p.namespace.clone(), name: p.name.clone() });
                        view! {
                            <tr data-pod=p.name.clone() class={if p.error_count > 0 { "has-errors" } else { "" }}>
                                <td><a class="pod-link" href=href data-noscroll="">{p.name.clone()}</a></td>
                                <td>{p.phase.clone()}</td>
                                <td><span class="chips">{p.containers.into_iter().map(|c| {
                                    let title = format!("container {}", c.name);
                                    view! { <StatusChip label=c.label severity=c.severity title=title/> }
                                }).collect_view()}</span></td>
                                <td>{format!("{}/{}", p.ready, p.total)}</td>
                                <td>{p.restarts}</td>
                                <td><Gauge usage=p.cpu/></td>
                                <td><Gauge usage=p.memory/></td>
                                <td>{age_text(p.age_seconds)}</td>
                                <td>{p.node}</td>
                            </tr>
                        }
                    }).collect_view()
                }}
            </tbody>
        </table>
        </div>
    }
}
