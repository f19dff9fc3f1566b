//! Backstage's catalog queries over a [`Snapshot`]: the logic behind `GET /entities`,
//! `/entities/by-query`, `/entities/by-refs`, `/entity-facets` and `/validate-entity`. The REST
//! handlers only parse parameters and shape responses; tests call these directly.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::catalog::index::Bits;
use crate::catalog::query::order::{has_sort_value, sort_value};
use crate::catalog::query::search::default_full_text_fields;
use crate::catalog::query::{
    compare, parse_filters, parse_order_fields, project, EntityFilter, FullText, OrderField,
    QueryError, SortOrder,
};
use crate::catalog::store::{Snapshot, StoredEntity};
use crate::catalog::validate::validate_entity;
use crate::permission::conditions::Resource;
use crate::permission::Decision;

/// Page size of `by-query` when no `limit` is given (Backstage's default).
pub const DEFAULT_QUERY_LIMIT: usize = 200;

pub mod list;

/// Removes from `bits` the entities the reader may not see (`scope`, its
/// `catalog.entity.read` decision).
pub fn restrict_to_scope(bits: &mut Bits, snapshot: &Snapshot, scope: &Decision) {
    match scope {
        Decision::Allow => {}
        Decision::Deny => bits.clear(),
        Decision::Conditional(_) => {
            let denied: Vec<usize> = bits
                .ones()
                .filter(|&i| {
                    snapshot
                        .entities
                        .get(i)
                        .is_none_or(|e| !scope.permits(Resource::Entity(&e.keys)))
                })
                .collect();
            denied.into_iter().for_each(|i| bits.set(i, false));
        }
    }
}

/// The positions of the entities the filter matches that the reader may see, from the
/// snapshot's [`FilterIndex`](crate::catalog::index::FilterIndex).
pub fn matching_bits(snapshot: &Snapshot, filter: Option<&EntityFilter>, scope: &Decision) -> Bits {
    let mut bits = snapshot.filter_index.matching(filter, &snapshot.entities);
    restrict_to_scope(&mut bits, snapshot, scope);
    bits
}

/// The entities at `bits`, in snapshot (canonical ref) order.
fn entities_at<'a>(snapshot: &'a Snapshot, bits: &Bits) -> Vec<&'a StoredEntity> {
    bits.ones()
        .filter_map(|i| snapshot.entities.get(i))
        .collect()
}

/// An entity as response JSON: the stored text itself, or a projection of it. Serialised into
/// a response as it is.
pub type Item<'a> = Cow<'a, RawValue>;

fn shaped<'a>(e: &'a StoredEntity, fields: &[String]) -> Item<'a> {
    if fields.is_empty() {
        Cow::Borrowed(&e.json)
    } else {
        Cow::Owned(
            serde_json::value::to_raw_value(&project(&e.value(), fields))
                .unwrap_or_else(|_| RawValue::NULL.to_owned()),
        )
    }
}

/// `GET /entities`: filtered, ordered (canonical ref by default), then `offset`/`limit`; each
/// item is JSON text. `scope` is the reader's `catalog.entity.read` decision, here and below:
/// what it does not permit does not exist for this reader.
pub fn list_entities<'a>(
    snapshot: &'a Snapshot,
    scope: &Decision,
    filter: Option<&EntityFilter>,
    order: &[OrderField],
    fields: &[String],
    offset: usize,
    limit: Option<usize>,
) -> Vec<Item<'a>> {
    let mut found = entities_at(snapshot, &matching_bits(snapshot, filter, scope));
    if !order.is_empty() {
        found.sort_by(|a, b| compare(&a.keys, &b.keys, order));
    }
    found
        .into_iter()
        .skip(offset)
        .take(limit.unwrap_or(usize::MAX))
        .map(|e| shaped(e, fields))
        .collect()
}

/// The state carried by a `by-query` cursor (opaque to clients; base64 of this JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// `filter` parameters as given.
    #[serde(default, rename = "f")]
    pub filter: Vec<String>,
    /// `orderField` parameters as given.
    #[serde(default, rename = "o")]
    pub order_fields: Vec<String>,
    /// `fullTextFilterTerm`.
    #[serde(default, rename = "t", skip_serializing_if = "Option::is_none")]
    pub full_text_term: Option<String>,
    /// `fullTextFilterFields`.
    #[serde(default, rename = "tf", skip_serializing_if = "Option::is_none")]
    pub full_text_fields: Option<Vec<String>>,
    /// Position of the first item of the page.
    #[serde(default, rename = "p")]
    pub offset: usize,
}

