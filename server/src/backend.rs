//! The server's implementation of [`app::backend::Backend`]: what server functions can reach.
//! Each method reads the current catalog snapshot and calls a plain function of
//! [`crate::catalog::views`].

use std::sync::Arc;

use app::backend::{Backend, BackendError, BoxFuture};
use app::wire::clusters::{ClustersOverview, RowHealth};
use app::wire::kubernetes::{FleetHealth, KubernetesView, LogRequest, PodDetail, PodLogs, PodRef};
use app::wire::{
    ApiExplorer, CatalogFilters, CatalogListPage, EntityDetail, EntityLink, ImportAnalysis,
    PortalInfo, ProblemView, SearchResults, Viewer,
};

use crate::catalog::store::CatalogStore;
use crate::catalog::views;
use crate::http::catalog_write::{self, CatalogWrites};
use crate::kubernetes::pod_detail::PodError;
use crate::kubernetes::{KubernetesService, LookupError};
use crate::permission::{
    Decision, KubernetesAccess, Permissions, CATALOG_ENTITY_READ, CATALOG_LOCATION_CREATE,
    CATALOG_LOCATION_DELETE,
};
use crate::settings::Settings;

/// Backend state shared by every request.
pub struct PortalBackend {
    info: PortalInfo,
    catalog: Arc<CatalogStore>,
    kubernetes: Option<Arc<KubernetesService>>,
    permissions: Arc<Permissions>,
    writes: Option<CatalogWrites>,
    /// `catalog.import.entityFilename`: the file looked for in a folder URL.
    entity_filename: String,
}

impl PortalBackend {
    /// Builds the backend from validated settings, the catalog store and the permission
    /// service every answer goes through.
    pub fn new(
        settings: &Settings,
        catalog: Arc<CatalogStore>,
        permissions: Arc<Permissions>,
    ) -> Self {
        Self {
            info: PortalInfo {
                title: settings.app.title.clone(),
                base_url: settings.app.base_url.clone(),
                theme: String::new(),
            },
            catalog,
            kubernetes: None,
            permissions,
            writes: None,
            entity_filename: "catalog-info.yaml".into(),
        }
    }

    /// With registering and unregistering locations (the register page), reading a folder
    /// URL's `entity_filename`.
    pub fn with_writes(mut self, writes: Option<CatalogWrites>, entity_filename: &str) -> Self {
        self.writes = writes;
        self.entity_filename = entity_filename.to_string();
        self
    }

    fn writes(
        &self,
        viewer: Option<&Viewer>,
        permission: &crate::permission::Permission,
    ) -> Result<CatalogWrites, BackendError> {
        let writes = self.writes.clone().ok_or_else(|| {
            BackendError::Invalid("this portal does not register locations".into())
        })?;
        if self.permissions.decide(viewer, permission) != Decision::Allow {
            return Err(BackendError::Forbidden(format!(
                "You may not do this (permission {})",
                permission.name
            )));
        }
        Ok(writes)
    }

    fn kubernetes_access(&self, viewer: Option<&Viewer>) -> KubernetesAccess {
        KubernetesAccess::of(&self.permissions, viewer)
    }

    /// With the Kubernetes service (when `kubernetes:` is configured).
    pub fn with_kubernetes(mut self, kubernetes: Option<Arc<KubernetesService>>) -> Self {
        self.kubernetes = kubernetes;
        self
    }
}

impl Backend for PortalBackend {
    fn portal_info(&self) -> PortalInfo {
        self.info.clone()
    }

    fn catalog_list(&self, viewer: Option<&Viewer>, filters: &CatalogFilters) -> CatalogListPage {
        let scope = self.permissions.decide(viewer, &CATALOG_ENTITY_READ);
        let refs = viewer
            .map(|v| v.ownership_refs.as_slice())
            .unwrap_or_default();
        views::catalog_list(&self.catalog.snapshot(), filters, &scope, refs)
    }

    fn entity(
        &self,
        viewer: Option<&Viewer>,
        namespace: &str,
        kind: &str,
        name: &str,
    ) -> Option<EntityDetail> {
        let scope = self.permissions.decide(viewer, &CATALOG_ENTITY_READ);
        let snapshot = self.catalog.snapshot();
        let mut detail = views::entity_detail(&snapshot, &scope, namespace, kind, name)?;
        if self.writes.is_some()
            && self.permissions.decide(viewer, &CATALOG_LOCATION_DELETE) == Decision::Allow
        {
            detail.registered_location =
                views::registered_location(&snapshot, &scope, &detail.link.entity_ref);
        }
        Some(detail)
    }

