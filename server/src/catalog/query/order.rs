//! Ordering: the `order` parameter of `GET /entities` (`asc:metadata.name`, Backstage's
//! `parseEntityOrderParams`), the `orderField` parameter of `GET /entities/by-query`
//! (`metadata.name,asc`, `parseEntityOrderFieldParams`), and the comparator both use.
//!
//! Entities sort by the lower-case search value of each field (byte order of the lower-cased
//! string, as SQLite compares; Postgres collations may order punctuation differently). An entity
//! with no non-null value for a field sorts after all that have one, in both directions — the
//! `NULLS LAST` of Backstage's paged `GET /entities`. An entity with several values (e.g.
//! `metadata.tags`) sorts by its smallest value ascending and its largest descending (Backstage
//! would list it once per value). Ties break by canonical entity ref, ascending.
//!
//! Not here: Backstage's `/entities/by-query` (and unpaged `GET /entities`) use only the first
//! order field and leave out entities without a value for it — callers apply that with
//! [`has_sort_value`].

use std::cmp::Ordering;

use super::search::SearchKeys;
use super::QueryError;

/// Sort direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortOrder {
    /// Ascending (`asc`).
    Asc,
    /// Descending (`desc`).
    Desc,
}

impl SortOrder {
    /// `asc` or `desc`, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Asc => "asc",
            SortOrder::Desc => "desc",
        }
    }
}

/// One sort key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderField {
    /// Lower-case dotted search key, e.g. `metadata.name`.
    pub field: String,
    /// Direction.
    pub order: SortOrder,
}

impl OrderField {
    /// An order field; the key is lower-cased, since search keys are.
    pub fn new(field: &str, order: SortOrder) -> Self {
        OrderField {
            field: field.to_lowercase(),
            order,
        }
    }
}

/// Parses `order` parameters of `GET /entities`: each `asc:<field>` or `desc:<field>`.
pub fn parse_order(params: &[String]) -> Result<Vec<OrderField>, QueryError> {
    check_order_count(params)?;
    params
        .iter()
        .map(|item| {
            let (order, field) = if let Some(f) = item.strip_prefix("asc:") {
                (SortOrder::Asc, f)
            } else if let Some(f) = item.strip_prefix("desc:") {
                (SortOrder::Desc, f)
            } else {
                return Err(QueryError::InvalidOrder { item: item.clone() });
            };
            // The regex `^(asc|desc):(.+)$`: `.` matches no line terminator.
            if field.is_empty() || field.contains(['\n', '\r', '\u{2028}', '\u{2029}']) {
                return Err(QueryError::InvalidOrder { item: item.clone() });
            }
            super::check_field_name("order", field)?;
            Ok(OrderField::new(field, order))
        })
        .collect()
}

/// Parses `orderField` parameters of `GET /entities/by-query`: each `<field>[,asc|desc]`
/// (ascending when the order is left out; anything after a second comma is ignored).
pub fn parse_order_fields(params: &[String]) -> Result<Vec<OrderField>, QueryError> {
    check_order_count(params)?;
    params
        .iter()
        .map(|item| {
            let mut parts = item.split(',');
            let field = parts.next().unwrap_or_default();
            let order = match parts.next() {
                None | Some("asc") => SortOrder::Asc,
                Some("desc") => SortOrder::Desc,
                Some(_) => return Err(QueryError::InvalidOrderFieldOrder),
            };
            super::check_field_name("orderField", field)?;
            Ok(OrderField::new(field, order))
        })
        .collect()
}

fn check_order_count(params: &[String]) -> Result<(), QueryError> {
    if params.len() > super::MAX_ORDER_FIELDS {
        return Err(QueryError::TooManyOrderFields {
            count: params.len(),
            max: super::MAX_ORDER_FIELDS,
        });
    }
    Ok(())
}

/// The value an entity sorts by for `field`: its smallest value ascending, largest descending.
pub fn sort_value<'a>(keys: &'a SearchKeys, field: &OrderField) -> Option<&'a str> {
    let values = keys.values(&field.field);
    match field.order {
        SortOrder::Asc => values.min(),
        SortOrder::Desc => values.max(),
    }
}

/// Whether the entity has a non-null value for the lower-case `field`.
pub fn has_sort_value(keys: &SearchKeys, field: &str) -> bool {
    keys.values(field).next().is_some()
}

