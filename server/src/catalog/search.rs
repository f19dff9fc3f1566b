//! The portal's search (the header box and `/search`) and the APIs explorer (`/api-docs`),
//! answered from the snapshot's in-memory indexes.
//!
//! A query is split into words (at most [`MAX_WORDS`]); an entity matches when every word occurs
//! in one of its searched fields ([`SEARCH_FIELDS`]) or in the name of one of its owners. Each
//! entity's searched text is kept as one string per snapshot, so a query is one substring scan
//! per word and entity (a few milliseconds at 20k entities). Matches are ranked: exact name or title, then prefix, then words in the
//! name or title, then a Kubernetes id or tag, then anything else; ties by kind
//! (components first) and name. Results are cached per query in the snapshot.

use app::wire::{ApiExplorer, ApiRow, FacetValues, SearchHit, SearchResults};

use crate::catalog::query::EntityFilter;
use crate::catalog::rows::row;
use crate::catalog::service::restrict_to_scope;
use crate::catalog::store::{Snapshot, StoredEntity};
use crate::permission::Decision;

/// Longest query read, in characters (the rest is ignored).
pub const MAX_QUERY: usize = 200;
/// Most words of a query used.
pub const MAX_WORDS: usize = 8;
/// Most hits returned.
pub const MAX_HITS: usize = 50;

/// The fields a word is looked for in (search keys, lower-case).
pub const SEARCH_FIELDS: [&str; 8] = [
    "metadata.name",
    "metadata.title",
    "metadata.description",
    "metadata.tags",
    "metadata.annotations.backstage.io/kubernetes-id",
    "spec.profile.displayname",
    "spec.profile.email",
    "spec.type",
];

const KUBERNETES_ID: &str = "metadata.annotations.backstage.io/kubernetes-id";

/// The query as searched: trimmed, at most [`MAX_QUERY`] characters, lower-case words.
fn words(query: &str) -> (String, Vec<String>) {
    let query: String = query.trim().chars().take(MAX_QUERY).collect();
    let words = query
        .split_whitespace()
        .take(MAX_WORDS)
        .map(str::to_lowercase)
        .collect();
    (query, words)
}

/// The best `limit` (at most [`MAX_HITS`]) matches of `query` the viewer may read.
pub fn search(snapshot: &Snapshot, scope: &Decision, query: &str, limit: usize) -> SearchResults {
    let (query, words) = words(query);
    if words.is_empty() {
        return SearchResults {
            query,
            ..SearchResults::default()
        };
    }
    let ranked = snapshot
        .query_cache
        .get_or_compute(&format!("search:{}", words.join(" ")), || {
            ranked(snapshot, &words)
        });
    let mut hits = Vec::new();
    let mut total = 0;
    for &(i, _) in ranked.iter() {
        let Some(e) = snapshot.entities.get(i) else {
            continue;
        };
        if !scope.permits(crate::permission::conditions::Resource::Entity(&e.keys)) {
            continue;
        }
        total += 1;
        if hits.len() < limit.min(MAX_HITS) {
            hits.push(hit(snapshot, e, &words));
        }
    }
    SearchResults { query, hits, total }
}

/// What an entity is searched by, lower-case, one field per line: the [`SEARCH_FIELDS`] and
/// the names of its owners.
fn search_text(e: &StoredEntity) -> Box<str> {
    let mut text = String::new();
    for field in SEARCH_FIELDS {
        for value in e.keys.values(field) {
            text.push_str(value);
            text.push('\n');
        }
    }
    for owner in e.keys.values("relations.ownedby") {
        text.push_str(owner.rsplit('/').next().unwrap_or(owner));
        text.push('\n');
    }
    text.into_boxed_str()
}

