//! The watch cache: shared informers, one kube-rs watcher per cluster and object type (or per
//! object type and namespace, see below), holding the objects in memory with an index by label
//! and namespace ([`store`]), shared by every viewer, the REST API and the server functions. A
//! lookup selects its objects from memory without a request, so the API server sees one list
//! and one long-lived watch per object type and cluster, whatever the number of entities or
//! viewers, and the connections to a cluster are bounded by the number of object types.
//!
//! - Configured clusters (`clusterLocatorMethods` of type `config`) are watched from boot
//!   ([`WatchCache::warm`]): the first view is as fast as the hundredth, and readiness waits for
//!   the first sync (under a deadline). Clusters found in the catalog start on first use and
//!   stop when idle for `kubernetes.cache.idleTimeoutMs`; a boot-time informer never stops.
//! - The first lookup of an informer that has not listed yet waits for its initial list (under
//!   the per-cluster deadline, like a plain list).
//! - Objects are stored as a list would return them: managedFields removed, secret values
//!   masked, built-in types without `kind`/`apiVersion`, selected in the API server's order
//!   (namespace, name). So a cached answer equals a fresh list. They are kept as compact JSON
//!   text (a parsed `serde_json::Value` costs ~10x the memory) and parsed when read.
//! - A watch that breaks is re-listed at once (data kept meanwhile); a list that fails marks the
//!   informer failing (lookups get the same error a plain list would) and is retried with
//!   exponential backoff (0.5 s to 30 s). Every re-list counts as a watch restart.
//! - `kubernetes.cache.clusterWide: false` (for clusters too big to hold whole): an informer per
//!   object type and namespace, for entities that name their namespaces
//!   (`backstage.io/kubernetes-namespace`); entities that do not read the cluster-wide informer.
//!   Never one per label selector.
//! - Each informer keeps a short log of its changes, so a live view wakes for a change anywhere
//!   in the cluster but rebuilds only when the change concerns what it selects.
//! - Pod metrics are not watchable: they are fetched at most once per cluster and namespace
//!   (per namespace and selector with `clusterWide: false`, or in a namespace of more than
//!   [`NAMESPACE_METRICS_MAX`] pods) per `metricsIntervalMs`,
//!   single-flight, and shared; unused ones are dropped by the janitor like idle informers.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::auth::Authenticator;
use super::config::{CacheConfig, ClusterDetails};
use super::fetcher::{self, Observe};
use super::lookup::ObjectType;
use super::names::Namespace;
use super::selector::LabelSelector;
use super::types::{FetchError, Stored};
use crate::metrics::Registry;

pub mod store;
mod watch_loop;

use store::{ChangeLog, Store};
use watch_loop::Run;

/// What one informer covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// Cluster name.
    pub cluster: String,
    /// [`ClusterDetails::watch_identity`]: changed settings make a new informer.
    pub identity: u64,
    /// Object type.
    pub object_type: ObjectType,
    /// Namespace, or the whole cluster.
    pub namespace: Option<Namespace>,
}

/// The state of an informer.
#[derive(Debug, Clone, PartialEq)]
pub enum Health {
    /// The first list has not finished.
    Pending,
    /// Listed and watching.
    Ready,
    /// The last list failed with this error; retried with backoff.
    Failing(FetchError),
}

/// What subscribers see of an informer.
#[derive(Debug, Clone)]
pub struct Status {
    /// Bumped on every change of objects or health.
    pub version: u64,
    /// Health.
    pub health: Health,
}

/// An informer's objects and their changes, shared with its watch loop (the only writer).
struct Collection {
    store: parking_lot::RwLock<Store>,
    log: Mutex<ChangeLog>,
    state: watch::Sender<Status>,
}

impl Collection {
    fn new() -> Self {
        Self {
            store: parking_lot::RwLock::new(Store::default()),
            log: Mutex::default(),
            state: watch::Sender::new(Status {
                version: 0,
                health: Health::Pending,
            }),
        }
    }
}

