//! One informer's objects, indexed: by (namespace, name), by namespace and by label, so a lookup
//! selects its objects from a cluster-wide watch without scanning the type (`app=cart` among
//! 100,000 pods reads the few pods labelled `app=cart`), and a short log of recent changes, so a
//! live view can tell whether a change anywhere in the cluster concerns it before rebuilding.
//!
//! Hand-written because kube-rs' reflector `Store` keeps parsed objects (about ten times the
//! memory of the JSON text kept here, see [`Stored`]) and has no secondary index; client-go's
//! `Indexer` is the model. Objects get a small numeric id; the indexes hold ids, not names.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use crate::kubernetes::selector::LabelSelector;
use crate::kubernetes::types::Stored;

type Id = u32;

/// One object and its name (its namespace is in [`Stored`]).
struct Slot {
    name: String,
    object: Arc<Stored>,
}

/// The objects of one informer.
#[derive(Default)]
pub struct Store {
    slots: Vec<Option<Slot>>,
    free: Vec<Id>,
    ids: HashMap<(String, String), Id>,
    by_namespace: HashMap<String, HashSet<Id>>,
    by_label: HashMap<String, HashMap<String, HashSet<Id>>>,
    bytes: usize,
}

impl Store {
    /// A store holding `objects` ((name, object) pairs; a later duplicate replaces an earlier).
    pub fn from_objects(objects: impl IntoIterator<Item = (String, Arc<Stored>)>) -> Self {
        let mut s = Self::default();
        for (name, o) in objects {
            s.insert(name, o);
        }
        s
    }

    /// Objects held.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Objects held in `namespace`.
    pub fn count_in(&self, namespace: &str) -> usize {
        self.by_namespace.get(namespace).map_or(0, HashSet::len)
    }

    /// Every namespace with objects, and how many.
    pub fn namespace_counts(&self) -> Vec<(String, usize)> {
        self.by_namespace
            .iter()
            .filter(|(_, ids)| !ids.is_empty())
            .map(|(ns, ids)| (ns.clone(), ids.len()))
            .collect()
    }

    /// Calls `f` with every object's name and the object (in no particular order).
    pub fn visit(&self, mut f: impl FnMut(&str, &Arc<Stored>)) {
        for s in self.slots.iter().flatten() {
            f(&s.name, &s.object);
        }
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The JSON bytes of the objects held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Adds or replaces an object; returns the one it replaced.
    pub fn insert(&mut self, name: String, object: Arc<Stored>) -> Option<Arc<Stored>> {
        let old = self.remove(&object.namespace, &name);
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as Id
            }
        };
        self.by_namespace
            .entry(object.namespace.clone())
            .or_default()
            .insert(id);
        for (k, v) in &object.labels {
            self.by_label
                .entry(k.clone())
                .or_default()
                .entry(v.clone())
                .or_default()
                .insert(id);
        }
        self.bytes += object.json.get().len();
        self.ids
            .insert((object.namespace.clone(), name.clone()), id);
        self.slots[id as usize] = Some(Slot { name, object });
        old
    }

    /// Removes an object; returns it.
    pub fn remove(&mut self, namespace: &str, name: &str) -> Option<Arc<Stored>> {
        let id = self
            .ids
            .remove(&(namespace.to_string(), name.to_string()))?;
        let slot = self.slots.get_mut(id as usize)?.take()?;
        self.free.push(id);
        let o = slot.object;
        if let Some(set) = self.by_namespace.get_mut(&o.namespace) {
            set.remove(&id);
            if set.is_empty() {
                self.by_namespace.remove(&o.namespace);
            }
        }
        for (k, v) in &o.labels {
            if let Some(values) = self.by_label.get_mut(k) {
                if let Some(set) = values.get_mut(v) {
                    set.remove(&id);
                    if set.is_empty() {
                        values.remove(v);
                    }
                }
                if values.is_empty() {
                    self.by_label.remove(k);
                }
            }
        }
        self.bytes -= o.json.get().len();
        Some(o)
    }

    /// One object by namespace and name.
    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<Stored>> {
        let id = self.ids.get(&(namespace.to_string(), name.to_string()))?;
        self.slot(*id).map(|s| Arc::clone(&s.object))
    }

    fn slot(&self, id: Id) -> Option<&Slot> {
        self.slots.get(id as usize).and_then(Option::as_ref)
    }

    /// The objects in `namespace` (or any) matching `selector`, in the API server's order
    /// (namespace, then name). Reads the smallest index set the selector's terms and the
    /// namespace allow, then checks the whole selector on those candidates.
    pub fn select(&self, namespace: Option<&str>, selector: &LabelSelector) -> Vec<Arc<Stored>> {
        let empty = HashSet::new();
        let mut best: Option<HashSet<Id>> = None;
        let mut consider = |candidates: HashSet<Id>| {
            if best.as_ref().is_none_or(|b| candidates.len() < b.len()) {
                best = Some(candidates);
            }
        };
        if let Some(ns) = namespace {
            consider(self.by_namespace.get(ns).unwrap_or(&empty).clone());
        }
        for term in selector.terms() {
            let values = self.by_label.get(&term.key);
            let ids: HashSet<Id> = match (&term.values, values) {
                (_, None) => HashSet::new(),
                (None, Some(values)) => values.values().flatten().copied().collect(),
                (Some(wanted), Some(values)) => wanted
                    .iter()
                    .filter_map(|v| values.get(v))
                    .flatten()
                    .copied()
                    .collect(),
            };
            consider(ids);
        }
        let mut out: Vec<&Slot> = match best {
            Some(ids) => ids.into_iter().filter_map(|id| self.slot(id)).collect(),
            None => self.slots.iter().flatten().collect(),
        };
        out.retain(|s| {
            namespace.is_none_or(|ns| s.object.namespace == ns)
                && selector.matches(&s.object.labels)
        });
        out.sort_unstable_by(|a, b| {
            (&a.object.namespace, &a.name).cmp(&(&b.object.namespace, &b.name))
        });
        out.into_iter().map(|s| Arc::clone(&s.object)).collect()
    }
}

