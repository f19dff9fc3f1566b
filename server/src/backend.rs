//! The server's implementation of [`app::backend::Backend`]: what server functions can reach.
//! Each method reads the current catalog snapshot and calls a plain function of
//! [`crate::catalog::views`].

use std::sync::Arc;

use app::backend::Backend;
use app::wire::{CatalogFilters, CatalogListPage, EntityDetail, PortalInfo, ProblemView};

use crate::catalog::store::CatalogStore;
use crate::catalog::views;
use crate::settings::Settings;

/// Backend state shared by every request.
#[derive(Debug)]
pub struct PortalBackend {
    info: PortalInfo,
    catalog: Arc<CatalogStore>,
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
        }
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
}
