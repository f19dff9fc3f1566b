//! The control API (plain HTTP on loopback): what tests and the README's demo use to change a
//! cluster the way `kubectl apply` / `delete` / `rollout restart` would, to make pods crash or
//! log, to switch faults on and off, and to read the request counters. Every change goes through
//! the store, so API watchers see it.
//!
//! `GET /clusters` · `GET|DELETE /clusters/{c}/stats` · `GET|PUT /clusters/{c}/faults` ·
//! `POST /clusters/{c}/apply` (YAML or JSON, multi-document) ·
//! `PATCH|DELETE /clusters/{c}/objects/{resource}/{namespace|-}/{name}` (JSON merge patch) ·
//! `POST /clusters/{c}/pods/{ns}/{name}/restart` · `POST /clusters/{c}/pods/{ns}/{name}/log`
//! (`{"container"?, "line"}`) · `POST /clusters/{c}/deployments/{ns}/{name}/rollout` ·
//! `POST /clusters/{c}/compact` · `GET /sts/calls`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::StatusCode;
use serde_json::{json, Value};

use crate::cluster::{Cluster, Faults};

/// What the control API can reach.
pub struct Control {
    /// Clusters by name, with their URLs.
    pub clusters: Vec<(Arc<Cluster>, String)>,
    /// The fake STS, if any.
    pub sts: Option<Arc<crate::aws::Sts>>,
}

type S = State<Arc<Control>>;

fn err(code: StatusCode, message: impl std::fmt::Display) -> Response {
    (code, Json(json!({"error": message.to_string()}))).into_response()
}

fn find(c: &Control, name: &str) -> Result<Arc<Cluster>, Response> {
    c.clusters
        .iter()
        .find(|(k, _)| k.name == name)
        .map(|(k, _)| k.clone())
        .ok_or_else(|| err(StatusCode::NOT_FOUND, format!("no cluster '{name}'")))
}

/// The cluster, resource type and namespace (`-` = cluster-scoped) an object path names.
fn object_target(
    c: &Control,
    cluster: &str,
    resource: &str,
    ns: String,
) -> Result<(Arc<Cluster>, crate::resources::ResourceType, String), Response> {
    let k = find(c, cluster)?;
    let ty = resource_id(&k, resource)
        .ok_or_else(|| err(StatusCode::NOT_FOUND, format!("no resource '{resource}'")))?;
    let ns = if ns == "-" { String::new() } else { ns };
    Ok((k, ty, ns))
}

/// The cluster and one of its pods.
fn pod_of(
    c: &Control,
    cluster: &str,
    ns: &str,
    pod: &str,
) -> Result<(Arc<Cluster>, Arc<Value>), Response> {
    let k = find(c, cluster)?;
    let p = k
        .store
        .get("pods", ns, pod)
        .ok_or_else(|| err(StatusCode::NOT_FOUND, format!("pod {ns}/{pod} not found")))?;
    Ok((k, p))
}

/// The control router.
pub fn router(control: Arc<Control>) -> Router {
    Router::new()
        .route("/clusters", get(list_clusters))
        .route("/clusters/{c}/stats", get(stats).delete(reset_stats))
        .route("/clusters/{c}/faults", get(get_faults).put(put_faults))
        .route("/clusters/{c}/apply", post(apply))
        .route(
            "/clusters/{c}/objects/{resource}/{ns}/{name}",
            axum::routing::patch(patch_object).delete(delete_object),
        )
        .route("/clusters/{c}/pods/{ns}/{name}/restart", post(restart_pod))
        .route("/clusters/{c}/pods/{ns}/{name}/log", post(add_log))
        .route(
            "/clusters/{c}/deployments/{ns}/{name}/rollout",
            post(rollout),
        )
        .route("/clusters/{c}/compact", post(compact))
        .route("/sts/calls", get(sts_calls))
        .with_state(control)
}

async fn list_clusters(State(c): S) -> Response {
    let items: Vec<Value> = c.clusters.iter().map(|(k, url)| json!({"name": k.name, "url": url, "resourceVersion": k.store.resource_version().to_string()})).collect();
    Json(json!({"items": items})).into_response()
}

async fn stats(State(c): S, Path(name): Path<String>) -> Response {
    match find(&c, &name) {
        Ok(k) => Json(k.stats.snapshot()).into_response(),
        Err(e) => e,
    }
}

