//! `$file`, `$env` and `$include` through a load.

use super::super::{ConfigError, IncludeErrorKind};
use super::{env, load_errors, load_ok, messages, opts, TempDir};
use serde_json::json;

#[test]
fn file_reads_relative_to_declaring_file_and_trims_end() {
    let dir = TempDir::new();
    dir.write("conf/secrets/token.txt", "  s3cret ${NOT_SUBSTITUTED}\n\n");
    dir.write(
        "conf/app.yaml",
        "auth:\n  token:\n    $file: secrets/token.txt\n",
    );
    let loaded = load_ok(&opts(&dir, &["conf/app.yaml"], env(&[])));
    assert_eq!(
        loaded.config.get_string("auth.token").unwrap(),
        "  s3cret ${NOT_SUBSTITUTED}"
    );
    assert_eq!(
        loaded.included,
        vec![dir.path().join("conf/secrets/token.txt")]
    );
    assert_eq!(
        loaded.config.source_of("auth.token"),
        Some(dir.p("conf/app.yaml"))
    );
}

#[test]
fn env_directive_reads_trimmed_variable() {
    let dir = TempDir::new();
    dir.write("a.yaml", "backend:\n  secret:\n    $env: SECRET\n");
    let c = load_ok(&opts(&dir, &["a.yaml"], env(&[("SECRET", " abc \n")]))).config;
    assert_eq!(c.get_string("backend.secret").unwrap(), "abc");
}

#[test]
fn unset_env_directive_makes_the_value_undefined_with_a_warning() {
    let dir = TempDir::new();
    dir.write("a.yaml", "backend:\n  secret:\n    $env: SECRET\n");
    dir.write("b.yaml", "backend:\n  secret:\n    $env: SECRET2\n");
    let loaded = load_ok(&opts(
        &dir,
        &["a.yaml", "b.yaml"],
        env(&[("SECRET", "from-a")]),
    ));
    // As in Backstage: the undefined value falls back to the lower-priority file.
    assert_eq!(
        loaded.config.get_string("backend.secret").unwrap(),
        "from-a"
    );
    assert_eq!(loaded.warnings.len(), 1);
    assert_eq!(loaded.warnings[0].key, "backend.secret");
    assert_eq!(loaded.warnings[0].variables, vec!["SECRET2".to_string()]);

    let loaded = load_ok(&opts(&dir, &["b.yaml"], env(&[])));
    assert_eq!(
        loaded
            .config
            .get_string("backend.secret")
            .unwrap_err()
            .to_string(),
        format!(
            "missing required config value at 'backend.secret', which is undefined because \
             environment variable SECRET2 is not set (in {})",
            dir.p("b.yaml")
        )
    );
}

#[test]
fn include_yaml_json_and_fragments() {
    let dir = TempDir::new();
    dir.write(
        "parts/db.yaml",
        "database:\n  client: pg\n  connection:\n    port: 5432\n",
    );
    dir.write(
        "parts/list.json",
        "{\"a\": {\"b\": [1, 2]}, \"s\": \"str\"}",
    );
    dir.write("parts/empty.yml", "");
    dir.write(
        "app.yaml",
        "backend:\n  $include: parts/db.yaml\nport:\n  $include: parts/db.yaml#database.connection.port\n\
         list:\n  $include: ./parts/list.json#a.b\nwhole:\n  $include: parts/list.json\n\
         nothing:\n  $include: parts/empty.yml\ngone:\n  $include: parts/db.yaml#database.nope\n",
    );
    let loaded = load_ok(&opts(&dir, &["app.yaml"], env(&[])));
    let c = &loaded.config;
    assert_eq!(c.get_string("backend.database.client").unwrap(), "pg");
    assert_eq!(c.get_number("port").unwrap(), 5432.0);
    assert_eq!(c.get_optional_value("list"), Some(json!([1, 2])));
    assert_eq!(
        c.get_optional_value("whole"),
        Some(json!({"a": {"b": [1, 2]}, "s": "str"}))
    );
    assert!(!c.has("nothing"), "an empty included file is null");
    assert!(!c.has("gone"), "a missing last fragment key is undefined");
    assert_eq!(
        c.source_of("backend.database.client"),
        Some(dir.p("parts/db.yaml"))
    );
    assert_eq!(
        loaded.included,
        vec![
            dir.path().join("parts/db.yaml"),
            dir.path().join("parts/list.json"),
            dir.path().join("parts/empty.yml")
        ]
    );
}

