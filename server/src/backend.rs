//! The server's implementation of [`app::backend::Backend`]: what server functions can reach.
//! Each method reads the current catalog snapshot and calls a plain function of
//! [`crate::catalog::views`].

use std::sync::Arc;

use app::backend::{Backend, BackendError, BoxFuture};
use app::wire::kubernetes::{KubernetesView, LogRequest, PodDetail, PodLogs, PodRef};
use app::wire::{CatalogFilters, CatalogListPage, EntityDetail, PortalInfo, ProblemView, Viewer};

use crate::catalog::store::CatalogStore;
use crate::catalog::views;
use crate::kubernetes::pod_detail::PodError;
use crate::kubernetes::{KubernetesService, LookupError};
use crate::permission::{KubernetesAccess, Permissions, CATALOG_ENTITY_READ};
use crate::settings::Settings;

/// Backend state shared by every request.
pub struct PortalBackend {
    info: PortalInfo,
    catalog: Arc<CatalogStore>,
    kubernetes: Option<Arc<KubernetesService>>,
    permissions: Arc<Permissions>,
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
            },
            catalog,
            kubernetes: None,
            permissions,
        }
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
        views::entity_detail(&self.catalog.snapshot(), &scope, namespace, kind, name)
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
