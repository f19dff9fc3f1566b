//! HTTP wiring: the axum router that serves the Leptos app, server functions, static assets,
//! health endpoints and (later) the Backstage-compatible REST APIs; plus the serve loop with
//! graceful shutdown.
//!
//! Domain logic does not live here: handlers call plain functions of other modules.

mod auth;
pub mod catalog_api;
mod catalog_params;
mod catalog_request;
pub mod catalog_write;
pub mod error;
mod health;
pub mod kubernetes_api;
mod observability;
pub mod streams;

use std::sync::Arc;

use app::backend::BackendHandle;
use axum::{extract::FromRef, Router};
use axum::{response::Redirect, routing::get};
use leptos::prelude::*;
use leptos_axum::{generate_route_list_with_exclusions, LeptosRoutes};
use tower_http::{compression::CompressionLayer, limit::RequestBodyLimitLayer, trace::TraceLayer};

/// The largest request body accepted on any route, server functions included (413 past it).
pub const MAX_REQUEST_BODY_BYTES: usize = 1024 * 1024;

/// Shared state of the router.
#[derive(Clone)]
pub struct AppState {
    /// Leptos' options (site root, bundle name).
    pub leptos: LeptosOptions,
    /// What server functions can reach.
    pub backend: BackendHandle,
    /// The catalog, for the REST API.
    pub catalog: Arc<crate::catalog::store::CatalogStore>,
    /// The catalog API's writes (registered locations, refresh, delete); `None` serves the
    /// catalog read-only.
    pub catalog_writes: Option<catalog_write::CatalogWrites>,
    /// `backend.auth.externalAccess` static tokens guarding the REST APIs.
    pub static_tokens: Arc<Vec<crate::settings::StaticToken>>,
    /// The Kubernetes service, when `kubernetes:` is configured (else its routes are absent, as
    /// in Backstage).
    pub kubernetes: Option<Arc<crate::kubernetes::KubernetesService>>,
    /// Prometheus metrics, served at `/metrics` (the Kubernetes service counts into it too).
    pub metrics: Arc<crate::metrics::Registry>,
    /// Sign-in: the gate before every route and `/api/auth/*`.
    pub auth: Arc<crate::auth::Auth>,
    /// Permissions: what each viewer may see, on every route that reads the catalog or a
    /// cluster.
    pub permissions: Arc<crate::permission::Permissions>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// Leptos options for a site root and bind address.
pub fn leptos_options(site_root: &std::path::Path, addr: std::net::SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(Arc::<str>::from(app::BUNDLE_NAME))
        .site_root(Arc::<str>::from(site_root.to_string_lossy().as_ref()))
        .site_pkg_dir(Arc::<str>::from("pkg"))
        .site_addr(addr)
        .build()
}

/// The complete router. Build it once (route generation renders the app), then serve it.
pub fn router(state: AppState) -> Router {
    // `/` is answered here with a real HTTP redirect (the client router still knows it too).
    let routes = generate_route_list_with_exclusions(app::App, Some(vec!["/".to_string()]));
    let backend = state.backend.clone();
    let context = move || provide_context(backend.clone());
    let shell_options = state.leptos.clone();
    let kubernetes = match &state.kubernetes {
        Some(k) => kubernetes_api::routes(
            Arc::clone(k),
            Arc::clone(&state.static_tokens),
            Arc::clone(&state.permissions),
        )
        .merge(kubernetes_api::ui_routes(
            Arc::new(crate::kubernetes::live::Live::new(Arc::clone(k))),
            Arc::clone(&state.permissions),
        )),
        None => Router::new(),
    };
    Router::new()
        .merge(health::routes(state.kubernetes.clone()))
        .merge(observability::routes(
            Arc::clone(&state.metrics),
            state.kubernetes.clone(),
        ))
        .merge(kubernetes)
        .merge(catalog_api::routes_with(
            Arc::clone(&state.catalog),
            state.catalog_writes.clone(),
            Arc::clone(&state.static_tokens),
            Arc::clone(&state.permissions),
        ))
        .merge(crate::auth::routes(Arc::clone(&state.auth)))
        .route("/", get(|| async { Redirect::temporary("/catalog") }))
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            app::shell(shell_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, app::shell))
        .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state.auth),
            crate::auth::gate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state.metrics),
            observability::track,
        ))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The router of `backend.metrics.listen`: `/metrics` and the health endpoints only, without
/// sign-in (that address is meant for a scraper on an internal network).
pub fn metrics_router(
    metrics: Arc<crate::metrics::Registry>,
    kubernetes: Option<Arc<crate::kubernetes::KubernetesService>>,
) -> Router {
    Router::new()
        .merge(health::routes(kubernetes.clone()))
        .merge(observability::routes(metrics, kubernetes))
}

/// Resolves when the server should stop: SIGINT or SIGTERM arrived, readiness answers 503 since,
/// and `delay` (`backend.lifecycle.serverShutdownDelay`) passed with everything still served.
pub async fn shutdown_after(delay: Option<std::time::Duration>) {
    shutdown_signal().await;
    health::begin_shutdown();
    if let Some(delay) = delay.filter(|d| !d.is_zero()) {
        tracing::info!(
            delay_ms = delay.as_millis() as u64,
            "shutting down: readiness answers 503, serving until backend.lifecycle.serverShutdownDelay passes"
        );
        tokio::time::sleep(delay).await;
    }
}

/// Resolves when SIGINT (Ctrl-C) or SIGTERM arrives.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("received SIGINT, shutting down"),
        () = term => tracing::info!("received SIGTERM, shutting down"),
    }
}

#[cfg(test)]
pub(crate) mod tests;