#[test]
fn included_content_is_transformed_relative_to_the_included_file() {
    let dir = TempDir::new();
    dir.write("a/b/secret.txt", "nested-secret\n");
    dir.write("a/b/deeper.yaml", "value: deep ${WHO}\n");
    dir.write(
        "a/inc.yaml",
        "token:\n  $file: b/secret.txt\nmore:\n  $include: b/deeper.yaml\nurl: http://${HOST}\n\
         str: ${HOST}\n",
    );
    dir.write(
        "root.yaml",
        "x:\n  $include: a/inc.yaml\ny:\n  $include: a/inc.yaml#str\n",
    );
    let c = load_ok(&opts(
        &dir,
        &["root.yaml"],
        env(&[("HOST", "h"), ("WHO", "me")]),
    ))
    .config;
    assert_eq!(c.get_string("x.token").unwrap(), "nested-secret");
    assert_eq!(c.get_string("x.more.value").unwrap(), "deep me");
    assert_eq!(c.get_string("x.url").unwrap(), "http://h");
    assert_eq!(
        c.get_string("y").unwrap(),
        "h",
        "an included string is substituted"
    );
}

#[test]
fn unset_variable_in_included_file_warns_with_that_file() {
    let dir = TempDir::new();
    dir.write("inc.yaml", "token: ${TOKEN}\n");
    dir.write("root.yaml", "x:\n  $include: inc.yaml\n");
    let loaded = load_ok(&opts(&dir, &["root.yaml"], env(&[])));
    assert_eq!(loaded.warnings.len(), 1);
    assert_eq!(loaded.warnings[0].key, "x.token");
    assert_eq!(loaded.warnings[0].file, dir.path().join("inc.yaml"));
    assert_eq!(
        loaded.config.get_string("x.token").unwrap_err().to_string(),
        format!(
            "missing required config value at 'x.token', which is undefined because environment \
             variable TOKEN is not set (in {})",
            dir.p("inc.yaml")
        )
    );
}

#[test]
fn directive_values_are_substituted() {
    let dir = TempDir::new();
    dir.write("prod/secret.txt", "p");
    dir.write(
        "a.yaml",
        "s:\n  $file: ${ENV_NAME}/secret.txt\ne:\n  $env: ${VAR_NAME}\n",
    );
    let c = load_ok(&opts(
        &dir,
        &["a.yaml"],
        env(&[("ENV_NAME", "prod"), ("VAR_NAME", "REAL"), ("REAL", "r")]),
    ))
    .config;
    assert_eq!(c.get_string("s").unwrap(), "p");
    assert_eq!(c.get_string("e").unwrap(), "r");
}

