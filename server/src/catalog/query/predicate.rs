//! Backstage's filter predicates (`@backstage/filter-predicates`): the JSON `query` of
//! `POST /entities/by-query` and `POST /entities/by-refs`, matched against an entity's
//! [`SearchKeys`] as catalog-backend 4.0.5 matches them against its search table
//! (`dist/request/applyPredicateEntityFilterToQuery.cjs.js` 14-270):
//!
//! - `{field: value, ...}`: every field holds the value (keys and values lower-cased; a number or
//!   boolean as JavaScript's `String(value)`);
//! - `{field: {$exists: bool}}`, `{$in: [values]}`, `{$hasPrefix: text}`, `{$contains: value}` (a
//!   value of an array field), and on `relations` `{$contains: {type, targetRef?}}` with
//!   `targetRef` a ref or `{$in: [refs]}`;
//! - `{$all: [...]}` (true when empty), `{$any: [...]}` (false when empty), `{$not: p}`.
//!
//! Hand-written: the predicate language is Backstage's own, and its matching depends on the
//! catalog's search rows, which are ours.

use serde_json::{Map, Value};

use super::search::SearchKeys;

/// A parsed predicate.
#[derive(Clone, Debug, PartialEq)]
pub enum Predicate {
    /// Every one holds.
    All(Vec<Predicate>),
    /// At least one holds.
    Any(Vec<Predicate>),
    /// It does not hold.
    Not(Box<Predicate>),
    /// Every field condition holds.
    Fields(Vec<(String, ValuePredicate)>),
}

/// A condition on one field's values (lower-case).
#[derive(Clone, Debug, PartialEq)]
pub enum ValuePredicate {
    /// One of the values equals this.
    Equals(String),
    /// The field exists (even with a null value), or does not.
    Exists(bool),
    /// One of the values is one of these.
    In(Vec<String>),
    /// One of the values starts with this.
    HasPrefix(String),
    /// A relation of this type (to one of these targets, when given).
    Relation {
        relation_type: String,
        targets: Option<Vec<String>>,
    },
}

/// Most conditions and operators in one predicate (a Greenroom limit: each is evaluated against
/// every entity, so the work a request can ask for is bounded; Backstage bounds the body at
/// 100 kB instead).
pub const MAX_PREDICATE_NODES: usize = 256;

/// Parses a predicate; the error is Backstage's message (`Invalid query: …`).
pub fn parse_predicate(value: &Value) -> Result<Predicate, String> {
    let nodes = count_nodes(value);
    if nodes > MAX_PREDICATE_NODES {
        return Err(format!(
            "Invalid query: the predicate has {nodes} conditions and operators; at most {MAX_PREDICATE_NODES} are allowed"
        ));
    }
    parse(value, "").map_err(|at| format!("Invalid query: Validation error: Invalid at \"{at}\""))
}