    fn search(&self, viewer: Option<&Viewer>, query: &str, limit: usize) -> SearchResults {
        let scope = self.permissions.decide(viewer, &CATALOG_ENTITY_READ);
        crate::catalog::search::search(&self.catalog.snapshot(), &scope, query, limit)
    }

    fn api_explorer(
        &self,
        viewer: Option<&Viewer>,
        api_type: &str,
        lifecycle: &str,
        page: usize,
    ) -> ApiExplorer {
        let scope = self.permissions.decide(viewer, &CATALOG_ENTITY_READ);
        crate::catalog::search::api_explorer(
            &self.catalog.snapshot(),
            &scope,
            api_type,
            lifecycle,
            page,
        )
    }

    fn catalog_problems(&self, viewer: Option<&Viewer>) -> Vec<ProblemView> {
        let scope = self.permissions.decide(viewer, &CATALOG_ENTITY_READ);
        views::problems(&self.catalog.snapshot(), &scope)
    }

    fn help(&self, topic: &str) -> Option<String> {
        readme_section(
            README,
            match topic {
                "kubernetes" => "## Kubernetes",
                _ => return None,
            },
        )
    }

    fn kubernetes_view(
        &self,
        viewer: Option<&Viewer>,
        entity_ref: String,
    ) -> BoxFuture<KubernetesView> {
        let service = self.kubernetes.clone();
        let access = self.kubernetes_access(viewer);
        Box::pin(async move {
            match service {
                // Not an error: the tab says how to configure clusters.
                None => Ok(KubernetesView::default()),
                Some(s) => s.view(&entity_ref, &access).await.map_err(lookup_error),
            }
        })
    }

    fn catalog_health(
        &self,
        viewer: Option<&Viewer>,
        refs: Vec<String>,
    ) -> BoxFuture<Option<(u64, Vec<RowHealth>)>> {
        let service = self.kubernetes.clone();
        let access = self.kubernetes_access(viewer);
        Box::pin(async move {
            let Some(s) = service else { return Ok(None) };
            Ok(crate::kubernetes::fleet::row_health(&s, &refs, &access)
                .await
                .map(|health| (s.config().refresh_interval_ms, health)))
        })
    }

    fn clusters_overview(&self, viewer: Option<&Viewer>) -> BoxFuture<ClustersOverview> {
        let service = self.kubernetes.clone();
        let access = self.kubernetes_access(viewer);
        Box::pin(async move {
            match service {
                None => Ok(ClustersOverview::default()),
                Some(s) => Ok(crate::kubernetes::coverage::overview(&s, &access).await),
            }
        })
    }

    fn fleet_health(&self, viewer: Option<&Viewer>, entity_ref: String) -> BoxFuture<FleetHealth> {
        let service = self.kubernetes.clone();
        let access = self.kubernetes_access(viewer);
        Box::pin(async move {
            match service {
                None => Ok(FleetHealth::default()),
                Some(s) => crate::kubernetes::fleet::fleet(&s, &entity_ref, &access)
                    .await
                    .map_err(lookup_error),
            }
        })
    }

    fn pod_detail(
        &self,
        viewer: Option<&Viewer>,
        entity_ref: String,
        pod: PodRef,
    ) -> BoxFuture<PodDetail> {
        let service = self.kubernetes.clone();
        let access = self.kubernetes_access(viewer);
        Box::pin(async move {
            configured(service)?
                .pod_detail(&entity_ref, &pod, &access)
                .await
                .map_err(pod_error)
        })
    }

    fn pod_logs(
        &self,
        viewer: Option<&Viewer>,
        entity_ref: String,
        request: LogRequest,
    ) -> BoxFuture<PodLogs> {
        let service = self.kubernetes.clone();
        let access = self.kubernetes_access(viewer);
        Box::pin(async move {
            configured(service)?
                .pod_logs(&entity_ref, &request, &access)
                .await
                .map_err(pod_error)
        })
    }

    fn analyze_import(&self, viewer: Option<&Viewer>, url: String) -> BoxFuture<ImportAnalysis> {
        let writes = self.writes(viewer, &CATALOG_LOCATION_CREATE);
        let scope = self.permissions.decide(viewer, &CATALOG_ENTITY_READ);
        let current = self.catalog.snapshot();
        let filename = self.entity_filename.clone();
        Box::pin(async move {
            let w = writes?;
            let url = url.trim().to_string();
            catalog_write::check_target(&url).map_err(BackendError::Invalid)?;
            let target = catalog_write::catalog_file_url(&url, &filename);
            let read = catalog_write::read_location(&w, &target)
                .await
                .map_err(BackendError::Unavailable)?;
            let registered = w
                .registry
                .locations()
                .iter()
                .any(|l| l.location_type == "url" && l.target == target);
            Ok(views::import_analysis(
                &read, &current, &scope, &target, registered,
            ))
        })
    }

