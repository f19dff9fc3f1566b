//! File selection, priority and merging, and file-level errors.

use std::path::PathBuf;

use super::super::ConfigError;
use super::{env, load_errors, load_ok, messages, opts, TempDir};
use serde_json::json;

#[test]
fn defaults_read_app_config_then_local() {
    let dir = TempDir::new();
    dir.write(
        "app-config.yaml",
        "app:\n  title: base\n  baseUrl: http://base\n",
    );
    dir.write("app-config.local.yaml", "app:\n  title: local\n");
    let loaded = load_ok(&opts(&dir, &[], env(&[])));
    assert_eq!(
        loaded.files,
        vec![
            dir.path().join("app-config.yaml"),
            dir.path().join("app-config.local.yaml")
        ]
    );
    let c = &loaded.config;
    assert_eq!(c.get_string("app.title").unwrap(), "local");
    assert_eq!(c.get_string("app.baseUrl").unwrap(), "http://base");
    assert_eq!(
        c.source_of("app.title"),
        Some(dir.p("app-config.local.yaml"))
    );
    assert_eq!(c.source_of("app.baseUrl"), Some(dir.p("app-config.yaml")));
}

#[test]
fn local_file_is_optional() {
    let dir = TempDir::new();
    dir.write("app-config.yaml", "a: 1\n");
    let loaded = load_ok(&opts(&dir, &[], env(&[])));
    assert_eq!(loaded.files, vec![dir.path().join("app-config.yaml")]);
    assert_eq!(loaded.config.get_number("a").unwrap(), 1.0);
}

#[test]
fn backstage_env_files_are_layered_in_backstage_order() {
    let dir = TempDir::new();
    dir.write("app-config.yaml", "a: base\nb: base\nc: base\nd: base\n");
    dir.write("app-config.production.yaml", "b: prod\nc: prod\nd: prod\n");
    dir.write("app-config.local.yaml", "c: local\nd: local\n");
    dir.write("app-config.production.local.yaml", "d: prod-local\n");
    let loaded = load_ok(&opts(&dir, &[], env(&[("BACKSTAGE_ENV", " production ,")])));
    let names: Vec<String> = loaded
        .files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "app-config.yaml",
            "app-config.production.yaml",
            "app-config.local.yaml",
            "app-config.production.local.yaml"
        ]
    );
    let c = &loaded.config;
    let got: Vec<String> = ["a", "b", "c", "d"]
        .iter()
        .map(|k| c.get_string(k).unwrap())
        .collect();
    assert_eq!(got, ["base", "prod", "local", "prod-local"]);
}

#[test]
fn missing_default_app_config_is_an_error() {
    let dir = TempDir::new();
    dir.write("app-config.local.yaml", "a: 1\n");
    let errors = load_errors(&opts(&dir, &[], env(&[])));
    assert_eq!(
        messages(&errors),
        vec![format!(
            "config file '{}' does not exist",
            dir.p("app-config.yaml")
        )]
    );
}

#[test]
fn explicit_files_replace_defaults_and_resolve_against_cwd() {
    let dir = TempDir::new();
    dir.write("app-config.yaml", "from: default\n");
    dir.write("conf/one.yaml", "from: one\nonly: one\n");
    let two = dir.write("two.yaml", "from: two\n");
    let two = two.display().to_string();
    let loaded = load_ok(&opts(&dir, &["conf/../conf/one.yaml", &two], env(&[])));
    assert_eq!(
        loaded.files,
        vec![dir.path().join("conf/one.yaml"), PathBuf::from(&two)]
    );
    assert_eq!(loaded.config.get_string("from").unwrap(), "two");
    assert_eq!(loaded.config.get_string("only").unwrap(), "one");
}

#[test]
fn objects_deep_merge_and_arrays_and_scalars_replace() {
    let dir = TempDir::new();
    dir.write(
        "a.yaml",
        "backend:\n  listen: {port: 7007, host: 0.0.0.0}\n  list: [1, 2, 3]\n  mode: a\n",
    );
    dir.write(
        "b.yaml",
        "backend:\n  listen: {port: 8080}\n  list: [9]\n  mode: {x: 1}\n",
    );
    let c = load_ok(&opts(&dir, &["a.yaml", "b.yaml"], env(&[]))).config;
    assert_eq!(
        c.get_optional_value("backend"),
        Some(json!({"listen": {"port": 8080, "host": "0.0.0.0"}, "list": [9], "mode": {"x": 1}}))
    );
    assert_eq!(c.get_number("backend.listen.port").unwrap(), 8080.0);
    assert_eq!(c.get_string("backend.listen.host").unwrap(), "0.0.0.0");
    assert_eq!(c.get_optional_value("backend.list"), Some(json!([9])));
    let listen = c.get_config("backend.listen").unwrap();
    assert_eq!(listen.keys(), vec!["port", "host"]);
}

