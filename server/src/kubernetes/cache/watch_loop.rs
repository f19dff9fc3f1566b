//! The watch loop of one cache entry: list, then watch, re-list at once when the watch breaks,
//! back off (0.5 s to 30 s) while lists fail; the cluster's credential is refreshed before every
//! (re)list. Every change goes to the store and the change log first, then the new version is
//! published (a reader that saw version `v` and then finds a change logged after `v` rebuilds).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::watcher;

use super::store::Store;
use super::{lock, Collection, Health, Key, Shared};
use crate::kubernetes::auth::Authenticator;
use crate::kubernetes::config::ClusterDetails;
use crate::kubernetes::errors;
use crate::kubernetes::fetcher;
use crate::kubernetes::types::{FetchError, Stored};
use crate::metrics::Registry;

/// The watch loop of one entry.
pub(super) struct Run {
    pub(super) key: Key,
    pub(super) details: ClusterDetails,
    pub(super) shared: Shared,
    pub(super) auth: Arc<Authenticator>,
    pub(super) registry: Arc<Registry>,
    pub(super) collection: Arc<Collection>,
    pub(super) retry: Arc<tokio::sync::Notify>,
}

const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

impl Run {
    fn api_resource(&self) -> ApiResource {
        let t = &self.key.object_type;
        ApiResource {
            group: t.group.to_string(),
            version: t.api_version.to_string(),
            api_version: t.group_version(),
            kind: String::new(),
            plural: t.plural.to_string(),
        }
    }

    fn next_version(&self) -> u64 {
        self.collection.state.borrow().version + 1
    }

    /// A new health (and, after a list, all objects) at the next version: every reader rebuilds.
    fn reset(&self, store: Option<Store>, health: Health) {
        let version = self.next_version();
        if let Some(store) = store {
            *self.collection.store.write() = store;
        }
        lock(&self.collection.log).reset(version);
        self.collection.state.send_modify(|s| {
            s.version = version;
            s.health = health;
        });
    }

    /// One object changed (added, modified or deleted), at the next version.
    fn changed(&self, before: Option<Arc<Stored>>, after: Option<Arc<Stored>>) {
        let version = self.next_version();
        lock(&self.collection.log).record(version, before, after);
        self.collection.state.send_modify(|s| s.version = version);
    }

    fn error(&self, e: &watcher::Error) -> FetchError {
        let path = format!(
            "{}{}",
            fetcher::base_path(&self.details.url),
            self.key.object_type.path(self.key.namespace.as_ref())
        );
        let (name, url) = (&self.details.name, &self.details.url);
        match e {
            watcher::Error::InitialListFailed(k)
            | watcher::Error::WatchStartFailed(k)
            | watcher::Error::WatchFailed(k) => errors::from_kube(name, url, &path, k),
            watcher::Error::WatchError(s) => FetchError::status(s.code, &path),
            watcher::Error::NoResourceVersion => FetchError::fetch(format!(
                "cluster '{name}': {path} cannot be watched (no resourceVersion)"
            )),
        }
    }

    /// Stored form of an object: as a list returns it.
    fn stored(&self, o: DynamicObject) -> Option<(String, Arc<Stored>)> {
        let ns = o.metadata.namespace.clone().unwrap_or_default();
        let name = o.metadata.name.clone()?;
        let labels = o.metadata.labels.clone().unwrap_or_default();
        let mut v = serde_json::to_value(o).ok()?;
        let t = &self.key.object_type;
        if t.object_type != "customresources" {
            if let Some(m) = v.as_object_mut() {
                m.remove("kind");
                m.remove("apiVersion");
            }
        }
        let json = serde_json::value::to_raw_value(&fetcher::clean(v, t, "")).ok()?;
        Some((
            name,
            Arc::new(Stored {
                namespace: ns,
                labels,
                json,
            }),
        ))
    }

    async fn refresh_credential(&self) -> Result<(), FetchError> {
        self.shared
            .refreshed(&self.auth, &self.details)
            .await
            .map(drop)
    }

    pub(super) async fn run(self) {
        let mut backoff = BACKOFF_MIN;
        let mut rounds = 0u64;
        loop {
            if rounds > 0 {
                self.registry.add(
                    "greenroom_kubernetes_watch_restarts_total",
                    vec![
                        ("cluster", self.key.cluster.clone()),
                        ("resource", self.key.object_type.metric_label().to_string()),
                    ],
                    1,
                );
            }
            rounds += 1;
            if let Err(e) = self.refresh_credential().await {
                self.reset(None, Health::Failing(e));
                self.pause(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
            let started = Instant::now();
            let listed = self.round().await;
            let quick = started.elapsed() < Duration::from_secs(1);
            if listed && !quick {
                // A watch that ran a while and broke: re-list at once, data kept meanwhile.
                backoff = BACKOFF_MIN;
                continue;
            }
            self.pause(backoff).await;
            if !listed {
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }

    /// The backoff pause; a lookup of a failing entry cuts it short.
    async fn pause(&self, backoff: Duration) {
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = self.retry.notified() => {}
        }
    }

    /// One list + watch; returns whether the list completed. Ends on the first error.
    async fn round(&self) -> bool {
        let ar = self.api_resource();
        let api: Api<DynamicObject> = match &self.key.namespace {
            Some(ns) => Api::namespaced_with(self.shared.client.clone(), ns.as_str(), &ar),
            None => Api::all_with(self.shared.client.clone(), &ar),
        };
        let cfg = watcher::Config::default().page_size(fetcher::PAGE_SIZE as u32);
        let mut stream = std::pin::pin!(watcher(api, cfg));
        // A (re)list fills a new store; the old one serves readers until it is complete.
        let mut buffer: Option<Store> = None;
        let mut listed = false;
        while let Some(ev) = stream.next().await {
            match ev {
                Ok(watcher::Event::Init) => buffer = Some(Store::default()),
                Ok(watcher::Event::InitApply(o)) => {
                    if let (Some(b), Some((name, v))) = (buffer.as_mut(), self.stored(o)) {
                        b.insert(name, v);
                    }
                }
                Ok(watcher::Event::InitDone) => {
                    listed = true;
                    self.reset(Some(buffer.take().unwrap_or_default()), Health::Ready);
                }
                Ok(watcher::Event::Apply(o)) => {
                    if let Some((name, v)) = self.stored(o) {
                        let before = self.collection.store.write().insert(name, Arc::clone(&v));
                        self.changed(before, Some(v));
                    }
                }
                Ok(watcher::Event::Delete(o)) => {
                    let ns = o.metadata.namespace.clone().unwrap_or_default();
                    let name = o.metadata.name.clone().unwrap_or_default();
                    let before = self.collection.store.write().remove(&ns, &name);
                    if before.is_some() {
                        self.changed(before, None);
                    }
                }
                Err(e) => {
                    let gone = matches!(&e, watcher::Error::WatchError(s) if s.code == 410);
                    tracing::debug!(cluster = %self.key.cluster, resource = %self.key.object_type.plural, error = %e, "watch ended");
                    if !listed {
                        self.reset(None, Health::Failing(self.error(&e)));
                    }
                    return listed || gone;
                }
            }
        }
        listed
    }
}