impl Cursor {
    /// The opaque string form.
    pub fn encode(&self) -> String {
        base64_encode(serde_json::to_string(self).unwrap_or_default().as_bytes())
    }

    /// Parses a cursor from a client.
    pub fn decode(s: &str) -> Result<Cursor, CursorError> {
        let bytes = base64_decode(s).ok_or(CursorError::NotBase64)?;
        serde_json::from_slice(&bytes).map_err(|e| CursorError::Json(e.to_string()))
    }
}

/// Why a client's cursor was refused (a 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    /// Not URL-safe base64.
    #[error("Malformed cursor: not base64")]
    NotBase64,
    /// Not the JSON of a cursor: serde's reason.
    #[error("Malformed cursor: {0}")]
    Json(String),
}

/// A by-query page.
#[derive(Debug)]
pub struct QueryPage<'a> {
    /// The entities (projected), as JSON text.
    pub items: Vec<Item<'a>>,
    /// Matching entities in total.
    pub total_items: usize,
    /// Cursor of the next page, if any.
    pub next_cursor: Option<String>,
    /// Cursor of the previous page, if any.
    pub prev_cursor: Option<String>,
}

/// `GET|POST /entities/by-query`. With an order field, entities without a value for it are not
/// returned (as in Backstage); the full-text term defaults to searching the sort field (else
/// `metadata.uid`).
pub fn query_entities<'a>(
    snapshot: &'a Snapshot,
    scope: &Decision,
    cursor: &Cursor,
    limit: usize,
    fields: &[String],
) -> Result<QueryPage<'a>, QueryError> {
    let filter = parse_filters(&cursor.filter)?;
    let order = parse_order_fields(&cursor.order_fields)?;
    let sort_field = order.first();
    let text_fields = cursor
        .full_text_fields
        .clone()
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| default_full_text_fields(sort_field.map(|o| o.field.as_str())));
    let term = cursor.full_text_term.as_deref().unwrap_or("").trim();
    crate::catalog::query::check_full_text_term(term)?;
    let max = crate::catalog::query::MAX_FULL_TEXT_FIELDS;
    if text_fields.len() > max {
        return Err(QueryError::TooManyFullTextFields {
            count: text_fields.len(),
            max,
        });
    }
    // Everything but the position identifies the result (with the reader's scope); later pages
    // reuse it.
    let key = format!(
        "{}\u{0}{}",
        Cursor {
            offset: 0,
            ..cursor.clone()
        }
        .encode(),
        scope.cache_key()
    );
    let result = snapshot.query_cache.get_or_compute(&key, || -> Vec<u32> {
        // Entities in result order before filtering: all of them (already sorted by ref), or
        // those with a value for the sort field in its order (cached per field and direction).
        let ordered: Arc<Vec<u32>> = match sort_field {
            None => Arc::new((0..snapshot.entities.len() as u32).collect()),
            Some(field) => {
                let order_key = format!("order\u{0}{}\u{0}{}", field.field, field.order.as_str());
                snapshot
                    .query_cache
                    .get_or_compute(&order_key, || -> Vec<u32> {
                        let mut found: Vec<(u32, &StoredEntity)> = snapshot
                            .entities
                            .iter()
                            .enumerate()
                            .filter(|(_, e)| has_sort_value(&e.keys, &field.field))
                            .map(|(i, e)| (i as u32, e))
                            .collect();
                        sort_by_field(&mut found, Some(field));
                        found.into_iter().map(|(i, _)| i).collect()
                    })
            }
        };
        let mut matching = matching_bits(snapshot, filter.as_ref(), scope);
        matching.intersect_with(
            &snapshot
                .filter_index
                .full_text(&FullText::new(term, &text_fields), &snapshot.entities),
        );
        ordered
            .iter()
            .copied()
            .filter(|&i| matching.contains(i as usize))
            .collect()
    });
    let total_items = result.len();
    let start = cursor.offset.min(total_items);
    let items = result[start..]
        .iter()
        .take(limit)
        .filter_map(|&i| snapshot.entities.get(i as usize))
        .map(|e| shaped(e, fields))
        .collect();
    let next_cursor = (start + limit < total_items).then(|| {
        Cursor {
            offset: start + limit,
            ..cursor.clone()
        }
        .encode()
    });
    let prev_cursor = (start > 0).then(|| {
        Cursor {
            offset: start.saturating_sub(limit),
            ..cursor.clone()
        }
        .encode()
    });
    Ok(QueryPage {
        items,
        total_items,
        next_cursor,
        prev_cursor,
    })
}

