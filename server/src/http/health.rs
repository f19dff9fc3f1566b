//! Health endpoints: Backstage's `/.backstage/health/v1/{readiness,liveness}` and `/healthz`.
//!
//! Liveness answers as long as the process serves HTTP. Readiness answers 503 with Backstage's
//! body (`{"status":"error","message":"Backend has not started yet"}`) until the configured
//! clusters' first lists are in the watch cache or `kubernetes.cache.warmUpTimeoutMs` passed
//! (the catalog's first load happens before serving), and again from SIGTERM on
//! (`"Backend is shutting down"`), while `backend.lifecycle.serverShutdownDelay` keeps the
//! server answering so a load balancer can take the replica out before it stops.
//!
//! Shutting down is a fact of the process (one process, one server), so it is a process-wide
//! flag, set once by [`begin_shutdown`].

use std::sync::atomic::{AtomicBool, Ordering};
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

/// Set when the process was asked to stop.
static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);

/// From now on readiness answers 503 "Backend is shutting down".
pub fn begin_shutdown() {
    SHUTTING_DOWN.store(true, Ordering::SeqCst);
}

async fn readiness(
    State(kubernetes): State<Option<Arc<KubernetesService>>>,
) -> (StatusCode, Json<Value>) {
    if SHUTTING_DOWN.load(Ordering::SeqCst) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "error", "message": "Backend is shutting down" })),
        );
    }
    if kubernetes.as_ref().is_none_or(|k| k.is_ready()) {
        (StatusCode::OK, Json(json!({ "status": "ok" })))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "error", "message": "Backend has not started yet" })),
        )
    }
}
