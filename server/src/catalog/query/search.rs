//! The flattened search rows of an entity (Backstage's `buildEntitySearch`), the per-entity
//! [`SearchKeys`] index built from them, and the by-query full-text filter.
//!
//! Flattening rules, as in catalog-backend's stitcher:
//! - every leaf (string, number, boolean, null) gives a row `dotted.path = value`; arrays are
//!   descended without adding an index to the path, and each string item `x` of an array at `p`
//!   also gives `p.x = true`, so `metadata.tags.java` works as a filter key;
//! - `attachments`, `relations`, `status`, `metadata.name`, `metadata.namespace`, `metadata.uid`
//!   and `metadata.etag` are not traversed; `metadata.name`, `metadata.namespace` and
//!   `metadata.uid` are added once each (a null row when absent, so the key always exists),
//!   `metadata.namespace = default` when the namespace is absent or empty, and every relation as
//!   `relations.<type> = <targetRef>`; `metadata.etag` is not searchable;
//! - keys and values are lower-cased; keys longer than 200 characters are dropped, values longer
//!   than 200 keep their key with a null value (the key exists but matches no value);
//! - duplicate (key, value) rows collapse.
//!
//! Backstage refuses to stitch an entity whose keys differ only in case; Greenroom merges them.

use std::collections::HashSet;

use serde_json::Value;

use crate::catalog::refs::{entity_ref_parts, DEFAULT_NAMESPACE};

/// Paths the traversal skips (some are added back explicitly).
const SPECIAL_KEYS: &[&str] = &[
    "attachments",
    "relations",
    "status",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "metadata.etag",
];

/// Longest key kept, in UTF-16 units like JavaScript's `length`.
const MAX_KEY_LENGTH: usize = 200;
/// Longest value kept, in UTF-16 units; longer values become null.
const MAX_VALUE_LENGTH: usize = 200;

/// One row of Backstage's `search` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchRow {
    /// Lower-case dotted key, e.g. `metadata.annotations.backstage.io/techdocs-ref`.
    pub key: String,
    /// Lower-case value; `None` for null leaves and over-long values.
    pub value: Option<String>,
    /// The value as written (used for facets); `None` exactly when `value` is.
    pub original_value: Option<String>,
}

/// JavaScript's `String(x)` for a JSON leaf; `None` for null.
fn js_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(match n.as_f64() {
            // JavaScript prints integral floats without a fraction, and -0 as "0".
            Some(0.0) => "0".to_owned(),
            Some(f) if !n.is_i64() && !n.is_u64() && f.fract() == 0.0 && f.abs() < 1e21 => {
                format!("{f:.0}")
            }
            _ => n.to_string(),
        }),
        _ => None,
    }
}

