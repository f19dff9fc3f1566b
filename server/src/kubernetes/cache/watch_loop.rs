//! The watch loop of one cache entry: list, then watch, re-list at once when the watch breaks,
//! back off (0.5 s to 30 s) while lists fail; the cluster's credential is refreshed before every
//! (re)list and the entry's snapshot is published after every change.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::watcher;
use tokio::sync::watch;

use super::{Health, Key, Objects, Shared, Snapshot};
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
    pub(super) state: Arc<watch::Sender<Snapshot>>,
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

    fn publish(&self, objects: Option<Arc<Objects>>, health: Option<Health>) {
        self.state.send_modify(|s| {
            s.version += 1;
            if let Some(o) = objects {
                s.objects = o;
            }
            if let Some(h) = health {
                s.health = h;
            }
        });
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
    fn stored(&self, o: DynamicObject) -> Option<((String, String), Arc<Stored>)> {
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
            (ns.clone(), name),
            Arc::new(Stored {
                namespace: ns,
                labels,
                json,
            }),
        ))
    }

    async fn refresh_credential(&self) -> Result<(), FetchError> {
        let _one_at_a_time = self.shared.refreshing.lock().await;
        let credential = self
            .auth
            .credential(&self.details)
            .await
            .map_err(|e| super::errors::credential_failure(&self.details.name, &e))?;
        self.shared.bearer.set(credential);
        Ok(())
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
                self.publish(None, Some(Health::Failing(e)));
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
        let mut cfg = watcher::Config::default().page_size(fetcher::PAGE_SIZE as u32);
        if !self.key.selector.is_empty() {
            cfg = cfg.labels(&self.key.selector);
        }
        let mut stream = std::pin::pin!(watcher(api, cfg));
        let mut buffer: Option<Objects> = None;
        let mut listed = false;
        let mut live: Arc<Objects> = Arc::clone(&self.state.borrow().objects);
        while let Some(ev) = stream.next().await {
            match ev {
                Ok(watcher::Event::Init) => buffer = Some(Objects::new()),
                Ok(watcher::Event::InitApply(o)) => {
                    if let (Some(b), Some((k, v))) = (buffer.as_mut(), self.stored(o)) {
                        b.insert(k, v);
                    }
                }
                Ok(watcher::Event::InitDone) => {
                    live = Arc::new(buffer.take().unwrap_or_default());
                    listed = true;
                    self.publish(Some(Arc::clone(&live)), Some(Health::Ready));
                }
                Ok(watcher::Event::Apply(o)) => {
                    if let Some((k, v)) = self.stored(o) {
                        Arc::make_mut(&mut live).insert(k, v);
                        self.publish(Some(Arc::clone(&live)), None);
                    }
                }
                Ok(watcher::Event::Delete(o)) => {
                    let k = (
                        o.metadata.namespace.clone().unwrap_or_default(),
                        o.metadata.name.clone().unwrap_or_default(),
                    );
                    if Arc::make_mut(&mut live).remove(&k).is_some() {
                        self.publish(Some(Arc::clone(&live)), None);
                    }
                }
                Err(e) => {
                    let gone = matches!(&e, watcher::Error::WatchError(s) if s.code == 410);
                    tracing::debug!(cluster = %self.key.cluster, resource = %self.key.object_type.plural, error = %e, "watch ended");
                    if !listed {
                        self.publish(None, Some(Health::Failing(self.error(&e))));
                    }
                    return listed || gone;
                }
            }
        }
        listed
    }
}
