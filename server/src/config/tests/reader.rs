//! `Config` getters on in-memory layers: coercion, type errors and their
//! messages, views, keys and merging.

use super::super::{Config, ConfigError};
use serde_json::json;

fn one(value: serde_json::Value) -> Config {
    Config::from_json_layers(vec![("/x/app-config.yaml".into(), value)])
}

fn two(lower: serde_json::Value, upper: serde_json::Value) -> Config {
    Config::from_json_layers(vec![
        ("/x/a.yaml".into(), lower),
        ("/x/b.yaml".into(), upper),
    ])
}

#[test]
fn strings() {
    let c = one(json!({"s": "v", "e": "", "n": 1, "nested": {"k": "x"}}));
    assert_eq!(c.get_string("s").unwrap(), "v");
    assert_eq!(c.get_string("nested.k").unwrap(), "x");
    assert_eq!(c.get_optional_string("absent").unwrap(), None);
    assert_eq!(
        c.get_string("e").unwrap_err().to_string(),
        "invalid type in config for key 'e' in '/x/app-config.yaml', got empty-string, wanted string"
    );
    assert_eq!(
        c.get_optional_string("n").unwrap_err().to_string(),
        "invalid type in config for key 'n' in '/x/app-config.yaml', got number, wanted string"
    );
}

#[test]
fn numbers_accept_numeric_strings() {
    let c = one(
        json!({"backend": {"listen": {"port": "7007"}}, "f": 1.5, "hex": "0x10",
        "bad": "80a", "b": true, "inf": "Infinity"}),
    );
    assert_eq!(c.get_number("backend.listen.port").unwrap(), 7007.0);
    assert_eq!(c.get_optional_number("f").unwrap(), Some(1.5));
    assert_eq!(c.get_optional_number("hex").unwrap(), Some(16.0));
    assert_eq!(
        c.get_number("bad").unwrap_err().to_string(),
        "unable to convert config value for key 'bad' in '/x/app-config.yaml' to a number"
    );
    assert_eq!(
        c.get_number("inf").unwrap_err(),
        ConfigError::Convert {
            key: "inf".into(),
            origin: "/x/app-config.yaml".into(),
            wanted: "number".into(),
        }
    );
    assert_eq!(
        c.get_optional_number("b").unwrap_err().to_string(),
        "invalid type in config for key 'b' in '/x/app-config.yaml', got boolean, wanted number"
    );
    let port = one(json!({"backend": {"listen": {"port": "abc"}}}));
    assert_eq!(
        port.get_number("backend.listen.port").unwrap_err().to_string(),
        "unable to convert config value for key 'backend.listen.port' in '/x/app-config.yaml' to a number"
    );
}

#[test]
fn booleans_accept_strings_and_0_1() {
    let c = one(
        json!({"t": "true", "y": "YES", "on": " on ", "f": "false", "off": "off",
        "one": 1, "zero": 0, "two": 2, "maybe": "maybe", "b": false, "arr": []}),
    );
    for k in ["t", "y", "on", "one"] {
        assert_eq!(c.get_optional_bool(k).unwrap(), Some(true), "{k}");
    }
    for k in ["f", "off", "zero", "b"] {
        assert_eq!(c.get_optional_bool(k).unwrap(), Some(false), "{k}");
    }
    assert_eq!(
        c.get_optional_bool("maybe").unwrap_err().to_string(),
        "unable to convert config value for key 'maybe' in '/x/app-config.yaml' to a boolean"
    );
    assert!(matches!(
        c.get_optional_bool("two"),
        Err(ConfigError::Convert { .. })
    ));
    assert_eq!(
        c.get_optional_bool("arr").unwrap_err().to_string(),
        "invalid type in config for key 'arr' in '/x/app-config.yaml', got array, wanted boolean"
    );
    assert_eq!(c.get_optional_bool("absent").unwrap(), None);
    assert!(matches!(
        c.get_bool("absent"),
        Err(ConfigError::Missing { .. })
    ));
}

#[test]
fn string_arrays() {
    let c = one(json!({"ok": ["a", "b"], "mixed": ["a", 1], "emptyel": ["a", ""], "s": "a"}));
    assert_eq!(c.get_string_array("ok").unwrap(), vec!["a", "b"]);
    assert_eq!(
        c.get_optional_string_array("mixed").unwrap_err().to_string(),
        "invalid type in config for key 'mixed[1]' in '/x/app-config.yaml', got number, wanted string-array"
    );
    assert!(c
        .get_optional_string_array("emptyel")
        .unwrap_err()
        .to_string()
        .contains("got empty-string"));
    assert_eq!(
        c.get_optional_string_array("s").unwrap_err().to_string(),
        "invalid type in config for key 's' in '/x/app-config.yaml', got string, wanted string-array"
    );
}