/// Lower-cases like JavaScript's `toLowerCase`, cheaply for ASCII.
fn lower(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

/// Whether `s` is longer than `max` in UTF-16 units (JavaScript's `length`).
fn js_longer_than(s: &str, max: usize) -> bool {
    // UTF-16 never needs more units than UTF-8 needs bytes.
    s.len() > max && s.encode_utf16().count() > max
}

/// A raw value before lower-casing.
enum Leaf<'a> {
    Json(&'a Value),
    Text(&'a str),
    True,
    Null,
}

/// Backstage's `traverse`: (lower-case key, leaf) pairs in document order. `path` is the raw
/// dotted path so far (a reused buffer); `seen` holds the lower-case `path.item` keys emitted.
fn traverse<'a>(
    path: &mut String,
    current: &'a Value,
    seen: &mut HashSet<String>,
    out: &mut Vec<(String, Leaf<'a>)>,
) {
    if SPECIAL_KEYS.contains(&path.as_str()) {
        return;
    }
    match current {
        Value::Array(items) => {
            for item in items {
                traverse(path, item, seen, out);
                if let Value::String(s) = item {
                    let key = lower(&format!("{path}.{s}"));
                    if !seen.contains(&key) {
                        seen.insert(key.clone());
                        out.push((key, Leaf::True));
                    }
                }
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                let len = path.len();
                if len > 0 {
                    path.push('.');
                }
                path.push_str(k);
                traverse(path, v, seen, out);
                path.truncate(len);
            }
        }
        leaf => out.push((lower(path), Leaf::Json(leaf))),
    }
}

/// The search rows of an entity (the entity as served, i.e. with `relations` filled in).
pub fn search_rows(entity: &Value) -> Vec<SearchRow> {
    let mut raw = Vec::new();
    traverse(&mut String::new(), entity, &mut HashSet::new(), &mut raw);
    let meta = |k: &str| entity.get("metadata").and_then(|m| m.get(k));
    for key in ["name", "namespace", "uid"] {
        let leaf = meta(key).map_or(Leaf::Null, Leaf::Json);
        raw.push((format!("metadata.{key}"), leaf));
    }
    // `if (!entity.metadata.namespace)`: JavaScript falsiness.
    let namespace_falsy = match meta("namespace") {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Bool(b)) => !b,
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(_) => false,
    };
    if namespace_falsy {
        raw.push(("metadata.namespace".into(), Leaf::Text(DEFAULT_NAMESPACE)));
    }
    if let Some(relations) = entity.get("relations").and_then(Value::as_array) {
        for rel in relations {
            let (Some(t), Some(target)) = (
                rel.get("type").and_then(Value::as_str),
                rel.get("targetRef").and_then(Value::as_str),
            ) else {
                continue;
            };
            raw.push((lower(&format!("relations.{t}")), Leaf::Text(target)));
        }
    }

    let mut rows: Vec<SearchRow> = Vec::with_capacity(raw.len());
    for (key, leaf) in raw {
        if js_longer_than(&key, MAX_KEY_LENGTH) {
            continue;
        }
        let original = match leaf {
            Leaf::Json(v) => js_string(v),
            Leaf::Text(s) => Some(s.to_owned()),
            Leaf::True => Some("true".to_owned()),
            Leaf::Null => None,
        };
        let (value, original_value) = match original {
            Some(o) => {
                let lower = lower(&o);
                if js_longer_than(&lower, MAX_VALUE_LENGTH) {
                    (None, None)
                } else {
                    (Some(lower), Some(o))
                }
            }
            None => (None, None),
        };
        rows.push(SearchRow {
            key,
            value,
            original_value,
        });
    }
    // Collapse duplicate (key, value) rows, keeping the first.
    let keep: Vec<bool> = {
        let mut seen: HashSet<(&str, Option<&str>)> = HashSet::with_capacity(rows.len());
        rows.iter()
            .map(|r| seen.insert((r.key.as_str(), r.value.as_deref())))
            .collect()
    };
    let mut keep = keep.into_iter();
    rows.retain(|_| keep.next().unwrap_or(true));
    rows
}

/// The lower-case `(key, value)` pairs used for filtering: [`search_rows`] without the rows
/// whose value is null (those only make their key "exist").
pub fn search_keys(entity: &Value) -> Vec<(String, String)> {
    search_rows(entity)
        .into_iter()
        .filter_map(|r| r.value.map(|v| (r.key, v)))
        .collect()
}

/// A piece of [`SearchKeys::text`]; `start == u32::MAX` means "none".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    const NONE: Span = Span {
        start: u32::MAX,
        len: 0,
    };
}

/// One indexed row: a hash of its key for scanning, and where key and values are in the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    key_hash: u64,
    key: Span,
    value: Span,
    /// The value as written, only where it differs from `value`.
    original: Span,
}

/// The text of `span` in `text` (`None` for [`Span::NONE`]).
fn span_str(text: &str, span: Span) -> Option<&str> {
    if span.start == u32::MAX {
        return None;
    }
    let start = span.start as usize;
    text.get(start..start + span.len as usize)
}

