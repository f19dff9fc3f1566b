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
use crate::catalog::query::order::has_sort_value;
use crate::catalog::query::search::default_full_text_fields;
use crate::catalog::query::{
    compare, parse_filters, parse_order_fields, parse_predicate, project, EntityFilter, FullText,
    OrderField, Predicate, QueryError, SortOrder,
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

/// How `GET /entities` pages: not at all, or by `offset`/`limit` (its `after` cursor decoded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListPaging {
    /// No `limit`, `offset` or `after`: Backstage answers through its by-query machinery, so
    /// only the first order field counts and entities without a value for it are left out.
    Unpaged,
    /// `offset` and optional `limit`: every matching entity, ordered by every order field
    /// (entities missing a field after those that have it; with one field, a row per value, as
    /// Backstage's join gives), canonical ref without order.
    Paged { offset: usize, limit: Option<usize> },
}

/// `GET /entities`, as catalog-backend 4.0.5 answers it (`dist/service/createRouter.cjs.js`
/// 80-151 and `DefaultEntitiesCatalog.cjs.js` 59-206): the items (JSON text) and, when paged,
/// whether more follow. `scope` is the reader's `catalog.entity.read` decision, here and below:
/// what it does not permit does not exist for this reader.
pub fn list_entities<'a>(
    snapshot: &'a Snapshot,
    scope: &Decision,
    filter: Option<&EntityFilter>,
    order: &[OrderField],
    fields: &[String],
    paging: ListPaging,
) -> (Vec<Item<'a>>, bool) {
    let found = entities_at(snapshot, &matching_bits(snapshot, filter, scope));
    match paging {
        ListPaging::Unpaged => {
            let items = match order.first() {
                None => found.into_iter().map(|e| shaped(e, fields)).collect(),
                Some(first) => ordered_rows(&found, first, |_| true)
                    .into_iter()
                    .map(|i| shaped(found[i as usize], fields))
                    .collect(),
            };
            (items, false)
        }
        ListPaging::Paged { offset, limit } => {
            let rows: Vec<&StoredEntity> = match order {
                [] => found,
                // One field: a row per value (ordered_rows), then the entities without one.
                [field] => {
                    let mut rows: Vec<&StoredEntity> = ordered_rows(&found, field, |_| true)
                        .into_iter()
                        .map(|i| found[i as usize])
                        .collect();
                    rows.extend(
                        found
                            .iter()
                            .filter(|e| !has_sort_value(&e.keys, &field.field))
                            .copied(),
                    );
                    rows
                }
                // Several: every field in turn, missing values last.
                _ => {
                    let mut found = found;
                    found.sort_by(|a, b| compare(&a.keys, &b.keys, order));
                    found
                }
            };
            let limit = limit.unwrap_or(usize::MAX);
            let more = rows.len().saturating_sub(offset) > limit;
            let items = rows
                .into_iter()
                .skip(offset)
                .take(limit)
                .map(|e| shaped(e, fields))
                .collect();
            (items, more)
        }
    }
}

/// A paged `GET /entities`' `after` cursor: Backstage's `{limit, offset}` (either may be absent).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct After {
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// `after` as Backstage writes it: base64 of `{"limit":L,"offset":O}`.
pub fn encode_after(limit: usize, offset: usize) -> String {
    base64_encode(format!("{{\"limit\":{limit},\"offset\":{offset}}}").as_bytes())
}

