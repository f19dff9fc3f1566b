//! The seam between server functions and the server-side domain.
//!
//! Server functions in this crate are thin adapters: they read a [`BackendHandle`] from the
//! Leptos context (the `server` crate provides it with `leptos_routes_with_context`), call one
//! plain method, and map its error. The implementation, with its configuration and any
//! credentials, lives in the `server` crate and never reaches the browser bundle. The REST API
//! calls the same functions as these server functions.

use leptos::prelude::*;

use crate::wire::clusters::{ClustersOverview, RowHealth};
use crate::wire::kubernetes::{
    FleetHealth, KubernetesView, LogRequest, PodDetail, PodLogs, PodRef,
};
use crate::wire::{
    ApiExplorer, CatalogFilters, CatalogListPage, EntityDetail, EntityLink, ImportAnalysis,
    PortalInfo, ProblemView, SearchResults, Viewer,
};

/// What server functions may ask of the server. `viewer` is who asks (the sign-in gate's
/// [`Viewer`]); the server answers with what that viewer's permissions allow.
#[cfg(feature = "ssr")]
pub trait Backend: Send + Sync + 'static {
    /// The portal's `app.*` settings for the page chrome.
    fn portal_info(&self) -> PortalInfo;
    /// One page of the catalog list.
    fn catalog_list(&self, viewer: Option<&Viewer>, filters: &CatalogFilters) -> CatalogListPage;
    /// The entity page data; `None` when there is no such entity (or the viewer may not read
    /// it).
    fn entity(
        &self,
        viewer: Option<&Viewer>,
        namespace: &str,
        kind: &str,
        name: &str,
    ) -> Option<EntityDetail>;
    /// The best matches of a search (at most `limit`).
    fn search(&self, viewer: Option<&Viewer>, query: &str, limit: usize) -> SearchResults;
    /// A page (from 1) of the APIs explorer, filtered by type and lifecycle (empty: any).
    fn api_explorer(
        &self,
        viewer: Option<&Viewer>,
        api_type: &str,
        lifecycle: &str,
        page: usize,
    ) -> ApiExplorer;
    /// Every current catalog problem the viewer may see (errors first).
    fn catalog_problems(&self, viewer: Option<&Viewer>) -> Vec<ProblemView>;
    /// A section of the README shown as in-app help (`kubernetes`), if there is one.
    fn help(&self, topic: &str) -> Option<String>;
    /// The Kubernetes tab's view of the entity.
    fn kubernetes_view(
        &self,
        viewer: Option<&Viewer>,
        entity_ref: String,
    ) -> BoxFuture<KubernetesView>;
    /// The catalog list's health column: the health of each of `refs` (in order), from the
    /// watch cache, and how often the list refreshes it; `None` without Kubernetes.
    fn catalog_health(
        &self,
        viewer: Option<&Viewer>,
        refs: Vec<String>,
    ) -> BoxFuture<Option<(u64, Vec<RowHealth>)>>;
    /// The Clusters page: each cluster's health, namespaces and unclaimed workloads.
    fn clusters_overview(&self, viewer: Option<&Viewer>) -> BoxFuture<ClustersOverview>;
    /// The health of the components of a Group, System or Domain (its Kubernetes tab).
    fn fleet_health(&self, viewer: Option<&Viewer>, entity_ref: String) -> BoxFuture<FleetHealth>;
    /// One of the entity's pods, for the pod panel.
    fn pod_detail(
        &self,
        viewer: Option<&Viewer>,
        entity_ref: String,
        pod: PodRef,
    ) -> BoxFuture<PodDetail>;
    /// A container log of one of the entity's pods.
    fn pod_logs(
        &self,
        viewer: Option<&Viewer>,
        entity_ref: String,
        request: LogRequest,
    ) -> BoxFuture<PodLogs>;
    /// What registering `url` (a catalog file, or a folder holding
    /// `catalog.import.entityFilename`) would bring; nothing is stored.
    fn analyze_import(&self, viewer: Option<&Viewer>, url: String) -> BoxFuture<ImportAnalysis>;
    /// Registers the catalog file `target`; the entities it brought.
    fn register_import(
        &self,
        viewer: Option<&Viewer>,
        target: String,
    ) -> BoxFuture<Vec<EntityLink>>;
    /// Unregisters the location `id` (its entities go with it).
    fn unregister_location(&self, viewer: Option<&Viewer>, id: String) -> BoxFuture<()>;
}

/// What the asynchronous [`Backend`] methods return.
#[cfg(feature = "ssr")]
pub type BoxFuture<T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, BackendError>> + Send>>;

