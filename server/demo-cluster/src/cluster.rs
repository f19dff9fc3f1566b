//! One simulated cluster: its store, resource types, clock of life, logs, fault switches and
//! request counters. Controllers (`controller/`) and the HTTP API (`api/`) work on this.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Notify;

use crate::resources::{self, ResourceType};
use crate::store::Store;

/// Failure modes a test can switch on for one cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Faults {
    /// Delay every API response by this many milliseconds.
    pub delay_ms: u64,
    /// Answer every API request with 500 InternalError.
    pub internal_error: bool,
    /// Stop listening: connections are refused.
    pub refuse: bool,
    /// Accept connections and close them at once, before TLS.
    pub close: bool,
    /// Answer 200 with a body that is not JSON.
    pub malformed: bool,
    /// Reject every token with 401 (as after a token is revoked).
    pub unauthorized: bool,
}

/// How the cluster changes by itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Life {
    /// Whether time moves things (restarts, rollouts, cron jobs, log lines); off = frozen.
    pub enabled: bool,
    /// How often the controllers look at the clock.
    pub tick: Duration,
    /// Seconds between restarts of a crash-looping container.
    pub restart_every: Duration,
}

impl Default for Life {
    fn default() -> Self {
        Self {
            enabled: false,
            tick: Duration::from_secs(2),
            restart_every: Duration::from_secs(45),
        }
    }
}

/// Requests served, by verb and resource (what an API server's audit log would count).
#[derive(Default)]
pub struct Stats {
    counts: Mutex<HashMap<(String, String), u64>>,
    total: AtomicU64,
}

impl Stats {
    /// Counts one request.
    pub fn count(&self, verb: &str, resource: &str) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        *c.entry((verb.to_string(), resource.to_string()))
            .or_default() += 1;
    }

    /// Every counter, as `{"total": n, "requests": [{verb, resource, count}]}`.
    pub fn snapshot(&self) -> Value {
        let c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let mut rows: Vec<_> = c
            .iter()
            .map(|((v, r), n)| serde_json::json!({"verb": v, "resource": r, "count": n}))
            .collect();
        rows.sort_by_key(|r| {
            (
                r["verb"].as_str().unwrap_or("").to_string(),
                r["resource"].as_str().unwrap_or("").to_string(),
            )
        });
        serde_json::json!({"total": self.total.load(Ordering::Relaxed), "requests": rows})
    }

    /// Resets every counter.
    pub fn reset(&self) {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.total.store(0, Ordering::Relaxed);
    }
}

/// Log lines added through the control API, per (namespace, pod, container).
#[derive(Default)]
pub struct ExtraLogs {
    lines: Mutex<HashMap<(String, String, String), Vec<(SystemTime, String)>>>,
    /// Woken when a line is added, so `follow` streams answer at once.
    pub added: Notify,
}

impl ExtraLogs {
    /// Appends a line now.
    pub fn push(&self, ns: &str, pod: &str, container: &str, line: &str) {
        let mut l = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        l.entry((ns.into(), pod.into(), container.into()))
            .or_default()
            .push((crate::clock::now(), line.to_string()));
        drop(l);
        self.added.notify_waiters();
    }

    /// The lines added for a container.
    pub fn get(&self, ns: &str, pod: &str, container: &str) -> Vec<(SystemTime, String)> {
        let l = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        l.get(&(ns.into(), pod.into(), container.into()))
            .cloned()
            .unwrap_or_default()
    }
}

/// Controller bookkeeping that is not part of any object.
#[derive(Default)]
pub(crate) struct CtlState {
    pub names: u64,
    pub pod_ips: HashMap<String, u32>,
}

/// One cluster.
pub struct Cluster {
    /// Cluster name.
    pub name: String,
    /// Objects.
    pub store: Store,
    types: RwLock<Vec<ResourceType>>,
    /// Whether and how time moves things.
    pub life: Life,
    /// When the simulator started (the "now" of a frozen cluster).
    pub started: SystemTime,
    pub(crate) ctl: Mutex<CtlState>,
    /// Lines added to pod logs.
    pub logs: ExtraLogs,
    faults: RwLock<Faults>,
    /// Bumped when faults change, so open streams of a failing cluster end.
    pub fault_epoch: tokio::sync::watch::Sender<u64>,
    /// Request counters.
    pub stats: Stats,
    /// True while the seed manifests are applied (objects made then are dated in the past).
    pub(crate) seeding: std::sync::atomic::AtomicBool,
}

impl Cluster {
    /// An empty cluster.
    pub fn new(name: &str, life: Life, history: usize) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_string(),
            store: Store::new(name, history),
            types: RwLock::new(resources::builtin()),
            life,
            started: crate::clock::now(),
            ctl: Mutex::new(CtlState::default()),
            logs: ExtraLogs::default(),
            faults: RwLock::new(Faults::default()),
            fault_epoch: tokio::sync::watch::channel(0).0,
            stats: Stats::default(),
            seeding: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The "now" controllers use: the clock when alive, the start time when frozen.
    pub fn now(&self) -> SystemTime {
        if self.life.enabled {
            crate::clock::now()
        } else {
            self.started
        }
    }

    /// The resource types served (built-in and from CRDs).
    pub fn types(&self) -> Vec<ResourceType> {
        self.types.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Registers (or replaces) a custom resource type.
    pub fn add_type(&self, t: ResourceType) {
        let mut types = self.types.write().unwrap_or_else(|p| p.into_inner());
        types.retain(|x| !(x.group == t.group && x.plural == t.plural));
        types.push(t);
    }

    /// Finds a type by group, version and plural (as in a URL path).
    pub fn type_by_path(&self, group: &str, version: &str, plural: &str) -> Option<ResourceType> {
        self.types()
            .into_iter()
            .find(|t| t.group == group && t.version == version && t.plural == plural)
    }

    /// Finds a type by group and kind (as in a manifest; any served version).
    pub fn type_by_kind(&self, group: &str, kind: &str) -> Option<ResourceType> {
        self.types()
            .into_iter()
            .find(|t| t.group == group && t.kind == kind && !t.list_only)
    }

    /// Finds a type by its store id (`deployments.apps`).
    pub fn type_by_id(&self, id: &str) -> Option<ResourceType> {
        self.types().into_iter().find(|t| t.id() == id)
    }

    /// Current fault switches.
    pub fn faults(&self) -> Faults {
        self.faults
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the fault switches.
    pub fn set_faults(&self, f: Faults) {
        *self.faults.write().unwrap_or_else(|p| p.into_inner()) = f;
        self.fault_epoch.send_modify(|e| *e += 1);
    }
}
