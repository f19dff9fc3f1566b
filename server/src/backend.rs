//! The server's implementation of [`app::backend::Backend`]: what server functions can reach.
//! Each method reads the current catalog snapshot and calls a plain function of
//! [`crate::catalog::views`].

use std::sync::Arc;

use app::backend::{Backend, KubernetesFuture};
use app::wire::{CatalogFilters, CatalogListPage, EntityDetail, PortalInfo, ProblemView};

use crate::catalog::store::CatalogStore;
use crate::catalog::views;
use crate::kubernetes::KubernetesService;
use crate::settings::Settings;

/// Backend state shared by every request.
pub struct PortalBackend {
    info: PortalInfo,
    catalog: Arc<CatalogStore>,
    kubernetes: Option<Arc<KubernetesService>>,
}

impl PortalBackend {
    /// Builds the backend from validated settings and the catalog store.
    pub fn new(settings: &Settings, catalog: Arc<CatalogStore>) -> Self {
        Self {
            info: PortalInfo {
                title: settings.app.title.clone(),
                base_url: settings.app.base_url.clone(),
            },
            catalog,
            kubernetes: None,
        }
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

    fn catalog_list(&self, filters: &CatalogFilters) -> CatalogListPage {
        views::catalog_list(&self.catalog.snapshot(), filters)
    }

    fn entity(&self, namespace: &str, kind: &str, name: &str) -> Option<EntityDetail> {
        views::entity_detail(&self.catalog.snapshot(), namespace, kind, name)
    }

    fn catalog_problems(&self) -> Vec<ProblemView> {
        views::problems(&self.catalog.snapshot())
    }

    fn kubernetes_objects(&self, entity_ref: String) -> KubernetesFuture {
        let service = self.kubernetes.clone();
        Box::pin(async move {
            let service = service.ok_or_else(|| "Kubernetes is not configured (no kubernetes: block in app-config)".to_string())?;
            let response = service.objects_for_ref(&entity_ref, None).await.map_err(|e| e.to_string())?;
            serde_json::to_value(response).map_err(|e| e.to_string())
        })
    }
}