#[test]
fn directive_errors_name_declaring_file_and_key() {
    let dir = TempDir::new();
    dir.write("bad.txt", "x");
    dir.write("scalar.yaml", "a: 1\n");
    dir.write("broken.json", "{\"a\": }");
    dir.write("sub/inc.yaml", "deep:\n  $file: missing.txt\n");
    dir.write(
        "a.yaml",
        "adjacent:\n  $file: bad.txt\n  other: 1\nnotstring:\n  $include: [1]\n\
         unsetpath:\n  $file: ${NOPE}/x\nmissing:\n  $include: missing.yaml\n\
         ext:\n  $include: bad.txt\nfrag:\n  $include: scalar.yaml#a.b\n\
         fragmiss:\n  $include: scalar.yaml#x.y\nparse:\n  $include: broken.json\n\
         nested:\n  $include: sub/inc.yaml\n",
    );
    let errors = load_errors(&opts(&dir, &["a.yaml"], env(&[])));
    let a = dir.p("a.yaml");
    let expected = [
        format!("failed to resolve include at 'adjacent' in '{a}': include key $file should not have adjacent keys"),
        format!("failed to resolve include at 'notstring' in '{a}': $include include value is not a string"),
        format!("failed to resolve include at 'unsetpath' in '{a}': $file substitution value was undefined because environment variable NOPE is not set"),
        format!("failed to resolve include at 'missing' in '{a}': $include file '{}' does not exist", dir.p("missing.yaml")),
        format!("failed to resolve include at 'ext' in '{a}': no configuration parser available for included file bad.txt (supported: .yaml, .yml, .json)"),
        format!("failed to resolve include at 'frag' in '{a}': value at 'a' in included file '{}' is not an object", dir.p("scalar.yaml")),
        format!("failed to resolve include at 'fragmiss' in '{a}': value at 'x' in included file '{}' is not an object", dir.p("scalar.yaml")),
    ];
    let msgs = messages(&errors);
    assert_eq!(msgs[..7], expected[..], "{msgs:#?}");
    assert!(
        msgs[7].starts_with(&format!(
            "failed to resolve include at 'parse' in '{a}': failed to parse included file '{}': ",
            dir.p("broken.json")
        )) && msgs[7].contains("line 1 column"),
        "{}",
        msgs[7]
    );
    assert_eq!(
        errors[8],
        ConfigError::Include {
            file: dir.path().join("sub/inc.yaml"),
            key: "nested.deep".into(),
            kind: IncludeErrorKind::FileNotFound {
                directive: "$file",
                path: dir.path().join("sub/missing.txt"),
            },
        }
    );
    assert_eq!(errors.len(), 9);
}

#[test]
fn include_cycles_are_detected() {
    let dir = TempDir::new();
    dir.write("a.yaml", "x:\n  $include: b.yaml\n");
    dir.write("b.yaml", "y:\n  $include: a.yaml\n");
    dir.write(
        "self.yaml",
        "me:\n  $include: self.yaml#other\nother:\n  v: 1\n",
    );
    let errors = load_errors(&opts(&dir, &["a.yaml"], env(&[])));
    assert_eq!(
        messages(&errors),
        vec![format!(
            "failed to resolve include at 'x.y' in '{b}': include cycle: {a} -> {b} -> {a}",
            a = dir.p("a.yaml"),
            b = dir.p("b.yaml")
        )]
    );
    // Including another part of the same file is not a cycle.
    let c = load_ok(&opts(&dir, &["self.yaml"], env(&[]))).config;
    assert_eq!(c.get_number("me.v").unwrap(), 1.0);
}

#[test]
fn root_level_include_and_non_directive_dollar_keys() {
    let dir = TempDir::new();
    dir.write("base.yaml", "app:\n  title: t\n");
    dir.write("root.yaml", "$include: base.yaml\n");
    dir.write("other.yaml", "x:\n  $other: kept\n");
    let c = load_ok(&opts(&dir, &["root.yaml", "other.yaml"], env(&[]))).config;
    assert_eq!(c.get_string("app.title").unwrap(), "t");
    assert_eq!(c.get_optional_value("x"), Some(json!({"$other": "kept"})));
}

#[test]
fn directive_at_the_root_of_an_included_value_is_kept_literally() {
    // Backstage applies one transform per node: the value an `$include`
    // yields is walked, but its own root is not checked for a directive.
    let dir = TempDir::new();
    dir.write("inner.yaml", "$include: other.yaml\n");
    dir.write("a.yaml", "x:\n  $include: inner.yaml\n");
    let c = load_ok(&opts(&dir, &["a.yaml"], env(&[]))).config;
    assert_eq!(
        c.get_optional_value("x"),
        Some(json!({"$include": "other.yaml"}))
    );
}
