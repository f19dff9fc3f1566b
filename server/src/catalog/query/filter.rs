//! The `filter` query parameter of `GET /entities`, `/entities/by-query`, `/entity-facets` and
//! `POST /entities/by-refs` (Backstage's `parseEntityFilterParams`), and matching it against an
//! entity's [`SearchKeys`].
//!
//! Each `filter` parameter is a set of comma-separated conditions that must all hold; an entity
//! matches when any one parameter matches. A condition is `key` (the key exists, even with a null
//! value) or `key=value` (split at the first `=`, both sides trimmed, `key=` is the empty value).
//! Conditions on the same key (same spelling) inside one parameter are merged into one condition
//! that accepts any of their values — `kind=component,kind=api` is "kind is component or api",
//! which is how `@backstage/catalog-client` encodes `{kind: ['component', 'api']}`. Keys and
//! values compare lower-case, against the rows of [`search`](super::search).
//!
//! The newer JSON predicate filters (`$all`, `$any`, `$not`, `$in`, `$hasPrefix`, `$contains`) of
//! the POST routes are [`predicate`](super::predicate)'s.

use super::search::SearchKeys;
use super::QueryError;

/// One condition: the key must exist, and when `values` is set, hold one of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterCondition {
    /// Lower-case dotted key, e.g. `metadata.annotations.backstage.io/orphan`.
    pub key: String,
    /// Lower-case accepted values; `None` for an existence check.
    pub values: Option<Vec<String>>,
}

impl FilterCondition {
    /// Whether the entity satisfies this condition.
    pub fn matches(&self, keys: &SearchKeys) -> bool {
        match &self.values {
            None => keys.has_key(&self.key),
            Some(wanted) => keys
                .values(&self.key)
                .any(|v| wanted.iter().any(|w| w == v)),
        }
    }
}

/// A parsed filter: any of the condition sets must hold, each one completely.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityFilter {
    any_of: Vec<Vec<FilterCondition>>,
}

impl EntityFilter {
    /// A filter from condition sets (OR of ANDs); keys and values are lower-cased here.
    pub fn new(any_of: Vec<Vec<FilterCondition>>) -> Self {
        let any_of = any_of
            .into_iter()
            .map(|set| {
                set.into_iter()
                    .map(|c| FilterCondition {
                        key: c.key.to_lowercase(),
                        values: c
                            .values
                            .map(|vs| vs.iter().map(|v| v.to_lowercase()).collect()),
                    })
                    .collect()
            })
            .collect();
        EntityFilter { any_of }
    }

    /// A single `key=value` condition (e.g. `metadata.uid` for `/entities/by-uid`).
    pub fn key_equals(key: &str, value: &str) -> Self {
        Self::new(vec![vec![FilterCondition {
            key: key.to_owned(),
            values: Some(vec![value.to_owned()]),
        }]])
    }

    /// The condition sets; the entity must satisfy all conditions of at least one set.
    pub fn any_of(&self) -> &[Vec<FilterCondition>] {
        &self.any_of
    }

    /// Whether the entity matches.
    pub fn matches(&self, keys: &SearchKeys) -> bool {
        self.any_of
            .iter()
            .any(|set| set.iter().all(|c| c.matches(keys)))
    }
}

/// Parses every `filter` parameter; `Ok(None)` when there are none or all are blank.
pub fn parse_filters(params: &[String]) -> Result<Option<EntityFilter>, QueryError> {
    if params.len() > super::MAX_FILTERS {
        return Err(QueryError::TooManyFilters {
            count: params.len(),
            max: super::MAX_FILTERS,
        });
    }
    if let Some(length) = params
        .iter()
        .map(|p| p.chars().count())
        .find(|&n| n > super::MAX_FILTER_CHARS)
    {
        return Err(QueryError::FilterTooLong {
            length,
            max: super::MAX_FILTER_CHARS,
        });
    }
    let mut any_of = Vec::new();
    for param in params {
        if let Some(set) = parse_filter_string(param)? {
            any_of.push(set);
        }
    }
    if any_of.is_empty() {
        return Ok(None);
    }
    Ok(Some(EntityFilter { any_of }))
}

