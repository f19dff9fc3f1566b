//! `${VAR}` substitution as seen through a load: undefined values fall
//! through to lower files, warnings and missing-value errors name the
//! variable, key and file.

use super::super::{ConfigError, ConfigWarning};
use super::{env, load_ok, opts, TempDir};
use serde_json::json;

#[test]
fn variables_are_substituted_with_defaults_and_escapes() {
    let dir = TempDir::new();
    dir.write(
        "a.yaml",
        "backend:\n  baseUrl: http://${HOST}:${PORT:-7007}\n  literal: $${HOST}\n  \
         empty: '${EMPTY:-fallback}'\n  blank: 'x${EMPTY}y'\n",
    );
    let loaded = load_ok(&opts(
        &dir,
        &["a.yaml"],
        env(&[("HOST", " example.com "), ("EMPTY", "")]),
    ));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;
    assert_eq!(
        c.get_string("backend.baseUrl").unwrap(),
        "http://example.com:7007"
    );
    assert_eq!(c.get_string("backend.literal").unwrap(), "${HOST}");
    assert_eq!(c.get_string("backend.empty").unwrap(), "fallback");
    assert_eq!(c.get_string("backend.blank").unwrap(), "xy");
}

#[test]
fn unset_variable_falls_through_to_lower_file_with_warning() {
    let dir = TempDir::new();
    dir.write("a.yaml", "backend:\n  baseUrl: http://lower\n");
    dir.write("b.yaml", "backend:\n  baseUrl: http://${BASE_HOST}/x\n");
    let loaded = load_ok(&opts(&dir, &["a.yaml", "b.yaml"], env(&[])));
    assert_eq!(
        loaded.config.get_string("backend.baseUrl").unwrap(),
        "http://lower"
    );
    assert_eq!(
        loaded.config.source_of("backend.baseUrl"),
        Some(dir.p("a.yaml"))
    );
    assert_eq!(
        loaded.warnings,
        vec![ConfigWarning {
            key: "backend.baseUrl".into(),
            file: dir.path().join("b.yaml"),
            variables: vec!["BASE_HOST".into()],
        }]
    );
    assert_eq!(
        loaded.warnings[0].to_string(),
        format!(
            "config value 'backend.baseUrl' in '{}' is undefined because environment variable \
             BASE_HOST is not set; it falls back to lower-priority config, if any",
            dir.p("b.yaml")
        )
    );
}

#[test]
fn required_value_missing_because_of_unset_variable_says_so() {
    let dir = TempDir::new();
    dir.write("a.yaml", "app:\n  baseUrl: ${BASE_URL}\n  title: t\n");
    let c = load_ok(&opts(&dir, &["a.yaml"], env(&[]))).config;
    assert!(!c.has("app.baseUrl"));
    assert_eq!(c.get_optional_string("app.baseUrl").unwrap(), None);
    let err = c.get_string("app.baseUrl").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "missing required config value at 'app.baseUrl', which is undefined because \
             environment variable BASE_URL is not set (in {})",
            dir.p("a.yaml")
        )
    );
    // The same from a sub-view.
    let app = c.get_config("app").unwrap();
    assert!(matches!(
        app.get_string("baseUrl"),
        Err(ConfigError::MissingUnsetVariable { ref key, ref variables, .. })
            if key == "app.baseUrl" && variables == &["BASE_URL".to_string()]
    ));
}

#[test]
fn plain_missing_value_lists_the_files_looked_in() {
    let dir = TempDir::new();
    dir.write("a.yaml", "app: {}\n");
    dir.write("b.yaml", "backend: {}\n");
    let c = load_ok(&opts(&dir, &["a.yaml", "b.yaml"], env(&[]))).config;
    assert_eq!(
        c.get_string("app.baseUrl").unwrap_err().to_string(),
        format!(
            "missing required config value at 'app.baseUrl' (looked in: {}, {})",
            dir.p("a.yaml"),
            dir.p("b.yaml")
        )
    );
    let app = c.get_config("app").unwrap();
    assert_eq!(
        app.get_number("port").unwrap_err(),
        ConfigError::Missing {
            key: "app.port".into(),
            looked_in: vec![dir.p("a.yaml")],
        }
    );
}

#[test]
fn any_unset_placeholder_makes_the_whole_value_undefined() {
    let dir = TempDir::new();
    dir.write("a.yaml", "url: ${A}://${B}:${C}\n");
    let loaded = load_ok(&opts(&dir, &["a.yaml"], env(&[("A", "http")])));
    assert!(!loaded.config.has("url"));
    assert_eq!(loaded.warnings[0].variables, vec!["B", "C"]);
    assert!(loaded.warnings[0]
        .to_string()
        .contains("environment variables B, C are not set"));
}

#[test]
fn empty_default_is_undefined() {
    let dir = TempDir::new();
    dir.write("a.yaml", "a: ${UNSET:-}\nb: ${EMPTY:-}\n");
    let loaded = load_ok(&opts(&dir, &["a.yaml"], env(&[("EMPTY", "")])));
    assert_eq!(loaded.config.keys(), Vec::<String>::new());
    assert_eq!(loaded.warnings.len(), 2);
}

#[test]
fn undefined_array_elements_are_removed() {
    let dir = TempDir::new();
    dir.write(
        "a.yaml",
        "list:\n  - one\n  - ${NOPE}\n  - three\n  - {x: '${NOPE}'}\n",
    );
    let loaded = load_ok(&opts(&dir, &["a.yaml"], env(&[])));
    assert_eq!(
        loaded.config.get_optional_value("list"),
        Some(json!(["one", "three", {}]))
    );
    let keys: Vec<&str> = loaded.warnings.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(keys, ["list[1]", "list[2].x"]);
}

#[test]
fn keys_and_non_strings_are_not_substituted() {
    let dir = TempDir::new();
    dir.write("a.yaml", "'${K}': 1\nn: 5\nb: true\n");
    let c = load_ok(&opts(&dir, &["a.yaml"], env(&[("K", "key")]))).config;
    assert_eq!(c.keys(), vec!["${K}", "n", "b"]);
    assert_eq!(c.get_number("n").unwrap(), 5.0);
}