/// Where an object was, as far as selecting it goes: its namespace and labels (the log keeps
/// these, not the objects, so it does not hold old versions of objects in memory).
struct Place {
    namespace: String,
    labels: std::collections::BTreeMap<String, String>,
}

impl Place {
    fn of(o: &Stored) -> Self {
        Self {
            namespace: o.namespace.clone(),
            labels: o.labels.clone(),
        }
    }

    /// Roughly the bytes it holds.
    fn weight(&self) -> usize {
        64 + self.namespace.len()
            + self
                .labels
                .iter()
                .map(|(k, v)| 48 + k.len() + v.len())
                .sum::<usize>()
    }
}

/// One change: where the object was before and after (an add has no before, a delete no
/// after).
struct Change {
    version: u64,
    before: Option<Place>,
    after: Option<Place>,
}

/// Recent changes of one informer, by version, so a reader that saw version `v` can ask whether
/// anything it selects changed since. Bounded: past [`ChangeLog::CAPACITY`] changes, or after a
/// re-list or a change of health, the answer is "maybe" (rebuild).
#[derive(Default)]
pub struct ChangeLog {
    changes: VecDeque<Change>,
    /// The weight of the changes kept ([`Place::weight`]).
    bytes: usize,
    /// Changes at or before this version are not in the log.
    forgotten: u64,
}

impl ChangeLog {
    /// Changes kept.
    pub const CAPACITY: usize = 4096;
    /// Bytes of labels kept (objects with huge labels, churned, cannot grow the log past it).
    pub const MAX_BYTES: usize = 4 << 20;

    /// Records a change of one object at `version`.
    pub fn record(
        &mut self,
        version: u64,
        before: Option<Arc<Stored>>,
        after: Option<Arc<Stored>>,
    ) {
        let change = Change {
            version,
            before: before.as_deref().map(Place::of),
            after: after.as_deref().map(Place::of),
        };
        let weight = |c: &Change| {
            c.before.as_ref().map_or(0, Place::weight) + c.after.as_ref().map_or(0, Place::weight)
        };
        self.bytes += weight(&change);
        self.changes.push_back(change);
        while self.changes.len() > Self::CAPACITY
            || (self.bytes > Self::MAX_BYTES && self.changes.len() > 1)
        {
            let Some(c) = self.changes.pop_front() else {
                break;
            };
            self.bytes -= weight(&c);
            self.forgotten = c.version;
        }
    }

    /// Everything changed at `version` (a re-list, a change of health).
    pub fn reset(&mut self, version: u64) {
        self.changes.clear();
        self.bytes = 0;
        self.forgotten = version;
    }