    fn register_import(
        &self,
        viewer: Option<&Viewer>,
        target: String,
    ) -> BoxFuture<Vec<EntityLink>> {
        let writes = self.writes(viewer, &CATALOG_LOCATION_CREATE);
        let scope = self.permissions.decide(viewer, &CATALOG_ENTITY_READ);
        let store = Arc::clone(&self.catalog);
        Box::pin(async move {
            let w = writes?;
            catalog_write::check_target(&target).map_err(BackendError::Invalid)?;
            match w.registry.register(&target).await {
                Ok(_) => {}
                Err(crate::catalog::registry::RegisterError::Db(crate::db::DbError::Conflict(
                    ..,
                ))) => {
                    return Err(BackendError::Conflict(format!(
                        "{target} is registered already"
                    )))
                }
                Err(e) => {
                    tracing::error!(error = %e, "registering a location failed");
                    return Err(BackendError::Unavailable(
                        "The location could not be registered; see the server log".into(),
                    ));
                }
            }
            catalog_write::reload(&w.registry).await;
            let snapshot = store.snapshot();
            let root = crate::catalog::location::generated_location_ref(&format!("url:{target}"));
            Ok(views::registered_location(&snapshot, &scope, &root)
                .map(|l| {
                    l.entities
                        .into_iter()
                        .filter(|e| e.entity_ref != root)
                        .collect()
                })
                .unwrap_or_default())
        })
    }

    fn unregister_location(&self, viewer: Option<&Viewer>, id: String) -> BoxFuture<()> {
        let writes = self.writes(viewer, &CATALOG_LOCATION_DELETE);
        Box::pin(async move {
            let w = writes?;
            match w.registry.unregister(&id).await {
                Ok(Some(_)) => {
                    catalog_write::reload(&w.registry).await;
                    Ok(())
                }
                Ok(None) => Err(BackendError::NotFound(format!(
                    "No registered location with id {id}"
                ))),
                Err(e) => {
                    tracing::error!(error = %e, "unregistering a location failed");
                    Err(BackendError::Unavailable(
                        "The location could not be unregistered; see the server log".into(),
                    ))
                }
            }
        })
    }
}

fn configured(
    service: Option<Arc<KubernetesService>>,
) -> Result<Arc<KubernetesService>, BackendError> {
    service.ok_or(BackendError::NotConfigured)
}

/// A lookup's failure, as the seam types it.
fn lookup_error(e: LookupError) -> BackendError {
    let message = e.to_string();
    match e {
        LookupError::UnknownEntity(_) => BackendError::NotFound(message),
        LookupError::Forbidden(_) => BackendError::Forbidden(message),
        LookupError::TooManyViewers(_) => BackendError::Unavailable(message),
        LookupError::Annotation { .. } => BackendError::Invalid(message),
    }
}

/// A pod panel or log failure, as the seam types it.
fn pod_error(e: PodError) -> BackendError {
    let message = e.to_string();
    match e {
        PodError::Lookup(l) => lookup_error(l),
        PodError::Forbidden(_) => BackendError::Forbidden(message),
        PodError::NotEntityCluster(_)
        | PodError::NotEntityNamespace(_)
        | PodError::NotEntityPod(_) => BackendError::NotFound(message),
        PodError::Name(_) | PodError::Annotation(_) => BackendError::Invalid(message),
        PodError::Cluster(_) => BackendError::Unavailable(message),
    }
}

/// The README, shown as in-app help.
const README: &str = include_str!("../../README.md");

/// The text of a `## ` section (up to the next `## ` heading).
fn readme_section(readme: &str, heading: &str) -> Option<String> {
    let start = readme.find(&format!("\n{heading}\n"))? + 1;
    let rest = &readme[start..];
    let end = rest[heading.len()..]
        .find("\n## ")
        .map(|i| i + heading.len() + 1)
        .unwrap_or(rest.len());
    Some(rest[..end].trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_is_the_readme_section() {
        let s = readme_section(README, "## Kubernetes").unwrap_or_default();
        assert!(s.starts_with("## Kubernetes\n"));
        assert!(s.contains("backstage.io/kubernetes-id"));
        assert!(!s.contains("\n## Demo cluster"));
    }
}
