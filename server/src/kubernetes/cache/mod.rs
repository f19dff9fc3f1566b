//! The watch cache: per cluster and per (object type, namespace, label selector) in use, one
//! kube-rs watcher keeps the objects in memory, shared by every viewer, the REST API and the
//! server functions. Lookups read memory; the API server sees one list and one long-lived watch
//! per entry, however many people look.
//!
//! - An entry starts on first use; the first lookup waits for its initial list (under the
//!   per-cluster deadline, like a plain list). It lives while a live view holds it or a lookup
//!   read it within `kubernetes.cache.idleTimeoutMs`, then the janitor stops it.
//! - Objects are stored as a list would return them: managedFields removed, secret values
//!   masked, built-in types without `kind`/`apiVersion`, sorted by namespace and name (the API
//!   server's order). So a cached answer equals a fresh list. They are kept as compact JSON text
//!   (a parsed `serde_json::Value` costs ~10× the memory) and parsed when read.
//! - A watch that breaks is re-listed at once (data kept meanwhile); a list that fails marks the
//!   entry failing (lookups get the same error a plain list would) and is retried with
//!   exponential backoff (0.5 s to 30 s). Every re-list counts as a watch restart.
//! - `kubernetes.cache.clusterWide`: one watch per object type over the whole cluster, selected
//!   in memory per lookup.
//! - Pod metrics are not watchable: they are fetched at most once per cluster, namespace and
//!   selector per `metricsIntervalMs`, single-flight, and shared; unused ones are dropped by the
//!   janitor like idle watches.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::auth::Authenticator;
use super::config::{CacheConfig, ClusterDetails};
use super::errors;
use super::fetcher::{self, Observe};
use super::lookup::ObjectType;
use super::names::Namespace;
use super::selector::LabelSelector;
use super::types::{FetchError, Stored};
use crate::metrics::Registry;

mod watch_loop;

use watch_loop::Run;

/// What one watch covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// Cluster name.
    pub cluster: String,
    /// [`ClusterDetails::watch_identity`]: changed settings make a new entry.
    pub identity: u64,
    /// Object type.
    pub object_type: ObjectType,
    /// Namespace, or the whole cluster.
    pub namespace: Option<Namespace>,
    /// Label selector in its normal form ("" = everything).
    pub selector: String,
}

/// Objects by (namespace, name).
pub type Objects = BTreeMap<(String, String), Arc<Stored>>;

/// The state of a watch.
#[derive(Debug, Clone, PartialEq)]
pub enum Health {
    /// The first list has not finished.
    Pending,
    /// Listed and watching.
    Ready,
    /// The last list failed with this error; retried with backoff.
    Failing(FetchError),
}

/// What readers see of an entry.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Bumped on every change of objects or health.
    pub version: u64,
    /// The objects.
    pub objects: Arc<Objects>,
    /// Health.
    pub health: Health,
}

