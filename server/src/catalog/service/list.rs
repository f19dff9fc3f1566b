//! The catalog list page's query: its six filters (kind, type, owner, lifecycle, tag,
//! namespace), the free text, the viewer's scope and the "Owned" toggle, answered with the REST
//! API's parts — the filter index for `key=value` filters, [`FullText`] (the REST API's
//! `fullTextFilterTerm`) for the text, the index's postings for facet counts — and cached per
//! query in the snapshot, so every page after the first is a slice of a cached result.
//! [`crate::catalog::views`] turns the result into rows.

use std::collections::BTreeMap;

use app::wire::CatalogFilters;

use crate::catalog::index::Bits;
use crate::catalog::query::{EntityFilter, FilterCondition, FullText};
use crate::catalog::service::restrict_to_scope;
use crate::catalog::store::Snapshot;
use crate::permission::Decision;

pub use crate::catalog::index::{DIMENSION_KEYS, TEXT_FIELDS};

/// Longest filter value compared (no stored key or value is longer; a longer one matches
/// nothing).
const MAX_FILTER_VALUE: usize = 1024;

/// What a list query yields before paging.
#[derive(Debug, Default)]
pub struct ListResult {
    /// Positions of the matching entities, in snapshot (canonical ref) order.
    pub positions: Vec<u32>,
    /// Per dimension (see [`DIMENSION_KEYS`]), lower-case value → how many entities choosing it
    /// would list.
    pub facets: [BTreeMap<String, usize>; 6],
    /// Entities passing every filter, owned by the viewer.
    pub owned_count: usize,
    /// Entities passing every filter, owned or not.
    pub all_count: usize,
}

/// The dimension values lower-cased, `None` where a filter is not set. A value longer than
/// [`MAX_FILTER_VALUE`] bytes cannot match and is kept as one that matches nothing, so a
/// request's cost does not grow with the size of what it sends.
fn wanted(f: &CatalogFilters) -> [Option<String>; 6] {
    [
        &f.kind,
        &f.entity_type,
        &f.owner,
        &f.lifecycle,
        &f.tag,
        &f.namespace,
    ]
    .map(|v| {
        (!v.is_empty()).then(|| {
            if v.len() > MAX_FILTER_VALUE {
                "\u{0}".to_string()
            } else {
                v.to_lowercase()
            }
        })
    })
}

/// The free text as searched: trimmed, lower-cased, cut to the REST API's
/// `fullTextFilterTerm` limit.
fn text_of(f: &CatalogFilters) -> String {
    f.text
        .chars()
        .take(crate::catalog::query::MAX_FULL_TEXT_TERM_CHARS)
        .collect::<String>()
        .trim()
        .to_lowercase()
}

/// The list query for `filters` (the page number aside), as `scope` (the viewer's
/// `catalog.entity.read` decision) permits, with `ownership_refs` the viewer's own refs.
///
/// Facets: kinds are counted over everything the text, scope and "Owned" toggle allow; every
/// other dimension's values over the entities that pass every *other* filter, so a count says
/// what choosing that value yields.
pub fn list_query(
    snapshot: &Snapshot,
    filters: &CatalogFilters,
    scope: &Decision,
    ownership_refs: &[String],
) -> std::sync::Arc<ListResult> {
    let dims = wanted(filters);
    let text = text_of(filters);
    let refs: Vec<String> = ownership_refs.iter().map(|r| r.to_lowercase()).collect();
    let owned_only = filters.user.eq_ignore_ascii_case("owned");
    let key = format!(
        "list\u{0}{dims:?}\u{0}{text:?}\u{0}{owned_only}\u{0}{refs:?}\u{0}{}",
        scope.cache_key()
    );
    snapshot.query_cache.get_or_compute(&key, || {
        compute(snapshot, &dims, &text, scope, &refs, owned_only)
    })
}

fn compute(
    snapshot: &Snapshot,
    dims: &[Option<String>; 6],
    text: &str,
    scope: &Decision,
    refs: &[String],
    owned_only: bool,
) -> ListResult {
    let index = &snapshot.filter_index;
    let entities = &snapshot.entities;
    let equals = |key: &str, values: Vec<String>| {
        index.matching(
            Some(&EntityFilter::new(vec![vec![FilterCondition {
                key: key.to_string(),
                values: Some(values),
            }]])),
            entities,
        )
    };
    // What the text and the scope allow.
    let mut base = index.full_text(&FullText::new(text, &TEXT_FIELDS), entities);
    restrict_to_scope(&mut base, snapshot, scope);
    let owned: Bits = if refs.is_empty() {
        Bits::with_capacity(entities.len())
    } else {
        equals(DIMENSION_KEYS[2], refs.to_vec())
    };
    let passing: Vec<Option<Bits>> = DIMENSION_KEYS
        .iter()
        .zip(dims)
        .map(|(key, want)| want.as_ref().map(|w| equals(key, vec![w.clone()])))
        .collect();
    // Everything but dimension `skip` (none for `usize::MAX`) applied to `within`.
    let all_but = |skip: usize, within: &Bits| {
        let mut bits = within.clone();
        for (d, p) in passing.iter().enumerate() {
            if let Some(p) = p.as_ref().filter(|_| d != skip) {
                bits.intersect_with(p);
            }
        }
        bits
    };
    let every = all_but(usize::MAX, &base);
    let all_count = every.count_ones(..);
    let owned_count = every.intersection(&owned).count();
    if owned_only {
        base.intersect_with(&owned);
    }
    let mut matched = every;
    if owned_only {
        matched.intersect_with(&owned);
    }
    let facets = std::array::from_fn(|d| {
        let within = if d == 0 {
            base.clone()
        } else {
            all_but(d, &base)
        };
        index.value_counts(DIMENSION_KEYS[d], entities, &within)
    });
    ListResult {
        positions: matched.ones().map(|i| i as u32).collect(),
        facets,
        owned_count,
        all_count,
    }
}
