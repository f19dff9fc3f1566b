//! The relations graph of an entity page: the entity in the middle, each related entity around
//! it, one labelled edge per relation (in words: "Depends on"). Plain SVG built in the view, so
//! it is rendered on the server and works without JavaScript; every node is a link to its
//! entity. The SVG is a named group (not an image) so its links are reachable by keyboard and
//! screen readers, each named with its relation.

use std::f64::consts::PI;

use leptos::prelude::*;

use crate::wire::{EntityLink, RelationGroup};

const WIDTH: f64 = 880.0;
const NODE_W: f64 = 170.0;
const NODE_H: f64 = 34.0;
/// At most this many related nodes are drawn (the relations card lists all of them).
const MAX_NODES: usize = 24;

/// One edge to draw: relation type and target.
struct Edge {
    relation_type: String,
    target: EntityLink,
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

/// The graph for `center` and its relation groups.
#[component]
pub fn RelationsGraph(
    /// The entity itself.
    center: EntityLink,
    /// Its relations, grouped by type.
    groups: Vec<RelationGroup>,
) -> impl IntoView {
    let edges: Vec<Edge> = groups
        .into_iter()
        .flat_map(|g| {
            let t = g.relation_type;
            g.targets.into_iter().map(move |target| Edge {
                relation_type: t.clone(),
                target,
            })
        })
        .take(MAX_NODES)
        .collect();
    let n = edges.len().max(1) as f64;
    let radius_x = (WIDTH / 2.0) - NODE_W / 2.0 - 10.0;
    let radius_y = if edges.len() <= 4 { 110.0 } else { 170.0 };
    let height = 2.0 * radius_y + NODE_H + 40.0;
    let (cx, cy) = (WIDTH / 2.0, height / 2.0);
    let view_box = format!("0 0 {WIDTH} {height}");
    let nodes = edges
        .into_iter()
        .enumerate()
        .map(|(i, edge)| {
            let angle = -PI / 2.0 + 2.0 * PI * (i as f64) / n;
            let (x, y) = (cx + radius_x * angle.cos(), cy + radius_y * angle.sin());
            let (mx, my) = ((cx + x) / 2.0, (cy + y) / 2.0);
            let class = if edge.target.exists { "node" } else { "node dangling" };
            let relation = crate::wire::relation_label(&edge.relation_type);
            let name = format!("{}: {}", relation, edge.target.label);
            view! {
                <g class="edge">
                    <line x1=cx y1=cy x2=x y2=y/>
                    <text class="edge-label" x=mx y=my - 4.0 text-anchor="middle" aria-hidden="true">{relation}</text>
                </g>
                <a href=edge.target.href class=class aria-label=name>
                    <title>{edge.target.entity_ref.clone()}</title>
                    <rect x=x - NODE_W / 2.0 y=y - NODE_H / 2.0 width=NODE_W height=NODE_H rx="6"/>
                    <text x=x y=y + 5.0 text-anchor="middle">{truncate(&edge.target.label, 22)}</text>
                </a>
            }
        })
        .collect_view();
    view! {
        <figure class="relations-graph">
            <svg viewBox=view_box role="group" aria-label=format!("Relations of {}", center.label)>
                {nodes}
                <g class="node center" aria-hidden="true">
                    <rect x=cx - NODE_W / 2.0 y=cy - NODE_H / 2.0 width=NODE_W height=NODE_H rx="6"/>
                    <text x=cx y=cy + 5.0 text-anchor="middle">{truncate(&center.label, 22)}</text>
                </g>
            </svg>
        </figure>
    }
}
