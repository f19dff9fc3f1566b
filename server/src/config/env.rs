//! `APP_CONFIG_*` environment overrides (Backstage's `readEnvConfig`).
//!
//! `APP_CONFIG_backend_listen_port=8080` sets `backend.listen.port`: the
//! name after the prefix is split on `_`, and every part must match the key
//! pattern (letters/digits, `-` and `:` allowed inside). Empty values are
//! ignored. The value is parsed as JSON when it is valid JSON (so `8080` is
//! a number, `true` a boolean, `{"a":1}` an object), otherwise kept as a
//! string; JSON `null` is an error. The resulting layer has the HIGHEST
//! priority, above every config file. Variables are applied in name order,
//! so a conflict (`APP_CONFIG_a` and `APP_CONFIG_a_b`) is reported
//! deterministically.

use std::collections::HashMap;

use super::error::ConfigError;
use super::keys::is_valid_key_part;
use super::node::{from_json, Node, Origin, Value};

/// Prefix of config override variables.
pub(crate) const ENV_PREFIX: &str = "APP_CONFIG_";

/// Name of the env layer in "looked in" lists.
pub(crate) const ENV_LAYER_NAME: &str = "env (APP_CONFIG_*)";

/// Builds the env layer; `Ok(None)` when no variable applies.
pub(crate) fn read_env_config(
    env: &HashMap<String, String>,
) -> Result<Option<Node>, Vec<ConfigError>> {
    let mut names: Vec<&String> = env
        .keys()
        .filter(|name| name.starts_with(ENV_PREFIX))
        .collect();
    names.sort();
    let root_origin = Origin::from(ENV_LAYER_NAME);
    let mut root = Node::new(Value::Object(Vec::new()), &root_origin);
    let mut errors = Vec::new();
    let mut any = false;
    for name in names {
        let Some(raw) = env.get(name.as_str()) else {
            continue;
        };
        if raw.is_empty() {
            continue;
        }
        match apply(&mut root, name, raw) {
            Ok(()) => any = true,
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        Err(errors)
    } else if any {
        Ok(Some(root))
    } else {
        Ok(None)
    }
}

/// Applies one variable to the layer.
fn apply(root: &mut Node, name: &str, raw: &str) -> Result<(), ConfigError> {
    let key = name.strip_prefix(ENV_PREFIX).unwrap_or(name);
    let parts: Vec<&str> = key.split('_').collect();
    if !parts.iter().all(|p| is_valid_key_part(p)) {
        return Err(ConfigError::InvalidEnvKey {
            var: name.to_string(),
            key: key.to_string(),
        });
    }
    let origin = Origin::from(format!("env {name}"));
    let value = match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(serde_json::Value::Null) => {
            return Err(ConfigError::EnvNullValue {
                var: name.to_string(),
                key: key.to_string(),
            })
        }
        Ok(json) => from_json(json, &origin),
        Err(_) => Node::new(Value::String(raw.to_string()), &origin),
    };
    let conflict = |depth: usize| ConfigError::EnvKeyConflict {
        var: name.to_string(),
        key: key.to_string(),
        existing: parts[..depth].join("_"),
    };
    let (last, parents) = match parts.split_last() {
        Some(split) => split,
        None => return Err(conflict(0)),
    };
    let mut obj = root;
    for (i, part) in parents.iter().enumerate() {
        let Value::Object(entries) = &mut obj.value else {
            return Err(conflict(i));
        };
        let pos = match entries.iter().position(|(k, _)| k == part) {
            Some(pos) => pos,
            None => {
                entries.push((
                    part.to_string(),
                    Node::new(Value::Object(Vec::new()), &origin),
                ));
                entries.len() - 1
            }
        };
        obj = &mut entries[pos].1;
        if !obj.is_object() {
            return Err(conflict(i + 1));
        }
    }
    let Value::Object(entries) = &mut obj.value else {
        return Err(conflict(parents.len()));
    };
    if entries.iter().any(|(k, _)| k == last) {
        return Err(conflict(parts.len()));
    }
    entries.push((last.to_string(), value));
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::config::tests::env;

    fn layer(pairs: &[(&str, &str)]) -> serde_json::Value {
        match read_env_config(&env(pairs)) {
            Ok(Some(node)) => node.to_json(),
            Ok(None) => serde_json::Value::Null,
            Err(e) => panic!("unexpected errors {e:?}"),
        }
    }

    #[test]
    fn splits_on_underscore_and_parses_json() {
        let got = layer(&[
            ("APP_CONFIG_backend_listen_port", "8080"),
            ("APP_CONFIG_backend_baseUrl", "http://x:7007"),
            ("APP_CONFIG_app_flag", "true"),
            ("APP_CONFIG_app_list", "[1, \"a\"]"),
            ("APP_CONFIG_app_obj", "{\"k\": {\"n\": 1}}"),
            ("APP_CONFIG_app_quoted", "\"8080\""),
            ("APP_CONFIG_page:catalog_connect-src", "x"),
            ("OTHER", "ignored"),
        ]);
        assert_eq!(
            got,
            json!({
                "backend": {"listen": {"port": 8080}, "baseUrl": "http://x:7007"},
                "app": {"flag": true, "list": [1, "a"], "obj": {"k": {"n": 1}}, "quoted": "8080"},
                "page:catalog": {"connect-src": "x"},
            })
        );
    }

    #[test]
    fn empty_values_are_ignored() {
        assert_eq!(read_env_config(&env(&[("APP_CONFIG_a", "")])), Ok(None));
        assert_eq!(read_env_config(&env(&[("PATH", "/bin")])), Ok(None));
    }

    #[test]
    fn origins_name_the_variable() {
        let Ok(Some(node)) = read_env_config(&env(&[("APP_CONFIG_a_b", "1")])) else {
            panic!("expected a layer");
        };
        let b = node.get("a").and_then(|a| a.get("b")).expect("a.b");
        assert_eq!(&*b.origin, "env APP_CONFIG_a_b");
    }

    #[test]
    fn invalid_keys_are_all_reported() {
        let errors = read_env_config(&env(&[
            ("APP_CONFIG_", "1"),
            ("APP_CONFIG_a__b", "1"),
            ("APP_CONFIG_1a", "1"),
            ("APP_CONFIG_ok", "1"),
        ]))
        .expect_err("invalid keys");
        let messages: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            messages,
            vec![
                "invalid env config key '' in environment variable APP_CONFIG_",
                "invalid env config key '1a' in environment variable APP_CONFIG_1a",
                "invalid env config key 'a__b' in environment variable APP_CONFIG_a__b",
            ]
        );
    }

    #[test]
    fn null_value_is_an_error() {
        let errors = read_env_config(&env(&[("APP_CONFIG_a", "null")])).expect_err("null");
        assert_eq!(
            errors[0].to_string(),
            "invalid config value for key 'a' in environment variable APP_CONFIG_a: value may not be null"
        );
    }

    #[test]
    fn nesting_under_a_scalar_is_an_error() {
        let errors = read_env_config(&env(&[("APP_CONFIG_a", "1"), ("APP_CONFIG_a_b", "2")]))
            .expect_err("conflict");
        assert_eq!(
            errors,
            vec![ConfigError::EnvKeyConflict {
                var: "APP_CONFIG_a_b".into(),
                key: "a_b".into(),
                existing: "a".into(),
            }]
        );
    }
}
