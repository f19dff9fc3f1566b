//! The in-memory config tree: a JSON-like value where every node remembers
//! the file (or `APP_CONFIG_*` variable) it was written in.
//!
//! Owns conversion from parsed YAML/JSON into [`Node`], Backstage's type
//! names for error messages (`typeOf` in `@backstage/config`), and conversion
//! back to `serde_json::Value` with Backstage's merge rules for
//! `getOptional` (nulls mask lower layers, objects deep-merge).

use std::sync::Arc;

/// Where a node was written: a file path, or `env APP_CONFIG_x`.
pub(crate) type Origin = Arc<str>;

/// A number as it was written, so integers survive a round trip to JSON.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    Int(i64),
    UInt(u64),
    Float(f64),
}

impl Num {
    /// The value as a double, like a JavaScript number.
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::UInt(u) => u as f64,
            Num::Float(f) => f,
        }
    }

    fn to_json(self) -> serde_json::Value {
        match self {
            Num::Int(i) => serde_json::Value::from(i),
            Num::UInt(u) => serde_json::Value::from(u),
            // NaN and infinities have no JSON form.
            Num::Float(f) => serde_json::Number::from_f64(f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
        }
    }
}

/// The value part of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Number(Num),
    String(String),
    Array(Vec<Node>),
    /// Keys in document order.
    Object(Vec<(String, Node)>),
}

/// A config value plus its origin.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) origin: Origin,
}

impl Node {
    pub(crate) fn new(value: Value, origin: &Origin) -> Node {
        Node {
            value,
            origin: origin.clone(),
        }
    }

    /// The child at `key` if this is an object that has it.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn is_object(&self) -> bool {
        matches!(self.value, Value::Object(_))
    }

    /// Backstage's `typeOf`: null, array, nan, empty-string, string, number,
    /// boolean or object.
    pub(crate) fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Array(_) => "array",
            Value::Number(n) if n.as_f64().is_nan() => "nan",
            Value::Number(_) => "number",
            Value::String(s) if s.is_empty() => "empty-string",
            Value::String(_) => "string",
            Value::Bool(_) => "boolean",
            Value::Object(_) => "object",
        }
    }

    /// Plain JSON, keeping nulls (used for arrays, which are never merged).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => n.to_json(),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Object(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// Backstage's `merge(into, from)`: a null `self` is undefined, a
    /// non-object `self` wins whole, and objects merge key by key with
    /// `from` (a lower-priority, already merged value) underneath; null
    /// entries disappear.
    pub(crate) fn merge_json(&self, from: Option<serde_json::Value>) -> Option<serde_json::Value> {
        match &self.value {
            Value::Null => None,
            Value::Object(entries) => {
                let mut from_obj = match from {
                    Some(serde_json::Value::Object(map)) => map,
                    _ => serde_json::Map::new(),
                };
                let mut out = serde_json::Map::new();
                for (key, child) in entries {
                    if let Some(v) = child.merge_json(from_obj.remove(key)) {
                        out.insert(key.clone(), v);
                    }
                }
                for (key, v) in from_obj {
                    out.insert(key, v);
                }
                Some(serde_json::Value::Object(out))
            }
            _ => Some(self.to_json()),
        }
    }
}

/// Converts parsed YAML into a tree whose nodes all have `origin`.
/// Tags are dropped (the tagged value is kept); non-string mapping keys are
/// turned into strings like JavaScript does.
pub(crate) fn from_yaml(value: serde_yaml::Value, origin: &Origin) -> Node {
    let value = match value {
        serde_yaml::Value::Null => Value::Null,
        serde_yaml::Value::Bool(b) => Value::Bool(b),
        serde_yaml::Value::Number(n) => Value::Number(yaml_number(&n)),
        serde_yaml::Value::String(s) => Value::String(s),
        serde_yaml::Value::Sequence(items) => {
            Value::Array(items.into_iter().map(|v| from_yaml(v, origin)).collect())
        }
        serde_yaml::Value::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (yaml_key(k), from_yaml(v, origin)))
                .collect(),
        ),
        serde_yaml::Value::Tagged(tagged) => return from_yaml(tagged.value, origin),
    };
    Node::new(value, origin)
}

fn yaml_number(n: &serde_yaml::Number) -> Num {
    if let Some(i) = n.as_i64() {
        Num::Int(i)
    } else if let Some(u) = n.as_u64() {
        Num::UInt(u)
    } else {
        Num::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

fn yaml_key(key: serde_yaml::Value) -> String {
    match key {
        serde_yaml::Value::String(s) => s,
        serde_yaml::Value::Null => "null".to_string(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::Tagged(tagged) => yaml_key(tagged.value),
        other => from_yaml(other, &Origin::from("")).to_json().to_string(),
    }
}

/// Converts parsed JSON into a tree whose nodes all have `origin`.
pub(crate) fn from_json(value: serde_json::Value, origin: &Origin) -> Node {
    let value = match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => Value::Number(if let Some(i) = n.as_i64() {
            Num::Int(i)
        } else if let Some(u) = n.as_u64() {
            Num::UInt(u)
        } else {
            Num::Float(n.as_f64().unwrap_or(f64::NAN))
        }),
        serde_json::Value::String(s) => Value::String(s),
        serde_json::Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| from_json(v, origin)).collect())
        }
        serde_json::Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, from_json(v, origin)))
                .collect(),
        ),
    };
    Node::new(value, origin)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn origin() -> Origin {
        Origin::from("t.yaml")
    }

    #[test]
    fn type_names_follow_backstage() {
        let o = origin();
        let cases = [
            (Value::Null, "null"),
            (Value::Array(vec![]), "array"),
            (Value::Number(Num::Float(f64::NAN)), "nan"),
            (Value::Number(Num::Int(1)), "number"),
            (Value::String(String::new()), "empty-string"),
            (Value::String("x".into()), "string"),
            (Value::Bool(true), "boolean"),
            (Value::Object(vec![]), "object"),
        ];
        for (value, name) in cases {
            assert_eq!(Node::new(value, &o).type_name(), name);
        }
    }

    #[test]
    fn yaml_conversion_keeps_integers_and_stringifies_keys() {
        let yaml: serde_yaml::Value =
            serde_yaml::from_str("a: 1\nb: 1.5\n3: x\ntrue: y\nc: !Tag z\n").unwrap();
        let node = from_yaml(yaml, &origin());
        assert_eq!(
            node.to_json(),
            json!({"a": 1, "b": 1.5, "3": "x", "true": "y", "c": "z"})
        );
        assert_eq!(&*node.get("a").unwrap().origin, "t.yaml");
    }

    #[test]
    fn merge_json_masks_nulls_and_deep_merges() {
        let top = from_json(json!({"a": {"x": 1, "gone": null}, "list": [1]}), &origin());
        let lower = json!({"a": {"y": 2, "gone": 3}, "list": [2, 3], "b": true});
        assert_eq!(
            top.merge_json(Some(lower)),
            Some(json!({"a": {"x": 1, "y": 2}, "list": [1], "b": true}))
        );
        let null = from_json(json!(null), &origin());
        assert_eq!(null.merge_json(Some(json!(1))), None);
    }
}
