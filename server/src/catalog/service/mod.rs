//! Backstage's catalog queries over a [`Snapshot`]: the logic behind `GET /entities`,
//! `/entities/by-query`, `/entities/by-refs`, `/entity-facets` and `/validate-entity`. The REST
//! handlers only parse parameters and shape responses; tests call these directly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::catalog::query::order::has_sort_value;
use crate::catalog::query::search::default_full_text_fields;
use crate::catalog::query::{
    compare, full_text_matches, parse_filters, parse_order_fields, project, EntityFilter,
    OrderField, QueryError,
};
use crate::catalog::store::{Snapshot, StoredEntity};
use crate::catalog::validate::validate_entity;

/// Page size of `by-query` when no `limit` is given (Backstage's default).
pub const DEFAULT_QUERY_LIMIT: usize = 200;

fn matching<'a>(
    snapshot: &'a Snapshot,
    filter: Option<&'a EntityFilter>,
) -> impl Iterator<Item = &'a StoredEntity> {
    snapshot
        .entities
        .iter()
        .filter(move |e| filter.is_none_or(|f| f.matches(&e.keys)))
}

fn shaped(e: &StoredEntity, fields: &[String]) -> Value {
    if fields.is_empty() {
        e.entity.clone()
    } else {
        project(&e.entity, fields)
    }
}

/// `GET /entities`: filtered, ordered (canonical ref by default), then `offset`/`limit`.
pub fn list_entities(
    snapshot: &Snapshot,
    filter: Option<&EntityFilter>,
    order: &[OrderField],
    fields: &[String],
    offset: usize,
    limit: Option<usize>,
) -> Vec<Value> {
    let mut found: Vec<&StoredEntity> = matching(snapshot, filter).collect();
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
    pub fn decode(s: &str) -> Result<Cursor, String> {
        let bytes = base64_decode(s).ok_or_else(|| "Malformed cursor: not base64".to_string())?;
        serde_json::from_slice(&bytes).map_err(|e| format!("Malformed cursor: {e}"))
    }
}

/// A by-query page.
#[derive(Debug, PartialEq)]
pub struct QueryPage {
    /// The entities (projected).
    pub items: Vec<Value>,
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
pub fn query_entities(
    snapshot: &Snapshot,
    cursor: &Cursor,
    limit: usize,
    fields: &[String],
) -> Result<QueryPage, QueryError> {
    let filter = parse_filters(&cursor.filter)?;
    let order = parse_order_fields(&cursor.order_fields)?;
    let sort_field = order.first();
    let text_fields = cursor
        .full_text_fields
        .clone()
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| default_full_text_fields(sort_field.map(|o| o.field.as_str())));
    let term = cursor.full_text_term.as_deref().unwrap_or("").trim();
    let mut found: Vec<&StoredEntity> = matching(snapshot, filter.as_ref())
        .filter(|e| sort_field.is_none_or(|o| has_sort_value(&e.keys, &o.field)))
        .filter(|e| full_text_matches(&e.keys, term, &text_fields))
        .collect();
    found.sort_by(|a, b| {
        compare(
            &a.keys,
            &b.keys,
            sort_field.map(std::slice::from_ref).unwrap_or(&[]),
        )
    });
    let total_items = found.len();
    let start = cursor.offset.min(total_items);
    let items = found[start..]
        .iter()
        .take(limit)
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

/// `POST /entities/by-refs`: one item per requested ref, `null` where unknown.
pub fn entities_by_refs(
    snapshot: &Snapshot,
    refs: &[String],
    filter: Option<&EntityFilter>,
    fields: &[String],
) -> Vec<Value> {
    refs.iter()
        .map(|r| match snapshot.get(r) {
            Some(e) if filter.is_none_or(|f| f.matches(&e.keys)) => shaped(e, fields),
            _ => Value::Null,
        })
        .collect()
}

/// `GET /entity-facets`: for each facet key, the values (as written) and how many matching
/// entities have each, sorted by value.
pub fn facets(snapshot: &Snapshot, facet_keys: &[String], filter: Option<&EntityFilter>) -> Value {
    let mut out = serde_json::Map::new();
    for facet in facet_keys {
        let key = facet.to_lowercase();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for e in matching(snapshot, filter) {
            let mut seen = std::collections::HashSet::new();
            for v in e.keys.original_values(&key) {
                if seen.insert(v) {
                    *counts.entry(v.to_string()).or_default() += 1;
                }
            }
        }
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

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').bytes() {
        let v = B64.iter().position(|&b| b == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests;
