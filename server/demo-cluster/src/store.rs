//! The object store of one cluster: what etcd plus the API server's watch cache are to a real
//! cluster. One global resourceVersion counter, a copy-on-write map per resource type (so a list
//! page can be continued from the exact snapshot it started from, as etcd's MVCC allows), and a
//! bounded event history that watches resume from (older resourceVersions get `410 Gone`).
//!
//! It knows nothing about controllers or HTTP; it stamps metadata (uid, resourceVersion,
//! creationTimestamp, generation) and emits ADDED / MODIFIED / DELETED events.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};
use tokio::sync::broadcast;

/// Objects of one resource type, ordered by (namespace, name) like etcd keys.
pub type ObjectMap = BTreeMap<(String, String), Arc<Value>>;

/// The kind of change a watch event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Updated.
    Modified,
    /// Deleted (the object as it was, with the deletion's resourceVersion).
    Deleted,
}

impl EventType {
    /// The wire name (`ADDED`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as stored in the history and broadcast to watchers.
#[derive(Debug)]
pub struct Event {
    /// The resourceVersion of this change.
    pub rv: u64,
    /// What happened.
    pub kind: EventType,
    /// The resource type id (`pods`, `deployments.apps`).
    pub resource: String,
    /// The object after the change (for DELETED: the last state).
    pub object: Arc<Value>,
    /// The object before the change, so label-filtered watches can turn a label change into
    /// ADDED/DELETED as the API server does.
    pub old: Option<Arc<Value>>,
}

/// A resourceVersion older than the retained history.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("too old resource version: {requested} ({oldest})")]
pub struct TooOld {
    /// What the client asked for.
    pub requested: u64,
    /// The oldest version still available.
    pub oldest: u64,
}

struct Inner {
    rv: u64,
    maps: HashMap<String, Arc<ObjectMap>>,
    history: VecDeque<Arc<Event>>,
    /// Events with rv > compacted are all in `history`.
    compacted: u64,
    snapshots: VecDeque<(String, u64, Arc<ObjectMap>)>,
    uids: u64,
}

/// The store; cheap to share behind an `Arc`.
pub struct Store {
    cluster: String,
    history_cap: usize,
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Arc<Event>>,
}

const SNAPSHOTS_KEPT: usize = 32;

impl Store {
    /// An empty store; `history_cap` events are kept for watch resumption.
    pub fn new(cluster: &str, history_cap: usize) -> Self {
        let (tx, _) = broadcast::channel(4096);
        Self {
            cluster: cluster.to_string(),
            history_cap: history_cap.max(1),
            inner: Mutex::new(Inner {
                rv: 1000,
                maps: HashMap::new(),
                history: VecDeque::new(),
                compacted: 1000,
                snapshots: VecDeque::new(),
                uids: 0,
            }),
            tx,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-written (each write is one
        // insert), so a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    /// Creates or replaces an object. Stamps uid/creationTimestamp on create (keeping given
    /// ones), resourceVersion always, and bumps generation when `spec` changes.
    pub fn put(&self, resource: &str, mut object: Value) -> Arc<Value> {
        let ns = str_at(&object, &["metadata", "namespace"]).to_string();
        let name = str_at(&object, &["metadata", "name"]).to_string();
        let mut inner = self.lock();
        inner.rv += 1;
        let rv = inner.rv;
        let old = inner
            .maps
            .get(resource)
            .and_then(|m| m.get(&(ns.clone(), name.clone())))
            .cloned();
        if !object.get("metadata").is_some_and(Value::is_object) {
            object["metadata"] = json!({});
        }
        let meta = &mut object["metadata"];
        match &old {
            Some(prev) => {
                for k in ["uid", "creationTimestamp"] {
                    if meta.get(k).is_none() {
                        if let Some(v) = prev["metadata"].get(k) {
                            meta[k] = v.clone();
                        }
                    }
                }
                let gen = prev["metadata"]["generation"].as_i64().unwrap_or(1);
                let changed = prev.get("spec") != object.get("spec");
                object["metadata"]["generation"] = json!(if changed { gen + 1 } else { gen });
            }
            None => {
                if meta.get("uid").is_none() {
                    inner.uids += 1;
                    meta["uid"] = json!(uid(&self.cluster, resource, &ns, &name, inner.uids));
                }
                if meta.get("creationTimestamp").is_none() {
                    meta["creationTimestamp"] = json!(crate::clock::rfc3339(crate::clock::now()));
                }
                if resource_has_generation(resource) && meta.get("generation").is_none() {
                    meta["generation"] = json!(1);
                }
            }
        }
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        let object = Arc::new(object);
        let map = Arc::make_mut(inner.maps.entry(resource.to_string()).or_default());
        map.insert((ns, name), object.clone());
        let kind = if old.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.record(
            &mut inner,
            Event {
                rv,
                kind,
                resource: resource.to_string(),
                object: object.clone(),
                old,
            },
        );
        object
    }

    /// Deletes an object; returns it (with the deletion's resourceVersion) if it existed.
    pub fn delete(&self, resource: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        let mut inner = self.lock();
        let key = (ns.to_string(), name.to_string());
        let present = inner
            .maps
            .get(resource)
            .is_some_and(|m| m.contains_key(&key));
        if !present {
            return None;
        }
        inner.rv += 1;
        let rv = inner.rv;
        let map = Arc::make_mut(inner.maps.entry(resource.to_string()).or_default());
        let old = map.remove(&key)?;
        let mut last = (*old).clone();
        last["metadata"]["resourceVersion"] = json!(rv.to_string());
        let last = Arc::new(last);
        self.record(
            &mut inner,
            Event {
                rv,
                kind: EventType::Deleted,
                resource: resource.to_string(),
                object: last.clone(),
                old: Some(old),
            },
        );
        Some(last)
    }

    fn record(&self, inner: &mut Inner, event: Event) {
        let event = Arc::new(event);
        inner.history.push_back(event.clone());
        while inner.history.len() > self.history_cap {
            if let Some(e) = inner.history.pop_front() {
                inner.compacted = e.rv;
            }
        }
        // No receivers is fine: nobody watches.
        let _ = self.tx.send(event);
    }

    /// One object.
    pub fn get(&self, resource: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.lock()
            .maps
            .get(resource)?
            .get(&(ns.to_string(), name.to_string()))
            .cloned()
    }

    /// A consistent snapshot of one resource type and the resourceVersion it is at.
    pub fn list(&self, resource: &str) -> (u64, Arc<ObjectMap>) {
        let inner = self.lock();
        (
            inner.rv,
            inner.maps.get(resource).cloned().unwrap_or_default(),
        )
    }

    /// Every object of every type (for controllers and the control API).
    pub fn all(&self, resource: &str) -> Vec<Arc<Value>> {
        self.list(resource).1.values().cloned().collect()
    }

    /// Keeps a list snapshot so a `continue` token can page through it later.
    pub fn keep_snapshot(&self, resource: &str, rv: u64, map: Arc<ObjectMap>) {
        let mut inner = self.lock();
        if inner
            .snapshots
            .iter()
            .any(|(r, v, _)| r == resource && *v == rv)
        {
            return;
        }
        inner.snapshots.push_back((resource.to_string(), rv, map));
        while inner.snapshots.len() > SNAPSHOTS_KEPT {
            inner.snapshots.pop_front();
        }
    }

    /// The snapshot a continue token refers to, if still kept.
    pub fn snapshot(&self, resource: &str, rv: u64) -> Option<Arc<ObjectMap>> {
        let inner = self.lock();
        if rv == inner.rv {
            return Some(inner.maps.get(resource).cloned().unwrap_or_default());
        }
        inner
            .snapshots
            .iter()
            .find(|(r, v, _)| r == resource && *v == rv)
            .map(|(_, _, m)| m.clone())
    }

    /// Subscribes to changes after `since`: the retained events newer than it, and a receiver
    /// for what comes next (events already returned may arrive again; skip rv <= last seen).
    pub fn watch_from(
        &self,
        since: u64,
    ) -> Result<(Vec<Arc<Event>>, broadcast::Receiver<Arc<Event>>), TooOld> {
        let inner = self.lock();
        let rx = self.tx.subscribe();
        if since < inner.compacted {
            return Err(TooOld {
                requested: since,
                oldest: inner.compacted + 1,
            });
        }
        let past = inner
            .history
            .iter()
            .filter(|e| e.rv > since)
            .cloned()
            .collect();
        Ok((past, rx))
    }

    /// Subscribes and returns a snapshot of one type at the same instant (for a watch without a
    /// resourceVersion, which starts with synthetic ADDED events).
    pub fn snapshot_and_watch(
        &self,
        resource: &str,
    ) -> (u64, Arc<ObjectMap>, broadcast::Receiver<Arc<Event>>) {
        let inner = self.lock();
        let rx = self.tx.subscribe();
        (
            inner.rv,
            inner.maps.get(resource).cloned().unwrap_or_default(),
            rx,
        )
    }

    /// Forgets the event history (what etcd compaction does), so older resourceVersions get 410.
    pub fn compact(&self) {
        let mut inner = self.lock();
        inner.history.clear();
        inner.compacted = inner.rv;
        inner.snapshots.clear();
    }
}

fn resource_has_generation(resource: &str) -> bool {
    !matches!(
        resource,
        "pods"
            | "events"
            | "configmaps"
            | "secrets"
            | "namespaces"
            | "nodes"
            | "services"
            | "endpoints"
    )
}

fn uid(cluster: &str, resource: &str, ns: &str, name: &str, n: u64) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(format!("{cluster}/{resource}/{ns}/{name}/{n}").as_bytes());
    let h = hex::encode(&d[..16]);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// The string at a JSON path, or "".
pub fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(next) => cur = next,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "ns"}, "spec": {}})
    }

    #[test]
    fn stamps_metadata_and_counts_versions() {
        let s = Store::new("c", 10);
        let a = s.put("pods", pod("a"));
        let rv_a: u64 = a["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        assert!(rv_a > 0);
        assert_eq!(a["metadata"]["uid"].as_str().map(str::len), Some(36));
        let a2 = s.put("pods", pod("a"));
        assert_eq!(a2["metadata"]["uid"], a["metadata"]["uid"]);
        assert_eq!(s.resource_version(), rv_a + 1);
    }

    #[test]
    fn snapshots_survive_later_writes() {
        let s = Store::new("c", 10);
        s.put("pods", pod("a"));
        let (rv, snap) = s.list("pods");
        s.keep_snapshot("pods", rv, snap);
        s.put("pods", pod("b"));
        s.delete("pods", "ns", "a");
        assert_eq!(s.snapshot("pods", rv).map(|m| m.len()), Some(1));
        assert_eq!(s.list("pods").1.len(), 1);
        assert_eq!(
            s.list("pods").1.keys().next().map(|k| k.1.as_str()),
            Some("b")
        );
    }

    #[test]
    fn history_is_bounded_and_old_versions_are_too_old() {
        let s = Store::new("c", 3);
        let start = s.resource_version();
        for i in 0..5 {
            s.put("pods", pod(&format!("p{i}")));
        }
        assert!(s.watch_from(start).is_err());
        let (past, _) = s.watch_from(start + 2).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            past.iter().map(|e| e.rv).collect::<Vec<_>>(),
            vec![start + 3, start + 4, start + 5]
        );
        s.compact();
        assert!(s.watch_from(start + 4).is_err());
        assert!(s.watch_from(start + 5).is_ok());
    }
}
