//! The fan-out: for an entity, every cluster its service locator picks, read concurrently,
//! each under the per-cluster deadline, each failure kept to its own cluster. Used by the REST
//! API, the UI's server functions and the live views alike. Objects come from the watch cache
//! ([`super::cache`]) unless `kubernetes.cache.enabled` is false; then every lookup lists, as
//! Backstage does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::auth::Authenticator;
use super::cache::{Read, WatchCache};
use super::cluster_objects::ClusterBuilder;
use super::config::{ClusterDetails, CustomResource, KubernetesConfig};
use super::lookup::{self, ObjectType};
use super::names::Namespace;
use super::selector::LabelSelector;
use super::types::{ClusterObjects, ClusterSummary, FetchError, ObjectsByEntityResponse};
use super::{cluster_locator, fetcher, service_locator};
use crate::catalog::store::CatalogStore;
use crate::permission::conditions::Resource;
use crate::permission::{Decision, KubernetesAccess};

/// What a read of an entity's Kubernetes data needs, beyond reading the entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// The tab's data: `kubernetes.resources.read`.
    Resources,
    /// A pod's details, events, YAML and logs: `kubernetes.proxy`.
    Proxy,
}

impl Needs {
    /// The viewer's decision on what this needs.
    fn decision(self, access: &KubernetesAccess) -> &Decision {
        match self {
            Needs::Resources => &access.resources,
            Needs::Proxy => &access.proxy,
        }
    }

    /// Why the viewer may not, for `entity_ref`.
    pub fn refusal(self, entity_ref: &str) -> String {
        match self {
            Needs::Resources => format!(
                "You don't have access to the Kubernetes resources of {entity_ref} (permission kubernetes.resources.read). Ask your platform team for access."
            ),
            Needs::Proxy => format!(
                "You don't have access to the details, events, YAML and logs of {entity_ref}'s pods (permission kubernetes.proxy). Ask its owners or your platform team for access."
            ),
        }
    }
}

/// Why a lookup could not run at all.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LookupError {
    /// No such entity in the catalog.
    #[error("Entity ref missing, {0}")]
    UnknownEntity(String),
    /// `kubernetes.live.maxSubscribers` live streams are open already.
    #[error("too many live viewers ({0}, the limit set by kubernetes.live.maxSubscribers); the tab falls back to refreshing")]
    TooManyViewers(usize),
    /// The viewer may not see this (the message says what and which permission).
    #[error("{0}")]
    Forbidden(String),
    /// The entity's Kubernetes annotations cannot be used as they are.
    #[error("entity {entity}: {error}")]
    Annotation {
        /// The entity ref.
        entity: String,
        /// What is wrong.
        error: lookup::AnnotationError,
    },
}

/// What a lookup leaves behind for a live view: what it read from the cache (the view follows
/// it); and how it may read pod metrics.
#[derive(Default)]
pub struct Held {
    /// The informers read, with the version seen and what was selected.
    pub entries: Mutex<Vec<Read>>,
    /// Pod metrics older than the interval may be used without waiting for a refetch (a view
    /// rebuilt for an object change is not held up by a metrics call; the interval rebuild is
    /// what refreshes them).
    pub stale_metrics_ok: bool,
    /// Read only what the cache holds: a failing informer's last error is the answer (no list
    /// is retried for this read) and no pod metrics are fetched. For the health views (fleet
    /// tab, catalog health column), so their cost in API-server requests is nil whatever the
    /// number of viewers.
    pub cache_only: bool,
}

impl Held {
    /// For a health view: [`Held::cache_only`].
    pub fn cache_only() -> Self {
        Held {
            cache_only: true,
            ..Held::default()
        }
    }
}

