//! The catalog query engine: what Backstage's catalog REST API does with `filter`, `fields`,
//! `order` / `orderField` and `fullTextFilterTerm` / `fullTextFilterFields`, over entities held
//! in memory.
//!
//! - [`search`]: the flattened, lower-cased search rows of an entity and the per-entity
//!   [`SearchKeys`] index (built once at ingest), plus the full-text filter;
//! - [`filter`]: parsing `filter` parameters and matching them;
//! - [`fields`]: parsing `fields` and projecting entities;
//! - [`order`]: parsing `order` / `orderField` and the comparator;
//! - [`predicate`]: the JSON filter predicates (`query`) of the POST routes.
//!
//! Paging (`limit`, `offset`, `after`, by-query cursors), facets and the HTTP layer are not here;
//! they are built from these pieces. Errors are [`QueryError`]s, whose messages are Backstage's
//! `InputError` messages (answered with 400).

pub mod fields;
pub mod filter;
pub mod order;
pub mod predicate;
pub mod search;

#[cfg(test)]
mod tests;

use serde_json::{json, Value};
use thiserror::Error;

pub use fields::{parse_fields, project};
pub use filter::{parse_filters, EntityFilter, FilterCondition};
pub use order::{compare, parse_order, parse_order_fields, OrderField, SortOrder};
pub use predicate::{parse_predicate, Predicate};
pub use search::{full_text_matches, search_keys, search_rows, FullText, SearchKeys, SearchRow};

/// A malformed query parameter; the message is what Backstage answers with its 400 response.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum QueryError {
    /// A `filter` statement with an empty key, e.g. `=value`.
    #[error(
        "Invalid filter, '{statement}' is not a valid statement (expected a string on the form \
         a=b or a= or a)"
    )]
    InvalidFilter {
        /// The statement as written (trimmed).
        statement: String,
    },
    /// An `order` parameter not of the form `asc:<field>` / `desc:<field>`.
    #[error("Invalid order parameter \"{item}\", expected \"<asc or desc>:<field name>\"")]
    InvalidOrder {
        /// The parameter as given.
        item: String,
    },
    /// An `orderField` parameter whose order is neither `asc` nor `desc`.
    #[error("Invalid order field order, must be asc or desc")]
    InvalidOrderFieldOrder,
    /// A `fields` path using `[...]` array syntax.
    #[error("Invalid field \"{field}\", array type fields are not supported")]
    ArrayField {
        /// The offending path.
        field: String,
    },
    /// `fullTextFilterTerm` longer than [`MAX_FULL_TEXT_TERM_CHARS`] (a Greenroom limit).
    #[error(
        "Invalid fullTextFilterTerm, it is {length} characters long; at most {max} are allowed"
    )]
    TermTooLong {
        /// Its length in characters.
        length: usize,
        /// [`MAX_FULL_TEXT_TERM_CHARS`].
        max: usize,
    },
    /// More `filter` parameters than [`MAX_FILTERS`] (a Greenroom limit).
    #[error("Invalid filter, {count} filter parameters were given; at most {max} are allowed")]
    TooManyFilters {
        /// How many were given.
        count: usize,
        /// [`MAX_FILTERS`].
        max: usize,
    },
    /// More `fullTextFilterFields` than [`MAX_FULL_TEXT_FIELDS`] (a Greenroom limit).
    #[error("Invalid fullTextFilterFields, {count} fields were given; at most {max} are allowed")]
    TooManyFullTextFields {
        /// How many were given.
        count: usize,
        /// [`MAX_FULL_TEXT_FIELDS`].
        max: usize,
    },
    /// A `filter` parameter longer than [`MAX_FILTER_CHARS`] (a Greenroom limit).
    #[error(
        "Invalid filter, a filter parameter is {length} characters long; at most {max} are allowed"
    )]
    FilterTooLong {
        /// Its length in characters.
        length: usize,
        /// [`MAX_FILTER_CHARS`].
        max: usize,
    },
    /// A JSON `query` predicate that is not one (the message names where).
    #[error("{0}")]
    Predicate(String),
    /// A field name longer than [`MAX_FIELD_CHARS`] (a Greenroom limit: the search index keeps
    /// no longer key, as Backstage's keeps none over 200 characters, so it could never match).
    #[error("Invalid {what}, a field name is {length} characters long; at most {max} are allowed")]
    FieldTooLong {
        /// Which parameter (`orderField`, `fullTextFilterFields`, `query`, `facet`).
        what: &'static str,
        /// Its length in characters.
        length: usize,
        /// [`MAX_FIELD_CHARS`].
        max: usize,
    },
    /// More order fields than [`MAX_ORDER_FIELDS`] (a Greenroom limit).
    #[error("Invalid order, {count} order fields were given; at most {max} are allowed")]
    TooManyOrderFields {
        /// How many were given.
        count: usize,
        /// [`MAX_ORDER_FIELDS`].
        max: usize,
    },
}

/// Longest field name in `order`, `orderField`, `fullTextFilterFields`, a `query` predicate or a
/// `facet`, in characters: the longest search key (longer ones are never indexed).
pub const MAX_FIELD_CHARS: usize = 200;
/// Most `order` / `orderField` parameters (each is compared on every tie of a sort).
pub const MAX_ORDER_FIELDS: usize = 10;

/// `Ok` unless `field` is longer than [`MAX_FIELD_CHARS`].
pub fn check_field_name(what: &'static str, field: &str) -> Result<(), QueryError> {
    let length = field.chars().count();
    if length > MAX_FIELD_CHARS {
        return Err(QueryError::FieldTooLong {
            what,
            length,
            max: MAX_FIELD_CHARS,
        });
    }
    Ok(())
}