/// One `filter` parameter; `None` when it has no statements.
fn parse_filter_string(param: &str) -> Result<Option<Vec<FilterCondition>>, QueryError> {
    // (key as written, condition) — merging is by the key's spelling, as in Backstage.
    let mut by_key: Vec<(&str, FilterCondition)> = Vec::new();
    for statement in param.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (key, value) = match statement.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (statement, None),
        };
        if key.is_empty() {
            return Err(QueryError::InvalidFilter {
                statement: statement.to_owned(),
            });
        }
        let index = match by_key.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                by_key.push((
                    key,
                    FilterCondition {
                        key: key.to_lowercase(),
                        values: None,
                    },
                ));
                by_key.len() - 1
            }
        };
        if let Some(value) = value {
            by_key[index]
                .1
                .values
                .get_or_insert_with(Vec::new)
                .push(value.to_lowercase());
        }
    }
    if by_key.is_empty() {
        return Ok(None);
    }
    Ok(Some(by_key.into_iter().map(|(_, c)| c).collect()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn keys() -> SearchKeys {
        SearchKeys::new(&json!({
            "kind": "Component",
            "metadata": {
                "name": "artist-lookup",
                "tags": ["Java"],
                "description": null,
                "annotations": {"backstage.io/kubernetes-id": "Artist=Web", "x": ""}
            },
            "spec": {"type": "service", "lifecycle": "production"},
            "relations": [{"type": "ownedBy", "targetRef": "group:default/team-a"}]
        }))
    }

    #[test]
    fn parses_and_or_exists_and_merged_keys() {
        let f = parse_filters(&params(&[
            " kind = Component , spec.type",
            "kind=API,kind=System,Kind=x",
        ]))
        .unwrap()
        .unwrap();
        let c = |k: &str, v: Option<&[&str]>| FilterCondition {
            key: k.into(),
            values: v.map(|vs| vs.iter().map(|s| s.to_string()).collect()),
        };
        assert_eq!(
            f.any_of(),
            &[
                vec![c("kind", Some(&["component"])), c("spec.type", None)],
                vec![c("kind", Some(&["api", "system"])), c("kind", Some(&["x"]))],
            ]
        );
        assert_eq!(parse_filters(&params(&[])).unwrap(), None);
        assert_eq!(parse_filters(&params(&["", " , "])).unwrap(), None);
    }

    #[test]
    fn rejects_empty_keys_with_backstage_message() {
        let err = parse_filters(&params(&["kind=a", "=b"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid filter, '=b' is not a valid statement (expected a string on the form a=b \
             or a= or a)"
        );
    }

    #[test]
    fn matches_case_insensitively_with_or_and_exists() {
        let k = keys();
        let cases: &[(&[&str], bool)] = &[
            (&["kind=component"], true),
            (&["KIND=COMPONENT"], true),
            (&["kind=api"], false),
            (&["kind=api,kind=component"], true),
            (&["kind=api", "kind=component"], true),
            (&["kind=component,spec.type=website"], false),
            (
                &["kind=component,spec.type=service,spec.lifecycle=Production"],
                true,
            ),
            (&["spec.type"], true),
            (&["spec.owner"], false),
            (&["metadata.description"], true),
            (&["metadata.description="], false),
            (&["metadata.annotations.x="], true),
            (
                &["metadata.annotations.backstage.io/kubernetes-id=artist=web"],
                true,
            ),
            (
                &["metadata.annotations.backstage.io/kubernetes-id=artist"],
                false,
            ),
            (&["metadata.tags.java"], true),
            (&["metadata.tags=JAVA"], true),
            (&["relations.ownedby=group:default/team-a"], true),
            (&["relations.ownedBy=Group:Default/Team-A"], true),
            (&["relations.ownerOf"], false),
        ];
        for (filter, want) in cases {
            let f = parse_filters(&params(filter)).unwrap().unwrap();
            assert_eq!(f.matches(&k), *want, "{filter:?}");
        }
        assert!(EntityFilter::key_equals("Metadata.Name", "Artist-Lookup").matches(&k));
    }
}