/// Why an asynchronous [`Backend`] call failed. Each message is for the user: it names the
/// entity, cluster, pod or permission and why.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The portal has no `kubernetes:` block.
    #[error("Kubernetes is not configured (no kubernetes: block in app-config)")]
    NotConfigured,
    /// The viewer may not see this (the message names the permission).
    #[error("{0}")]
    Forbidden(String),
    /// Nothing by that name: no such entity, or the pod is not the entity's.
    #[error("{0}")]
    NotFound(String),
    /// The request or the entity's annotations cannot be used as they are.
    #[error("{0}")]
    Invalid(String),
    /// A cluster could not be reached, or refused.
    #[error("{0}")]
    Unavailable(String),
    /// The thing exists already (a location registered twice).
    #[error("{0}")]
    Conflict(String),
}

/// The handle the `server` crate puts into the Leptos context.
#[cfg(feature = "ssr")]
pub type BackendHandle = std::sync::Arc<dyn Backend>;

#[cfg(feature = "ssr")]
fn backend() -> Result<BackendHandle, ServerFnError> {
    use_context::<BackendHandle>()
        .ok_or_else(|| ServerFnError::new("the server did not provide a Backend context"))
}

/// Who is looking, as the server's sign-in gate resolved it for this request (`None` on the
/// few pages open to anonymous visitors).
#[cfg(feature = "ssr")]
pub fn current_viewer() -> Option<Viewer> {
    use_context::<http::request::Parts>().and_then(|p| p.extensions.get::<Viewer>().cloned())
}

/// The signed-in user, for the user menu.
#[server]
#[cfg_attr(feature = "ssr", tracing::instrument(level = "debug"))]
pub async fn get_viewer() -> Result<Option<Viewer>, ServerFnError> {
    Ok(current_viewer())
}

/// Title and base URL of this portal, for the header and page titles.
#[server]
#[cfg_attr(feature = "ssr", tracing::instrument(level = "debug"))]
pub async fn get_portal_info() -> Result<PortalInfo, ServerFnError> {
    let mut info = backend()?.portal_info();
    info.theme = theme_cookie();
    Ok(info)
}

