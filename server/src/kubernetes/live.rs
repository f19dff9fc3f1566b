//! Live views: one feed per entity with subscribers, shared by all of them. A feed builds the
//! entity's tab view from the cache, publishes it as a frame, then waits for a change to what
//! the view selected from the cluster-wide informers (debounced by 30 ms, so a rollout's burst
//! of events is one frame; changes to other objects wake it only to check the change log) or
//! for the metrics interval (usage and ages move without watch events). Subscribers read the
//! latest frame from a `tokio::sync::watch` channel: a slow browser skips frames instead of
//! queueing them. The feed stops when its last subscriber leaves.
//!
//! Frame ids are unique per process run (`<start>.<feed>.<seq>`), so a browser that reconnects
//! with `Last-Event-ID` is sent the current frame only if it has not seen it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::watch;

use super::service::{Held, KubernetesService, LookupError, Needs};
use crate::permission::KubernetesAccess;

/// Coalesces bursts of watch events into one frame.
const DEBOUNCE: Duration = Duration::from_millis(30);

/// One message to subscribers.
#[derive(Debug)]
pub struct Frame {
    /// Unique id (for `Last-Event-ID`).
    pub id: String,
    /// `view` (data: the tab's `KubernetesView`) or `failure` (data: `{"message": ...}`; not
    /// `error`, which EventSource uses for its own connection errors).
    pub event: &'static str,
    /// JSON, one line.
    pub data: Arc<str>,
}

struct Feed {
    rx: watch::Receiver<Option<Arc<Frame>>>,
    task: tokio::task::AbortHandle,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What subscriptions share with the feeds: the feeds by key, the viewer count, and the
/// registry whose `greenroom_kubernetes_viewers` / `_feeds` gauges they keep current.
struct Shared {
    feeds: Mutex<HashMap<String, Weak<Feed>>>,
    viewers: AtomicUsize,
    registry: Arc<crate::metrics::Registry>,
    /// Held from counting to publishing, so that a stale count is never published last.
    publishing: Mutex<()>,
}

impl Shared {
    /// (connected viewers, entities with a feed).
    fn counts(&self) -> (usize, usize) {
        let feeds = self
            .feeds
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|w| w.strong_count() > 0)
            .count();
        (self.viewers.load(Ordering::Relaxed), feeds)
    }

    fn publish_gauges(&self) {
        let _one_at_a_time = self.publishing.lock().unwrap_or_else(|p| p.into_inner());
        let (viewers, feeds) = self.counts();
        self.registry.set_gauges(
            "greenroom_kubernetes_viewers",
            vec![(vec![], viewers as f64)],
        );
        self.registry
            .set_gauges("greenroom_kubernetes_feeds", vec![(vec![], feeds as f64)]);
    }
}

/// The live feeds of the process, beside the [`KubernetesService`] they build views with.
/// Feeds end when the service shuts down ([`KubernetesService::shut_down`]).
pub struct Live {
    svc: Arc<KubernetesService>,
    shared: Arc<Shared>,
    next_feed: AtomicU64,
    epoch: u64,
}

impl Live {
    /// The feeds of `svc`, counted in its registry.
    pub fn new(svc: Arc<KubernetesService>) -> Self {
        let shared = Arc::new(Shared {
            feeds: Mutex::default(),
            viewers: AtomicUsize::new(0),
            registry: Arc::clone(svc.registry()),
            publishing: Mutex::new(()),
        });
        shared.publish_gauges();
        Self {
            svc,
            shared,
            next_feed: AtomicU64::new(1),
            epoch: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or_default(),
        }
    }

    /// The service the feeds read.
    pub fn service(&self) -> &Arc<KubernetesService> {
        &self.svc
    }

    /// Whether the service is shutting down (new streams are refused).
    pub fn is_closed(&self) -> bool {
        self.svc.is_shutting_down()
    }

    /// (connected viewers, entities with a feed).
    pub fn counts(&self) -> (usize, usize) {
        self.shared.counts()
    }

