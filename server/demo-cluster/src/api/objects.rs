//! get and list: namespaces, label and field selectors, `limit`/`continue` pagination over a
//! consistent snapshot, `kind: XList` bodies (items without kind/apiVersion for built-in types,
//! as the API server sends them), metrics.k8s.io computed from pods, and `as=Table` for kubectl.

use std::collections::HashMap;
use std::sync::Arc;

use axum::response::Response;
use base64::Engine;
use serde_json::{json, Value};

use super::status;
use super::{ApiState, Target};
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{str_at, ObjectMap};

fn builtin(group: &str) -> bool {
    [
        "",
        "apps",
        "batch",
        "autoscaling",
        "networking.k8s.io",
        "apiextensions.k8s.io",
        "metrics.k8s.io",
    ]
    .contains(&group)
}

/// The objects of a target's type: stored, or computed (metrics).
fn snapshot(state: &ApiState, target: &Target) -> (u64, Arc<ObjectMap>) {
    let c = &state.cluster;
    if target.ty.group == "metrics.k8s.io" {
        let (rv, pods) = c.store.list(if target.ty.plural == "pods" {
            "pods"
        } else {
            "nodes"
        });
        let now = c.now();
        let frozen = !c.life.enabled;
        let map = pods
            .iter()
            .filter_map(|(k, p)| {
                let m = if target.ty.plural == "pods" {
                    crate::metrics::pod_metrics(p, now, frozen)?
                } else {
                    node_metrics(c, p, now)
                };
                Some((k.clone(), Arc::new(m)))
            })
            .collect();
        return (rv, Arc::new(map));
    }
    c.store.list(&target.ty.id())
}

fn node_metrics(c: &crate::cluster::Cluster, node: &Value, now: std::time::SystemTime) -> Value {
    let name = str_at(node, &["metadata", "name"]);
    let (mut cpu, mut mem) = (150.0, 900.0 * 1048576.0);
    for p in c
        .store
        .all("pods")
        .iter()
        .filter(|p| p["spec"]["nodeName"] == name)
    {
        for i in 0..p["spec"]["containers"].as_array().map_or(0, Vec::len) {
            if let Some((a, b)) = crate::metrics::usage(p, i, std::time::SystemTime::UNIX_EPOCH) {
                cpu += a;
                mem += b;
            }
        }
    }
    json!({"kind": "NodeMetrics", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {"name": name, "labels": node["metadata"]["labels"], "creationTimestamp": crate::clock::rfc3339(now)},
        "timestamp": crate::clock::rfc3339(now), "window": "20.029s", "usage": {"cpu": format!("{}n", (cpu * 1e6) as u64), "memory": format!("{}Ki", (mem / 1024.0) as u64)}})
}

/// GET one object.
pub(super) fn get(state: &ApiState, target: &Target, accept: &str) -> Response {
    let name = target.name.as_deref().unwrap_or("");
    let ns = target.namespace.as_deref().unwrap_or("");
    let (_, map) = snapshot(state, target);
    match map.get(&(ns.to_string(), name.to_string())) {
        Some(o) if accept.contains("as=Table") => status::json_response(
            200,
            &table(
                &target.ty.plural,
                &[o.clone()],
                &state.cluster.store.resource_version().to_string(),
            ),
        ),
        Some(o) => status::json_response(200, o),
        None => {
            let plural = if target.ty.group == "metrics.k8s.io" {
                format!("{}metrics", target.ty.plural.trim_end_matches('s'))
            } else {
                target.ty.plural.clone()
            };
            status::not_found(&target.ty.group, &plural, name)
        }
    }
}

/// A continue token: the snapshot's resourceVersion and the key to start after.
fn encode_continue(rv: u64, key: &(String, String)) -> String {
    let start = if key.0.is_empty() {
        format!("{}\u{0}", key.1)
    } else {
        format!("{}/{}\u{0}", key.0, key.1)
    };
    let body = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": start});
    base64::engine::general_purpose::URL_SAFE.encode(body.to_string())
}

fn decode_continue(token: &str) -> Option<(u64, (String, String))> {
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(token)
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(token))
        .ok()?;
    let v: Value = serde_json::from_slice(&raw).ok()?;
    if v["v"] != "meta.k8s.io/v1" {
        return None;
    }
    let rv = v["rv"].as_u64()?;
    let start = v["start"].as_str()?.trim_end_matches('\u{0}');
    let key = match start.split_once('/') {
        Some((ns, name)) => (ns.to_string(), name.to_string()),
        None => (String::new(), start.to_string()),
    };
    Some((rv, key))
}