    /// Whether something in `namespace` (or any) matching `selector` may have changed after
    /// version `seen`.
    pub fn touches(&self, seen: u64, namespace: Option<&str>, selector: &LabelSelector) -> bool {
        if seen < self.forgotten {
            return true;
        }
        let selects = |o: &Option<Place>| {
            o.as_ref().is_some_and(|o| {
                namespace.is_none_or(|ns| o.namespace == ns) && selector.matches(&o.labels)
            })
        };
        self.changes
            .iter()
            .rev()
            .take_while(|c| c.version > seen)
            .any(|c| selects(&c.before) || selects(&c.after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn stored(ns: &str, name: &str, labels: &[(&str, &str)]) -> Arc<Stored> {
        Arc::new(Stored {
            namespace: ns.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            json: serde_json::value::to_raw_value(
                &serde_json::json!({"metadata": {"name": name, "namespace": ns}}),
            )
            .unwrap_or_else(|e| panic!("{e}")),
        })
    }

    fn names(v: &[Arc<Stored>]) -> Vec<String> {
        v.iter()
            .map(|o| {
                o.value()["metadata"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    }

    fn sel(s: &str) -> LabelSelector {
        LabelSelector::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn selects_by_label_and_namespace_in_list_order_and_follows_changes() {
        let mut s = Store::default();
        s.insert(
            "b".into(),
            stored("shop", "b", &[("app", "cart"), ("tier", "web")]),
        );
        s.insert("a".into(), stored("shop", "a", &[("app", "cart")]));
        s.insert("c".into(), stored("other", "c", &[("app", "cart")]));
        s.insert("d".into(), stored("shop", "d", &[("app", "search")]));
        assert_eq!(names(&s.select(None, &sel("app=cart"))), ["c", "a", "b"]);
        assert_eq!(names(&s.select(Some("shop"), &sel("app=cart"))), ["a", "b"]);
        assert_eq!(
            names(&s.select(Some("shop"), &sel("app in (cart,search),!tier"))),
            ["a", "d"]
        );
        assert_eq!(names(&s.select(None, &sel("tier"))), ["b"]);
        assert_eq!(names(&s.select(Some("shop"), &sel(""))), ["a", "b", "d"]);
        assert_eq!(
            names(&s.select(None, &sel("app=nothing"))),
            Vec::<String>::new()
        );
        // Relabelled out of the selector, then deleted: the indexes follow.
        s.insert("b".into(), stored("shop", "b", &[("app", "search")]));
        assert_eq!(names(&s.select(None, &sel("app=cart"))), ["c", "a"]);
        assert!(s.remove("shop", "a").is_some());
        assert!(s.remove("shop", "a").is_none());
        assert_eq!(names(&s.select(None, &sel("app=cart"))), ["c"]);
        assert_eq!(s.len(), 3);
        // Ids are reused and the byte count stays exact.
        let total: usize = ["b", "c", "d"]
            .iter()
            .filter_map(|n| s.get(if *n == "c" { "other" } else { "shop" }, n))
            .map(|o| o.json.get().len())
            .sum();
        assert_eq!(s.bytes(), total);
        s.insert("e".into(), stored("shop", "e", &[]));
        assert_eq!(s.slots.len(), 4);
    }

    #[test]
    fn the_change_log_says_whether_a_selection_changed() {
        let mut log = ChangeLog::default();
        log.record(2, None, Some(stored("shop", "a", &[("app", "cart")])));
        log.record(
            3,
            Some(stored("shop", "b", &[("app", "search")])),
            Some(stored("shop", "b", &[("app", "cart")])),
        );
        assert!(log.touches(1, Some("shop"), &sel("app=cart")));
        assert!(
            log.touches(2, None, &sel("app=cart")),
            "relabelled into the selector"
        );
        assert!(
            log.touches(2, None, &sel("app=search")),
            "relabelled out of it"
        );
        assert!(!log.touches(2, Some("other"), &sel("app=cart")));
        assert!(!log.touches(3, None, &sel("app=cart")), "nothing after 3");
        assert!(!log.touches(1, None, &sel("app=billing")));
        log.reset(5);
        assert!(log.touches(4, None, &sel("app=billing")), "a re-list at 5");
        assert!(!log.touches(5, None, &sel("app=billing")));
        for v in 6..(6 + ChangeLog::CAPACITY as u64 + 1) {
            log.record(v, None, Some(stored("x", "y", &[])));
        }
        assert!(
            log.touches(5, None, &sel("app=billing")),
            "forgotten changes"
        );
    }

    proptest! {
        /// Selecting through the indexes equals checking every object.
        #[test]
        fn indexed_selection_equals_a_scan(
            objects in prop::collection::vec((0..3u8, 0..40u8, prop::collection::btree_map(0..3u8, 0..3u8, 0..3)), 0..60),
            deletes in prop::collection::vec((0..3u8, 0..40u8), 0..10),
            selector in prop::sample::select(vec!["", "k0=v0", "k0 in (v1,v2)", "k1", "!k1", "k0=v1,k2!=v0", "k2 notin (v0),k1", "k0=v0,k1=v1,k2=v2"]),
            namespace in prop::option::of(0..3u8),
        ) {
            let mut s = Store::default();
            let mut all: BTreeMap<(String, String), Arc<Stored>> = BTreeMap::new();
            for (ns, name, labels) in objects {
                let labels: Vec<(String, String)> = labels.iter().map(|(k, v)| (format!("k{k}"), format!("v{v}"))).collect();
                let refs: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let o = stored(&format!("ns{ns}"), &format!("p{name}"), &refs);
                s.insert(format!("p{name}"), Arc::clone(&o));
                all.insert((format!("ns{ns}"), format!("p{name}")), o);
            }
            for (ns, name) in deletes {
                let (ns, name) = (format!("ns{ns}"), format!("p{name}"));
                prop_assert_eq!(s.remove(&ns, &name).is_some(), all.remove(&(ns, name)).is_some());
            }
            let ns = namespace.map(|n| format!("ns{n}"));
            let selector = sel(selector);
            let scanned: Vec<Arc<Stored>> = all.values().filter(|o| ns.as_deref().is_none_or(|n| o.namespace == n) && selector.matches(&o.labels)).cloned().collect();
            prop_assert_eq!(names(&s.select(ns.as_deref(), &selector)), names(&scanned));
            prop_assert_eq!(s.len(), all.len());
        }
    }
}
