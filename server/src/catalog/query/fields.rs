//! The `fields` projection (Backstage's `parseEntityTransformParams`): keep only the named dotted
//! paths of each entity.
//!
//! Paths are resolved against the entity greedily, as Backstage does: a path part that is not a
//! key at that level is joined with the next part by a `.` and tried again, so
//! `metadata.annotations.backstage.io/techdocs-ref` finds the annotation key
//! `backstage.io/techdocs-ref`, and the output keeps it as one key. A path that resolves to nothing
//! is left out; one that resolves to `null` is kept as `null`. Numeric parts index into arrays.
//! An empty field list means "no projection".

use serde_json::{Map, Value};

use super::QueryError;

/// Parses `fields` parameters: comma-separated, repeatable, trimmed, blanks and duplicates
/// dropped (first occurrence kept). Paths with `[` are rejected like in Backstage.
pub fn parse_fields(params: &[String]) -> Result<Vec<String>, QueryError> {
    let mut fields: Vec<String> = Vec::new();
    for field in params.iter().flat_map(|p| p.split(',')).map(str::trim) {
        if field.is_empty() || fields.iter().any(|f| f == field) {
            continue;
        }
        fields.push(field.to_owned());
    }
    if let Some(bad) = fields.iter().find(|f| f.contains('[')) {
        return Err(QueryError::ArrayField { field: bad.clone() });
    }
    Ok(fields)
}

/// Keeps only `fields` of `entity`; with no fields, the whole entity.
pub fn project(entity: &Value, fields: &[String]) -> Value {
    if fields.is_empty() {
        return entity.clone();
    }
    let mut output = Value::Object(Map::new());
    for field in fields {
        if let Some((path, value)) = resolve(entity, field) {
            set_path(&mut output, &path, value.clone());
        }
    }
    output
}

/// Whether `part` is a child of `current` (lodash `hasIn` on objects and arrays).
fn child<'a>(current: &'a Value, part: &str) -> Option<&'a Value> {
    match current {
        Value::Object(map) => map.get(part),
        Value::Array(items) => array_index(part).and_then(|i| items.get(i)),
        _ => None,
    }
}

/// `part` as an array index (lodash `isIndex`: `0` or digits without a leading zero).
fn array_index(part: &str) -> Option<usize> {
    let is_index = part == "0"
        || (!part.is_empty() && !part.starts_with('0') && part.bytes().all(|b| b.is_ascii_digit()));
    if is_index {
        part.parse().ok()
    } else {
        None
    }
}

/// Backstage's `getPathArrayAndValue`: the real key path of `field` and the value there.
fn resolve<'a>(entity: &'a Value, field: &str) -> Option<(Vec<String>, &'a Value)> {
    let parts: Vec<&str> = field.split('.').collect();
    let mut path = Vec::new();
    let mut current = entity;
    let mut pending = String::new();
    for (i, part) in parts.iter().enumerate() {
        // A part that missed is retried joined with the next one (`backstage` + `io/x`).
        let candidate = if pending.is_empty() {
            (*part).to_owned()
        } else {
            format!("{pending}.{part}")
        };
        if let Some(next) = child(current, &candidate) {
            path.push(candidate);
            current = next;
            pending.clear();
        } else if i + 1 < parts.len() {
            pending = candidate;
        } else {
            return None;
        }
    }
    Some((path, current))
}

/// lodash `set`: creates missing containers (an array when the next key is an index).
fn set_path(root: &mut Value, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current = root;
    for (i, key) in parents.iter().enumerate() {
        let next_is_index = array_index(&path[i + 1]).is_some();
        let fresh = || {
            if next_is_index {
                Value::Array(Vec::new())
            } else {
                Value::Object(Map::new())
            }
        };
        let Some(slot) = slot_mut(current, key) else {
            return;
        };
        if !matches!(slot, Value::Object(_) | Value::Array(_)) {
            *slot = fresh();
        }
        current = slot;
    }
    if let Some(slot) = slot_mut(current, last) {
        *slot = value;
    }
}

/// The slot for `key` in an object, or at an index of an array (padded with nulls); `None` for a
/// non-index key on an array, which JSON cannot represent.
fn slot_mut<'a>(container: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    match container {
        Value::Object(map) => Some(map.entry(key.to_owned()).or_insert(Value::Null)),
        Value::Array(items) => {
            let i = array_index(key)?;
            if items.len() <= i {
                items.resize(i + 1, Value::Null);
            }
            items.get_mut(i)
        }
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn entity() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {
                "name": "a",
                "namespace": "default",
                "description": null,
                "tags": ["x", "y"],
                "annotations": {
                    "backstage.io/techdocs-ref": "dir:.",
                    "backstage.io/kubernetes-id": "a"
                }
            },
            "spec": {"type": "service", "owner": "team-a"},
            "relations": [{"type": "ownedBy", "targetRef": "group:default/team-a"}]
        })
    }

    #[test]
    fn parses_comma_separated_repeated_params() {
        let got = parse_fields(&strings(&["kind, metadata.name", "kind,,spec", " "])).unwrap();
        assert_eq!(got, strings(&["kind", "metadata.name", "spec"]));
        let err = parse_fields(&strings(&["kind,relations[0]"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid field \"relations[0]\", array type fields are not supported"
        );
    }

    #[test]
    fn projects_named_paths_only() {
        let cases: Vec<(&[&str], Value)> = vec![
            (
                &["kind", "metadata.name"],
                json!({"kind": "Component", "metadata": {"name": "a"}}),
            ),
            (
                &["metadata.annotations.backstage.io/techdocs-ref"],
                json!({"metadata": {"annotations": {"backstage.io/techdocs-ref": "dir:."}}}),
            ),
            (&["metadata.annotations.backstage.io/missing"], json!({})),
            (&["spec.nothing", "nope"], json!({})),
            (
                &["metadata.description"],
                json!({"metadata": {"description": null}}),
            ),
            (
                &["metadata.tags.1"],
                json!({"metadata": {"tags": [null, "y"]}}),
            ),
            (
                &["relations"],
                json!({"relations": entity()["relations"].clone()}),
            ),
            (
                &["spec", "spec.type"],
                json!({"spec": {"type": "service", "owner": "team-a"}}),
            ),
        ];
        for (fields, want) in cases {
            assert_eq!(project(&entity(), &strings(fields)), want, "{fields:?}");
        }
        assert_eq!(project(&entity(), &[]), entity());
    }
}