/// GET a collection.
pub(super) fn list(
    state: &ApiState,
    target: &Target,
    q: &HashMap<String, String>,
    accept: &str,
) -> Response {
    let labels =
        match LabelSelector::parse(q.get("labelSelector").map(String::as_str).unwrap_or("")) {
            Ok(s) => s,
            Err(e) => return status::bad_request(&e.to_string()),
        };
    let fields = match FieldSelector::parse(
        q.get("fieldSelector").map(String::as_str).unwrap_or(""),
        &target.ty.fields,
    ) {
        Ok(s) => s,
        Err(e) => return status::bad_request(&e.to_string()),
    };
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => None,
        Some(Ok(0)) => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return status::bad_request("limit must be a non-negative integer"),
    };
    let id = target.ty.id();
    let (rv, map, after) = match q.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => {
            let Some((rv, key)) = decode_continue(token) else {
                return status::bad_request("continue key is not valid: invalid continue token");
            };
            let snap = if target.ty.group == "metrics.k8s.io" {
                Some(snapshot(state, target).1)
            } else {
                state.cluster.store.snapshot(&id, rv)
            };
            match snap {
                Some(m) => (rv, m, Some(key)),
                None => {
                    return status::expired(
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
                    )
                }
            }
        }
        None => {
            let (rv, m) = snapshot(state, target);
            (rv, m, None)
        }
    };
    let ns = target.namespace.clone().unwrap_or_default();
    let iter: Box<dyn Iterator<Item = (&(String, String), &Arc<Value>)>> =
        match (&target.namespace, &after) {
            (_, Some(k)) => Box::new(map.range(k.clone()..).filter(move |(key, _)| *key != k)),
            (Some(ns), None) => Box::new(map.range((ns.clone(), String::new())..)),
            (None, None) => Box::new(map.iter()),
        };
    let matching = iter
        .take_while(|((n, _), _)| target.namespace.is_none() || *n == ns)
        .filter(|(_, o)| labels.matches(o["metadata"]["labels"].as_object()) && fields.matches(o));
    let mut items = Vec::new();
    let mut last_key = None;
    let mut remaining = 0usize;
    for (key, o) in matching {
        if limit.is_some_and(|l| items.len() >= l) {
            remaining += 1;
            continue;
        }
        items.push(o.clone());
        last_key = Some(key.clone());
    }
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if remaining > 0 {
        if let Some(k) = &last_key {
            metadata["continue"] = json!(encode_continue(rv, k));
            if labels.0.is_empty() && fields.0.is_empty() {
                metadata["remainingItemCount"] = json!(remaining);
            }
            if target.ty.group != "metrics.k8s.io" {
                state.cluster.store.keep_snapshot(&id, rv, map.clone());
            }
        }
    }
    if accept.contains("as=Table") {
        let mut t = table(&target.ty.plural, &items, &rv.to_string());
        t["metadata"] = metadata;
        return status::json_response(200, &t);
    }
    let strip = builtin(&target.ty.group);
    let body = json!({
        "kind": format!("{}List", target.ty.kind),
        "apiVersion": target.ty.api_version(),
        "metadata": metadata,
        "items": items.iter().map(|o| {
            if strip {
                let mut o = (**o).clone();
                if let Some(m) = o.as_object_mut() { m.remove("kind"); m.remove("apiVersion"); }
                o
            } else {
                (**o).clone()
            }
        }).collect::<Vec<_>>(),
    });
    status::json_response(200, &body)
}

fn age(created: &str, now: std::time::SystemTime) -> String {
    let Some(c) = crate::clock::parse(created) else {
        return "<unknown>".into();
    };
    let s = now.duration_since(c).map(|d| d.as_secs()).unwrap_or(0);
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// A `meta.k8s.io/v1` Table (what `kubectl get` asks for).
fn table(plural: &str, items: &[Arc<Value>], rv: &str) -> Value {
    let now = crate::clock::now();
    let col = |name: &str, ty: &str, priority: i64| json!({"name": name, "type": ty, "format": if name == "Name" { "name" } else { "" }, "description": "", "priority": priority});
    let (columns, rows): (Vec<Value>, Vec<Value>) = if plural == "pods" {
        let cols = vec![
            col("Name", "string", 0),
            col("Ready", "string", 0),
            col("Status", "string", 0),
            col("Restarts", "string", 0),
            col("Age", "string", 0),
            col("IP", "string", 1),
            col("Node", "string", 1),
        ];
        let rows = items
            .iter()
            .map(|p| {
                let cs = p["status"]["containerStatuses"].as_array().cloned().unwrap_or_default();
                let ready = cs.iter().filter(|c| c["ready"] == true).count();
                let total = p["spec"]["containers"].as_array().map_or(0, Vec::len);
                let restarts: i64 = cs.iter().filter_map(|c| c["restartCount"].as_i64()).sum();
                let reason = cs
                    .iter()
                    .find_map(|c| c["state"]["waiting"]["reason"].as_str().or_else(|| c["state"]["terminated"]["reason"].as_str()))
                    .unwrap_or_else(|| str_at(p, &["status", "phase"]));
                json!({"cells": [p["metadata"]["name"], format!("{ready}/{total}"), reason, restarts.to_string(), age(str_at(p, &["metadata", "creationTimestamp"]), now), str_at(p, &["status", "podIP"]), str_at(p, &["spec", "nodeName"])],
                    "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": p["metadata"]}})
            })
            .collect();
        (cols, rows)
    } else {
        let rows = items
            .iter()
            .map(|o| json!({"cells": [o["metadata"]["name"], age(str_at(o, &["metadata", "creationTimestamp"]), now)], "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}}))
            .collect();
        (
            vec![col("Name", "string", 0), col("Age", "string", 0)],
            rows,
        )
    };
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": rv}, "columnDefinitions": columns, "rows": rows})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip() {
        let k = ("payments".to_string(), "checkout-7d9".to_string());
        assert_eq!(decode_continue(&encode_continue(1234, &k)), Some((1234, k)));
        let c = (String::new(), "node-1".to_string());
        assert_eq!(decode_continue(&encode_continue(9, &c)), Some((9, c)));
        assert_eq!(decode_continue("not-a-token"), None);
    }
}