    /// Subscribes to the live view of an entity (which must be in the catalog, with resources
    /// the viewer may see). Viewers with the same decisions share a feed.
    pub fn subscribe(
        &self,
        entity_ref: &str,
        access: &KubernetesAccess,
    ) -> Result<Subscription, LookupError> {
        self.svc
            .readable_entity(entity_ref, access, Needs::Resources)?;
        let key = format!(
            "{}\u{0}{}\u{0}{}\u{0}{}",
            entity_ref.to_lowercase(),
            access.catalog.cache_key(),
            access.resources.cache_key(),
            access.clusters.cache_key()
        );
        let max = self.svc.config().limits.max_live_subscribers;
        // A place is taken atomically: two subscribers at once cannot both take the last one.
        self.shared
            .viewers
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .map_err(|_| LookupError::TooManyViewers(max))?;
        let feed = {
            let mut feeds = self.shared.feeds.lock().unwrap_or_else(|p| p.into_inner());
            feeds.retain(|_, w| w.strong_count() > 0);
            match feeds.get(&key).and_then(Weak::upgrade) {
                Some(f) => f,
                None => {
                    let (tx, rx) = watch::channel(None);
                    let prefix = format!(
                        "{:x}.{}",
                        self.epoch,
                        self.next_feed.fetch_add(1, Ordering::Relaxed)
                    );
                    let task = tokio::spawn(run(
                        Arc::clone(&self.svc),
                        entity_ref.to_lowercase(),
                        access.clone(),
                        prefix,
                        tx,
                    ));
                    let f = Arc::new(Feed {
                        rx,
                        task: task.abort_handle(),
                    });
                    feeds.insert(key, Arc::downgrade(&f));
                    f
                }
            }
        };
        self.shared.publish_gauges();
        Ok(Subscription {
            rx: feed.rx.clone(),
            feed: Some(feed),
            shared: Arc::clone(&self.shared),
        })
    }
}

/// A subscriber's handle: frames arrive on `rx`; dropping it unsubscribes.
pub struct Subscription {
    feed: Option<Arc<Feed>>,
    /// The latest frame (`None` until the first view is built).
    pub rx: watch::Receiver<Option<Arc<Frame>>>,
    shared: Arc<Shared>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // The feed goes first (its last viewer ends it), then the counts are published.
        self.feed.take();
        self.shared.viewers.fetch_sub(1, Ordering::Relaxed);
        self.shared.publish_gauges();
    }
}

async fn run(
    svc: Arc<KubernetesService>,
    entity_ref: String,
    access: KubernetesAccess,
    prefix: String,
    tx: watch::Sender<Option<Arc<Frame>>>,
) {
    let interval = svc.config().cache.metrics_interval;
    let mut seq = 0u64;
    // The first build and the interval rebuilds refresh metrics; change rebuilds do not wait.
    // The interval runs on its own clock: a stream of changes does not postpone it.
    let mut tick = true;
    let mut next_tick = tokio::time::Instant::now() + interval;
    let mut shutdown = svc.shutdown_signal();
    loop {
        if *shutdown.borrow_and_update() {
            // Dropping the sender ends every subscriber's stream.
            return;
        }
        let held = Held {
            stale_metrics_ok: !tick,
            ..Held::default()
        };
        // A build in flight does not hold up shutdown: the feed ends at once.
        let built = tokio::select! {
            built = svc.view_holding(&entity_ref, &held, &access) => built,
            _ = shutdown.changed() => return,
        };
        let (event, data) = match built {
            Ok(v) => ("view", serde_json::to_string(&v).unwrap_or_default()),
            Err(e) => (
                "failure",
                serde_json::json!({ "message": e.to_string() }).to_string(),
            ),
        };
        seq += 1;
        tx.send_replace(Some(Arc::new(Frame {
            id: format!("{prefix}.{seq}"),
            event,
            data: data.into(),
        })));
        let mut held = held.entries.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut rxs: Vec<_> = held.iter().map(|r| r.entry.subscribe()).collect();
        for rx in &mut rxs {
            rx.borrow_and_update();
        }
        // A change between the read and the subscription is not missed.
        if held.iter_mut().any(|r| r.moved()) {
            tick = false;
            tokio::time::sleep(DEBOUNCE).await;
            continue;
        }
        // Informers cover whole clusters: wake on any change, rebuild only for one that
        // concerns what this view selected.
        let relevant = async {
            if rxs.is_empty() {
                std::future::pending::<()>().await;
            }
            loop {
                let waits = rxs.iter_mut().map(|r| Box::pin(r.changed()));
                let _ = futures_util::future::select_all(waits).await;
                tokio::time::sleep(DEBOUNCE).await;
                for rx in &mut rxs {
                    rx.borrow_and_update();
                }
                if held.iter_mut().any(|r| r.moved()) {
                    return;
                }
            }
        };
        tick = tokio::select! {
            () = relevant => false,
            () = tokio::time::sleep_until(next_tick) => true,
            _ = shutdown.changed() => continue,
        };
        if tick {
            next_tick = tokio::time::Instant::now() + interval;
        }
    }
}
