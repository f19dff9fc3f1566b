//! Typed getters of [`Config`], with Backstage's validation and coercion:
//! - strings must be non-empty (`""` is a type error, "got empty-string");
//! - numbers accept numeric strings (`Number(value)`), else "unable to
//!   convert";
//! - booleans accept `y/yes/true/1/on` and `n/no/false/0/off` strings and
//!   the numbers 1 and 0;
//! - string arrays need non-empty strings, config arrays need objects
//!   (element errors name `key[index]`); arrays are never merged;
//! - `get_optional_config` merges the object across layers.
//!
//! Required variants turn absence into [`ConfigError::Missing`] (or
//! [`ConfigError::MissingUnsetVariable`]).

use super::coerce::{js_bool, js_number};
use super::error::ConfigError;
use super::keys;
use super::node::{Node, Value};
use super::reader::{Config, Lookup, Step};

impl Config {
    /// The string at `key`; `None` if absent or null.
    pub fn get_optional_string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.find(key)? {
            None => Ok(None),
            Some((_, node)) => match &node.value {
                Value::String(s) if !s.is_empty() => Ok(Some(s.clone())),
                _ => Err(self.type_error(key, node, "string")),
            },
        }
    }

    /// The string at `key`, required.
    pub fn get_string(&self, key: &str) -> Result<String, ConfigError> {
        self.get_optional_string(key)?
            .ok_or_else(|| self.missing(key))
    }

    /// The number at `key`; numeric strings are converted like JavaScript's `Number()`.
    pub fn get_optional_number(&self, key: &str) -> Result<Option<f64>, ConfigError> {
        match self.find(key)? {
            None => Ok(None),
            Some((_, node)) => match &node.value {
                Value::Number(n) => Ok(Some(n.as_f64())),
                Value::String(s) => match js_number(s) {
                    Some(n) if n.is_finite() => Ok(Some(n)),
                    _ => Err(self.convert_error(key, node, "number")),
                },
                _ => Err(self.type_error(key, node, "number")),
            },
        }
    }

    /// The number at `key`, required.
    pub fn get_number(&self, key: &str) -> Result<f64, ConfigError> {
        self.get_optional_number(key)?
            .ok_or_else(|| self.missing(key))
    }

    /// The boolean at `key`; `"true"`/`"yes"`/`"on"`/`"1"` and their
    /// opposites are accepted as strings, 1 and 0 as numbers.
    pub fn get_optional_bool(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.find(key)? {
            None => Ok(None),
            Some((_, node)) => match &node.value {
                Value::Bool(b) => Ok(Some(*b)),
                Value::Number(n) if n.as_f64() == 1.0 => Ok(Some(true)),
                Value::Number(n) if n.as_f64() == 0.0 => Ok(Some(false)),
                Value::Number(_) => Err(self.convert_error(key, node, "boolean")),
                Value::String(s) => match js_bool(s) {
                    Some(b) => Ok(Some(b)),
                    None => Err(self.convert_error(key, node, "boolean")),
                },
                _ => Err(self.type_error(key, node, "boolean")),
            },
        }
    }

    /// The boolean at `key`, required.
    pub fn get_bool(&self, key: &str) -> Result<bool, ConfigError> {
        self.get_optional_bool(key)?
            .ok_or_else(|| self.missing(key))
    }

    /// The array of non-empty strings at `key`.
    pub fn get_optional_string_array(&self, key: &str) -> Result<Option<Vec<String>>, ConfigError> {
        let Some((_, node)) = self.find(key)? else {
            return Ok(None);
        };
        let Value::Array(items) = &node.value else {
            return Err(self.type_error(key, node, "string-array"));
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match &item.value {
                Value::String(s) if !s.is_empty() => out.push(s.clone()),
                _ => return Err(self.type_error(&keys::index(key, i), item, "string-array")),
            }
        }
        Ok(Some(out))
    }

    /// The array of non-empty strings at `key`, required.
    pub fn get_string_array(&self, key: &str) -> Result<Vec<String>, ConfigError> {
        self.get_optional_string_array(key)?
            .ok_or_else(|| self.missing(key))
    }

    /// The object at `key` as a view, merged across all layers that have an
    /// object there (a lower layer with a non-object there is a type error,
    /// as in Backstage).
    pub fn get_optional_config(&self, key: &str) -> Result<Option<Config>, ConfigError> {
        let parts = self.parts(key)?;
        let lookups = self
            .view
            .iter()
            .map(|vl| self.read(vl, &parts).map(|lookup| (vl, lookup)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut acc: Option<Vec<_>> = None;
        for (vl, lookup) in lookups.into_iter().rev() {
            acc = match lookup {
                Lookup::Undefined => acc,
                Lookup::Null(_) => None,
                Lookup::Value(node) if node.is_object() => {
                    let mut view = vec![Config::child_layer(vl, &parts)];
                    view.extend(acc.unwrap_or_default());
                    Some(view)
                }
                Lookup::Value(node) => return Err(self.type_error(key, node, "object")),
            };
        }
        Ok(acc.map(|view| Config {
            shared: self.shared.clone(),
            view,
            prefix: self.full_key(key),
        }))
    }

    /// The object at `key` as a view, required.
    pub fn get_config(&self, key: &str) -> Result<Config, ConfigError> {
        self.get_optional_config(key)?
            .ok_or_else(|| self.missing(key))
    }

    /// The array of objects at `key`, one view per element (elements are
    /// not merged with other layers; their full keys are `key[i]`).
    pub fn get_optional_config_array(&self, key: &str) -> Result<Option<Vec<Config>>, ConfigError> {
        let Some((vl, node)) = self.find(key)? else {
            return Ok(None);
        };
        let Value::Array(items) = &node.value else {
            return Err(self.type_error(key, node, "object-array"));
        };
        if let Some((i, item)) = items.iter().enumerate().find(|(_, n)| !n.is_object()) {
            return Err(self.type_error(&keys::index(key, i), item, "object-array"));
        }
        let parts = self.parts(key)?;
        let base = Config::child_layer(vl, &parts);
        Ok(Some(
            (0..items.len())
                .map(|i| {
                    let mut element = base.clone();
                    element.path.push(Step::Index(i));
                    Config {
                        shared: self.shared.clone(),
                        view: vec![element],
                        prefix: keys::index(&self.full_key(key), i),
                    }
                })
                .collect(),
        ))
    }

    /// The array of objects at `key`, required.
    pub fn get_config_array(&self, key: &str) -> Result<Vec<Config>, ConfigError> {
        self.get_optional_config_array(key)?
            .ok_or_else(|| self.missing(key))
    }

    /// The value at `key`, required (see [`Config::get_optional_value`]).
    pub fn get_value(&self, key: &str) -> Result<serde_json::Value, ConfigError> {
        self.try_get_optional_value(key)?
            .ok_or_else(|| self.missing(key))
    }

    fn convert_error(&self, key: &str, node: &Node, wanted: &str) -> ConfigError {
        ConfigError::Convert {
            key: self.full_key(key),
            origin: node.origin.to_string(),
            wanted: wanted.to_string(),
        }
    }
}
