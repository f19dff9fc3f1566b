//! Inverted indexes over a snapshot, built lazily the first time a filter key is used and kept
//! for the snapshot's life: for each key, which entities have it and which have each value. A
//! filter is then evaluated as unions and intersections of bitsets instead of a scan of every
//! entity's search keys — the difference between ~10 ms and well under 1 ms at 20k entities.
//!
//! Semantics are exactly [`EntityFilter::matches`] (a test checks both agree).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::catalog::query::{EntityFilter, FilterCondition};
use crate::catalog::store::StoredEntity;

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

/// Most keys indexed per snapshot; filters on further keys are still answered, just unindexed.
const MAX_KEYS: usize = 256;

/// A set of entity positions.
pub type Bits = Vec<u64>;

fn set(bits: &mut Bits, i: u32) {
    if let Some(word) = bits.get_mut(i as usize / 64) {
        *word |= 1 << (i % 64);
    }
}

/// Whether position `i` is in `bits`.
pub fn contains(bits: &Bits, i: u32) -> bool {
    bits.get(i as usize / 64)
        .is_some_and(|w| w & (1 << (i % 64)) != 0)
}

impl FilterIndex {
    fn postings(&self, key: &str, entities: &[StoredEntity]) -> Arc<KeyPostings> {
        if let Some(p) = self.keys.lock().ok().and_then(|k| k.get(key).cloned()) {
            return p;
        }
        let mut postings = KeyPostings::default();
        for (i, e) in entities.iter().enumerate() {
            if e.keys.has_key(key) {
                postings.present.push(i as u32);
                let mut seen: Vec<&str> = Vec::new();
                for v in e.keys.values(key) {
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
        if let Ok(mut keys) = self.keys.lock() {
            if keys.len() < MAX_KEYS {
                keys.insert(key.to_string(), Arc::clone(&postings));
            }
        }
        postings
    }

    fn condition(&self, c: &FilterCondition, entities: &[StoredEntity]) -> Bits {
        let postings = self.postings(&c.key, entities);
        let mut bits = vec![0u64; entities.len().div_ceil(64)];
        match &c.values {
            None => postings.present.iter().for_each(|&i| set(&mut bits, i)),
            Some(wanted) => {
                for v in wanted {
                    if let Some(list) = postings.by_value.get(v) {
                        list.iter().for_each(|&i| set(&mut bits, i));
                    }
                }
            }
        }
        bits
    }

    /// The positions of `entities` matching `filter` (all of them for `None`).
    pub fn matching(&self, filter: Option<&EntityFilter>, entities: &[StoredEntity]) -> Bits {
        let words = entities.len().div_ceil(64);
        let Some(filter) = filter else {
            let mut all = vec![u64::MAX; words];
            if let Some(last) = all.last_mut() {
                let rem = entities.len() % 64;
                if rem != 0 {
                    *last = (1u64 << rem) - 1;
                }
            }
            return all;
        };
        let mut result = vec![0u64; words];
        for conditions in filter.any_of() {
            let mut acc: Option<Bits> = None;
            for c in conditions {
                let bits = self.condition(c, entities);
                acc = Some(match acc {
                    None => bits,
                    Some(mut a) => {
                        a.iter_mut().zip(&bits).for_each(|(x, y)| *x &= y);
                        a
                    }
                });
            }
            if let Some(a) = acc {
                result.iter_mut().zip(&a).for_each(|(x, y)| *x |= y);
            }
        }
        result
    }
}