#[test]
fn config_arrays_have_indexed_full_keys() {
    let c = one(json!({"kubernetes": {"clusterLocatorMethods": [
        {"type": "config", "clusters": [{"url": "u0"}, {"name": "c1"}]}
    ]}, "bad": [{"a": 1}, "x"]}));
    let methods = c
        .get_config_array("kubernetes.clusterLocatorMethods")
        .unwrap();
    let clusters = methods[0].get_config_array("clusters").unwrap();
    assert_eq!(clusters[0].get_string("url").unwrap(), "u0");
    assert_eq!(
        clusters[1].full_key("url"),
        "kubernetes.clusterLocatorMethods[0].clusters[1].url"
    );
    assert_eq!(
        clusters[1].get_string("url").unwrap_err().to_string(),
        "missing required config value at 'kubernetes.clusterLocatorMethods[0].clusters[1].url' \
         (looked in: /x/app-config.yaml)"
    );
    assert_eq!(clusters[1].keys(), vec!["name"]);
    assert_eq!(
        c.get_optional_config_array("bad").unwrap_err().to_string(),
        "invalid type in config for key 'bad[1]' in '/x/app-config.yaml', got string, wanted object-array"
    );
    assert!(c.get_optional_config_array("absent").unwrap().is_none());
}

#[test]
fn sub_configs_merge_across_layers() {
    let c = two(
        json!({"app": {"title": "low", "baseUrl": "http://low", "list": [1, 2]}}),
        json!({"app": {"title": "high", "list": [3]}}),
    );
    let app = c.get_config("app").unwrap();
    assert_eq!(app.get_string("title").unwrap(), "high");
    assert_eq!(app.get_string("baseUrl").unwrap(), "http://low");
    assert_eq!(app.source_of("baseUrl"), Some("/x/a.yaml".into()));
    // Upper layer's keys first (JSON layers keep serde_json's sorted order).
    assert_eq!(app.keys(), vec!["list", "title", "baseUrl"]);
    assert_eq!(app.get_optional_value("list"), Some(json!([3])));
    assert_eq!(app.full_key("title"), "app.title");
    assert_eq!(app.full_key(""), "app");
    assert!(app.has("baseUrl") && !app.has("nope"));
    assert_eq!(
        c.get_optional_value(""),
        Some(json!({"app": {"title": "high", "baseUrl": "http://low", "list": [3]}}))
    );
}

#[test]
fn type_conflicts_between_layers_follow_backstage() {
    // A scalar in a lower layer where the upper one has an object.
    let c = two(json!({"backend": "oops"}), json!({"backend": {"port": 1}}));
    assert_eq!(c.get_number("backend.port").unwrap(), 1.0);
    assert_eq!(
        c.get_optional_config("backend").unwrap_err().to_string(),
        "invalid type in config for key 'backend' in '/x/a.yaml', got string, wanted object"
    );
    // Reading through a scalar.
    let c = one(json!({"backend": "oops"}));
    assert_eq!(
        c.get_optional_string("backend.baseUrl").unwrap_err().to_string(),
        "invalid type in config for key 'backend' in '/x/app-config.yaml', got string, wanted object"
    );
    assert!(!c.has("backend.baseUrl"));
    assert_eq!(c.get_optional_value("backend.baseUrl"), None);
    assert!(c.try_get_optional_value("backend.baseUrl").is_err());
}

#[test]
fn invalid_keys_are_rejected() {
    let c = one(json!({"a": {"b": 1}}));
    for key in ["a..b", "a[0]", "1a", "a.b-"] {
        assert_eq!(
            c.get_optional_number(key).unwrap_err(),
            ConfigError::InvalidKey { key: key.into() }
        );
    }
    assert_eq!(
        c.get_optional_number("a b").unwrap_err().to_string(),
        "invalid config key 'a b'"
    );
}

#[test]
fn empty_config() {
    let c = Config::empty();
    assert!(c.keys().is_empty());
    assert!(!c.has("a"));
    assert_eq!(c.get_optional_value(""), None);
    assert_eq!(
        c.get_string("a").unwrap_err().to_string(),
        "missing required config value at 'a' (looked in: no config sources)"
    );
}

#[test]
fn config_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Config>();
    let c = one(json!({"a": {"b": "x"}}));
    let sub = c.get_config("a").unwrap();
    drop(c);
    assert_eq!(sub.clone().get_string("b").unwrap(), "x");
    assert!(format!("{sub:?}").contains("\"a\""));
}

#[test]
fn nulls_mask_lower_layers_like_backstage() {
    // Same data as a check run against @backstage/config 1.3.9.
    let c = Config::from_json_layers(vec![
        (
            "low.yaml".into(),
            json!({"a": {"x": 1, "s": "low"}, "b": "oops", "n": {"k": 1}, "arr": [1, 2]}),
        ),
        (
            "hi.yaml".into(),
            json!({"a": {"y": null, "s": "hi"}, "b": {"p": 1}, "n": null, "arr": [3]}),
        ),
    ]);
    assert_eq!(c.keys(), vec!["a", "arr", "b"]);
    assert_eq!(c.get_config("a").unwrap().keys(), vec!["s", "x"]);
    assert_eq!(
        c.get_optional_value(""),
        Some(json!({"a": {"s": "hi", "x": 1}, "b": {"p": 1}, "arr": [3]}))
    );
    assert_eq!(c.get_number("b.p").unwrap(), 1.0);
    assert!(!c.has("n.k"));
    assert_eq!(c.get_optional_value("arr"), Some(json!([3])));
    assert_eq!(
        c.get_optional_config("b").unwrap_err().to_string(),
        "invalid type in config for key 'b' in 'low.yaml', got string, wanted object"
    );
    assert_eq!(
        c.get_number("a.s").unwrap_err().to_string(),
        "unable to convert config value for key 'a.s' in 'hi.yaml' to a number"
    );
    let empty = one(json!({"z": ""}));
    assert_eq!(empty.get_number("z").unwrap(), 0.0, "Number('') is 0");
}