/// Sorts by one field the way [`compare`] does (missing values last, ties by canonical ref),
/// looking each entity's value up once instead of on every comparison.
fn sort_by_field(found: &mut [(u32, &StoredEntity)], field: Option<&OrderField>) {
    let Some(field) = field else {
        found.sort_by(|(_, a), (_, b)| a.entity_ref.cmp(&b.entity_ref));
        return;
    };
    let mut keyed: Vec<(Option<&str>, usize)> = found
        .iter()
        .enumerate()
        .map(|(pos, (_, e))| (sort_value(&e.keys, field), pos))
        .collect();
    let descending = field.order == SortOrder::Desc;
    keyed.sort_by(|(va, pa), (vb, pb)| {
        let by_value = match (va, vb) {
            (Some(a), Some(b)) if descending => b.cmp(a),
            (Some(a), Some(b)) => a.cmp(b),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        by_value.then_with(|| found[*pa].1.entity_ref.cmp(&found[*pb].1.entity_ref))
    });
    let sorted: Vec<(u32, &StoredEntity)> = keyed.into_iter().map(|(_, pos)| found[pos]).collect();
    found.copy_from_slice(&sorted);
}

/// `POST /entities/by-refs`: one item (JSON text) per requested ref, `null` where unknown.
pub fn entities_by_refs<'a>(
    snapshot: &'a Snapshot,
    scope: &Decision,
    refs: &[String],
    filter: Option<&EntityFilter>,
    fields: &[String],
) -> Vec<Item<'a>> {
    refs.iter()
        .map(|r| match snapshot.get(r) {
            Some(e)
                if filter.is_none_or(|f| f.matches(&e.keys))
                    && scope.permits(Resource::Entity(&e.keys)) =>
            {
                shaped(e, fields)
            }
            _ => Cow::Borrowed(RawValue::NULL),
        })
        .collect()
}

/// For each value of `key` as written, how many entities at `within` have it (once each).
/// The catalog list page counts lower-case values instead, from the index
/// ([`FilterIndex::value_counts`](crate::catalog::index::FilterIndex::value_counts)).
pub fn original_value_counts(
    snapshot: &Snapshot,
    key: &str,
    within: &Bits,
) -> BTreeMap<String, usize> {
    let key = key.to_lowercase();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for e in entities_at(snapshot, within) {
        let mut seen = std::collections::HashSet::new();
        for v in e.keys.original_values(&key) {
            if seen.insert(v) {
                *counts.entry(v.to_string()).or_default() += 1;
            }
        }
    }
    counts
}

/// `GET /entity-facets`: for each facet key, the values (as written) and how many matching
/// entities have each, sorted by value.
pub fn facets(
    snapshot: &Snapshot,
    scope: &Decision,
    facet_keys: &[String],
    filter: Option<&EntityFilter>,
) -> Value {
    let mut out = serde_json::Map::new();
    let within = matching_bits(snapshot, filter, scope);
    for facet in facet_keys {
        let counts = original_value_counts(snapshot, facet, &within);
        let values: Vec<Value> = counts
            .into_iter()
            .map(|(value, count)| json!({ "value": value, "count": count }))
            .collect();
        out.insert(facet.clone(), Value::Array(values));
    }
    json!({ "facets": out })
}

/// `POST /validate-entity`: Backstage's validation messages for `entity`; empty = valid.
pub fn validate(entity: &Value) -> Vec<String> {
    validate_entity(entity)
        .into_iter()
        .map(|e| e.to_string())
        .collect()
}

/// The cursor's base64: the standard alphabet, padded when written, padding optional when read.
const CURSOR_BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    CURSOR_BASE64.encode(bytes)
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    CURSOR_BASE64.decode(s).ok()
}

#[cfg(test)]
mod tests;