/// Every match of `words` (scope not applied: the cache is shared), best first.
///
/// Each entity's searched text is one string, built once per snapshot: a word is one substring
/// scan of it (words hold no line breaks, so a match never spans two fields), and a query is
/// one pass over the entities.
fn ranked(snapshot: &Snapshot, words: &[String]) -> Vec<(usize, u32)> {
    let entities = &snapshot.entities;
    let texts = snapshot
        .search_text
        .get_or_init(|| entities.iter().map(search_text).collect());
    let whole = words.join(" ");
    let mut ranked: Vec<(u32, u8, &str, usize)> = texts
        .iter()
        .enumerate()
        .filter(|(_, text)| words.iter().all(|w| text.contains(w.as_str())))
        .filter_map(|(i, _)| {
            let e = entities.get(i)?;
            Some((
                u32::MAX - score(e, &whole, words),
                kind_rank(&e.parts.kind),
                first(e, "metadata.name"),
                i,
            ))
        })
        .collect();
    ranked.sort_unstable();
    ranked
        .into_iter()
        .map(|(score, _, _, i)| (i, u32::MAX - score))
        .collect()
}

/// Components first, then what people look for most.
fn kind_rank(kind: &str) -> u8 {
    const ORDER: [&str; 7] = [
        "component",
        "api",
        "system",
        "domain",
        "resource",
        "group",
        "user",
    ];
    ORDER
        .iter()
        .position(|k| k.eq_ignore_ascii_case(kind))
        .map_or(7, |i| i as u8)
}

/// The first (lower-case) value of a search key, or "".
fn first<'a>(e: &'a StoredEntity, key: &str) -> &'a str {
    e.keys.values(key).next().unwrap_or_default()
}

fn score(e: &StoredEntity, whole: &str, words: &[String]) -> u32 {
    let names = [
        first(e, "metadata.name"),
        first(e, "metadata.title"),
        first(e, "spec.profile.displayname"),
    ];
    if names.contains(&whole) {
        return 1000;
    }
    if names.iter().any(|n| !n.is_empty() && n.starts_with(whole)) {
        return 800;
    }
    if words
        .iter()
        .all(|w| names.iter().any(|n| n.contains(w.as_str())))
    {
        return 600;
    }
    if e.keys.values(KUBERNETES_ID).any(|id| id == whole) {
        return 500;
    }
    if words
        .iter()
        .any(|w| e.keys.values("metadata.tags").any(|t| t == w))
    {
        return 300;
    }
    if words
        .iter()
        .any(|w| names.iter().any(|n| n.contains(w.as_str())))
    {
        return 200;
    }
    100
}

/// Why `e` matched, when the name or title does not show it.
fn matched(e: &StoredEntity, words: &[String]) -> Option<String> {
    let in_names = |w: &String| {
        e.parts.name.to_lowercase().contains(w.as_str())
            || e.keys
                .values("metadata.title")
                .any(|t| t.contains(w.as_str()))
    };
    if words.iter().all(in_names) {
        return None;
    }
    let word = words.iter().find(|w| !in_names(w))?;
    for (key, label) in [
        (KUBERNETES_ID, "Kubernetes id"),
        ("metadata.tags", "tag"),
        ("spec.profile.displayname", "display name"),
        ("spec.profile.email", "email"),
        ("spec.type", "type"),
    ] {
        if let Some(v) = e
            .keys
            .original_values(key)
            .find(|v| v.to_lowercase().contains(word.as_str()))
        {
            return Some(format!("{label}: {v}"));
        }
    }
    // Otherwise the description or the owner matched; both are shown with every hit.
    None
}

fn hit(snapshot: &Snapshot, e: &StoredEntity, words: &[String]) -> SearchHit {
    let r = row(snapshot, e);
    SearchHit {
        link: app::wire::EntityLink {
            label: r
                .title
                .clone()
                .or_else(|| {
                    e.keys
                        .original_values("spec.profile.displayname")
                        .next()
                        .map(str::to_string)
                })
                .unwrap_or_else(|| r.link.label.clone()),
            ..r.link
        },
        kind: r.kind,
        entity_type: r.entity_type,
        description: r.description,
        owner: r.owner,
        matched: matched(e, words),
    }
}