#[test]
fn explicit_null_masks_lower_files() {
    let dir = TempDir::new();
    dir.write("a.yaml", "scaffolder:\n  x: 1\nkeep: 1\n");
    dir.write("b.yaml", "scaffolder: ~\n");
    let c = load_ok(&opts(&dir, &["a.yaml", "b.yaml"], env(&[]))).config;
    assert!(!c.has("scaffolder"));
    assert!(!c.has("scaffolder.x"));
    assert_eq!(c.get_optional_number("scaffolder.x").unwrap(), None);
    assert!(c.get_optional_config("scaffolder").unwrap().is_none());
    assert_eq!(c.keys(), vec!["keep"]);
}

#[test]
fn empty_file_contributes_nothing() {
    let dir = TempDir::new();
    dir.write("a.yaml", "a: 1\n");
    dir.write("b.yaml", "# only a comment\n");
    let loaded = load_ok(&opts(&dir, &["a.yaml", "b.yaml"], env(&[])));
    assert_eq!(loaded.files.len(), 2);
    assert_eq!(loaded.config.get_number("a").unwrap(), 1.0);
}

#[test]
fn yaml_syntax_error_reports_line_and_column() {
    let dir = TempDir::new();
    dir.write("bad.yaml", "app:\n  title: ok\n  list: [1, 2\nother: 3\n");
    let errors = load_errors(&opts(&dir, &["bad.yaml"], env(&[])));
    assert_eq!(errors.len(), 1);
    let ConfigError::Parse { line, column, .. } = &errors[0] else {
        panic!("expected a parse error, got {:?}", errors[0]);
    };
    let (line, column) = (line.expect("line"), column.expect("column"));
    let msg = errors[0].to_string();
    assert!(
        msg.starts_with(&format!("failed to parse {}: ", dir.p("bad.yaml"))),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("line {line} column {column}")),
        "{msg}"
    );
    assert!((3..=4).contains(&line), "{msg}");
}

#[test]
fn non_mapping_root_is_an_error() {
    let dir = TempDir::new();
    dir.write("list.yaml", "- a\n- b\n");
    dir.write("str.yaml", "just a string\n");
    dir.write("unset.yaml", "${NOPE}\n");
    let errors = load_errors(&opts(
        &dir,
        &["list.yaml", "str.yaml", "unset.yaml"],
        env(&[]),
    ));
    assert_eq!(
        messages(&errors),
        vec![
            format!(
                "config file '{}' must contain a mapping at its root, got array",
                dir.p("list.yaml")
            ),
            format!(
                "config file '{}' must contain a mapping at its root, got string",
                dir.p("str.yaml")
            ),
            format!(
                "config file '{}' must contain a mapping at its root, got undefined",
                dir.p("unset.yaml")
            ),
        ]
    );
}

#[test]
fn all_fatal_errors_are_collected() {
    let dir = TempDir::new();
    dir.write("bad.yaml", "a: [\n");
    dir.write(
        "inc.yaml",
        "a:\n  $include: nope.yaml\nb:\n  $file: nope.txt\n",
    );
    let errors = load_errors(&opts(
        &dir,
        &[
            "missing.yaml",
            "bad.yaml",
            "inc.yaml",
            "https://example.com/c.yaml",
        ],
        env(&[("APP_CONFIG_x__y", "1")]),
    ));
    let msgs = messages(&errors);
    assert_eq!(msgs.len(), 6, "{msgs:#?}");
    assert_eq!(
        msgs[0],
        "config argument 'https://example.com/c.yaml' looks like a URL, but remote configuration is not supported"
    );
    assert_eq!(
        msgs[1],
        format!("config file '{}' does not exist", dir.p("missing.yaml"))
    );
    assert!(msgs[2].starts_with(&format!("failed to parse {}", dir.p("bad.yaml"))));
    assert!(
        msgs[3].contains("'a'") && msgs[3].contains("nope.yaml"),
        "{}",
        msgs[3]
    );
    assert!(
        msgs[4].contains("'b'") && msgs[4].contains("nope.txt"),
        "{}",
        msgs[4]
    );
    assert_eq!(
        msgs[5],
        "invalid env config key 'x__y' in environment variable APP_CONFIG_x__y"
    );
}

#[test]
fn unreadable_file_is_a_read_error() {
    let dir = TempDir::new();
    std::fs::create_dir_all(dir.path().join("adir.yaml")).unwrap();
    let errors = load_errors(&opts(&dir, &["adir.yaml"], env(&[])));
    assert!(
        matches!(&errors[..], [ConfigError::Read { path, .. }] if path == &dir.path().join("adir.yaml")),
        "{errors:?}"
    );
    assert!(errors[0].to_string().starts_with(&format!(
        "failed to read config file '{}': ",
        dir.p("adir.yaml")
    )));
}

#[test]
fn keys_nobody_reads_are_ignored() {
    let dir = TempDir::new();
    dir.write(
        "a.yaml",
        "someplugin:\n  weird-key:\n    '/odd path': {x: [1, {y: null}]}\n  page:catalog: true\n",
    );
    let c = load_ok(&opts(&dir, &["a.yaml"], env(&[]))).config;
    assert_eq!(
        c.get_optional_value("someplugin.weird-key"),
        Some(json!({"/odd path": {"x": [1, {"y": null}]}}))
    );
    assert_eq!(
        c.get_optional_bool("someplugin.page:catalog").unwrap(),
        Some(true)
    );
}