async fn reset_stats(State(c): S, Path(name): Path<String>) -> Response {
    match find(&c, &name) {
        Ok(k) => {
            k.stats.reset();
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => e,
    }
}

async fn get_faults(State(c): S, Path(name): Path<String>) -> Response {
    match find(&c, &name) {
        Ok(k) => Json(k.faults()).into_response(),
        Err(e) => e,
    }
}

async fn put_faults(State(c): S, Path(name): Path<String>, Json(f): Json<Faults>) -> Response {
    match find(&c, &name) {
        Ok(k) => {
            tracing::info!(cluster = %name, faults = ?f, "faults changed");
            k.set_faults(f.clone());
            Json(f).into_response()
        }
        Err(e) => e,
    }
}

async fn apply(State(c): S, Path(name): Path<String>, body: String) -> Response {
    let k = match find(&c, &name) {
        Ok(k) => k,
        Err(e) => return e,
    };
    let mut applied = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_str(&body).enumerate() {
        let v: Value = match serde::Deserialize::deserialize(doc) {
            Ok(v) => v,
            Err(e) => return err(StatusCode::BAD_REQUEST, format!("document {}: {e}", i + 1)),
        };
        if v.is_null() {
            continue;
        }
        match k.apply(v) {
            Ok(o) => applied.push(json!({"kind": o["kind"], "namespace": o["metadata"]["namespace"], "name": o["metadata"]["name"], "resourceVersion": o["metadata"]["resourceVersion"]})),
            Err(e) => return err(StatusCode::UNPROCESSABLE_ENTITY, format!("document {}: {e}", i + 1)),
        }
    }
    Json(json!({"applied": applied})).into_response()
}

fn resource_id(k: &Cluster, resource: &str) -> Option<crate::resources::ResourceType> {
    k.type_by_id(resource).or_else(|| {
        k.types()
            .into_iter()
            .find(|t| t.plural == resource && !t.list_only)
    })
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            if let Some(t) = target.as_object_mut() {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

async fn patch_object(
    State(c): S,
    Path((name, resource, ns, obj)): Path<(String, String, String, String)>,
    Json(patch): Json<Value>,
) -> Response {
    let (k, ty, ns) = match object_target(&c, &name, &resource, ns) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let Some(current) = k.store.get(&ty.id(), &ns, &obj) else {
        return err(
            StatusCode::NOT_FOUND,
            format!("{resource} {ns}/{obj} not found"),
        );
    };
    let mut v = (*current).clone();
    merge_patch(&mut v, &patch);
    if patch.get("status").is_some() || ty.plural == "pods" {
        // Status patches (and pod patches) are stored as given, like a status subresource write.
        let stored = k.store.put(&ty.id(), v);
        if ty.plural == "pods" {
            k.refresh_owners(&ns);
        }
        return Json((*stored).clone()).into_response();
    }
    match k.apply(v) {
        Ok(o) => Json((*o).clone()).into_response(),
        Err(e) => err(StatusCode::UNPROCESSABLE_ENTITY, e),
    }
}

async fn delete_object(
    State(c): S,
    Path((name, resource, ns, obj)): Path<(String, String, String, String)>,
) -> Response {
    let (k, ty, ns) = match object_target(&c, &name, &resource, ns) {
        Ok(t) => t,
        Err(e) => return e,
    };
    match k.delete(&ty.id(), &ns, &obj) {
        Some(o) => {
            // Owners recompute their status after a child goes (a ReplicaSet replaces a pod).
            reconcile_owner(&k, &o);
            Json((*o).clone()).into_response()
        }
        None => err(
            StatusCode::NOT_FOUND,
            format!("{resource} {ns}/{obj} not found"),
        ),
    }
}

/// After a pod is deleted by hand, its controller makes a new one (as a ReplicaSet would).
fn reconcile_owner(k: &Cluster, deleted: &Value) {
    let Some(owner) = deleted["metadata"]["ownerReferences"]
        .as_array()
        .and_then(|r| r.first())
    else {
        return;
    };
    let ns = deleted["metadata"]["namespace"].as_str().unwrap_or("");
    let name = owner["name"].as_str().unwrap_or("");
    let kind = owner["kind"].as_str().unwrap_or("");
    let Some(ty) = crate::resources::gvk_of(owner).and_then(|(g, _, kd)| k.type_by_kind(&g, &kd))
    else {
        return;
    };
    // A Job's pods are not replaced: they ran to their end.
    if kind != "Job" {
        if let Some(o) = k.store.get(&ty.id(), ns, name) {
            k.reconcile(kind, &o);
        }
    }
}

async fn restart_pod(
    State(c): S,
    Path((name, ns, pod)): Path<(String, String, String)>,
) -> Response {
    let (k, p) = match pod_of(&c, &name, &ns, &pod) {
        Ok(t) => t,
        Err(e) => return e,
    };
    k.restart(&p);
    k.refresh_owners(&ns);
    Json(
        k.store
            .get("pods", &ns, &pod)
            .map(|p| (*p).clone())
            .unwrap_or(Value::Null),
    )
    .into_response()
}

#[derive(serde::Deserialize)]
struct LogLine {
    container: Option<String>,
    line: String,
}

async fn add_log(
    State(c): S,
    Path((name, ns, pod)): Path<(String, String, String)>,
    Json(l): Json<LogLine>,
) -> Response {
    let (k, p) = match pod_of(&c, &name, &ns, &pod) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let container = match crate::logs::pick_container(&p, l.container.as_deref()) {
        Ok(c) => c,
        Err(e) => return err(StatusCode::BAD_REQUEST, e),
    };
    k.logs.push(&ns, &pod, &container, &l.line);
    StatusCode::NO_CONTENT.into_response()
}

async fn rollout(State(c): S, Path((name, ns, d)): Path<(String, String, String)>) -> Response {
    let k = match find(&c, &name) {
        Ok(k) => k,
        Err(e) => return e,
    };
    let Some(dep) = k.store.get("deployments.apps", &ns, &d) else {
        return err(
            StatusCode::NOT_FOUND,
            format!("deployment {ns}/{d} not found"),
        );
    };
    k.rollout_restart(&dep);
    Json(
        k.store
            .get("deployments.apps", &ns, &d)
            .map(|p| (*p).clone())
            .unwrap_or(Value::Null),
    )
    .into_response()
}

async fn compact(State(c): S, Path(name): Path<String>) -> Response {
    match find(&c, &name) {
        Ok(k) => {
            k.store.compact();
            Json(json!({"resourceVersion": k.store.resource_version().to_string()})).into_response()
        }
        Err(e) => e,
    }
}

async fn sts_calls(State(c): S) -> Response {
    match &c.sts {
        Some(s) => Json(json!({"GetCallerIdentity": s.calls("GetCallerIdentity"), "AssumeRole": s.calls("AssumeRole")})).into_response(),
        None => err(StatusCode::NOT_FOUND, "no STS configured"),
    }
}
