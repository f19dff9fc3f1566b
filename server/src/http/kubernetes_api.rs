//! Backstage's Kubernetes REST API under `/api/kubernetes`: `GET /clusters`,
//! `POST /services/:entityName`, `POST /resources/workloads/query`,
//! `POST /resources/custom/query`, with Backstage's request and response shapes. The entity is
//! always re-read from the catalog by its ref, never taken from the body. Handlers parse and
//! shape only; the work is [`crate::kubernetes::KubernetesService`]'s, the same the UI uses.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{OriginalUri, State},
    http::{Method, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};

use super::error::ApiError;
use super::streams::{refreshed, Places, Recheck, Rechecks};
use crate::auth::SessionDeadline;
use crate::catalog::refs::parse_ref;
use crate::kubernetes::config::{CustomResource, MAX_CUSTOM_RESOURCES_PER_REQUEST};
use crate::kubernetes::live::Live;
use crate::kubernetes::service::Needs;
use crate::kubernetes::{KubernetesService, LookupError};
use crate::permission::{Access, Decision, Permissions};

/// The `/api/kubernetes` routes. Each answers with what the caller's permissions allow (see
/// [`crate::permission`]): 403 `NotAllowedError` for an entity whose resources it may not see,
/// and only the clusters it may see.
pub fn routes<S: Clone + Send + Sync + 'static>(
    service: Arc<KubernetesService>,
    tokens: Arc<Vec<crate::settings::StaticToken>>,
    permissions: Arc<Permissions>,
) -> Router<S> {
    Router::new()
        .route("/api/kubernetes/clusters", get(clusters))
        .route("/api/kubernetes/services/{entity_name}", post(services))
        .route("/api/kubernetes/resources/workloads/query", post(workloads))
        .route("/api/kubernetes/resources/custom/query", post(custom))
        .route_layer(axum::middleware::from_fn_with_state(
            tokens,
            super::auth::require_static_token,
        ))
        .layer(axum::Extension(permissions))
        .with_state(service)
}

type Svc = State<Arc<KubernetesService>>;

fn input(method: &Method, uri: &OriginalUri, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "InputError", message, method, uri)
}

fn body_json(method: &Method, uri: &OriginalUri, body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| input(method, uri, format!("request body is not JSON: {e}")))
}

async fn clusters(State(svc): Svc, access: Access, method: Method, uri: OriginalUri) -> Response {
    let clusters = access.kubernetes().clusters;
    if clusters == Decision::Deny {
        return forbidden(
            &method,
            &uri,
            "You don't have access to any cluster (permission kubernetes.clusters.read)".into(),
        );
    }
    Json(json!({ "items": svc.cluster_summaries(&clusters).await })).into_response()
}

fn forbidden(method: &Method, uri: &OriginalUri, message: String) -> Response {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "NotAllowedError",
        message,
        method,
        uri,
    )
    .into_response()
}

