//! The fan-out: for an entity, every cluster its service locator picks, fetched concurrently,
//! each under the per-cluster deadline, each failure kept to its own cluster. Used by the REST
//! API and by the UI's server functions alike.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::auth::Authenticator;
use super::config::{ClusterDetails, CustomResource, KubernetesConfig};
use super::lookup::{self, ObjectType};
use super::types::{ClusterObjects, ClusterSummary, FetchError, ObjectsByEntityResponse};
use super::{cluster_locator, fetcher, service_locator};
use crate::catalog::store::CatalogStore;

/// Why a lookup could not run at all.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LookupError {
    /// No such entity in the catalog.
    #[error("Entity ref missing, {0}")]
    UnknownEntity(String),
}

/// The Kubernetes side of the portal.
pub struct KubernetesService {
    config: KubernetesConfig,
    auth: Authenticator,
    catalog: Arc<CatalogStore>,
    clients: Mutex<HashMap<String, (String, kube::Client)>>,
}

impl KubernetesService {
    /// Builds the service; warns once per cluster configured with skipTLSVerify.
    pub fn new(config: KubernetesConfig, auth: Authenticator, catalog: Arc<CatalogStore>) -> Self {
        for l in &config.locators {
            if let super::config::ClusterLocator::Config(list) = l {
                for c in list.iter().filter(|c| c.skip_tls_verify) {
                    tracing::warn!(cluster = %c.name, "Cluster '{}' is configured with skipTLSVerify: true; TLS certificate verification is disabled for Kubernetes API traffic to this cluster", c.name);
                }
            }
        }
        Self {
            config,
            auth,
            catalog,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The authenticator (for counters).
    pub fn auth(&self) -> &Authenticator {
        &self.auth
    }

    /// The configuration.
    pub fn config(&self) -> &KubernetesConfig {
        &self.config
    }

    /// The Kubernetes tab's view of an entity.
    pub async fn view(
        &self,
        entity_ref: &str,
    ) -> Result<app::wire::kubernetes::KubernetesView, LookupError> {
        let objects = self.objects_for_ref(entity_ref, None).await?;
        Ok(super::view::build(
            &objects,
            self.config.refresh_interval_ms,
            std::time::SystemTime::now(),
        ))
    }

    /// Every known cluster.
    pub async fn clusters(&self) -> Vec<ClusterDetails> {
        let snapshot = self.catalog.snapshot();
        cluster_locator::locate(&self.config.locators, &snapshot).await
    }

    /// `GET /clusters` items.
    pub async fn cluster_summaries(&self) -> Vec<ClusterSummary> {
        self.clusters()
            .await
            .into_iter()
            .map(|c| ClusterSummary {
                auth_provider: c.auth_provider().to_string(),
                oidc_token_provider: c
                    .auth_metadata
                    .get("kubernetes.io/oidc-token-provider")
                    .cloned(),
                name: c.name,
                title: c.title,
                dashboard_url: c.dashboard_url,
            })
            .collect()
    }

    /// The entity with this ref from the catalog (never trusted from a request body).
    pub fn entity(&self, entity_ref: &str) -> Result<Value, LookupError> {
        let snapshot = self.catalog.snapshot();
        snapshot
            .get(entity_ref)
            .map(|e| e.value())
            .ok_or_else(|| LookupError::UnknownEntity(entity_ref.to_lowercase()))
    }

    /// Objects for a catalog entity by ref; `custom` = only these custom resources.
    pub async fn objects_for_ref(
        &self,
        entity_ref: &str,
        custom: Option<Vec<CustomResource>>,
    ) -> Result<ObjectsByEntityResponse, LookupError> {
        let entity = self.entity(entity_ref)?;
        Ok(self.objects_by_entity(&entity, custom).await)
    }

    pub(crate) fn client_for(&self, c: &ClusterDetails) -> Result<kube::Client, String> {
        let fingerprint = format!(
            "{}|{:?}|{:?}|{}",
            c.url, c.ca_data, c.ca_file, c.skip_tls_verify
        );
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((f, client)) = clients.get(&c.name) {
            if *f == fingerprint {
                return Ok(client.clone());
            }
        }
        let client = fetcher::connect(c, self.auth.in_cluster_ca(c), self.config.timeout)?;
        clients.insert(c.name.clone(), (fingerprint, client.clone()));
        Ok(client)
    }

    async fn one_cluster(
        &self,
        c: &ClusterDetails,
        selector: &str,
        namespaces: Option<&[String]>,
        types: &[ObjectType],
    ) -> ClusterObjects {
        let client = match self.client_for(c) {
            Ok(client) => client,
            Err(e) => {
                return fetcher::transport_failure(
                    c,
                    FetchError::fetch(format!("cluster '{}': {e}", c.name)),
                )
            }
        };
        let credential = match self.auth.credential(c).await {
            Ok(cred) => cred,
            Err(e) => {
                return fetcher::transport_failure(
                    c,
                    FetchError::fetch(format!("cluster '{}': {e}", c.name)),
                )
            }
        };
        let q = fetcher::Query {
            selector,
            namespaces,
            object_types: types,
        };
        fetcher::fetch(&client, c, &credential, &q).await
    }

    /// Objects for an entity on every cluster its locator picks.
    #[tracing::instrument(level = "debug", skip_all, fields(entity = %entity["metadata"]["name"]))]
    pub async fn objects_by_entity(
        &self,
        entity: &Value,
        custom: Option<Vec<CustomResource>>,
    ) -> ObjectsByEntityResponse {
        let clusters =
            service_locator::select(self.config.service_locator, entity, self.clusters().await);
        let selector = lookup::label_selector(entity);
        let namespaces = lookup::namespaces(entity);
        let deadline = self.config.timeout;
        let runs = clusters.iter().map(|c| {
            let types: Vec<ObjectType> = match &custom {
                Some(list) => list.iter().map(CustomResource::object_type).collect(),
                None => {
                    let crs = if c.custom_resources.is_empty() {
                        &self.config.custom_resources
                    } else {
                        &c.custom_resources
                    };
                    self.config
                        .object_types
                        .iter()
                        .cloned()
                        .chain(crs.iter().map(CustomResource::object_type))
                        .collect()
                }
            };
            let selector = selector.clone();
            let namespaces = namespaces.clone();
            async move {
                match tokio::time::timeout(
                    deadline,
                    self.one_cluster(c, &selector, namespaces.as_deref(), &types),
                )
                .await
                {
                    Ok(r) => r,
                    Err(_) => fetcher::transport_failure(
                        c,
                        FetchError::fetch(format!(
                            "cluster '{}' at {}: timed out after {:.1} s",
                            c.name,
                            c.url,
                            deadline.as_secs_f64()
                        )),
                    ),
                }
            }
        });
        let items = futures_util::future::join_all(runs)
            .await
            .into_iter()
            .filter(|r| !r.errors.is_empty() || r.resources.iter().any(|f| !f.resources.is_empty()))
            .collect();
        ObjectsByEntityResponse { items }
    }
}
