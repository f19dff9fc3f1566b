//! `/metrics` (Prometheus text format) and the middleware that counts and times every HTTP
//! request by route. Kubernetes request counts come from the cluster clients themselves
//! ([`crate::kubernetes::fetcher::Observe`]); gauges are sampled when scraped.

use std::sync::Arc;
use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
    Router,
};

use crate::kubernetes::KubernetesService;
use crate::metrics::Registry;

#[derive(Clone)]
struct Scrape {
    registry: Arc<Registry>,
    kubernetes: Option<Arc<KubernetesService>>,
}

/// `GET /metrics`.
pub fn routes<S: Clone + Send + Sync + 'static>(
    registry: Arc<Registry>,
    kubernetes: Option<Arc<KubernetesService>>,
) -> Router<S> {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(Scrape {
            registry,
            kubernetes,
        })
}

async fn metrics(State(s): State<Scrape>) -> Response {
    if let Some(k) = &s.kubernetes {
        k.sample_gauges();
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            crate::metrics::CONTENT_TYPE,
        )],
        s.registry.render(),
    )
        .into_response()
}

/// Counts and times a request under its route pattern (`/api/catalog/entities/by-name/{kind}/…`),
/// never its raw path, so the series stay few.
pub async fn track(State(registry): State<Arc<Registry>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    // Only the standard methods name a series; any other is counted as "other".
    let method = match *req.method() {
        axum::http::Method::GET
        | axum::http::Method::HEAD
        | axum::http::Method::POST
        | axum::http::Method::PUT
        | axum::http::Method::PATCH
        | axum::http::Method::DELETE
        | axum::http::Method::OPTIONS => req.method().to_string(),
        _ => "other".to_string(),
    };
    let start = Instant::now();
    let response = next.run(req).await;
    registry.observe(
        "greenroom_http_request_duration_seconds",
        vec![("route", route.clone())],
        start.elapsed(),
    );
    registry.add(
        "greenroom_http_requests_total",
        vec![
            ("route", route),
            ("method", method),
            ("status", response.status().as_u16().to_string()),
        ],
        1,
    );
    response
}