/// Compares two entities by `order`, missing values last, then by canonical ref.
pub fn compare(a: &SearchKeys, b: &SearchKeys, order: &[OrderField]) -> Ordering {
    for field in order {
        let by_field = match (sort_value(a, field), sort_value(b, field)) {
            (Some(x), Some(y)) => match field.order {
                SortOrder::Asc => x.cmp(y),
                SortOrder::Desc => y.cmp(x),
            },
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        if by_field != Ordering::Equal {
            return by_field;
        }
    }
    a.entity_ref().cmp(b.entity_ref())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_order_params() {
        assert_eq!(
            parse_order(&strings(&["asc:metadata.name", "desc:Spec.Type"])).unwrap(),
            vec![
                OrderField::new("metadata.name", SortOrder::Asc),
                OrderField::new("spec.type", SortOrder::Desc),
            ]
        );
        for bad in ["metadata.name", "asc:", "ASC:kind", "up:kind", "asc:a\nb"] {
            let err = parse_order(&strings(&[bad])).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "Invalid order parameter \"{bad}\", expected \"<asc or desc>:<field name>\""
                )
            );
        }
    }

    #[test]
    fn parses_order_field_params() {
        assert_eq!(
            parse_order_fields(&strings(&["metadata.name,desc", "kind", "spec.type,asc,x"]))
                .unwrap(),
            vec![
                OrderField::new("metadata.name", SortOrder::Desc),
                OrderField::new("kind", SortOrder::Asc),
                OrderField::new("spec.type", SortOrder::Asc),
            ]
        );
        for bad in ["metadata.name,up", "metadata.name,", "kind,DESC"] {
            assert_eq!(
                parse_order_fields(&strings(&[bad]))
                    .unwrap_err()
                    .to_string(),
                "Invalid order field order, must be asc or desc"
            );
        }
    }

    fn keys(name: &str, spec_type: Option<&str>, tags: &[&str]) -> SearchKeys {
        let mut e = json!({"kind": "Component", "metadata": {"name": name, "tags": tags}});
        if let Some(t) = spec_type {
            e["spec"] = json!({"type": t});
        }
        SearchKeys::new(&e)
    }

    fn sorted(entities: &[SearchKeys], order: &[OrderField]) -> Vec<String> {
        let mut refs: Vec<&SearchKeys> = entities.iter().collect();
        refs.sort_by(|a, b| compare(a, b, order));
        refs.iter()
            .map(|k| {
                k.entity_ref()
                    .trim_start_matches("component:default/")
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn sorts_case_insensitively_missing_last_then_by_ref() {
        let entities = vec![
            keys("b", Some("Website"), &["m"]),
            keys("a", None, &[]),
            keys("c", Some("service"), &["a", "z"]),
            keys("D", Some("service"), &[]),
            keys("e", None, &["b"]),
        ];
        let by = |f: &str, o| vec![OrderField::new(f, o)];
        assert_eq!(
            sorted(&entities, &by("spec.type", SortOrder::Asc)),
            strings(&["c", "d", "b", "a", "e"])
        );
        assert_eq!(
            sorted(&entities, &by("spec.type", SortOrder::Desc)),
            strings(&["b", "c", "d", "a", "e"])
        );
        assert_eq!(
            sorted(&entities, &by("metadata.name", SortOrder::Desc)),
            strings(&["e", "d", "c", "b", "a"])
        );
        // Multi-valued: smallest ascending, largest descending.
        assert_eq!(
            sorted(&entities, &by("metadata.tags", SortOrder::Asc)),
            strings(&["c", "e", "b", "a", "d"])
        );
        assert_eq!(
            sorted(&entities, &by("metadata.tags", SortOrder::Desc)),
            strings(&["c", "b", "e", "a", "d"])
        );
        let two = vec![
            OrderField::new("spec.type", SortOrder::Asc),
            OrderField::new("metadata.name", SortOrder::Desc),
        ];
        assert_eq!(sorted(&entities, &two), strings(&["d", "c", "b", "e", "a"]));
        assert_eq!(sorted(&entities, &[]), strings(&["a", "b", "c", "d", "e"]));
        assert!(has_sort_value(&entities[0], "spec.type"));
        assert!(!has_sort_value(&entities[1], "spec.type"));
    }
}