/// The deprecated route the official frontend still calls: `{entity}` names the entity.
async fn services(
    State(svc): Svc,
    access: Access,
    method: Method,
    uri: OriginalUri,
    body: Bytes,
) -> Response {
    let body = match body_json(&method, &uri, &body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let entity = &body["entity"];
    let (Some(kind), Some(name)) = (entity["kind"].as_str(), entity["metadata"]["name"].as_str())
    else {
        return input(
            &method,
            &uri,
            "entity is a required field (with kind and metadata.name)",
        )
        .into_response();
    };
    let ns = entity["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default");
    let entity_ref = format!("{kind}:{ns}/{name}").to_lowercase();
    match svc
        .objects_for_ref(&entity_ref, None, &access.kubernetes())
        .await
    {
        Ok(r) => Json(r).into_response(),
        Err(LookupError::UnknownEntity(r)) => ApiError::new(
            StatusCode::FORBIDDEN,
            "NotAllowedError",
            format!("Entity not found, {r}"),
            &method,
            &uri,
        )
        .into_response(),
        Err(e) => lookup_error(&method, &uri, e),
    }
}

/// A lookup that could not run: 400 for what the request or the entity's annotations got
/// wrong, 503 for a full house.
fn lookup_error(method: &Method, uri: &OriginalUri, e: LookupError) -> Response {
    match e {
        LookupError::Forbidden(m) => forbidden(method, uri, m),
        e @ LookupError::TooManyViewers(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailableError",
            e.to_string(),
            method,
            uri,
        )
        .into_response(),
        e => input(method, uri, e.to_string()).into_response(),
    }
}

/// `entityRef` from the body, checked as Backstage checks it.
fn entity_ref(method: &Method, uri: &OriginalUri, body: &Value) -> Result<String, ApiError> {
    let raw = match body.get("entityRef") {
        None | Some(Value::Null) => return Err(input(method, uri, "entity is a required field")),
        Some(Value::String(s)) if s.is_empty() => {
            return Err(input(method, uri, "entity is a required field"))
        }
        Some(Value::String(s)) => s,
        Some(_) => return Err(input(method, uri, "entity query must be a string")),
    };
    let parsed = parse_ref(raw, None, "default")
        .map_err(|e| input(method, uri, format!("Invalid entity ref, {e}")))?;
    Ok(parsed.canonical())
}

async fn run(
    svc: &KubernetesService,
    access: &Access,
    method: &Method,
    uri: &OriginalUri,
    entity_ref: &str,
    custom: Option<Vec<CustomResource>>,
) -> Response {
    match svc
        .objects_for_ref(entity_ref, custom, &access.kubernetes())
        .await
    {
        Ok(r) => Json(r).into_response(),
        Err(e) => lookup_error(method, uri, e),
    }
}

async fn workloads(
    State(svc): Svc,
    access: Access,
    method: Method,
    uri: OriginalUri,
    body: Bytes,
) -> Response {
    let body = match body_json(&method, &uri, &body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    match entity_ref(&method, &uri, &body) {
        Ok(r) => run(&svc, &access, &method, &uri, &r, None).await,
        Err(e) => e.into_response(),
    }
}

async fn custom(
    State(svc): Svc,
    access: Access,
    method: Method,
    uri: OriginalUri,
    body: Bytes,
) -> Response {
    let body = match body_json(&method, &uri, &body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let r = match entity_ref(&method, &uri, &body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    // Unknown, or not readable by this viewer (which the catalog answers the same way).
    if let Err(LookupError::UnknownEntity(_)) =
        svc.readable_entity(&r, &access.kubernetes(), Needs::Resources)
    {
        return input(&method, &uri, format!("Entity ref missing, {r}")).into_response();
    }
    let list = match body.get("customResources") {
        None | Some(Value::Null) => {
            return input(&method, &uri, "customResources is a required field").into_response()
        }
        Some(Value::Array(a)) if a.is_empty() => {
            return input(&method, &uri, "at least 1 customResource is required").into_response()
        }
        Some(Value::Array(a)) if a.len() > MAX_CUSTOM_RESOURCES_PER_REQUEST => {
            return input(
                &method,
                &uri,
                format!("at most {MAX_CUSTOM_RESOURCES_PER_REQUEST} customResources may be asked for at once"),
            )
            .into_response()
        }
        Some(Value::Array(a)) => a,
        Some(_) => return input(&method, &uri, "customResources must be an array").into_response(),
    };
    let secrets_allowed = svc.config().object_types.iter().any(|t| t.is_secret());
    let mut crs = Vec::new();
    for (i, c) in list.iter().enumerate() {
        match (
            c["group"].as_str(),
            c["apiVersion"].as_str(),
            c["plural"].as_str(),
        ) {
            (Some(g), Some(v), Some(p)) => {
                let cr = match CustomResource::parse(&format!("customResources[{i}]"), g, v, p) {
                    Ok(cr) => cr,
                    Err(e) => return input(&method, &uri, e.to_string()).into_response(),
                };
                // Secrets are read only when the config opts in (objectTypes: [secrets]).
                if cr.object_type().is_secret() && !secrets_allowed {
                    return input(
                        &method,
                        &uri,
                        format!("customResources[{i}]: secrets are not readable here (not in kubernetes.objectTypes)"),
                    )
                    .into_response();
                }
                crs.push(cr);
            }
            _ => {
                return input(
                    &method,
                    &uri,
                    format!("customResources[{i}] needs string group, apiVersion and plural"),
                )
                .into_response()
            }
        }
    }
    run(&svc, &access, &method, &uri, &r, Some(crs)).await
}

/// Routes for the portal's own UI (not Backstage's API, so not behind its static tokens):
/// `GET /api/greenroom/kubernetes/logs` downloads a container log of one of an entity's pods.
pub fn ui_routes<S: Clone + Send + Sync + 'static>(
    live: Arc<Live>,
    permissions: Arc<Permissions>,
) -> Router<S> {
    let service = Arc::clone(live.service());
    let follows = Arc::new(crate::kubernetes::log_follow::LogFollows::new(Arc::clone(
        &service,
    )));
    let places = Places::new(service.config().limits.max_live_subscribers_per_user);
    Router::new()
        .route("/api/greenroom/kubernetes/logs", get(download_logs))
        .route("/api/greenroom/kubernetes/logs/follow", get(follow_logs))
        .route("/api/greenroom/kubernetes/live", get(live_view))
        .layer(axum::Extension(follows))
        .layer(axum::Extension(places))
        .layer(axum::Extension(permissions))
        .layer(axum::Extension(live))
        .with_state(service)
}

#[derive(serde::Deserialize)]
struct LiveQuery {
    entity: String,
}

/// The tab's live view as Server-Sent Events: `event: view` frames (the `KubernetesView` JSON),
/// sent when the view changes; the current frame first unless `Last-Event-ID` says the browser
/// already has it (EventSource sends it when it reconnects). 404 for an unknown entity, 503 when
/// the watch cache is off (the tab then polls), 429 past the viewer's own places. The stream
/// ends when the viewer's session does, or when the policy in force changes the viewer's
/// decisions (the browser reconnects and is answered anew; see [`super::streams`]).
async fn live_view(
    State(svc): Svc,
    axum::Extension(live): axum::Extension<Arc<Live>>,
    axum::Extension(places): axum::Extension<Arc<Places>>,
    access: Access,
    deadline: Option<axum::Extension<SessionDeadline>>,
    headers: axum::http::HeaderMap,
    axum::extract::Query(q): axum::extract::Query<LiveQuery>,
) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    if svc.cache().is_none() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "live updates need kubernetes.cache.enabled",
        )
            .into_response();
    }
    if live.is_closed() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    // Watching for changes starts before the decision, so none is missed.
    let rechecks = Rechecks::new(&access, deadline.map(|axum::Extension(d)| d));
    let place = match places.take(access.viewer.as_ref()) {
        Ok(p) => p,
        Err(e) => return (StatusCode::TOO_MANY_REQUESTS, e.to_string()).into_response(),
    };
    let decided = access.kubernetes();
    let sub = match live.subscribe(&q.entity, &decided) {
        Ok(s) => s,
        Err(e @ LookupError::TooManyViewers(_)) => {
            return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response()
        }
        Err(LookupError::Forbidden(m)) => return (StatusCode::FORBIDDEN, m).into_response(),
        Err(e) => return (StatusCode::NOT_FOUND, e.to_string()).into_response(),
    };
    let last_seen = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let state = LiveStream {
        sub,
        last: last_seen,
        rechecks,
        access,
        decided,
        svc,
        _place: place,
    };
    let stream = futures_util::stream::unfold(state, |mut st| async move {
        loop {
            let frame = st.sub.rx.borrow_and_update().clone();
            if let Some(f) = frame.filter(|f| st.last.as_deref() != Some(f.id.as_str())) {
                st.last = Some(f.id.clone());
                let event = Event::default()
                    .event(f.event)
                    .id(f.id.clone())
                    .retry(std::time::Duration::from_secs(1))
                    .data(&*f.data);
                return Some((Ok::<_, std::convert::Infallible>(event), st));
            }
            tokio::select! {
                changed = st.sub.rx.changed() => changed.ok()?,
                recheck = st.rechecks.next() => match recheck {
                    Recheck::SessionEnded => return None,
                    Recheck::PolicyChanged => {
                        let now = refreshed(&st.access, &st.svc.catalog_store().snapshot());
                        if !same_view(&now.kubernetes(), &st.decided) {
                            return None;
                        }
                    }
                },
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15)))
        .into_response()
}

/// Whether two viewers' decisions give the same live view (the feed's key).
fn same_view(
    a: &crate::permission::KubernetesAccess,
    b: &crate::permission::KubernetesAccess,
) -> bool {
    a.catalog == b.catalog && a.resources == b.resources && a.clusters == b.clusters
}

/// One live view's stream: its subscription and what it was authorized with.
struct LiveStream {
    sub: crate::kubernetes::live::Subscription,
    last: Option<String>,
    rechecks: Rechecks,
    access: Access,
    decided: crate::permission::KubernetesAccess,
    svc: Arc<KubernetesService>,
    _place: Option<super::streams::Place>,
}

#[derive(serde::Deserialize)]
struct LogsQuery {
    entity: String,
    cluster: String,
    namespace: String,
    pod: String,
    container: Option<String>,
    #[serde(default)]
    previous: bool,
    tail: Option<u32>,
}

/// A followed container log as Server-Sent Events: `event: lines` (data: `[[timestamp, text],
/// ...]`, first the last `tail` lines, then the new ones as they come) and, when the log can no
/// longer be followed, `event: ended` (data: `{"message": ...}`) before the stream closes. The
/// same checks as a log download (403/404/400 with the reason); 503 when the watch cache is off
/// or every place is taken, 429 past the viewer's own places (the panel then re-reads the log).
/// The stream ends (`ended`, with the reason) when the viewer's session does, or when the policy
/// in force no longer lets the viewer read this pod's logs (see [`super::streams`]).
async fn follow_logs(
    State(svc): Svc,
    axum::Extension(follows): axum::Extension<Arc<crate::kubernetes::log_follow::LogFollows>>,
    axum::Extension(places): axum::Extension<Arc<Places>>,
    access: Access,
    deadline: Option<axum::Extension<SessionDeadline>>,
    axum::extract::Query(q): axum::extract::Query<LogsQuery>,
) -> Response {
    use crate::kubernetes::log_follow::Next;
    use app::wire::kubernetes::{LogRequest, PodRef};
    use axum::response::sse::{Event, KeepAlive, Sse};
    let text = |status: StatusCode, message: String| {
        (
            status,
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            message,
        )
            .into_response()
    };
    if svc.cache().is_none() || svc.is_shutting_down() {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "following a log needs kubernetes.cache.enabled".into(),
        );
    }
    let request = LogRequest {
        pod: PodRef {
            cluster: q.cluster,
            namespace: q.namespace,
            name: q.pod,
        },
        container: q.container.filter(|c| !c.is_empty()),
        previous: false,
        tail_lines: q.tail.unwrap_or(200),
    };
    // Watching for changes starts before the decision, so none is missed.
    let rechecks = Rechecks::new(&access, deadline.map(|axum::Extension(d)| d));
    let decided = access.kubernetes();
    if let Some(denied) = svc.pod_access_denied(&q.entity, &request.pod.cluster, &decided) {
        return text(StatusCode::FORBIDDEN, denied);
    }
    let place = match places.take(access.viewer.as_ref()) {
        Ok(p) => p,
        Err(e) => return text(StatusCode::TOO_MANY_REQUESTS, e.to_string()),
    };
    let target = match svc.follow_target(&q.entity, &request, &decided).await {
        Ok(t) => t,
        Err(e) => {
            return text(
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
                e.to_string(),
            )
        }
    };
    let follower = match follows.follow(target, request.tail_lines as usize) {
        Ok(f) => f,
        Err(e) => return text(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    };
    let state = FollowStream {
        follower,
        shutdown: svc.shutdown_signal(),
        rechecks,
        access,
        entity: q.entity,
        cluster: request.pod.cluster,
        svc,
        _place: place,
    };
    let stream = futures_util::stream::unfold(Some(state), |st| async move {
        let mut st = st?;
        let next = loop {
            tokio::select! {
                n = st.follower.next() => break n?,
                _ = st.shutdown.wait_for(|down| *down) => return None,
                recheck = st.rechecks.next() => match recheck {
                    Recheck::SessionEnded => break Next::Ended(
                        "Your session has ended: sign in again to follow this log.".into(),
                    ),
                    Recheck::PolicyChanged => {
                        let access =
                            refreshed(&st.access, &st.svc.catalog_store().snapshot()).kubernetes();
                        if let Some(denied) = st.svc.pod_access_denied(&st.entity, &st.cluster, &access) {
                            break Next::Ended(denied);
                        }
                    }
                },
            }
        };
        let (event, more) = match next {
            Next::Lines(lines) => {
                let pairs: Vec<(&str, &str)> = lines.iter().map(|l| (&*l.ts, &*l.text)).collect();
                (
                    Event::default()
                        .event("lines")
                        .data(serde_json::to_string(&pairs).unwrap_or_default()),
                    true,
                )
            }
            Next::Ended(message) => (
                Event::default()
                    .event("ended")
                    .data(serde_json::json!({ "message": message }).to_string()),
                false,
            ),
        };
        Some((Ok::<_, std::convert::Infallible>(event), more.then_some(st)))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15)))
        .into_response()
}