/// One watched collection.
pub struct Entry {
    /// What it watches.
    pub key: Key,
    state: Arc<watch::Sender<Snapshot>>,
    retry: Arc<tokio::sync::Notify>,
    last_used: Mutex<Instant>,
    task: tokio::task::AbortHandle,
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Entry {
    /// The current snapshot (marks the entry used).
    pub fn snapshot(&self) -> Snapshot {
        *self.last_used.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        self.state.borrow().clone()
    }

    /// Change notifications.
    pub fn subscribe(&self) -> watch::Receiver<Snapshot> {
        self.state.subscribe()
    }

    /// A failing entry: retries now instead of after its backoff, and waits for the outcome.
    /// (So a cluster that recovered is seen as soon as someone looks, and one that still fails
    /// reports its current error: a failing cluster costs one list per lookup at most, as
    /// without the cache, and concurrent lookups share it.)
    async fn retried(&self, seen: u64) -> Snapshot {
        let rx = self.state.subscribe();
        self.retry.notify_one();
        self.first(rx, |s| s.version > seen).await
    }

    /// Waits until the first list finished (or failed).
    async fn settled(&self) -> Snapshot {
        self.first(self.state.subscribe(), |s| s.health != Health::Pending)
            .await
    }

    /// The first snapshot from `rx` that satisfies `ready`.
    async fn first(
        &self,
        mut rx: watch::Receiver<Snapshot>,
        ready: impl FnMut(&Snapshot) -> bool,
    ) -> Snapshot {
        match rx.wait_for(ready).await {
            Ok(s) => s.clone(),
            Err(_) => self.snapshot(),
        }
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

    /// Whether lookups select in memory from whole-cluster watches.
    pub fn cluster_wide(&self) -> bool {
        self.config.cluster_wide
    }

    /// The entries (for gauges and health).
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

    /// The entry for a key, started if new.
    pub fn entry(&self, c: &ClusterDetails, key: Key) -> Result<Arc<Entry>, FetchError> {
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
        let state = Arc::new(watch::Sender::new(Snapshot {
            version: 0,
            objects: Arc::default(),
            health: Health::Pending,
        }));
        let retry = Arc::new(tokio::sync::Notify::new());
        let run = Run {
            key: key.clone(),
            details: c.clone(),
            shared,
            auth: Arc::clone(&self.auth),
            registry: Arc::clone(&self.registry),
            state: Arc::clone(&state),
            retry: Arc::clone(&retry),
        };
        let task = tokio::spawn(run.run()).abort_handle();
        let entry = Arc::new(Entry {
            key: key.clone(),
            state,
            retry,
            last_used: Mutex::new(Instant::now()),
            task,
        });
        entries.insert(key, Arc::clone(&entry));
        Ok(entry)
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

    /// Objects of one type in one namespace (or all) matching a selector, from memory: waits for
    /// the first list of a new entry. `Err` is that list's error. `held` collects the entries
    /// read (live views keep them and follow their changes).
    pub async fn read(
        &self,
        c: &ClusterDetails,
        object_type: &ObjectType,
        namespace: Option<&Namespace>,
        selector: &LabelSelector,
        held: &Mutex<Vec<(Arc<Entry>, u64)>>,
    ) -> Result<Vec<Arc<Stored>>, FetchError> {
        let key = Key {
            cluster: c.name.clone(),
            identity: c.watch_identity(),
            object_type: object_type.clone(),
            namespace: if self.config.cluster_wide {
                None
            } else {
                namespace.cloned()
            },
            selector: if self.config.cluster_wide {
                String::new()
            } else {
                selector.as_str().to_string()
            },
        };
        let entry = self.entry(c, key)?;
        let mut snap = entry.snapshot();
        if snap.health == Health::Pending {
            snap = entry.settled().await;
        } else if matches!(snap.health, Health::Failing(_)) {
            snap = entry.retried(snap.version).await;
        }
        lock(held).push((Arc::clone(&entry), snap.version));
        match snap.health {
            Health::Failing(e) => Err(e),
            _ if self.config.cluster_wide => Ok(snap
                .objects
                .values()
                .filter(|o| {
                    namespace.is_none_or(|ns| *ns == *o.namespace) && selector.matches(&o.labels)
                })
                .cloned()
                .collect()),
            _ => Ok(snap.objects.values().cloned().collect()),
        }
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
            let s = e.state.borrow().clone();
            let o = objects
                .entry((
                    e.key.cluster.clone(),
                    e.key.object_type.metric_label().to_string(),
                ))
                .or_default();
            o.0 += s.objects.len() as f64;
            o.1 += s
                .objects
                .values()
                .map(|v| v.json.get().len() as f64)
                .sum::<f64>();
            let health = match s.health {
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

/// Before a new watch on `cluster`: if it already has `max` watches, stops the least recently
/// used one that no live view holds; if every one is held, refuses with an error naming the
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
        .filter(|(k, e)| k.cluster == cluster && Arc::strong_count(e) == 1)
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

/// Drops entries nobody holds that were not read for `idle`.
fn sweep(entries: &Mutex<HashMap<Key, Arc<Entry>>>, idle: Duration) {
    let mut map = lock(entries);
    map.retain(|_, e| Arc::strong_count(e) > 1 || lock(&e.last_used).elapsed() < idle);
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
            selector: String::new(),
        }
    }

    fn entry(k: Key, age: Duration) -> Arc<Entry> {
        Arc::new(Entry {
            key: k,
            state: Arc::new(watch::Sender::new(Snapshot {
                version: 0,
                objects: Arc::default(),
                health: Health::Pending,
            })),
            retry: Arc::default(),
            last_used: Mutex::new(Instant::now() - age),
            task: tokio::spawn(std::future::pending::<()>()).abort_handle(),
        })
    }

    fn selector_key(cluster: &str, selector: &str) -> Key {
        Key {
            selector: selector.into(),
            ..key(cluster)
        }
    }

    #[tokio::test]
    async fn watches_per_cluster_are_capped_evicting_the_least_recently_used_idle_one() {
        let mut map: HashMap<Key, Arc<Entry>> = HashMap::new();
        map.insert(
            selector_key("a", "x=1"),
            entry(selector_key("a", "x=1"), Duration::from_secs(5)),
        );
        map.insert(
            selector_key("a", "x=2"),
            entry(selector_key("a", "x=2"), Duration::from_secs(50)),
        );
        let held = entry(selector_key("a", "x=3"), Duration::from_secs(500));
        map.insert(selector_key("a", "x=3"), Arc::clone(&held));
        map.insert(
            selector_key("b", "x=1"),
            entry(selector_key("b", "x=1"), Duration::from_secs(900)),
        );
        // Under the cap: nothing happens.
        assert!(make_room(&mut map, "a", 4).is_ok());
        assert_eq!(map.len(), 4);
        // At the cap: the oldest idle entry of that cluster goes (not the held one, not b's).
        assert!(make_room(&mut map, "a", 3).is_ok());
        assert!(!map.contains_key(&selector_key("a", "x=2")));
        assert!(
            map.contains_key(&selector_key("a", "x=3"))
                && map.contains_key(&selector_key("b", "x=1"))
        );
        // Every remaining entry held: a clear error naming the cluster and the setting.
        let keep = Arc::clone(&map[&selector_key("a", "x=1")]);
        let err = make_room(&mut map, "a", 2).unwrap_err();
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
        sweep(&entries, Duration::from_secs(30));
        let mut left: Vec<String> = lock(&entries).keys().map(|k| k.cluster.clone()).collect();
        left.sort();
        assert_eq!(left, ["held", "recent"]);
        drop(held);
        sweep(&entries, Duration::from_secs(30));
        assert_eq!(lock(&entries).len(), 1);
    }
}