/// FNV-1a: a tiny, good-enough hash to skip non-matching keys without comparing them.
fn key_hash(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// An entity's search rows, built once per entity at ingest and used by filters, ordering and
/// full-text search. All keys and values live in one string and the rows in one vector sorted by
/// key hash (two allocations per entity, read with few cache misses); a lookup is a binary search
/// over the hashes, then a check of the key text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchKeys {
    entity_ref: String,
    text: String,
    entries: Vec<Entry>,
}

impl SearchKeys {
    /// Indexes an entity (as served, with `relations`).
    pub fn new(entity: &Value) -> Self {
        let entity_ref = entity_ref_parts(entity)
            .map(|r| r.canonical())
            .unwrap_or_default();
        Self::from_rows(entity_ref, search_rows(entity))
    }

    /// Indexes precomputed rows; `entity_ref` is the canonical ref used to break ordering ties.
    pub fn from_rows(entity_ref: String, rows: Vec<SearchRow>) -> Self {
        let size: usize = rows
            .iter()
            .map(|r| r.key.len() + r.value.as_ref().map_or(0, String::len))
            .sum();
        let mut keys = SearchKeys {
            entity_ref,
            text: String::with_capacity(size),
            entries: Vec::with_capacity(rows.len()),
        };
        for row in &rows {
            let original = row
                .original_value
                .as_deref()
                .filter(|o| Some(*o) != row.value.as_deref());
            let (Some(key), Some(value), Some(original)) = (
                keys.push_text(Some(&row.key)),
                keys.push_text(row.value.as_deref()),
                keys.push_text(original),
            ) else {
                // Over 4 GiB of search text for one entity: keep what fits.
                tracing::warn!(entity = %keys.entity_ref, "search rows truncated");
                break;
            };
            keys.entries.push(Entry {
                key_hash: key_hash(&row.key),
                key,
                value,
                original,
            });
        }
        // Stable, so the values of one key keep document order.
        let text = keys.text.as_str();
        keys.entries.sort_by(|a, b| {
            a.key_hash
                .cmp(&b.key_hash)
                .then_with(|| span_str(text, a.key).cmp(&span_str(text, b.key)))
        });
        keys
    }

    /// Appends `s` to the text; `None` when the text would outgrow `u32` offsets.
    fn push_text(&mut self, s: Option<&str>) -> Option<Span> {
        let Some(s) = s else {
            return Some(Span::NONE);
        };
        let start = u32::try_from(self.text.len()).ok()?;
        let len = u32::try_from(s.len()).ok()?;
        start.checked_add(len).filter(|end| *end < u32::MAX)?;
        self.text.push_str(s);
        Some(Span { start, len })
    }

    /// The text of a span (`None` for [`Span::NONE`]).
    fn get(&self, span: Span) -> Option<&str> {
        span_str(&self.text, span)
    }

    /// The rows of the lower-case `key`, in document order.
    fn rows(&self, key: &str) -> &[Entry] {
        let hash = key_hash(key);
        let start = self.entries.partition_point(|e| e.key_hash < hash);
        let same_hash = &self.entries[start..];
        let run = same_hash.iter().take_while(|e| e.key_hash == hash).count();
        // Different keys with one hash are sorted by key inside the run.
        let same_hash = &same_hash[..run];
        let from = same_hash.partition_point(|e| self.get(e.key) < Some(key));
        let len = same_hash[from..]
            .iter()
            .take_while(|e| self.get(e.key) == Some(key))
            .count();
        &same_hash[from..from + len]
    }

    /// The entity's canonical ref (`""` when it has no kind or name).
    pub fn entity_ref(&self) -> &str {
        &self.entity_ref
    }

    /// Whether the lower-case `key` has a row, even one with a null value.
    pub fn has_key(&self, key: &str) -> bool {
        !self.rows(key).is_empty()
    }