/// Longest `fullTextFilterTerm`, in characters (Backstage has no limit; each character is
/// matched against every entity, so the work per request is bounded here).
pub const MAX_FULL_TEXT_TERM_CHARS: usize = 200;
/// Most `filter` parameters in one request.
pub const MAX_FILTERS: usize = 50;
/// Most `fullTextFilterFields` in one request (each is matched against every entity).
pub const MAX_FULL_TEXT_FIELDS: usize = 50;
/// Longest single `filter` parameter, in characters.
pub const MAX_FILTER_CHARS: usize = 4096;

/// Checks a `fullTextFilterTerm` against [`MAX_FULL_TEXT_TERM_CHARS`].
pub fn check_full_text_term(term: &str) -> Result<(), QueryError> {
    let length = term.chars().count();
    if length > MAX_FULL_TEXT_TERM_CHARS {
        return Err(QueryError::TermTooLong {
            length,
            max: MAX_FULL_TEXT_TERM_CHARS,
        });
    }
    Ok(())
}

/// `n` synthetic, valid entities for benchmarks: about 1% domains, 2% systems, 3% groups, 10%
/// users, 15% APIs, 5% resources and the rest components, with owners, systems, tags,
/// annotations, API and dependency refs pointing at each other (a few dangle, as in real
/// catalogs). Every tenth entity of a kind lives in namespace `platform`. Deterministic.
#[doc(hidden)]
pub fn synthetic_entities(n: usize) -> Vec<Value> {
    const TAGS: &[&str] = &[
        "java", "go", "rust", "python", "data", "web", "grpc", "internal",
    ];
    const LIFECYCLES: &[&str] = &["production", "experimental", "deprecated"];
    const TYPES: &[&str] = &["service", "website", "library"];
    // (kind, name prefix, share in percent); components take the rest.
    const KINDS: &[(&str, &str, usize)] = &[
        ("Domain", "domain", 1),
        ("System", "system", 2),
        ("Group", "team", 3),
        ("User", "user", 10),
        ("API", "api", 15),
        ("Resource", "resource", 5),
    ];
    let counts: Vec<usize> = KINDS.iter().map(|(_, _, p)| (n * p / 100).max(1)).collect();
    let count_of = |kind: &str| {
        KINDS
            .iter()
            .position(|(k, _, _)| *k == kind)
            .map_or(1, |i| counts[i])
    };
    // A cheap deterministic mix (splitmix64), so entities differ without a rand crate.
    let mix = |i: usize, salt: u64| -> usize {
        let mut z = (i as u64)
            .wrapping_add(salt.wrapping_mul(0x632B_E59B_D9B4_E019))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        (z ^ (z >> 31)) as usize
    };
    let ns = |k: usize| if k % 10 == 9 { "platform" } else { "default" };
    // A ref to entity number `k` (wrapped into range) of `kind`.
    let to = |kind: &str, k: usize| {
        let (lower, prefix) = match KINDS.iter().find(|(name, _, _)| *name == kind) {
            Some((name, prefix, _)) => (name.to_lowercase(), *prefix),
            None => ("component".to_owned(), "component"),
        };
        let k = k % count_of(kind);
        format!("{lower}:{}/{prefix}-{k}", ns(k))
    };
    let entity = |kind: &str, prefix: &str, i: usize, k: usize, spec: Value| {
        let tags: Vec<&str> = (0..mix(i, 1) % 4)
            .map(|t| TAGS[mix(i, 2 + t as u64) % TAGS.len()])
            .collect();
        let tier = if mix(i, 3) % 2 == 0 {
            "frontend"
        } else {
            "backend"
        };
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": kind,
            "metadata": {
                "name": format!("{prefix}-{k}"),
                "namespace": ns(k),
                "title": format!("{kind} number {k}"),
                "description": format!("Synthetic {kind} {k} for benchmarks"),
                "tags": tags,
                "annotations": {
                    "backstage.io/managed-by-location": format!("file:/catalog/{prefix}-{k}.yaml"),
                    "backstage.io/kubernetes-id": format!("{prefix}-{k}"),
                    "github.com/project-slug": format!("acme/{prefix}-{}", k % 97),
                },
                "labels": {"tier": tier},
            },
            "spec": spec,
        })
    };
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let lifecycle = LIFECYCLES[mix(i, 4) % LIFECYCLES.len()];
        let owner = to("Group", mix(i, 5));
        let system = to("System", mix(i, 6));
        let mut k = i;
        let mut kind = None;
        for (index, (name, prefix, _)) in KINDS.iter().enumerate() {
            if k < counts[index] {
                kind = Some((*name, *prefix));
                break;
            }
            k -= counts[index];
        }
        let (kind, prefix) = kind.unwrap_or(("Component", "component"));
        let spec = match kind {
            "Domain" => json!({"owner": owner}),
            "System" => json!({"owner": owner, "domain": to("Domain", mix(i, 7))}),
            "Group" => json!({"type": "team", "parent": to("Group", mix(i, 7)), "children": []}),
            "User" => json!({"memberOf": [to("Group", mix(i, 7))]}),
            "API" => json!({"type": "openapi", "lifecycle": lifecycle, "owner": owner,
                            "system": system, "definition": "openapi: 3.0.0"}),
            "Resource" => json!({"type": "database", "owner": owner, "system": system}),
            _ => json!({
                "type": TYPES[mix(i, 8) % TYPES.len()], "lifecycle": lifecycle,
                "owner": owner, "system": system,
                "providesApis": [to("API", mix(i, 9))],
                "consumesApis": [to("API", mix(i, 10)), to("API", mix(i, 11))],
                "dependsOn": [to("Resource", mix(i, 12)), format!("component:default/component-{}", mix(i, 13) % n)],
            }),
        };
        out.push(entity(kind, prefix, i, k, spec));
    }
    out
}