/// One informer.
pub struct Entry {
    /// What it watches.
    pub key: Key,
    /// Unique in the process: a new informer for the same key (after one was stopped) is
    /// another generation, whose versions start again.
    pub generation: u64,
    collection: Arc<Collection>,
    retry: Arc<tokio::sync::Notify>,
    last_used: Mutex<Instant>,
    /// Started at boot for a configured cluster: never stopped for being idle.
    pinned: bool,
    task: tokio::task::AbortHandle,
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Entry {
    /// The current status (marks the informer used).
    pub fn status(&self) -> Status {
        *lock(&self.last_used) = Instant::now();
        self.collection.state.borrow().clone()
    }

    /// The current status, without marking the informer used (a look at the cluster's health
    /// does not keep an idle informer alive).
    pub fn peek(&self) -> Status {
        self.collection.state.borrow().clone()
    }

    /// Every namespace with objects, and how many.
    pub fn namespace_counts(&self) -> Vec<(String, usize)> {
        self.collection.store.read().namespace_counts()
    }

    /// Calls `f` with every object held and its name, under the store's read lock (so `f`
    /// must be quick: the watch loop waits meanwhile to write).
    pub fn visit(&self, f: impl FnMut(&str, &Arc<Stored>)) {
        self.collection.store.read().visit(f)
    }

    /// Change notifications.
    pub fn subscribe(&self) -> watch::Receiver<Status> {
        self.collection.state.subscribe()
    }

    /// The objects in `namespace` (or any) matching `selector`, in list order.
    pub fn select(&self, namespace: Option<&str>, selector: &LabelSelector) -> Vec<Arc<Stored>> {
        self.collection.store.read().select(namespace, selector)
    }

    /// One object by namespace and name.
    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<Stored>> {
        *lock(&self.last_used) = Instant::now();
        self.collection.store.read().get(namespace, name)
    }

    /// Whether something in `namespace` (or any) matching `selector` may have changed after
    /// version `seen` (objects, or the informer's health).
    pub fn touches(&self, seen: u64, namespace: Option<&str>, selector: &LabelSelector) -> bool {
        lock(&self.collection.log).touches(seen, namespace, selector)
    }

    /// Objects held in `namespace`.
    pub fn count_in(&self, namespace: &str) -> usize {
        self.collection.store.read().count_in(namespace)
    }

    /// (objects held, their JSON bytes).
    pub fn size(&self) -> (usize, usize) {
        let s = self.collection.store.read();
        (s.len(), s.bytes())
    }

    /// A failing informer: retries now instead of after its backoff, and waits for the outcome.
    /// (So a cluster that recovered is seen as soon as someone looks, and one that still fails
    /// reports its current error: a failing cluster costs one list per lookup at most, as
    /// without the cache, and concurrent lookups share it.)
    async fn retried(&self, seen: u64) -> Status {
        let rx = self.subscribe();
        self.retry.notify_one();
        self.first(rx, |s| s.version > seen).await
    }

    /// Waits until the first list finished (or failed).
    pub async fn settled(&self) -> Status {
        self.first(self.subscribe(), |s| s.health != Health::Pending)
            .await
    }

    /// The first status from `rx` that satisfies `ready`.
    async fn first(
        &self,
        mut rx: watch::Receiver<Status>,
        ready: impl FnMut(&Status) -> bool,
    ) -> Status {
        match rx.wait_for(ready).await {
            Ok(s) => s.clone(),
            Err(_) => self.status(),
        }
    }
}

/// One read of an informer by a lookup: a live view follows what it selected.
pub struct Read {
    /// The informer.
    pub entry: Arc<Entry>,
    /// The version the lookup saw.
    pub seen: u64,
    /// The namespace it selected in (or any).
    pub namespace: Option<Namespace>,
    /// The selector it selected with.
    pub selector: LabelSelector,
}

impl Read {
    /// Whether what this read selected may have changed since it was read. If not, the
    /// informer's current version counts as seen (a change elsewhere in the cluster).
    pub fn moved(&mut self) -> bool {
        let now = self.entry.subscribe().borrow().version;
        if now == self.seen {
            return false;
        }
        let namespace = self.namespace.as_ref().map(|n| n.as_str());
        if self.entry.touches(self.seen, namespace, &self.selector) {
            return true;
        }
        self.seen = now;
        false
    }
}

/// A cluster's watch client: no read timeout shorter than a watch, and the bearer token in a
/// slot refreshed before every (re)list.
struct WatchClient {
    fingerprint: String,
    client: kube::Client,
    bearer: fetcher::BearerSlot,
    /// One credential refresh at a time per cluster (the others then hit the auth cache).
    refreshing: Arc<tokio::sync::Mutex<()>>,
}

/// What the watch loops of one cluster share.
#[derive(Clone)]
struct Shared {
    client: kube::Client,
    bearer: fetcher::BearerSlot,
    refreshing: Arc<tokio::sync::Mutex<()>>,
}

impl Shared {
    /// The client, with the cluster's current credential in its slot (one refresh at a time
    /// per cluster; the others then hit the auth cache).
    async fn refreshed(
        &self,
        auth: &Authenticator,
        c: &ClusterDetails,
    ) -> Result<kube::Client, FetchError> {
        let _one_at_a_time = self.refreshing.lock().await;
        let credential = auth
            .credential(c)
            .await
            .map_err(|e| super::errors::credential_failure(&c.name, &e))?;
        self.bearer.set(credential);
        Ok(self.client.clone())
    }
}

/// The most pods a namespace may hold for its pod metrics to be fetched whole and shared.
pub const NAMESPACE_METRICS_MAX: usize = 2000;

/// PodMetrics by pod name.
pub use super::cluster_objects::PodMetrics;

/// The last metrics fetch of one (cluster, namespace, selector) and when it was last read.
#[derive(Default)]
struct MetricsSlot {
    fetched: tokio::sync::Mutex<Option<(Instant, Result<PodMetrics, FetchError>)>>,
    last_used: Mutex<Option<Instant>>,
}

type MetricsMap = Mutex<HashMap<(String, String, String), Arc<MetricsSlot>>>;

/// The cache.
pub struct WatchCache {
    config: CacheConfig,
    auth: Arc<Authenticator>,
    registry: Arc<Registry>,
    entries: Arc<Mutex<HashMap<Key, Arc<Entry>>>>,
    clients: Mutex<HashMap<String, WatchClient>>,
    metrics: Arc<MetricsMap>,
    janitor: Mutex<bool>,
}

/// How long a watch request may stay open (the server ends it; kube-rs asks for 290 s).
const WATCH_READ_TIMEOUT: Duration = Duration::from_secs(330);

fn next_generation() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl WatchCache {
    /// An empty cache.
    pub fn new(config: CacheConfig, auth: Arc<Authenticator>, registry: Arc<Registry>) -> Self {
        Self {
            config,
            auth,
            registry,
            entries: Arc::default(),
            clients: Mutex::default(),
            metrics: Arc::default(),
            janitor: Mutex::new(false),
        }
    }

    /// Whether informers cover whole clusters (else one per namespace a lookup names).
    pub fn cluster_wide(&self) -> bool {
        self.config.cluster_wide
    }

    /// The informers (for gauges and health).
    pub fn entries(&self) -> Vec<Arc<Entry>> {
        lock(&self.entries).values().cloned().collect()
    }

    fn watch_client(&self, c: &ClusterDetails) -> Result<Shared, fetcher::ConnectError> {
        let fingerprint = c.connection();
        let mut clients = lock(&self.clients);
        if let Some(w) = clients.get(&c.name) {
            if w.fingerprint == fingerprint {
                return Ok(Shared {
                    client: w.client.clone(),
                    bearer: w.bearer.clone(),
                    refreshing: Arc::clone(&w.refreshing),
                });
            }
        }
        let bearer = fetcher::BearerSlot::default();
        let client = fetcher::connect(
            c,
            self.auth.in_cluster_ca(c),
            WATCH_READ_TIMEOUT,
            Observe {
                cluster: c.name.as_str().into(),
                metrics: Arc::clone(&self.registry),
                bearer: bearer.clone(),
            },
        )?;
        let refreshing = Arc::new(tokio::sync::Mutex::new(()));
        clients.insert(
            c.name.clone(),
            WatchClient {
                fingerprint,
                client: client.clone(),
                bearer: bearer.clone(),
                refreshing: Arc::clone(&refreshing),
            },
        );
        Ok(Shared {
            client,
            bearer,
            refreshing,
        })
    }

    /// The informer for a key, started if new (`pinned`: never stopped for being idle).
    pub fn entry(
        &self,
        c: &ClusterDetails,
        key: Key,
        pinned: bool,
    ) -> Result<Arc<Entry>, FetchError> {
        self.start_janitor();
        if let Some(e) = lock(&self.entries).get(&key) {
            return Ok(Arc::clone(e));
        }
        let shared = self
            .watch_client(c)
            .map_err(|e| super::errors::client_failure(&c.name, &e))?;
        let mut entries = lock(&self.entries);
        if let Some(e) = entries.get(&key) {
            return Ok(Arc::clone(e));
        }
        make_room(&mut entries, &c.name, self.config.max_watches_per_cluster)?;
        let collection = Arc::new(Collection::new());
        let retry = Arc::new(tokio::sync::Notify::new());
        let run = Run {
            key: key.clone(),
            details: c.clone(),
            shared,
            auth: Arc::clone(&self.auth),
            registry: Arc::clone(&self.registry),
            collection: Arc::clone(&collection),
            retry: Arc::clone(&retry),
        };
        let task = tokio::spawn(run.run()).abort_handle();
        let entry = Arc::new(Entry {
            key: key.clone(),
            generation: next_generation(),
            collection,
            retry,
            last_used: Mutex::new(Instant::now()),
            pinned,
            task,
        });
        entries.insert(key, Arc::clone(&entry));
        Ok(entry)
    }

    /// A client for long-lived streams (followed logs) to `c`: the watch client, with no read
    /// timeout shorter than a watch, and the cluster's current credential.
    pub async fn streaming_client(&self, c: &ClusterDetails) -> Result<kube::Client, FetchError> {
        let shared = self
            .watch_client(c)
            .map_err(|e| super::errors::client_failure(&c.name, &e))?;
        shared.refreshed(&self.auth, c).await
    }

    /// Starts the cluster-wide informers of `types` on a configured cluster (at boot), pinned;
    /// returns them (to wait for their first sync). Nothing in per-namespace mode, where the
    /// namespaces are known only from lookups.
    pub fn warm(&self, c: &ClusterDetails, types: &[ObjectType]) -> Vec<Arc<Entry>> {
        if !self.config.cluster_wide {
            return Vec::new();
        }
        types
            .iter()
            .filter_map(|t| {
                let key = Key {
                    cluster: c.name.clone(),
                    identity: c.watch_identity(),
                    object_type: t.clone(),
                    namespace: None,
                };
                match self.entry(c, key, true) {
                    Ok(e) => Some(e),
                    Err(e) => {
                        tracing::warn!(cluster = %c.name, error = %e.message(), "cannot start watching this cluster at boot; it is tried again on first use");
                        None
                    }
                }
            })
            .collect()
    }

    fn start_janitor(&self) {
        let mut started = lock(&self.janitor);
        if *started {
            return;
        }
        *started = true;
        let entries: Weak<Mutex<HashMap<Key, Arc<Entry>>>> = Arc::downgrade(&self.entries);
        let metrics: Weak<MetricsMap> = Arc::downgrade(&self.metrics);
        let idle = self.config.idle_timeout;
        tokio::spawn(async move {
            let period = (idle / 4).max(Duration::from_millis(250));
            loop {
                tokio::time::sleep(period).await;
                let (Some(entries), Some(metrics)) = (entries.upgrade(), metrics.upgrade()) else {
                    return;
                };
                sweep(&entries, idle);
                lock(&metrics)
                    .retain(|_, m| lock(&m.last_used).is_some_and(|t| t.elapsed() < idle));
            }
        });
    }

    /// The informer that holds a type's objects in `namespace` (or the whole cluster's), ready:
    /// waits for its first list; retries a failing one once. `Err` is that list's error.
    async fn ready_entry(
        &self,
        c: &ClusterDetails,
        object_type: &ObjectType,
        namespace: Option<&Namespace>,
        lookup: bool,
    ) -> Result<(Arc<Entry>, u64), FetchError> {
        let key = Key {
            cluster: c.name.clone(),
            identity: c.watch_identity(),
            object_type: object_type.clone(),
            namespace: if self.config.cluster_wide {
                None
            } else {
                namespace.cloned()
            },
        };
        if !lookup {
            // A health read: what runs now, as it is (nothing started, awaited or retried).
            let entry = lock(&self.entries).get(&key).cloned().ok_or_else(|| {
                FetchError::fetch(format!(
                    "cluster '{}': not watched yet (its watches start with the first lookup of an entity on it)",
                    c.name
                ))
            })?;
            let status = entry.peek();
            return match status.health {
                Health::Ready => Ok((entry, status.version)),
                Health::Failing(e) => Err(e),
                Health::Pending => Err(FetchError::fetch(format!(
                    "cluster '{}': still listing {}",
                    c.name, object_type.object_type
                ))),
            };
        }
        let entry = self.entry(c, key, false)?;
        let mut status = entry.status();
        if status.health == Health::Pending {
            status = entry.settled().await;
        } else if matches!(status.health, Health::Failing(_)) {
            status = entry.retried(status.version).await;
        }
        match status.health {
            Health::Failing(e) => Err(e),
            _ => Ok((entry, status.version)),
        }
    }

    /// Objects of one type in one namespace (or all) matching a selector, from memory. `held`
    /// collects what was read (live views follow it). `lookup`: a lookup starts the informer if
    /// needed, waits for its first list and retries a failing one; otherwise (a health read)
    /// only an informer that runs and has listed answers, and the read costs no request.
    pub async fn read(
        &self,
        c: &ClusterDetails,
        object_type: &ObjectType,
        namespace: Option<&Namespace>,
        selector: &LabelSelector,
        held: &Mutex<Vec<Read>>,
        lookup: bool,
    ) -> Result<Vec<Arc<Stored>>, FetchError> {
        let (entry, seen) = self
            .ready_entry(c, object_type, namespace, lookup)
            .await
            .map_err(|e| as_lookup_error(e, c, object_type, namespace))?;
        let objects = entry.select(namespace.map(|n| n.as_str()), selector);
        lock(held).push(Read {
            entry,
            seen,
            namespace: namespace.cloned(),
            selector: selector.clone(),
        });
        Ok(objects)
    }

    /// One object of a type by namespace and name, from memory (`Ok(None)`: not there).
    pub async fn get(
        &self,
        c: &ClusterDetails,
        object_type: &ObjectType,
        namespace: &Namespace,
        name: &str,
    ) -> Result<Option<Arc<Stored>>, FetchError> {
        let (entry, _) = self
            .ready_entry(c, object_type, Some(namespace), true)
            .await?;
        Ok(entry.get(namespace.as_str(), name))
    }

    /// The PodMetrics of the pods matching `selector` in a namespace, by pod name: fetched at
    /// most once per metrics interval (single-flight), shared by every reader. With `fresh`
    /// false, an older answer is returned as it is rather than refetched.
    pub async fn pod_metrics(
        &self,
        client: &kube::Client,
        c: &ClusterDetails,
        namespace: &Namespace,
        selector: &LabelSelector,
        fresh: bool,
    ) -> Result<PodMetrics, FetchError> {
        // With cluster-wide informers, one list per namespace serves every entity there (the
        // lookup joins its own pods by name): a first view of an entity in a namespace someone
        // looked at in this interval sends no request. Not for a namespace of more than
        // NAMESPACE_METRICS_MAX pods (the pods informer knows): a lookup would wait for all of
        // their metrics, so those are fetched per selector.
        let everything;
        let small_namespace = self.config.cluster_wide
            && lock(&self.entries)
                .values()
                .find(|e| {
                    e.key.cluster == c.name
                        && e.key.identity == c.watch_identity()
                        && e.key.namespace.is_none()
                        && e.key.object_type.group.as_str().is_empty()
                        && e.key.object_type.object_type == "pods"
                })
                .is_some_and(|pods| pods.count_in(namespace.as_str()) <= NAMESPACE_METRICS_MAX);
        let selector = match small_namespace {
            true => match LabelSelector::parse("") {
                Ok(s) => {
                    everything = s;
                    &everything
                }
                Err(_) => selector,
            },
            false => selector,
        };
        let slot = Arc::clone(
            lock(&self.metrics)
                .entry((
                    c.name.clone(),
                    namespace.to_string(),
                    selector.as_str().to_string(),
                ))
                .or_default(),
        );
        *lock(&slot.last_used) = Some(Instant::now());
        let mut fetched = slot.fetched.lock().await;
        // A tenth of slack: a reader that comes back every interval (a live view) refetches
        // every time rather than every other time.
        let max_age = self.config.metrics_interval - self.config.metrics_interval / 10;
        if let Some((at, r)) = fetched.as_ref() {
            if !fresh || at.elapsed() < max_age {
                return r.clone();
            }
        }
        let r = fetcher::list_pod_metrics(client, c, namespace, selector).await;
        *fetched = Some((Instant::now(), r.clone()));
        r
    }

    /// Gauges for `/metrics`: cached objects and their JSON bytes per cluster and resource, and
    /// watches by health per cluster.
    pub fn gauges(&self) -> Gauges {
        let mut objects: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
        let mut watches: BTreeMap<(String, &'static str), f64> = BTreeMap::new();
        for e in self.entries() {
            let health = e.collection.state.borrow().health.clone();
            let (n, bytes) = e.size();
            let o = objects
                .entry((
                    e.key.cluster.clone(),
                    e.key.object_type.metric_label().to_string(),
                ))
                .or_default();
            o.0 += n as f64;
            o.1 += bytes as f64;
            let health = match health {
                Health::Pending => "pending",
                Health::Ready => "ready",
                Health::Failing(_) => "failing",
            };
            *watches.entry((e.key.cluster.clone(), health)).or_default() += 1.0;
        }
        let labels = |c: &String, r: &String| vec![("cluster", c.clone()), ("resource", r.clone())];
        Gauges {
            objects: objects
                .iter()
                .map(|((c, r), (n, _))| (labels(c, r), *n))
                .collect(),
            bytes: objects
                .iter()
                .map(|((c, r), (_, b))| (labels(c, r), *b))
                .collect(),
            watches: watches
                .into_iter()
                .map(|((c, h), v)| (vec![("cluster", c), ("health", h.to_string())], v))
                .collect(),
        }
    }
}

/// Gauge families sampled from the cache.
pub struct Gauges {
    /// Objects per cluster and resource.
    pub objects: Vec<(crate::metrics::Labels, f64)>,
    /// Their JSON bytes.
    pub bytes: Vec<(crate::metrics::Labels, f64)>,
    /// Watches per cluster and health.
    pub watches: Vec<(crate::metrics::Labels, f64)>,
}

/// A failed informer's error as the lookup's own list would have reported it: with the path of
/// the lookup's namespace (Backstage's `resourcePath`), not the informer's cluster-wide one.
fn as_lookup_error(
    e: FetchError,
    c: &ClusterDetails,
    object_type: &ObjectType,
    namespace: Option<&Namespace>,
) -> FetchError {
    match e {
        FetchError::Status {
            error_type,
            status_code,
            ..
        } => FetchError::Status {
            error_type,
            status_code,
            resource_path: format!(
                "{}{}",
                fetcher::base_path(&c.url),
                object_type.path(namespace)
            ),
        },
        other => other,
    }
}

/// Before a new watch on `cluster`: if it already has `max` watches, stops the least recently
/// used one that no live view holds and boot did not start; if every one is held, refuses with an error naming the
/// cluster and the setting (a flood of distinct selectors cannot open unbounded watches).
fn make_room(
    entries: &mut HashMap<Key, Arc<Entry>>,
    cluster: &str,
    max: usize,
) -> Result<(), FetchError> {
    let of_cluster = entries.keys().filter(|k| k.cluster == cluster).count();
    if of_cluster < max {
        return Ok(());
    }
    let victim = entries
        .iter()
        .filter(|(k, e)| k.cluster == cluster && !e.pinned && Arc::strong_count(e) == 1)
        .min_by_key(|(_, e)| *lock(&e.last_used))
        .map(|(k, _)| k.clone());
    match victim {
        Some(k) => {
            tracing::info!(cluster, resource = %k.object_type.plural, "watch limit reached: stopping the least recently used watch");
            entries.remove(&k);
            Ok(())
        }
        None => Err(FetchError::fetch(format!(
            "cluster '{cluster}': too many distinct watches in use ({of_cluster}, the limit set by kubernetes.cache.maxWatchesPerCluster)"
        ))),
    }
}

/// Drops informers nobody holds that were not read for `idle` (except those started at boot).
fn sweep(entries: &Mutex<HashMap<Key, Arc<Entry>>>, idle: Duration) {
    let mut map = lock(entries);
    map.retain(|_, e| e.pinned || Arc::strong_count(e) > 1 || lock(&e.last_used).elapsed() < idle);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: &str) -> Key {
        Key {
            cluster: n.into(),
            identity: 0,
            object_type: super::super::lookup::default_object_types()[0].clone(),
            namespace: None,
        }
    }

    fn pinned_entry(k: Key, age: Duration, pinned: bool) -> Arc<Entry> {
        Arc::new(Entry {
            key: k,
            generation: next_generation(),
            collection: Arc::new(Collection::new()),
            retry: Arc::default(),
            last_used: Mutex::new(Instant::now() - age),
            pinned,
            task: tokio::spawn(std::future::pending::<()>()).abort_handle(),
        })
    }

    fn entry(k: Key, age: Duration) -> Arc<Entry> {
        pinned_entry(k, age, false)
    }

    fn selector_key(cluster: &str, namespace: &str) -> Key {
        Key {
            namespace: Some(Namespace::parse("namespace", namespace).unwrap()),
            ..key(cluster)
        }
    }

    #[tokio::test]
    async fn watches_per_cluster_are_capped_evicting_the_least_recently_used_idle_one() {
        let mut map: HashMap<Key, Arc<Entry>> = HashMap::new();
        map.insert(
            selector_key("a", "x1"),
            entry(selector_key("a", "x1"), Duration::from_secs(5)),
        );
        map.insert(
            selector_key("a", "x2"),
            entry(selector_key("a", "x2"), Duration::from_secs(50)),
        );
        let held = entry(selector_key("a", "x3"), Duration::from_secs(500));
        map.insert(selector_key("a", "x3"), Arc::clone(&held));
        map.insert(
            selector_key("b", "x1"),
            entry(selector_key("b", "x1"), Duration::from_secs(900)),
        );
        // Started at boot: never the one stopped, however old.
        map.insert(
            selector_key("a", "x4"),
            pinned_entry(selector_key("a", "x4"), Duration::from_secs(9000), true),
        );
        // Under the cap: nothing happens.
        assert!(make_room(&mut map, "a", 5).is_ok());
        assert_eq!(map.len(), 5);
        // At the cap: the oldest idle entry of that cluster goes (not the held one, not the
        // pinned one, not b's).
        assert!(make_room(&mut map, "a", 4).is_ok());
        assert!(!map.contains_key(&selector_key("a", "x2")));
        assert!(
            map.contains_key(&selector_key("a", "x3"))
                && map.contains_key(&selector_key("b", "x1"))
        );
        // Every remaining entry held: a clear error naming the cluster and the setting.
        let keep = Arc::clone(&map[&selector_key("a", "x1")]);
        let err = make_room(&mut map, "a", 3).unwrap_err();
        assert!(
            err.message()
                .contains("cluster 'a': too many distinct watches"),
            "{err:?}"
        );
        assert!(err
            .message()
            .contains("kubernetes.cache.maxWatchesPerCluster"));
        drop((keep, held));
    }

    #[tokio::test]
    async fn the_janitor_keeps_held_and_recent_entries() {
        let entries: Mutex<HashMap<Key, Arc<Entry>>> = Mutex::default();
        let held = entry(key("held"), Duration::from_secs(60));
        lock(&entries).insert(key("held"), Arc::clone(&held));
        lock(&entries).insert(key("recent"), entry(key("recent"), Duration::ZERO));
        lock(&entries).insert(key("idle"), entry(key("idle"), Duration::from_secs(60)));
        lock(&entries).insert(
            key("boot"),
            pinned_entry(key("boot"), Duration::from_secs(600), true),
        );
        sweep(&entries, Duration::from_secs(30));
        let mut left: Vec<String> = lock(&entries).keys().map(|k| k.cluster.clone()).collect();
        left.sort();
        assert_eq!(left, ["boot", "held", "recent"]);
        drop(held);
        sweep(&entries, Duration::from_secs(30));
        assert_eq!(lock(&entries).len(), 2);
    }
}