/// The Kubernetes side of the portal.
pub struct KubernetesService {
    config: KubernetesConfig,
    auth: Arc<Authenticator>,
    catalog: Arc<CatalogStore>,
    clients: Mutex<HashMap<String, (String, kube::Client, fetcher::BearerSlot)>>,
    registry: Arc<crate::metrics::Registry>,
    cache: Option<WatchCache>,
    /// Set on shutdown; live feeds ([`super::live`]) end when it turns true.
    shutting_down: tokio::sync::watch::Sender<bool>,
    /// Set when [`Self::warm_up`] is done.
    ready: tokio::sync::watch::Sender<bool>,
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
        let auth = Arc::new(auth);
        let registry = Arc::new(crate::metrics::Registry::default());
        let cache = config.cache.enabled.then(|| {
            WatchCache::new(
                config.cache.clone(),
                Arc::clone(&auth),
                Arc::clone(&registry),
            )
        });
        let service = Self {
            config,
            auth,
            catalog,
            clients: Mutex::new(HashMap::new()),
            registry,
            cache,
            shutting_down: tokio::sync::watch::Sender::new(false),
            ready: tokio::sync::watch::Sender::new(false),
        };
        service.publish_no_viewers();
        service
    }

    /// Counts into `registry` (the process's, served at `/metrics`) instead of a private one.
    pub fn with_registry(mut self, registry: Arc<crate::metrics::Registry>) -> Self {
        if self.config.cache.enabled {
            self.cache = Some(WatchCache::new(
                self.config.cache.clone(),
                Arc::clone(&self.auth),
                Arc::clone(&registry),
            ));
        }
        self.registry = registry;
        self.clients = Mutex::new(HashMap::new());
        self.publish_no_viewers();
        self
    }

    /// No live viewers or feeds yet: the gauges read 0 from the first scrape on (the live
    /// feeds, [`super::live::Live`], keep them current from then on).
    fn publish_no_viewers(&self) {
        for name in ["greenroom_kubernetes_viewers", "greenroom_kubernetes_feeds"] {
            self.registry.set_gauges(name, vec![(vec![], 0.0)]);
        }
    }

    /// The watch cache, when enabled.
    pub fn cache(&self) -> Option<&WatchCache> {
        self.cache.as_ref()
    }

    /// The registry the service counts into.
    pub fn registry(&self) -> &Arc<crate::metrics::Registry> {
        &self.registry
    }

    /// Ends every live feed and refuses new ones (on shutdown: open streams would otherwise
    /// hold the graceful shutdown forever).
    pub fn shut_down(&self) {
        self.shutting_down.send_replace(true);
    }

    /// Whether [`Self::shut_down`] was called.
    pub fn is_shutting_down(&self) -> bool {
        *self.shutting_down.borrow()
    }

    /// Turns true on shutdown.
    pub fn shutdown_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.shutting_down.subscribe()
    }

    /// Samples the cache gauges (size, watch health) into the registry (the live feeds keep
    /// their own gauges current).
    pub fn sample_gauges(&self) {
        if let Some(cache) = &self.cache {
            let g = cache.gauges();
            self.registry
                .set_gauges("greenroom_kubernetes_cached_objects", g.objects);
            self.registry
                .set_gauges("greenroom_kubernetes_cached_bytes", g.bytes);
            self.registry
                .set_gauges("greenroom_kubernetes_watches", g.watches);
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

    /// The Kubernetes tab's view of an entity, as `access` lets its viewer see it: a view that
    /// says why when the entity's resources are not visible, without the clusters the viewer
    /// may not see.
    pub async fn view(
        &self,
        entity_ref: &str,
        access: &KubernetesAccess,
    ) -> Result<app::wire::kubernetes::KubernetesView, LookupError> {
        self.view_holding(entity_ref, &Held::default(), access)
            .await
    }

    /// [`Self::view`], collecting the cache entries read into `held`.
    pub async fn view_holding(
        &self,
        entity_ref: &str,
        held: &Held,
        access: &KubernetesAccess,
    ) -> Result<app::wire::kubernetes::KubernetesView, LookupError> {
        let entity = match self.readable_entity(entity_ref, access, Needs::Resources) {
            Err(LookupError::Forbidden(message)) => {
                return Ok(app::wire::kubernetes::KubernetesView {
                    configured: true,
                    refresh_interval_ms: self.config.refresh_interval_ms,
                    access_denied: Some(message),
                    ..Default::default()
                })
            }
            r => r?,
        };
        let (objects, hidden) = self
            .fan_out(&entity, None, true, held, &access.clusters)
            .await?;
        let mut view = super::view::build(
            &objects,
            self.config.refresh_interval_ms,
            std::time::SystemTime::now(),
        );
        view.hidden_clusters = hidden;
        Ok(view)
    }

    /// The entity, if the viewer may read it (else it is unknown, as the catalog would say)
    /// and has what `needs` names (else [`LookupError::Forbidden`] saying so).
    pub fn readable_entity(
        &self,
        entity_ref: &str,
        access: &KubernetesAccess,
        needs: Needs,
    ) -> Result<Value, LookupError> {
        let snapshot = self.catalog.snapshot();
        let key = entity_ref.to_lowercase();
        if !access.catalog.permits_entity(&snapshot, &key) {
            return Err(LookupError::UnknownEntity(key));
        }
        if !needs.decision(access).permits_entity(&snapshot, &key) {
            return Err(LookupError::Forbidden(needs.refusal(&key)));
        }
        self.entity(&key)
    }

    /// Every known cluster.
    pub async fn clusters(&self) -> Vec<ClusterDetails> {
        let snapshot = self.catalog.snapshot();
        cluster_locator::locate(&self.config.locators, &snapshot).await
    }

    /// `GET /clusters` items: the clusters `access` lets the viewer see.
    pub async fn cluster_summaries(&self, access: &Decision) -> Vec<ClusterSummary> {
        self.clusters()
            .await
            .into_iter()
            .filter(|c| access.permits(Resource::Cluster(&c.name)))
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

    /// The catalog store the service reads entities from.
    pub fn catalog_store(&self) -> Arc<CatalogStore> {
        Arc::clone(&self.catalog)
    }

    /// The entity with this ref from the catalog (never trusted from a request body).
    pub fn entity(&self, entity_ref: &str) -> Result<Value, LookupError> {
        let snapshot = self.catalog.snapshot();
        snapshot
            .get(entity_ref)
            .map(|e| e.value())
            .ok_or_else(|| LookupError::UnknownEntity(entity_ref.to_lowercase()))
    }

    /// Objects for a catalog entity by ref, as `access` lets its viewer see them; `custom` =
    /// only these custom resources.
    pub async fn objects_for_ref(
        &self,
        entity_ref: &str,
        custom: Option<Vec<CustomResource>>,
        access: &KubernetesAccess,
    ) -> Result<ObjectsByEntityResponse, LookupError> {
        let entity = self.readable_entity(entity_ref, access, Needs::Resources)?;
        Ok(self
            .fan_out(&entity, custom, true, &Held::default(), &access.clusters)
            .await?
            .0)
    }

    /// The object types a lookup reads on `c`: the configured ones and the cluster's custom
    /// resources (else the configured custom resources).
    pub fn object_types(&self, c: &ClusterDetails) -> Vec<ObjectType> {
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

    /// At boot: starts watching every configured cluster (`clusterLocatorMethods` of type
    /// `config`) with the cluster-wide informers a lookup reads, and waits until each has
    /// listed once or failed, at most `deadline`; then [`Self::is_ready`] turns true. Clusters
    /// found in the catalog are watched from their first lookup.
    pub async fn warm_up(&self, deadline: std::time::Duration) {
        let Some(cache) = &self.cache else {
            self.ready.send_replace(true);
            return;
        };
        let mut entries = Vec::new();
        for l in &self.config.locators {
            if let super::config::ClusterLocator::Config(list) = l {
                for c in list {
                    entries.extend(cache.warm(c, &self.object_types(c)));
                }
            }
        }
        let started = std::time::Instant::now();
        let synced = futures_util::future::join_all(entries.iter().map(|e| e.settled()));
        if tokio::time::timeout(deadline, synced).await.is_err() {
            tracing::warn!(
                "not every configured cluster finished its first list within {:.1} s; serving anyway (lookups wait for their cluster)",
                deadline.as_secs_f64()
            );
        } else {
            tracing::info!(
                informers = entries.len(),
                "configured clusters listed in {} ms",
                started.elapsed().as_millis()
            );
        }
        self.ready.send_replace(true);
    }

    /// Whether the boot-time watches listed once (or their deadline passed): readiness.
    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    /// A client for long-lived streams to `c` (needs the watch cache).
    pub(crate) async fn streaming_client(
        &self,
        c: &ClusterDetails,
    ) -> Result<kube::Client, FetchError> {
        match &self.cache {
            Some(cache) => cache.streaming_client(c).await,
            None => Err(FetchError::fetch(
                "following a log needs kubernetes.cache.enabled".to_string(),
            )),
        }
    }

    /// The cluster's client (kept while its connection settings stay the same), with the
    /// cluster's current credential in its slot.
    pub(crate) async fn connection(&self, c: &ClusterDetails) -> Result<kube::Client, FetchError> {
        let (client, bearer) = self
            .client_for(c)
            .map_err(|e| super::errors::client_failure(&c.name, &e))?;
        let credential = self
            .auth
            .credential(c)
            .await
            .map_err(|e| super::errors::credential_failure(&c.name, &e))?;
        bearer.set(credential);
        Ok(client)
    }

    fn client_for(
        &self,
        c: &ClusterDetails,
    ) -> Result<(kube::Client, fetcher::BearerSlot), fetcher::ConnectError> {
        let fingerprint = c.connection();
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((f, client, bearer)) = clients.get(&c.name) {
            if *f == fingerprint {
                return Ok((client.clone(), bearer.clone()));
            }
        }
        let bearer = fetcher::BearerSlot::default();
        let client = fetcher::connect(
            c,
            self.auth.in_cluster_ca(c),
            self.config.timeout,
            fetcher::Observe {
                cluster: c.name.as_str().into(),
                metrics: Arc::clone(&self.registry),
                bearer: bearer.clone(),
            },
        )?;
        clients.insert(
            c.name.clone(),
            (fingerprint, client.clone(), bearer.clone()),
        );
        Ok((client, bearer))
    }

    /// One cluster by plain lists (no cache).
    #[tracing::instrument(level = "debug", skip_all, fields(cluster = %c.name))]
    async fn one_cluster(
        &self,
        c: &ClusterDetails,
        selector: &LabelSelector,
        namespaces: Option<&[Namespace]>,
        types: &[ObjectType],
    ) -> ClusterObjects {
        let client = match self.connection(c).await {
            Ok(x) => x,
            Err(e) => return fetcher::transport_failure(c, e),
        };
        let q = fetcher::Query {
            selector,
            namespaces,
            object_types: types,
        };
        fetcher::fetch(&client, c, &q).await
    }

    /// One cluster from the watch cache, shaped exactly as [`fetcher::fetch`] shapes a list.
    #[tracing::instrument(level = "debug", skip_all, fields(cluster = %c.name))]
    async fn one_cluster_cached(
        &self,
        cache: &WatchCache,
        c: &ClusterDetails,
        selector: &LabelSelector,
        namespaces: Option<&[Namespace]>,
        types: &[ObjectType],
        held: &Held,
    ) -> ClusterObjects {
        let nss: Vec<Option<&Namespace>> = match namespaces {
            Some(list) => list.iter().map(Some).collect(),
            None => vec![None],
        };
        let reads = types.iter().enumerate().flat_map(|(i, t)| {
            nss.iter().map(move |ns| async move {
                (
                    i,
                    cache
                        .read(c, t, *ns, selector, &held.entries, !held.cache_only)
                        .await,
                )
            })
        });
        let mut result = ClusterBuilder::new(c, types);
        for (i, r) in futures_util::future::join_all(reads).await {
            let objects = r.map(|o| o.into_iter().map(super::types::Object::cached));
            if let Err(f) = result.read(i, objects) {
                return result.failed(f);
            }
        }
        let metrics_namespaces = result.metrics_namespaces();
        if metrics_namespaces.is_empty() || held.cache_only {
            return result.finish(None);
        }
        let client = match self.connection(c).await {
            Ok(x) => x,
            Err(e) => return result.failed(e),
        };
        let fresh = !held.stale_metrics_ok;
        let client = &client;
        result
            .with_metrics(metrics_namespaces, |ns| async move {
                cache.pod_metrics(client, c, &ns, selector, fresh).await
            })
            .await
    }

    /// Objects for an entity on every cluster its locator picks (from the cache when enabled).
    pub async fn objects_by_entity(
        &self,
        entity: &Value,
        custom: Option<Vec<CustomResource>>,
    ) -> Result<ObjectsByEntityResponse, LookupError> {
        Ok(self
            .fan_out(entity, custom, true, &Held::default(), &Decision::Allow)
            .await?
            .0)
    }

    /// The same, by plain lists, bypassing the cache (what the cache must equal).
    pub async fn objects_by_entity_listed(
        &self,
        entity: &Value,
        custom: Option<Vec<CustomResource>>,
    ) -> Result<ObjectsByEntityResponse, LookupError> {
        Ok(self
            .fan_out(entity, custom, false, &Held::default(), &Decision::Allow)
            .await?
            .0)
    }

    /// The fan-out (Backstage's name for it): the entity's objects from every cluster its
    /// locator picks and `clusters` permits, concurrently; also how many clusters it left out.
    #[tracing::instrument(level = "debug", skip_all, fields(entity = %entity["metadata"]["name"]))]
    async fn fan_out(
        &self,
        entity: &Value,
        custom: Option<Vec<CustomResource>>,
        use_cache: bool,
        held: &Held,
        clusters: &Decision,
    ) -> Result<(ObjectsByEntityResponse, usize), LookupError> {
        let permitted = clusters;
        let annotation = |error| LookupError::Annotation {
            entity: crate::catalog::refs::entity_ref_of(entity)
                .map(|r| r.canonical())
                .unwrap_or_default(),
            error,
        };
        let selector = lookup::label_selector(entity).map_err(annotation)?;
        let namespaces = lookup::namespaces(entity).map_err(annotation)?;
        let mut clusters =
            service_locator::select(self.config.service_locator, entity, self.clusters().await);
        let before = clusters.len();
        clusters.retain(|c| permitted.permits(Resource::Cluster(&c.name)));
        let hidden = before - clusters.len();
        let deadline = self.config.timeout;
        let runs = clusters.iter().map(|c| {
            let types: Vec<ObjectType> = match &custom {
                Some(list) => list.iter().map(CustomResource::object_type).collect(),
                None => self.object_types(c),
            };
            let selector = selector.clone();
            let namespaces = namespaces.clone();
            async move {
                let work = async {
                    match self.cache.as_ref().filter(|_| use_cache) {
                        Some(cache) => {
                            self.one_cluster_cached(
                                cache,
                                c,
                                &selector,
                                namespaces.as_deref(),
                                &types,
                                held,
                            )
                            .await
                        }
                        None => {
                            self.one_cluster(c, &selector, namespaces.as_deref(), &types)
                                .await
                        }
                    }
                };
                match tokio::time::timeout(deadline, work).await {
                    Ok(r) => r,
                    Err(_) => fetcher::transport_failure(
                        c,
                        FetchError::fetch(format!(
                            "cluster '{}': timed out after {:.1} s",
                            c.name,
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
        Ok((ObjectsByEntityResponse { items }, hidden))
    }
}
