//! `APP_CONFIG_*` overrides through a load: priority over files, merging,
//! parsing and errors.

use super::super::ConfigError;
use super::{env, load_errors, load_ok, opts, TempDir};
use serde_json::json;

#[test]
fn env_overrides_every_file_and_merges_with_objects() {
    let dir = TempDir::new();
    dir.write(
        "app-config.yaml",
        "backend:\n  listen:\n    port: 7007\n    host: 0.0.0.0\n",
    );
    dir.write(
        "app-config.local.yaml",
        "backend:\n  listen:\n    port: 7008\n",
    );
    let loaded = load_ok(&opts(
        &dir,
        &[],
        env(&[
            ("APP_CONFIG_backend_listen_port", "9000"),
            ("APP_CONFIG_backend_cors", "{\"origin\": \"http://x\"}"),
        ]),
    ));
    let c = &loaded.config;
    assert_eq!(c.get_number("backend.listen.port").unwrap(), 9000.0);
    assert_eq!(c.get_string("backend.listen.host").unwrap(), "0.0.0.0");
    assert_eq!(c.get_string("backend.cors.origin").unwrap(), "http://x");
    assert_eq!(
        c.source_of("backend.listen.port"),
        Some("env APP_CONFIG_backend_listen_port".to_string())
    );
    assert_eq!(
        c.get_optional_value("backend.listen"),
        Some(json!({"port": 9000, "host": "0.0.0.0"}))
    );
    assert_eq!(loaded.files.len(), 2, "the env layer is not a file");
}

#[test]
fn env_values_are_json_or_strings() {
    let dir = TempDir::new();
    dir.write("a.yaml", "app: {}\n");
    let c = load_ok(&opts(
        &dir,
        &["a.yaml"],
        env(&[
            ("APP_CONFIG_app_n", "42"),
            ("APP_CONFIG_app_s", "not json"),
            ("APP_CONFIG_app_b", "false"),
            ("APP_CONFIG_app_list", "[\"a\", \"b\"]"),
            ("APP_CONFIG_app_empty", ""),
        ]),
    ))
    .config;
    assert_eq!(c.get_number("app.n").unwrap(), 42.0);
    assert_eq!(c.get_string("app.s").unwrap(), "not json");
    assert_eq!(c.get_optional_bool("app.b").unwrap(), Some(false));
    assert_eq!(
        c.get_optional_string_array("app.list").unwrap(),
        Some(vec!["a".into(), "b".into()])
    );
    assert!(!c.has("app.empty"), "empty variables are ignored");
    // A number given as JSON is a number, so reading it as a string is a type error.
    assert_eq!(
        c.get_string("app.n").unwrap_err().to_string(),
        "invalid type in config for key 'app.n' in 'env APP_CONFIG_app_n', got number, wanted string"
    );
}

#[test]
fn env_is_not_substituted() {
    let dir = TempDir::new();
    dir.write("a.yaml", "a: 1\n");
    let c = load_ok(&opts(
        &dir,
        &["a.yaml"],
        env(&[("APP_CONFIG_x", "${HOME}"), ("HOME", "/h")]),
    ))
    .config;
    assert_eq!(c.get_string("x").unwrap(), "${HOME}");
}

#[test]
fn env_replaces_arrays_whole() {
    let dir = TempDir::new();
    dir.write("a.yaml", "list: [1, 2, 3]\n");
    let c = load_ok(&opts(&dir, &["a.yaml"], env(&[("APP_CONFIG_list", "[4]")]))).config;
    assert_eq!(c.get_optional_value("list"), Some(json!([4])));
}

#[test]
fn bad_env_keys_fail_the_load() {
    let dir = TempDir::new();
    dir.write("a.yaml", "a: 1\n");
    let errors = load_errors(&opts(
        &dir,
        &["a.yaml"],
        env(&[
            ("APP_CONFIG_backend__port", "1"),
            ("APP_CONFIG_x", "null"),
            ("APP_CONFIG_y", "1"),
            ("APP_CONFIG_y_z", "2"),
        ]),
    ));
    assert_eq!(
        errors,
        vec![
            ConfigError::InvalidEnvKey {
                var: "APP_CONFIG_backend__port".into(),
                key: "backend__port".into(),
            },
            ConfigError::EnvNullValue {
                var: "APP_CONFIG_x".into(),
                key: "x".into(),
            },
            ConfigError::EnvKeyConflict {
                var: "APP_CONFIG_y_z".into(),
                key: "y_z".into(),
                existing: "y".into(),
            },
        ]
    );
    assert_eq!(
        errors[2].to_string(),
        "could not nest config for key 'y_z' (environment variable APP_CONFIG_y_z) under existing value 'y'"
    );
}

#[test]
fn missing_value_mentions_env_layer() {
    let dir = TempDir::new();
    dir.write("a.yaml", "a: 1\n");
    let c = load_ok(&opts(&dir, &["a.yaml"], env(&[("APP_CONFIG_b", "2")]))).config;
    assert_eq!(
        c.get_string("nope").unwrap_err().to_string(),
        format!(
            "missing required config value at 'nope' (looked in: {}, env (APP_CONFIG_*))",
            dir.p("a.yaml")
        )
    );
}