/// APIs per page of the explorer.
pub const EXPLORER_PAGE_SIZE: usize = 50;

/// The APIs explorer: page `page` (from 1) of every API the viewer may read, of `api_type` and
/// `lifecycle` when given (case-insensitive), sorted by name, with type and lifecycle counts
/// over all of them. The whole sorted result is kept in the snapshot's query cache, so paging
/// and repeated views do not filter and sort again.
pub fn api_explorer(
    snapshot: &Snapshot,
    scope: &Decision,
    api_type: &str,
    lifecycle: &str,
    page: usize,
) -> ApiExplorer {
    let key = format!(
        "api-explorer\u{0}{}\u{0}{}\u{0}{}",
        scope.cache_key(),
        api_type.to_lowercase(),
        lifecycle.to_lowercase()
    );
    let all = snapshot
        .query_cache
        .get_or_compute(&key, || explore(snapshot, scope, api_type, lifecycle));
    let total = all.apis.len();
    let pages = total.div_ceil(EXPLORER_PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    ApiExplorer {
        apis: all
            .apis
            .iter()
            .skip((page - 1) * EXPLORER_PAGE_SIZE)
            .take(EXPLORER_PAGE_SIZE)
            .cloned()
            .collect(),
        total,
        page,
        page_size: EXPLORER_PAGE_SIZE,
        types: all.types.clone(),
        lifecycles: all.lifecycles.clone(),
    }
}

fn explore(snapshot: &Snapshot, scope: &Decision, api_type: &str, lifecycle: &str) -> ApiExplorer {
    let entities = &snapshot.entities;
    let mut bits = snapshot
        .filter_index
        .matching(Some(&EntityFilter::key_equals("kind", "api")), entities);
    restrict_to_scope(&mut bits, snapshot, scope);
    let facet = |key: &str| FacetValues {
        values: snapshot
            .filter_index
            .value_counts(key, entities, &bits)
            .into_iter()
            .collect(),
    };
    let types = facet("spec.type");
    let lifecycles = facet("spec.lifecycle");
    // No stored value is longer than a filter value may be: a longer one matches nothing,
    // without being compared against every API.
    let too_long = api_type.len().max(lifecycle.len()) > MAX_QUERY;
    let wanted = |e: &StoredEntity, key: &str, value: &str| {
        value.is_empty() || e.keys.values(key).any(|v| v.eq_ignore_ascii_case(value))
    };
    let mut apis: Vec<ApiRow> = bits
        .ones()
        .filter_map(|i| entities.get(i))
        .filter(|e| {
            !too_long && wanted(e, "spec.type", api_type) && wanted(e, "spec.lifecycle", lifecycle)
        })
        .map(|e| ApiRow {
            row: row(snapshot, e),
            providers: e.keys.values("relations.apiprovidedby").count(),
            consumers: e.keys.values("relations.apiconsumedby").count(),
        })
        .collect();
    apis.sort_by(|a, b| {
        let label = |r: &ApiRow| {
            r.row
                .title
                .clone()
                .unwrap_or_else(|| r.row.link.label.clone())
                .to_lowercase()
        };
        label(a).cmp(&label(b))
    });
    ApiExplorer {
        total: apis.len(),
        apis,
        page: 1,
        page_size: EXPLORER_PAGE_SIZE,
        types,
        lifecycles,
    }
}

#[cfg(test)]
mod tests {
    use super::{api_explorer, search};
    use crate::http::tests::bundled_catalog;
    use crate::permission::conditions::{Condition, Rule};
    use crate::permission::Decision;

    fn refs(r: &app::wire::SearchResults) -> Vec<&str> {
        r.hits.iter().map(|h| h.link.entity_ref.as_str()).collect()
    }

    #[test]
    fn exact_names_first_then_prefixes_then_the_rest_across_kinds() {
        let snap = bundled_catalog();
        let r = search(&snap, &Decision::Allow, "  Payment gateway ", 10);
        assert_eq!(r.query, "Payment gateway");
        // The title matches exactly; the gRPC API's title starts with it.
        assert_eq!(
            refs(&r)[..2],
            [
                "component:default/payment-gateway",
                "api:default/payments-grpc"
            ]
        );
        // Every word must match somewhere.
        assert!(search(&snap, &Decision::Allow, "payment zebra", 10)
            .hits
            .is_empty());
        // Owners by name bring what they own; the match is shown when not in the name.
        let r = search(&snap, &Decision::Allow, "storefront", 50);
        assert!(
            refs(&r).contains(&"component:default/cart-service"),
            "{:?}",
            refs(&r)
        );
        // A Kubernetes id.
        let r = search(&snap, &Decision::Allow, "kubernetes-id", 50);
        assert!(
            r.hits.is_empty(),
            "annotation keys are not searched, only values"
        );
    }

    #[test]
    fn what_matched_is_named_and_people_are_found_by_display_name() {
        let snap = bundled_catalog();
        let r = search(&snap, &Decision::Allow, "Ramírez", 5);
        assert_eq!(refs(&r), ["user:default/diego-ramirez"]);
        assert_eq!(
            r.hits[0].matched.as_deref(),
            Some("display name: Diego Ramírez")
        );
        let r = search(&snap, &Decision::Allow, "pci", 50);
        assert!(
            r.hits
                .iter()
                .all(|h| h.matched.as_deref() == Some("tag: pci")),
            "{:?}",
            r.hits
        );
        assert!(r.total >= 2);
    }

    #[test]
    fn limits_scope_and_hostile_queries() {
        let snap = bundled_catalog();
        let all = search(&snap, &Decision::Allow, "e", 3);
        assert_eq!(all.hits.len(), 3);
        assert!(all.total > 20, "{}", all.total);
        let only_data = Decision::Conditional(Condition::Rule(Rule::IsEntityOwner {
            claims: vec!["group:default/data".into()],
        }));
        let r = search(&snap, &only_data, "e", 50);
        assert!(r.total < all.total && r.total > 0);
        assert!(r.hits.iter().all(|h| h
            .owner
            .as_ref()
            .is_some_and(|o| o.entity_ref == "group:default/data")));
        assert_eq!(search(&snap, &Decision::Deny, "e", 50).total, 0);
        // Long, many-word and wildcard queries are cut, not refused.
        let long = "a ".repeat(10_000);
        assert!(
            search(&snap, &Decision::Allow, &long, 5)
                .query
                .chars()
                .count()
                <= super::MAX_QUERY
        );
        let _ = search(&snap, &Decision::Allow, "%%__%%", 5);
        assert_eq!(search(&snap, &Decision::Allow, "   ", 5).total, 0);
    }

    #[test]
    fn the_api_explorer_filters_by_type_and_lifecycle() {
        let snap = bundled_catalog();
        let all = api_explorer(&snap, &Decision::Allow, "", "", 1);
        assert_eq!(all.apis.len(), 5);
        assert!(all.types.values.contains(&("openapi".to_string(), 2)));
        let open = api_explorer(&snap, &Decision::Allow, "OpenAPI", "production", 1);
        let names: Vec<_> = open
            .apis
            .iter()
            .map(|a| a.row.link.label.as_str())
            .collect();
        assert_eq!(names, ["cart-api"]);
        assert_eq!((open.apis[0].providers, open.apis[0].consumers), (1, 3));
        // An oversized filter value matches nothing and is not compared API by API.
        let huge = "x".repeat(1_000_000);
        assert!(api_explorer(&snap, &Decision::Allow, &huge, "", 1)
            .apis
            .is_empty());
    }
}