/// One followed log's stream: the follower and what it was authorized with.
struct FollowStream {
    follower: crate::kubernetes::log_follow::Follower,
    shutdown: tokio::sync::watch::Receiver<bool>,
    rechecks: Rechecks,
    access: Access,
    entity: String,
    cluster: String,
    svc: Arc<KubernetesService>,
    _place: Option<super::streams::Place>,
}

async fn download_logs(
    State(svc): Svc,
    access: Access,
    axum::extract::Query(q): axum::extract::Query<LogsQuery>,
) -> Response {
    use app::wire::kubernetes::{LogRequest, PodRef};
    let request = LogRequest {
        pod: PodRef {
            cluster: q.cluster,
            namespace: q.namespace,
            name: q.pod.clone(),
        },
        container: q.container.clone().filter(|c| !c.is_empty()),
        previous: q.previous,
        tail_lines: q.tail.unwrap_or(10_000),
    };
    let access = access.kubernetes();
    if let Some(denied) = svc.pod_access_denied(&q.entity, &request.pod.cluster, &access) {
        return (
            StatusCode::FORBIDDEN,
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            denied,
        )
            .into_response();
    }
    match svc.pod_logs(&q.entity, &request, &access).await {
        Ok(logs) => {
            let mut text = String::new();
            for (ts, line) in logs.lines {
                if !ts.is_empty() {
                    text.push_str(&ts);
                    text.push(' ');
                }
                text.push_str(&line);
                text.push('\n');
            }
            if let Some(max) = logs.truncated {
                text.push_str(&format!(
                    "[truncated: Greenroom reads at most {max} bytes of a log (kubernetes.podLogs.maxBytes)]\n"
                ));
            }
            let suffix = if q.previous { "-previous" } else { "" };
            let file = format!(
                "{}{}{suffix}.log",
                q.pod,
                q.container.map(|c| format!("-{c}")).unwrap_or_default()
            );
            let file: String = file
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
                .collect();
            (
                [
                    (
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; charset=utf-8".to_string(),
                    ),
                    (
                        axum::http::header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{file}\""),
                    ),
                ],
                text,
            )
                .into_response()
        }
        Err(e) => (
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            e.to_string(),
        )
            .into_response(),
    }
}