/// The viewer's theme choice (`greenroom_theme=light|dark`); anything else is the system's.
#[cfg(feature = "ssr")]
fn theme_cookie() -> String {
    use_context::<http::request::Parts>()
        .and_then(|p| {
            p.headers
                .get_all(http::header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(cookie::Cookie::split_parse)
                .filter_map(Result::ok)
                .find(|c| c.name() == "greenroom_theme")
                .map(|c| c.value().to_string())
        })
        .filter(|t| t == "light" || t == "dark")
        .unwrap_or_default()
}

/// One page of the catalog list for `filters`.
#[server]
#[cfg_attr(feature = "ssr", tracing::instrument(level = "debug"))]
pub async fn list_catalog(filters: CatalogFilters) -> Result<CatalogListPage, ServerFnError> {
    let backend = backend()?;
    let viewer = current_viewer();
    let mut page = backend.catalog_list(viewer.as_ref(), &filters);
    // The health column, for the rows with Kubernetes annotations (from the watch cache).
    let refs: Vec<String> = page
        .rows
        .iter()
        .filter(|r| r.kubernetes)
        .map(|r| r.link.entity_ref.clone())
        .collect();
    if refs.is_empty() {
        return Ok(page);
    }
    match backend
        .catalog_health(viewer.as_ref(), refs)
        .await
        .map_err(ServerFnError::new)?
    {
        Some((refresh_ms, health)) => {
            page.health_refresh_ms = refresh_ms.max(1);
            let mut health = health.into_iter();
            for row in page.rows.iter_mut().filter(|r| r.kubernetes) {
                row.health = health.next();
            }
        }
        None => page.rows.iter_mut().for_each(|r| r.kubernetes = false),
    }
    Ok(page)
}

/// The catalog list's health column, refreshed: the health of each of `refs` (in order, at
/// most a page's worth), and how often to ask again; `None` without Kubernetes.
#[server]
#[cfg_attr(feature = "ssr", tracing::instrument(level = "debug"))]
pub async fn get_catalog_health(
    refs: Vec<String>,
) -> Result<Option<(u64, Vec<RowHealth>)>, ServerFnError> {
    backend()?
        .catalog_health(current_viewer().as_ref(), refs)
        .await
        .map_err(ServerFnError::new)
}

/// The Clusters page (`/clusters`).
#[server]
#[cfg_attr(feature = "ssr", tracing::instrument(level = "debug"))]
pub async fn get_clusters_overview() -> Result<ClustersOverview, ServerFnError> {
    backend()?
        .clusters_overview(current_viewer().as_ref())
        .await
        .map_err(ServerFnError::new)
}

/// The entity `kind:namespace/name` (case-insensitive), or `None`.
#[server]
#[cfg_attr(feature = "ssr", tracing::instrument(level = "debug"))]
pub async fn get_entity(
    namespace: String,
    kind: String,
    name: String,
) -> Result<Option<EntityDetail>, ServerFnError> {
    Ok(backend()?.entity(current_viewer().as_ref(), &namespace, &kind, &name))
}

/// Search across every kind: the best `limit` matches of `query` (the header's search as you
/// type, and `/search`).
#[server]
#[cfg_attr(feature = "ssr", tracing::instrument(level = "debug"))]
pub async fn search_catalog(query: String, limit: usize) -> Result<SearchResults, ServerFnError> {
    Ok(backend()?.search(current_viewer().as_ref(), &query, limit))
}

/// The APIs explorer (`/api-docs`), filtered by type and lifecycle (empty: any).
#[server]
#[cfg_attr(feature = "ssr", tracing::instrument(level = "debug"))]
pub async fn get_api_explorer(
    api_type: String,
    lifecycle: String,
    page: usize,
) -> Result<ApiExplorer, ServerFnError> {
    Ok(backend()?.api_explorer(current_viewer().as_ref(), &api_type, &lifecycle, page))
}

/// The Kubernetes tab's view of `kind:namespace/name`.
#[server]
#[cfg_attr(feature = "ssr", tracing::instrument(level = "debug"))]
pub async fn get_kubernetes_view(
    namespace: String,
    kind: String,
    name: String,
) -> Result<KubernetesView, ServerFnError> {
    backend()?
        .kubernetes_view(
            current_viewer().as_ref(),
            format!("{kind}:{namespace}/{name}"),
        )
        .await
        .map_err(ServerFnError::new)
}

/// The Kubernetes tab of the Group, System or Domain `kind:namespace/name`: its components'
/// health.
#[server]
#[cfg_attr(feature = "ssr", tracing::instrument(level = "debug"))]
pub async fn get_fleet_health(
    namespace: String,
    kind: String,
    name: String,
) -> Result<FleetHealth, ServerFnError> {
    backend()?
        .fleet_health(
            current_viewer().as_ref(),
            format!("{kind}:{namespace}/{name}"),
        )
        .await
        .map_err(ServerFnError::new)
}

/// The pod panel's data for a pod of `entity_ref`.
#[server]
#[cfg_attr(feature = "ssr", tracing::instrument(level = "debug"))]
pub async fn get_pod_detail(entity_ref: String, pod: PodRef) -> Result<PodDetail, ServerFnError> {
    backend()?
        .pod_detail(current_viewer().as_ref(), entity_ref, pod)
        .await
        .map_err(ServerFnError::new)
}

/// A container log of a pod of `entity_ref`.
#[server]
#[cfg_attr(feature = "ssr", tracing::instrument(level = "debug"))]
pub async fn get_pod_logs(
    entity_ref: String,
    request: LogRequest,
) -> Result<PodLogs, ServerFnError> {
    backend()?
        .pod_logs(current_viewer().as_ref(), entity_ref, request)
        .await
        .map_err(ServerFnError::new)
}

/// In-app help: a section of the README.
#[server]
#[cfg_attr(feature = "ssr", tracing::instrument(level = "debug"))]
pub async fn get_help(topic: String) -> Result<Option<String>, ServerFnError> {
    Ok(backend()?.help(&topic))
}

/// Every catalog problem.
#[server]
#[cfg_attr(feature = "ssr", tracing::instrument(level = "debug"))]
pub async fn list_catalog_problems() -> Result<Vec<ProblemView>, ServerFnError> {
    Ok(backend()?.catalog_problems(current_viewer().as_ref()))
}

/// What registering a URL would bring (the register page's "Analyze").
#[server]
#[cfg_attr(feature = "ssr", tracing::instrument(level = "debug"))]
pub async fn analyze_import(url: String) -> Result<ImportAnalysis, ServerFnError> {
    backend()?
        .analyze_import(current_viewer().as_ref(), url)
        .await
        .map_err(ServerFnError::new)
}

/// Registers a catalog file (the register page's "Import"); the entities it brought.
#[server]
#[cfg_attr(feature = "ssr", tracing::instrument(level = "debug"))]
pub async fn register_import(target: String) -> Result<Vec<EntityLink>, ServerFnError> {
    backend()?
        .register_import(current_viewer().as_ref(), target)
        .await
        .map_err(ServerFnError::new)
}

/// Unregisters a location (the entity page's "Unregister").
#[server]
#[cfg_attr(feature = "ssr", tracing::instrument(level = "debug"))]
pub async fn unregister_location(id: String) -> Result<(), ServerFnError> {
    backend()?
        .unregister_location(current_viewer().as_ref(), id)
        .await
        .map_err(ServerFnError::new)
}
