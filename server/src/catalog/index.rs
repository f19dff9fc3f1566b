//! Inverted indexes over a snapshot, built lazily the first time a filter key is used and kept
//! for the snapshot's life: for each key, which entities have it and which have each value. A
//! filter is then evaluated as unions and intersections of bitsets instead of a scan of every
//! entity's search keys — the difference between ~10 ms and well under 1 ms at 20k entities.
//!
//! The same postings count facet values ([`FilterIndex::value_counts`]), for the entity-facets
//! REST route and the catalog list page alike.
//!
//! Semantics are exactly [`EntityFilter::matches`] (a test checks both agree).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use fixedbitset::FixedBitSet;

use crate::catalog::query::{EntityFilter, FilterCondition, FullText, SearchKeys};

/// What the index reads of an entity: its search keys (the snapshot's stored entities).
pub trait Keyed {
    /// The entity's flattened, lower-cased search keys.
    fn search_keys(&self) -> &SearchKeys;
}

/// Entities having one (lower-case) search key.
#[derive(Debug, Default)]
pub struct KeyPostings {
    /// Entities that have the key at all (even with a null value).
    present: Vec<u32>,
    /// Entities per lower-case value.
    by_value: HashMap<String, Vec<u32>>,
}

/// The lazily built postings of a snapshot.
#[derive(Debug, Default)]
pub struct FilterIndex {
    keys: Mutex<HashMap<String, Arc<KeyPostings>>>,
}

/// Most keys indexed per snapshot beside the pinned ones ([`DIMENSION_KEYS`], [`TEXT_FIELDS`]); filters on further keys are still
/// answered, just unindexed. A key no entity has is never kept (it costs a scan to find out,
/// and keeping it would let requests fill the index with junk).
const MAX_KEYS: usize = 256;

/// The search key of each filter dimension of the catalog list page
/// ([`crate::catalog::service::list`]), in facet order: kind, type, owner, lifecycle, tag,
/// namespace.
pub const DIMENSION_KEYS: [&str; 6] = [
    "kind",
    "spec.type",
    "relations.ownedby",
    "spec.lifecycle",
    "metadata.tags",
    "metadata.namespace",
];

/// The fields the list page's free text searches (as `fullTextFilterFields`).
pub const TEXT_FIELDS: [&str; 6] = [
    "metadata.name",
    "metadata.title",
    "metadata.description",
    "metadata.tags",
    "relations.ownedby",
    "spec.type",
];

/// Whether a key is always kept once built, whatever requests asked for before: the list
/// page's filters and text fields.
fn pinned(key: &str) -> bool {
    DIMENSION_KEYS.contains(&key) || TEXT_FIELDS.contains(&key)
}

/// A set of entity positions (indexes into [`Snapshot::entities`](crate::catalog::store::Snapshot)).
pub type Bits = FixedBitSet;

/// Every position of `n` entities.
pub fn all(n: usize) -> Bits {
    let mut bits = FixedBitSet::with_capacity(n);
    bits.insert_range(..);
    bits
}

impl FilterIndex {
    fn postings<E: Keyed>(&self, key: &str, entities: &[E]) -> Arc<KeyPostings> {
        if let Some(p) = self.keys.lock().ok().and_then(|k| k.get(key).cloned()) {
            return p;
        }
        let mut postings = KeyPostings::default();
        for (i, e) in entities.iter().enumerate() {
            let keys = e.search_keys();
            if keys.has_key(key) {
                postings.present.push(i as u32);
                let mut seen: Vec<&str> = Vec::new();
                for v in keys.values(key) {
                    if !seen.contains(&v) {
                        seen.push(v);
                        postings
                            .by_value
                            .entry(v.to_string())
                            .or_default()
                            .push(i as u32);
                    }
                }
            }
        }
        let postings = Arc::new(postings);
        let keep = pinned(key) || !postings.present.is_empty();
        if let Ok(mut keys) = self.keys.lock() {
            let unpinned = keys.keys().filter(|k| !pinned(k)).count();
            if keep && (pinned(key) || unpinned < MAX_KEYS) {
                keys.insert(key.to_string(), Arc::clone(&postings));
            }
        }
        postings
    }

    fn condition<E: Keyed>(&self, c: &FilterCondition, entities: &[E]) -> Bits {
        let postings = self.postings(&c.key, entities);
        let mut bits = FixedBitSet::with_capacity(entities.len());
        match &c.values {
            None => bits.extend(postings.present.iter().map(|&i| i as usize)),
            Some(wanted) => {
                for v in wanted {
                    if let Some(list) = postings.by_value.get(v) {
                        bits.extend(list.iter().map(|&i| i as usize));
                    }
                }
            }
        }
        bits
    }

    /// The positions of `entities` matching the full-text filter `text` (all of them for an
    /// empty term): each distinct value of each field is matched once, not once per entity.
    pub fn full_text<E: Keyed>(&self, text: &FullText, entities: &[E]) -> Bits {
        if text.is_empty() {
            return all(entities.len());
        }
        let mut bits = FixedBitSet::with_capacity(entities.len());
        for field in text.fields() {
            let postings = self.postings(field, entities);
            for (value, list) in &postings.by_value {
                if text.matches_value(value) {
                    bits.extend(list.iter().map(|&i| i as usize));
                }
            }
        }
        bits
    }

    /// For each (lower-case) value of the lower-case `key`, how many entities at positions in
    /// `within` have it (an entity holding a value twice counts once).
    pub fn value_counts<E: Keyed>(
        &self,
        key: &str,
        entities: &[E],
        within: &Bits,
    ) -> BTreeMap<String, usize> {
        let postings = self.postings(key, entities);
        postings
            .by_value
            .iter()
            .filter_map(|(value, list)| {
                let n = list
                    .iter()
                    .filter(|&&i| within.contains(i as usize))
                    .count();
                (n > 0).then(|| (value.clone(), n))
            })
            .collect()
    }

    /// The positions of `entities` matching `filter` (all of them for `None`).
    pub fn matching<E: Keyed>(&self, filter: Option<&EntityFilter>, entities: &[E]) -> Bits {
        let Some(filter) = filter else {
            return all(entities.len());
        };
        let mut result = FixedBitSet::with_capacity(entities.len());
        for conditions in filter.any_of() {
            let mut acc: Option<Bits> = None;
            for c in conditions {
                let bits = self.condition(c, entities);
                acc = Some(match acc {
                    None => bits,
                    Some(mut a) => {
                        a.intersect_with(&bits);
                        a
                    }
                });
            }
            if let Some(a) = acc {
                result.union_with(&a);
            }
        }
        result
    }
}
