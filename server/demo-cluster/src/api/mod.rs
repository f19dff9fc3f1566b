//! The Kubernetes REST API of one cluster: discovery, get, list (selectors, pagination), watch,
//! pod logs and metrics.k8s.io, behind bearer-token authentication and the cluster's fault
//! switches. Read-only: writes go through the control API (`control.rs`), like `kubectl apply`
//! would go through a real API server.

pub mod discovery;
mod logs;
mod objects;
pub mod status;
mod watch;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{header, Method};

use crate::auth::Access;
use crate::cluster::Cluster;
use crate::resources::ResourceType;

/// What the API handlers share.
pub struct ApiState {
    /// The cluster.
    pub cluster: Arc<Cluster>,
    /// Its authenticator.
    pub access: Access,
    /// How often watches send BOOKMARK events when asked to.
    pub bookmark_every: Duration,
}

/// The router: every path goes through [`handle`].
pub fn router(state: Arc<ApiState>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(state)
}

/// A parsed resource path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Target {
    pub ty: ResourceType,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

enum Route {
    Version,
    Health,
    CoreVersions,
    Groups,
    Group(String),
    Resources(String, String),
    Object(Target),
}

fn parse_path(cluster: &Cluster, path: &str) -> Option<Route> {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let (group, version, rest) = match segs.as_slice() {
        ["version"] => return Some(Route::Version),
        ["healthz" | "livez" | "readyz", ..] => return Some(Route::Health),
        ["api"] => return Some(Route::CoreVersions),
        ["apis"] => return Some(Route::Groups),
        ["apis", g] => return Some(Route::Group((*g).to_string())),
        ["api", v] => return Some(Route::Resources(String::new(), (*v).to_string())),
        ["apis", g, v] => return Some(Route::Resources((*g).to_string(), (*v).to_string())),
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return None,
    };
    let find = |plural: &str| cluster.type_by_path(group, version, plural);
    let target =
        |ty: ResourceType, namespace: Option<&str>, name: Option<&str>, sub: Option<&str>| {
            Some(Route::Object(Target {
                ty,
                namespace: namespace.map(str::to_string),
                name: name.map(str::to_string),
                subresource: sub.map(str::to_string),
            }))
        };
    match rest {
        // /api/v1/namespaces/{ns}/{resource}[/{name}[/{sub}]]
        ["namespaces", ns, plural, tail @ ..] => {
            let ty = find(plural).filter(|t| t.namespaced)?;
            match tail {
                [] => target(ty, Some(ns), None, None),
                [name] => target(ty, Some(ns), Some(name), None),
                [name, sub] => target(ty, Some(ns), Some(name), Some(sub)),
                _ => None,
            }
        }
        [plural] => target(find(plural)?, None, None, None),
        [plural, name] => {
            let ty = find(plural)?;
            if ty.namespaced {
                return None;
            }
            target(ty, None, Some(name), None)
        }
        _ => None,
    }
}

fn query(req: &Request) -> HashMap<String, String> {
    req.uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// Answers one request.
async fn handle(State(state): State<Arc<ApiState>>, req: Request) -> Response {
    let cluster = &state.cluster;
    let faults = cluster.faults();
    if faults.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.delay_ms)).await;
    }
    let route = parse_path(cluster, req.uri().path());
    let public = matches!(route, Some(Route::Version | Route::Health));
    if faults.unauthorized && !public {
        cluster.stats.count("unauthorized", "");
        return status::unauthorized();
    }
    let user = match state.access.authenticate(
        req.headers()
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok()),
    ) {
        Ok(u) => Some(u),
        Err(e) if !public => {
            tracing::debug!(cluster = %cluster.name, error = %e, "request rejected");
            cluster.stats.count("unauthorized", "");
            return status::unauthorized();
        }
        Err(_) => None,
    };
    if faults.internal_error {
        cluster.stats.count("error", "");
        return status::internal("etcdserver: request timed out");
    }
    if faults.malformed {
        cluster.stats.count("malformed", "");
        return (
            http::StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[{\"metadata\":",
        )
            .into_response();
    }
    let Some(route) = route else {
        return status::no_such_path();
    };
    let types = cluster.types();
    let found = |v: Option<serde_json::Value>| {
        v.map(|v| status::json_response(200, &v))
            .unwrap_or_else(status::no_such_path)
    };
    match route {
        Route::Version => status::json_response(200, &discovery::version()),
        Route::Health => (http::StatusCode::OK, "ok").into_response(),
        Route::CoreVersions => status::json_response(200, &discovery::core_versions()),
        Route::Groups => status::json_response(200, &discovery::groups(&types)),
        Route::Group(g) => found(discovery::group(&types, &g)),
        Route::Resources(g, v) => found(discovery::resources(&types, &g, &v)),
        Route::Object(target) => {
            let Some(user) = user else {
                return status::unauthorized();
            };
            let q = query(&req);
            let accept = req
                .headers()
                .get(header::ACCEPT)
                .and_then(|a| a.to_str().ok())
                .unwrap_or("")
                .to_string();
            let is_get = req.method() == Method::GET;
            drop(req);
            object_request(&state, &user, target, q, &accept, is_get).await
        }
    }
}

async fn object_request(
    state: &Arc<ApiState>,
    user: &crate::auth::User,
    target: Target,
    q: HashMap<String, String>,
    accept: &str,
    is_get: bool,
) -> Response {
    let watching = q.get("watch").is_some_and(|w| w == "true" || w == "1");
    let verb = match (&target.name, &target.subresource, watching) {
        (_, _, true) => "watch",
        (Some(_), _, _) => "get",
        (None, _, _) => "list",
    };
    let resource_label = target.ty.id();
    state.cluster.stats.count(
        verb,
        &match &target.subresource {
            Some(s) => format!("{resource_label}/{s}"),
            None => resource_label.clone(),
        },
    );
    if !is_get {
        return status::method_not_supported(&target.ty.plural);
    }
    if let Err(message) = user.authorize(
        verb,
        &target.ty.group,
        &target.ty.plural,
        target.subresource.as_deref(),
        target.namespace.as_deref(),
    ) {
        let mut details = serde_json::json!({"kind": target.ty.plural});
        if let Some(n) = &target.name {
            details["name"] = serde_json::json!(n);
        }
        if !target.ty.group.is_empty() {
            details["group"] = serde_json::json!(target.ty.group);
        }
        return status::status(403, "Forbidden", &message, Some(details));
    }
    match (target.subresource.as_deref(), verb) {
        (Some("log"), _) if target.ty.plural == "pods" && target.ty.group.is_empty() => {
            logs::pod_log(state, &target, &q).await
        }
        (Some(_), _) => status::no_such_path(),
        (None, "watch") => watch::watch(state, &target, &q),
        (None, "get") => objects::get(state, &target, accept),
        _ => objects::list(state, &target, &q, accept),
    }
}

/// A streamed body from a channel of chunks.
pub(crate) fn stream_body(rx: tokio::sync::mpsc::Receiver<bytes::Bytes>) -> Body {
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
    });
    Body::from_stream(stream)
}