/// Reads an `after` cursor with Backstage's messages (`DefaultEntitiesCatalog.cjs.js` 17-45).
pub fn decode_after(text: &str) -> Result<After, String> {
    let unparsable = || "Malformed after cursor, could not be parsed".to_string();
    let bytes = base64_decode(text.trim()).ok_or_else(unparsable)?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| unparsable())?;
    let Value::Object(map) = value else {
        return Err(unparsable());
    };
    let integer = |key: &str, message: &str| -> Result<Option<usize>, String> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(|n| Some(n as usize))
                .ok_or_else(|| message.to_string()),
        }
    };
    Ok(After {
        // "an number" is Backstage's spelling.
        limit: integer("limit", "Malformed after cursor, limit was not an number")?,
        offset: integer("offset", "Malformed after cursor, offset was not a number")?,
    })
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
    /// A POST body's `query` predicate (JSON, checked when the first page was asked for).
    #[serde(default, rename = "q", skip_serializing_if = "Option::is_none")]
    pub query: Option<Value>,
    /// Position of the first item of the page.
    #[serde(default, rename = "p")]
    pub offset: usize,
    /// A page fetched backwards (a `prevCursor`): it ends before this position and holds the
    /// `limit` items before it, whatever `limit` the client passes now.
    #[serde(default, rename = "e", skip_serializing_if = "Option::is_none")]
    pub end: Option<usize>,
    /// Position of the first item of the first page (its `offset`): no page starting there
    /// offers a `prevCursor`, as in Backstage, whose cursors remember the first page's first row.
    #[serde(default, rename = "s", skip_serializing_if = "is_zero")]
    pub first: usize,
    /// Whether this is the first request (no cursor): it never offers a `prevCursor`.
    #[serde(skip)]
    pub initial: bool,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
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
    let predicate = match &cursor.query {
        None => None,
        Some(q) => Some(parse_predicate(q).map_err(QueryError::Predicate)?),
    };
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
    for field in &text_fields {
        crate::catalog::query::check_field_name("fullTextFilterFields", field)?;
    }
    // Everything but the position identifies the result (with the reader's scope); later pages
    // reuse it.
    let key = format!(
        "{}\u{0}{}",
        Cursor {
            offset: 0,
            end: None,
            first: 0,
            ..cursor.clone()
        }
        .encode(),
        scope.cache_key()
    );
    // With the full-text fields exactly the sort field, Backstage filters the sort rows
    // themselves: an entity keeps only its rows whose value matches.
    let full_text = FullText::new(term, &text_fields);
    let rows_match_text = !full_text.is_empty()
        && sort_field.is_some_and(|f| full_text.fields() == [f.field.to_lowercase()]);
    let result = snapshot.query_cache.get_or_compute(&key, || -> Vec<u32> {
        let all: Vec<&StoredEntity> = snapshot.entities.iter().collect();
        // Rows in result order before filtering: every entity (already sorted by ref), or one
        // row per value of the sort field (cached per field and direction).
        let ordered: Arc<Vec<u32>> = match sort_field {
            None => Arc::new((0..snapshot.entities.len() as u32).collect()),
            Some(field) if rows_match_text => {
                Arc::new(ordered_rows(&all, field, |v| full_text.matches_value(v)))
            }
            Some(field) => {
                let order_key = format!("order\u{0}{}\u{0}{}", field.field, field.order.as_str());
                snapshot
                    .query_cache
                    .get_or_compute(&order_key, || ordered_rows(&all, field, |_| true))
            }
        };
        let mut matching = matching_bits(snapshot, filter.as_ref(), scope);
        if let Some(predicate) = &predicate {
            let ones: Vec<usize> = matching.ones().collect();
            for i in ones {
                if !snapshot
                    .entities
                    .get(i)
                    .is_some_and(|e| predicate.matches(&e.keys))
                {
                    matching.set(i, false);
                }
            }
        }
        if !rows_match_text {
            matching.intersect_with(
                &snapshot
                    .filter_index
                    .full_text(&full_text, &snapshot.entities),
            );
        }
        ordered
            .iter()
            .copied()
            .filter(|&i| matching.contains(i as usize))
            .collect()
    });
    // Rows, not entities: an entity with several values for the sort field (tags) has a row for
    // each, as in Backstage; `totalItems` counts entities.
    let total_entities = {
        let mut seen = fixedbitset::FixedBitSet::with_capacity(snapshot.entities.len());
        result.iter().filter(|&&i| !seen.put(i as usize)).count()
    };
    let total_items = result.len();
    // Backstage (DefaultEntitiesCatalog.cjs.js 245-431): `limit: 0` reads no rows and offers no
    // cursor; a forward page offers `nextCursor` when rows follow; a page fetched backwards
    // always offers it; `prevCursor` is offered on later pages unless the page starts where the
    // first page started.
    let (start, end) = match cursor.end {
        Some(end) => {
            let end = end.min(total_items);
            (end.saturating_sub(limit), end)
        }
        None => {
            let start = cursor.offset.min(total_items);
            (start, start.saturating_add(limit).min(total_items))
        }
    };
    let items = result[start..end]
        .iter()
        .filter_map(|&i| snapshot.entities.get(i as usize))
        .map(|e| shaped(e, fields))
        .collect();
    let first = if cursor.initial { start } else { cursor.first };
    let next_cursor = (limit > 0 && (cursor.end.is_some() || end < total_items)).then(|| {
        Cursor {
            offset: end,
            end: None,
            first,
            ..cursor.clone()
        }
        .encode()
    });
    let prev_cursor = (!cursor.initial && start < end && start != first).then(|| {
        Cursor {
            offset: 0,
            end: Some(start),
            first,
            ..cursor.clone()
        }
        .encode()
    });
    Ok(QueryPage {
        items,
        total_items: total_entities,
        next_cursor,
        prev_cursor,
    })
}

/// The rows Backstage's search-table join gives for ordering by `field`
/// (`DefaultEntitiesCatalog.cjs.js` 245-431): one per distinct (lower-case, non-null) value of
/// each entity that has one and whose value passes `keep`, sorted by value in the field's
/// direction, ties by canonical ref in the same direction (Backstage: by its random entity id).
/// Entities without a value have no row. Each row is its entity's position in `entities`.
fn ordered_rows(
    entities: &[&StoredEntity],
    field: &OrderField,
    keep: impl Fn(&str) -> bool,
) -> Vec<u32> {
    let mut rows: Vec<(&str, &str, u32)> = Vec::new();
    for (i, e) in (0u32..).zip(entities) {
        // An entity's values for a key are distinct already (its search rows are).
        rows.extend(
            e.keys
                .values(&field.field)
                .filter(|v| keep(v))
                .map(|v| (v, e.entity_ref.as_str(), i)),
        );
    }
    let descending = field.order == SortOrder::Desc;
    rows.sort_unstable_by(|a, b| {
        let o = a.0.cmp(b.0).then_with(|| a.1.cmp(b.1));
        if descending {
            o.reverse()
        } else {
            o
        }
    });
    rows.into_iter().map(|(_, _, i)| i).collect()
}

/// `POST /entities/by-refs`: one item (JSON text) per requested ref, `null` where unknown.
pub fn entities_by_refs<'a>(
    snapshot: &'a Snapshot,
    scope: &Decision,
    refs: &[String],
    filter: Option<&EntityFilter>,
    predicate: Option<&Predicate>,
    fields: &[String],
) -> Vec<Item<'a>> {
    refs.iter()
        .map(|r| match snapshot.get(r) {
            Some(e)
                if filter.is_none_or(|f| f.matches(&e.keys))
                    && predicate.is_none_or(|p| p.matches(&e.keys))
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
