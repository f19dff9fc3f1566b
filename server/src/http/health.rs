//! Health endpoints: Backstage's `/.backstage/health/v1/{readiness,liveness}` and `/healthz`.
//!
//! Liveness answers as long as the process serves HTTP. Readiness answers 503 with Backstage's
//! body (`{"status":"error","message":"Backend has not started yet"}`) until the configured
//! clusters' first lists are in the watch cache or `kubernetes.cache.warmUpTimeoutMs` passed
//! (the catalog's first load happens before serving).

use std::sync::Arc;

use axum::{extract::State, http::StatusCode, routing::get, Json, Router};
use serde_json::{json, Value};

use crate::kubernetes::KubernetesService;

/// Routes for the health endpoints, mergeable into any router state.
pub fn routes<S: Clone + Send + Sync + 'static>(
    kubernetes: Option<Arc<KubernetesService>>,
) -> Router<S> {
    Router::new()
        .route("/.backstage/health/v1/readiness", get(readiness))
        .with_state(kubernetes)
        .route("/.backstage/health/v1/liveness", get(ok))
        .route("/healthz", get(ok))
}

async fn ok() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn readiness(
    State(kubernetes): State<Option<Arc<KubernetesService>>>,
) -> (StatusCode, Json<Value>) {
    if kubernetes.as_ref().is_none_or(|k| k.is_ready()) {
        (StatusCode::OK, Json(json!({ "status": "ok" })))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "error", "message": "Backend has not started yet" })),
        )
    }
}