    /// The non-null lower-case values of the lower-case `key`.
    pub fn values<'a>(&'a self, key: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.rows(key).iter().filter_map(|e| self.get(e.value))
    }

    /// The non-null values of the lower-case `key` as written (what entity facets count).
    pub fn original_values<'a>(&'a self, key: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.rows(key)
            .iter()
            .filter_map(|e| self.get(e.original).or_else(|| self.get(e.value)))
    }
}

/// The fields the by-query full-text filter searches when `fullTextFilterFields` is absent:
/// the sort field, or `metadata.uid` without one (Backstage's default).
pub fn default_full_text_fields(sort_field: Option<&str>) -> Vec<String> {
    vec![sort_field.map_or_else(|| "metadata.uid".to_owned(), str::to_lowercase)]
}

/// Backstage's `fullTextFilterTerm` / `fullTextFilterFields`: the trimmed term, lower-cased,
/// must occur in a value of one of `fields` (keys compared lower-case). It is an SQL
/// `LIKE '%term%'`, so `%` and `_` in the term are wildcards. An empty term matches everything;
/// an empty field list matches nothing (resolve defaults with [`default_full_text_fields`]).
pub fn full_text_matches(keys: &SearchKeys, term: &str, fields: &[String]) -> bool {
    FullText::new(term, fields).matches(keys)
}

/// A full-text filter prepared once for many entities: the term trimmed and lower-cased, the
/// fields lower-cased ([`full_text_matches`] per entity, without its per-call allocations).
#[derive(Clone, Debug)]
pub struct FullText {
    term: String,
    fields: Vec<String>,
}

impl FullText {
    /// The filter for `term` over `fields`.
    pub fn new<S: AsRef<str>>(term: &str, fields: &[S]) -> Self {
        FullText {
            term: term.trim().to_lowercase(),
            fields: fields.iter().map(|f| f.as_ref().to_lowercase()).collect(),
        }
    }

    /// Whether the term is empty (everything matches).
    pub fn is_empty(&self) -> bool {
        self.term.is_empty()
    }

    /// The lower-case fields searched.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// Whether one (lower-case) value matches the term.
    pub fn matches_value(&self, value: &str) -> bool {
        like_contains(value, &self.term)
    }

    /// Whether an entity with these keys matches.
    pub fn matches(&self, keys: &SearchKeys) -> bool {
        self.term.is_empty()
            || self
                .fields
                .iter()
                .any(|field| keys.values(field).any(|value| self.matches_value(value)))
    }
}

