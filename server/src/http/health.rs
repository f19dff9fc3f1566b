//! Health endpoints: Backstage's `/.backstage/health/v1/{readiness,liveness}` and `/healthz`.
//!
//! Liveness answers as long as the process serves HTTP. Readiness will also reflect the first
//! catalog load once there is one.

use axum::{routing::get, Json, Router};
use serde_json::{json, Value};

/// Routes for the health endpoints, mergeable into any router state.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/.backstage/health/v1/readiness", get(ok))
        .route("/.backstage/health/v1/liveness", get(ok))
        .route("/healthz", get(ok))
}

async fn ok() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