/// Every value in `value`, and every member of every object: at least the predicate's
/// conditions and operators, however they are written.
fn count_nodes(value: &Value) -> usize {
    1 + match value {
        Value::Object(map) => map.values().map(|v| 1 + count_nodes(v)).sum::<usize>(),
        Value::Array(items) => items.iter().map(count_nodes).sum(),
        _ => 0,
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Parses `value` at `path`; `Err(path)` names where it is invalid.
fn parse(value: &Value, path: &str) -> Result<Predicate, String> {
    let Value::Object(map) = value else {
        return Err(path.to_string());
    };
    let operator = |key: &str| map.len() == 1 && map.contains_key(key);
    if operator("$all") || operator("$any") {
        let key = if map.contains_key("$all") {
            "$all"
        } else {
            "$any"
        };
        let Some(Value::Array(items)) = map.get(key) else {
            return Err(join(path, key));
        };
        let parsed = items
            .iter()
            .enumerate()
            .map(|(i, item)| parse(item, &join(&join(path, key), &i.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(if key == "$all" {
            Predicate::All(parsed)
        } else {
            Predicate::Any(parsed)
        });
    }
    if operator("$not") {
        return Ok(Predicate::Not(Box::new(parse(
            &map["$not"],
            &join(path, "$not"),
        )?)));
    }
    let mut fields = Vec::with_capacity(map.len());
    for (field, condition) in map {
        let at = join(path, field);
        // Longer keys are never indexed (and would be hashed for every entity).
        if field.starts_with('$') || field.chars().count() > super::MAX_FIELD_CHARS {
            return Err(at.chars().take(super::MAX_FIELD_CHARS).collect());
        }
        fields.push((
            field.to_lowercase(),
            value_predicate(field, condition, &at)?,
        ));
    }
    Ok(Predicate::Fields(fields))
}

/// A primitive as JavaScript's `String(value)`, lower-cased; `None` for objects and arrays.
fn primitive(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.to_lowercase()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Null => Some("null".into()),
        _ => None,
    }
}

fn value_predicate(field: &str, condition: &Value, at: &str) -> Result<ValuePredicate, String> {
    if let Some(p) = primitive(condition).filter(|_| !condition.is_null()) {
        return Ok(ValuePredicate::Equals(p));
    }
    let Value::Object(op) = condition else {
        return Err(at.to_string());
    };
    let single = |key: &str| -> Option<&Value> { (op.len() == 1).then(|| op.get(key)).flatten() };
    if let Some(v) = single("$exists") {
        return v
            .as_bool()
            .map(ValuePredicate::Exists)
            .ok_or_else(|| join(at, "$exists"));
    }
    if let Some(v) = single("$in") {
        return in_list(v)
            .ok_or_else(|| join(at, "$in"))
            .map(ValuePredicate::In);
    }
    if let Some(v) = single("$hasPrefix") {
        return v
            .as_str()
            .map(|s| ValuePredicate::HasPrefix(s.to_lowercase()))
            .ok_or_else(|| join(at, "$hasPrefix"));
    }
    if let Some(v) = single("$contains") {
        if let Some(p) = primitive(v).filter(|_| !v.is_null()) {
            return Ok(ValuePredicate::Equals(p));
        }
        let here = join(at, "$contains");
        let Value::Object(relation) = v else {
            return Err(here);
        };
        if !field.eq_ignore_ascii_case("relations") {
            return Err(here);
        }
        return relation_predicate(relation).ok_or(here);
    }
    Err(at.to_string())
}

fn in_list(v: &Value) -> Option<Vec<String>> {
    v.as_array()?.iter().map(primitive).collect()
}

fn relation_predicate(relation: &Map<String, Value>) -> Option<ValuePredicate> {
    if relation.keys().any(|k| k != "type" && k != "targetRef") {
        return None;
    }
    let relation_type = relation.get("type")?.as_str()?.to_lowercase();
    let targets = match relation.get("targetRef") {
        None => None,
        Some(Value::String(s)) => Some(vec![s.to_lowercase()]),
        Some(Value::Object(o)) if o.len() == 1 => Some(in_list(o.get("$in")?)?),
        Some(_) => return None,
    };
    Some(ValuePredicate::Relation {
        relation_type,
        targets,
    })
}

impl Predicate {
    /// Whether the entity satisfies the predicate.
    pub fn matches(&self, keys: &SearchKeys) -> bool {
        match self {
            Predicate::All(items) => items.iter().all(|p| p.matches(keys)),
            Predicate::Any(items) => items.iter().any(|p| p.matches(keys)),
            Predicate::Not(p) => !p.matches(keys),
            Predicate::Fields(fields) => fields.iter().all(|(field, condition)| {
                let mut values = keys.values(field);
                match condition {
                    ValuePredicate::Equals(v) => values.any(|x| x == v),
                    ValuePredicate::Exists(exists) => keys.has_key(field) == *exists,
                    ValuePredicate::In(list) => values.any(|x| list.iter().any(|v| v == x)),
                    ValuePredicate::HasPrefix(prefix) => values.any(|x| x.starts_with(prefix)),
                    ValuePredicate::Relation {
                        relation_type,
                        targets,
                    } => {
                        let key = format!("relations.{relation_type}");
                        match targets {
                            None => keys.has_key(&key),
                            Some(targets) => {
                                keys.values(&key).any(|x| targets.iter().any(|t| t == x))
                            }
                        }
                    }
                }
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys() -> SearchKeys {
        SearchKeys::new(&json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": "Checkout", "tags": ["web", "java"]},
            "spec": {"type": "service", "owner": "payments"},
            "relations": [{"type": "ownedBy", "targetRef": "group:default/payments"}]
        }))
    }

    fn holds(p: Value) -> bool {
        parse_predicate(&p).unwrap().matches(&keys())
    }

    #[test]
    fn matches_as_backstage_does() {
        assert!(holds(json!({"kind": "component"})));
        assert!(holds(
            json!({"KIND": "Component", "metadata.name": "checkout"})
        ));
        assert!(!holds(json!({"kind": "api"})));
        assert!(holds(json!({"metadata.tags": "java"})));
        assert!(holds(json!({"metadata.tags": {"$contains": "web"}})));
        assert!(holds(json!({"spec.type": {"$in": ["website", "Service"]}})));
        assert!(holds(json!({"metadata.name": {"$hasPrefix": "CHECK"}})));
        assert!(holds(json!({"spec.lifecycle": {"$exists": false}})));
        assert!(holds(
            json!({"relations": {"$contains": {"type": "ownedBy"}}})
        ));
        assert!(holds(
            json!({"relations": {"$contains": {"type": "ownedby", "targetRef": {"$in": ["group:default/payments"]}}}})
        ));
        assert!(!holds(
            json!({"relations": {"$contains": {"type": "ownedBy", "targetRef": "group:default/other"}}})
        ));
        assert!(holds(json!({"$all": []})));
        assert!(!holds(json!({"$any": []})));
        assert!(holds(json!({})));
        assert!(holds(json!({"$not": {"kind": "api"}})));
        assert!(holds(
            json!({"$any": [{"kind": "api"}, {"$all": [{"kind": "component"}, {"spec.type": "service"}]}]})
        ));
    }

    #[test]
    fn a_predicate_too_big_to_evaluate_is_refused() {
        let many: Vec<Value> = (0..300)
            .map(|i| json!({"metadata.name": format!("n{i}")}))
            .collect();
        let err = parse_predicate(&json!({"$any": many})).unwrap_err();
        assert!(err.contains("at most 256"), "{err}");
    }

    #[test]
    fn refuses_what_backstage_refuses() {
        for bad in [
            json!("component"),
            json!({"$foo": 1}),
            json!({"$all": [{"kind": "x"}], "kind": "x"}),
            json!({"kind": {"$in": "x"}}),
            json!({"kind": {"$contains": {"type": "x"}}}),
            json!({"kind": [1]}),
        ] {
            assert!(parse_predicate(&bad).is_err(), "{bad}");
        }
    }
}