/// `value LIKE '%pattern%'` with `%` (any run) and `_` (any one character); no escapes.
fn like_contains(value: &str, pattern: &str) -> bool {
    if !pattern.contains(['%', '_']) {
        return value.contains(pattern);
    }
    let v: Vec<char> = value.chars().collect();
    let p: Vec<char> = std::iter::once('%')
        .chain(pattern.chars())
        .chain(std::iter::once('%'))
        .collect();
    // Classic wildcard matching with backtracking to the last `%`.
    let (mut vi, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        match p.get(pi) {
            Some('%') => {
                star = Some((pi, vi));
                pi += 1;
            }
            Some(&c) if c == '_' || c == v[vi] => {
                vi += 1;
                pi += 1;
            }
            _ => match star {
                Some((sp, sv)) => {
                    pi = sp + 1;
                    vi = sv + 1;
                    star = Some((sp, sv + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '%')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {
                "name": "Artist-Lookup",
                "uid": "u-1",
                "etag": "e-1",
                "tags": ["Java", "data", "java"],
                "annotations": {"backstage.io/Kubernetes-ID": "Artist"},
                "description": "x".repeat(201),
                "links": [{"url": "https://a", "title": "A"}],
                "nothing": null,
                "empty": {}
            },
            "spec": {"type": "service", "replicas": 3, "ratio": 2.0, "zero": -0.0, "public": true},
            "relations": [
                {"type": "ownedBy", "targetRef": "group:default/team-a"},
                {"type": "ownedBy", "targetRef": "group:default/team-a"}
            ],
            "status": {"items": [{"level": "error"}]}
        })
    }

    #[test]
    fn flattens_like_backstage() {
        let mut keys = search_keys(&sample());
        keys.sort();
        let want: Vec<(String, String)> = [
            ("apiversion", "backstage.io/v1alpha1"),
            ("kind", "component"),
            ("metadata.annotations.backstage.io/kubernetes-id", "artist"),
            ("metadata.links.title", "a"),
            ("metadata.links.url", "https://a"),
            ("metadata.name", "artist-lookup"),
            ("metadata.namespace", "default"),
            ("metadata.tags", "data"),
            ("metadata.tags", "java"),
            ("metadata.tags.data", "true"),
            ("metadata.tags.java", "true"),
            ("metadata.uid", "u-1"),
            ("relations.ownedby", "group:default/team-a"),
            ("spec.public", "true"),
            ("spec.ratio", "2"),
            ("spec.replicas", "3"),
            ("spec.type", "service"),
            ("spec.zero", "0"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(keys, want);
    }

    #[test]
    fn null_and_long_values_keep_their_key_only() {
        let rows = search_rows(&sample());
        let nulls: Vec<&str> = rows
            .iter()
            .filter(|r| r.value.is_none())
            .map(|r| r.key.as_str())
            .collect();
        assert_eq!(
            nulls,
            vec![
                "metadata.description",
                "metadata.nothing",
                "metadata.namespace"
            ]
        );
        let keys = SearchKeys::new(&sample());
        assert!(keys.has_key("metadata.description"));
        assert_eq!(keys.values("metadata.description").count(), 0);
        assert!(!keys.has_key("metadata.etag"));
        assert!(!keys.has_key("status.items.level"));
        assert_eq!(keys.entity_ref(), "component:default/artist-lookup");
        let originals: Vec<&str> = keys.original_values("metadata.tags").collect();
        assert_eq!(originals, vec!["Java", "data"]);
    }

    #[test]
    fn long_keys_are_dropped() {
        let long = "k".repeat(200);
        let e = json!({"kind": "A", "metadata": {"name": "a", "namespace": "ns"},
                       "spec": {long.clone(): "v", "short": "v"}});
        let keys = SearchKeys::new(&e);
        assert!(!keys.has_key(&format!("spec.{long}")));
        assert!(keys.has_key("spec.short"));
        assert_eq!(
            keys.values("metadata.namespace").collect::<Vec<_>>(),
            vec!["ns"]
        );
    }

    #[test]
    fn full_text_is_a_case_insensitive_like() {
        let keys = SearchKeys::new(&sample());
        let f = |fields: &[&str]| fields.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(full_text_matches(&keys, "  LOOK ", &f(&["metadata.name"])));
        assert!(!full_text_matches(&keys, "look", &f(&["spec.type"])));
        assert!(full_text_matches(
            &keys,
            "serv",
            &f(&["metadata.name", "Spec.Type"])
        ));
        assert!(full_text_matches(&keys, "art_st", &f(&["metadata.name"])));
        assert!(full_text_matches(&keys, "a%up", &f(&["metadata.name"])));
        assert!(!full_text_matches(&keys, "a%zz", &f(&["metadata.name"])));
        assert!(full_text_matches(&keys, "  ", &f(&[])));
        assert!(!full_text_matches(&keys, "a", &f(&[])));
        assert!(full_text_matches(
            &keys,
            "u-1",
            &default_full_text_fields(None)
        ));
        assert_eq!(
            default_full_text_fields(Some("Metadata.Name")),
            f(&["metadata.name"])
        );
    }

    #[test]
    fn like_matching_edge_cases() {
        assert!(like_contains("abc", "abc"));
        assert!(like_contains("xxabcxx", "b"));
        assert!(like_contains("abc", "%"));
        assert!(like_contains("abc", "a_c"));
        assert!(!like_contains("ac", "a_c"));
        assert!(like_contains("a-b-c-d", "b%d"));
        assert!(!like_contains("a-b-c", "c%b"));
    }
}
