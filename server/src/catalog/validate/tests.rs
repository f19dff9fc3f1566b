//! Tests: the format rules at their boundaries, each envelope and spec rule failing on its own,
//! and the real example catalogs written for Backstage (which must all pass).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{json, Value};

use super::names::*;
use super::{is_modelled_kind, validate_entity, FieldError};
use crate::catalog::fixtures_dir;

// ---------------------------------------------------------------------------------------------
// helpers

/// The fields named by the errors for `entity`, in order.
fn fields(entity: &Value) -> Vec<String> {
    validate_entity(entity)
        .into_iter()
        .map(|e| e.field)
        .collect()
}

/// Replaces the value at `path` (member names; numeric segments index arrays), or removes it
/// when `new` is `None`.
fn edit(mut entity: Value, path: &[&str], new: Option<Value>) -> Value {
    let Some((last, parents)) = path.split_last() else {
        return new.unwrap_or(Value::Null);
    };
    let mut cur = &mut entity;
    for seg in parents {
        cur = match cur {
            Value::Array(a) => &mut a[seg.parse::<usize>().unwrap()],
            other => other
                .as_object_mut()
                .unwrap()
                .entry(seg.to_string())
                .or_insert_with(|| json!({})),
        };
    }
    match (cur, new) {
        (Value::Array(a), Some(v)) => a[last.parse::<usize>().unwrap()] = v,
        (Value::Array(a), None) => {
            a.remove(last.parse::<usize>().unwrap());
        }
        (Value::Object(m), Some(v)) => {
            m.insert(last.to_string(), v);
        }
        (Value::Object(m), None) => {
            m.remove(*last);
        }
        _ => panic!("cannot edit {path:?}"),
    }
    entity
}

fn set(entity: Value, path: &str, v: Value) -> Value {
    edit(entity, &path.split('.').collect::<Vec<_>>(), Some(v))
}

fn unset(entity: Value, path: &str) -> Value {
    edit(entity, &path.split('.').collect::<Vec<_>>(), None)
}

fn component() -> Value {
    json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": { "name": "artist-web" },
        "spec": { "type": "website", "lifecycle": "production", "owner": "team-a" }
    })
}

fn entity(kind: &str, api_version: &str, spec: Value) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": kind,
        "metadata": { "name": "x" },
        "spec": spec
    })
}

// ---------------------------------------------------------------------------------------------
// format rules (names.rs)

#[test]
fn object_name_rule() {
    let s63 = "a".repeat(63);
    let s64 = "a".repeat(64);
    let good = [
        "a",
        "A",
        "0",
        "a-b",
        "a_b",
        "a.b",
        "a--b",
        "a._-b",
        "Loremservice",
        &s63,
        "go1.15.3",
    ];
    let bad = [
        "", &s64, "-a", "a-", "_a", "a_", ".a", "a.", "a b", "a/b", "a:b", "é", "aé", "a\n",
        "naïve",
    ];
    for v in good {
        assert!(is_valid_object_name(v), "{v:?} should be a valid name");
    }
    for v in bad {
        assert!(!is_valid_object_name(v), "{v:?} should be an invalid name");
    }
}

#[test]
fn dns_label_and_namespace_rule() {
    let s63 = "a".repeat(63);
    let s64 = "a".repeat(64);
    for v in ["a", "0", "a-b", "a--b", "default", "team-1", &s63] {
        assert!(is_valid_namespace(v), "{v:?} should be valid");
    }
    for v in ["", &s64, "-a", "a-", "A", "a_b", "a.b", "a b", "ü"] {
        assert!(!is_valid_namespace(v), "{v:?} should be invalid");
    }
}

#[test]
fn dns_subdomain_rule() {
    let label = "a".repeat(63);
    let ok253 = [label.as_str(); 4]
        .join(".")
        .chars()
        .take(253)
        .collect::<String>();
    let ok253 = ok253.trim_end_matches('.').to_string();
    assert!(is_valid_dns_subdomain("backstage.io"));
    assert!(is_valid_dns_subdomain("a"));
    assert!(is_valid_dns_subdomain(&ok253));
    assert!(!is_valid_dns_subdomain(&format!("{ok253}.ab")));
    for v in [
        "",
        ".a",
        "a.",
        "a..b",
        "Backstage.io",
        "a_b.io",
        &"a".repeat(64),
    ] {
        assert!(!is_valid_dns_subdomain(v), "{v:?} should be invalid");
    }
}

#[test]
fn api_version_rule() {
    let v63 = "v".repeat(63);
    let v64 = "v".repeat(64);
    let good = [
        "backstage.io/v1alpha1",
        "scaffolder.backstage.io/v1beta3",
        "v1",
        "1",
        "my-company.net/V1",
        &v63,
    ];
    for v in good {
        assert!(is_valid_api_version(v), "{v:?} should be valid");
    }
    let bad = [
        "",
        "1.0",
        "backstage.io/",
        "/v1",
        "a/b/c",
        "Backstage.io/v1",
        "backstage.io/v1-alpha",
        &v64,
    ];
    for v in bad {
        assert!(!is_valid_api_version(v), "{v:?} should be invalid");
    }
}

#[test]
fn kind_rule() {
    for v in ["Component", "API", "a", "AiResource", "X1", &"K".repeat(63)] {
        assert!(is_valid_kind(v), "{v:?} should be valid");
    }
    for v in [
        "",
        "1Component",
        "My-Kind",
        "my_kind",
        "Kind ",
        "Kïnd",
        &"K".repeat(64),
    ] {
        assert!(!is_valid_kind(v), "{v:?} should be invalid");
    }
}

#[test]
fn label_and_annotation_key_rule() {
    for v in [
        "a",
        "backstage.io/techdocs-ref",
        "github.com/project-slug",
        "goVersion",
    ] {
        assert!(is_valid_label_key(v), "{v:?} should be valid");
        assert!(is_valid_annotation_key(v), "{v:?} should be valid");
    }
    for v in ["", "/a", "a/", "a/b/c", "Backstage.io/x", "a b", "x/-a"] {
        assert!(!is_valid_label_key(v), "{v:?} should be invalid");
        assert!(!is_valid_annotation_key(v), "{v:?} should be invalid");
    }
}

#[test]
fn label_value_and_annotation_value_rule() {
    assert!(is_valid_label_value(""));
    assert!(is_valid_label_value("go1.15.3"));
    assert!(!is_valid_label_value("Random value Generator"));
    assert!(!is_valid_label_value(&"a".repeat(64)));
    assert!(is_valid_annotation_value(&json!("")));
    assert!(is_valid_annotation_value(&json!("anything at all: / ü")));
    assert!(!is_valid_annotation_value(&json!(1)));
    assert!(!is_valid_annotation_value(&json!(null)));
    assert!(!is_valid_annotation_value(&json!(true)));
}

#[test]
fn tag_rule() {
    let s63 = "a".repeat(63);
    let s64 = "a".repeat(64);
    for v in ["java", "c++", "c#", "go-1", "k8s:prod", "a-b-c", "1", &s63] {
        assert!(is_valid_tag(v), "{v:?} should be valid");
    }
    let bad = [
        "",
        &s64,
        "-a",
        "a-",
        "a--b",
        "Java",
        "go 1.15.3",
        "a_b",
        "a.b",
        "a/b",
        "ü",
    ];
    for v in bad {
        assert!(!is_valid_tag(v), "{v:?} should be invalid");
    }
}

#[test]
fn url_rule() {
    let good = [
        "https://example.com",
        "http://localhost:7007/api/mcp/v1",
        "https://user:pw@example.com:8443/a?b#c",
        "http://[::1]:3000/",
        "http://10.0.0.1",
        "HTTPS://EXAMPLE.COM",
        "  https://example.com  ",
        "mailto:team@example.com",
        "slack://channel",
        "file:///etc/hosts",
        "http:example.com",
        "https://bücher.example",
    ];
    for v in good {
        assert!(is_valid_url(v), "{v:?} should be valid");
    }
    let bad = [
        "",
        "example.com",
        "/relative/path",
        "http://",
        "https://exa mple.com",
        "http://example.com:65536",
        "http://example.com:80a",
        "http://1.2.3.256",
        "http://[::1",
        "1http://x",
        "foo://:80",
        "http://a%zz.com",
    ];
    for v in bad {
        assert!(!is_valid_url(v), "{v:?} should be invalid");
    }
}

#[test]
fn non_empty_string_rule_trims_like_javascript() {
    assert!(is_non_empty_string("a"));
    assert!(is_non_empty_string(" a "));
    assert!(!is_non_empty_string(""));
    assert!(!is_non_empty_string(" \t\n"));
    assert!(!is_non_empty_string("\u{feff}\u{a0}\u{2028}"));
    // JavaScript's trim() keeps U+0085 (NEL), unlike Rust's.
    assert!(is_non_empty_string("\u{85}"));
}

// ---------------------------------------------------------------------------------------------
// envelope and metadata (envelope.rs)

#[test]
fn valid_minimal_component_has_no_errors() {
    assert_eq!(validate_entity(&component()), vec![]);
}

#[test]
fn non_object_input_is_one_root_error() {
    for (input, found) in [
        (json!([]), "an array"),
        (json!(null), "null"),
        (json!(42), "42"),
        (json!("Component"), "\"Component\""),
        (json!(true), "true"),
    ] {
        assert_eq!(
            validate_entity(&input),
            vec![FieldError {
                field: String::new(),
                reason: format!("entity must be an object but found {found}"),
            }]
        );
    }
}

#[test]
fn empty_object_names_every_required_root_field() {
    assert_eq!(
        fields(&json!({})),
        vec!["apiVersion", "kind", "metadata"],
        "{:?}",
        validate_entity(&json!({}))
    );
    assert_eq!(
        validate_entity(&json!({}))[0].reason,
        "entity must have required property 'apiVersion'"
    );
}

#[test]
fn invalid_name_message_matches_backstage_wording() {
    let e = set(component(), "metadata.name", json!("my entity"));
    assert_eq!(
        validate_entity(&e),
        vec![FieldError {
            field: "metadata.name".into(),
            reason: "\"metadata.name\" is not valid; expected a string that is sequences of \
                     [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total but \
                     found \"my entity\""
                .into(),
        }]
    );
}

#[test]
fn root_and_metadata_type_errors() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("apiVersion", json!(1), "apiVersion"),
        ("apiVersion", json!(""), "apiVersion"),
        ("apiVersion", json!("1.0"), "apiVersion"),
        ("kind", json!(["Component"]), "kind"),
        ("kind", json!("Com-ponent"), "kind"),
        ("metadata", json!("x"), "metadata"),
        ("spec", json!([]), "spec"),
        ("metadata.name", json!(12), "metadata.name"),
        ("metadata.name", json!(""), "metadata.name"),
        ("metadata.name", json!(null), "metadata.name"),
        ("metadata.name", json!("a".repeat(64)), "metadata.name"),
        ("metadata.namespace", json!(""), "metadata.namespace"),
        ("metadata.namespace", json!("Default"), "metadata.namespace"),
        ("metadata.namespace", json!(null), "metadata.namespace"),
        ("metadata.title", json!(""), "metadata.title"),
        ("metadata.title", json!(3), "metadata.title"),
        ("metadata.description", json!(["x"]), "metadata.description"),
        ("metadata.uid", json!(""), "metadata.uid"),
        ("metadata.etag", json!(false), "metadata.etag"),
        ("metadata.labels", json!(["a"]), "metadata.labels"),
        ("metadata.annotations", json!("a=b"), "metadata.annotations"),
        ("metadata.tags", json!("java"), "metadata.tags"),
        (
            "metadata.links",
            json!({"url": "https://x"}),
            "metadata.links",
        ),
    ];
    for (path, value, field) in cases {
        let e = set(component(), path, value.clone());
        assert_eq!(fields(&e), vec![field], "{path} = {value}");
    }
}

#[test]
fn valid_optional_metadata_passes() {
    let e = set(
        component(),
        "metadata",
        json!({
            "name": "a_b.c-d",
            "namespace": "team-1",
            "title": "A title",
            "description": "",
            "uid": "e01199ab",
            "etag": "abc==",
            "labels": { "backstage.io/custom": "ValueStuff", "empty": "" },
            "annotations": { "example.com/bindings": "are secret", "x": "" },
            "tags": ["java", "k8s:prod", "c++"],
            "links": [{ "url": "https://admin.example.org", "title": "Admin", "icon": "dashboard", "type": "admin" }],
            "someExtension": { "anything": [1, 2] }
        }),
    );
    assert_eq!(validate_entity(&e), vec![]);
}

#[test]
fn missing_metadata_name_is_reported() {
    let e = unset(component(), "metadata.name");
    assert_eq!(
        validate_entity(&e),
        vec![FieldError {
            field: "metadata.name".into(),
            reason: "\"metadata\" must have required property 'name'".into(),
        }]
    );
}

#[test]
fn foreign_root_fields_are_rejected() {
    let e = set(component(), "extra", json!(1));
    assert_eq!(fields(&e), vec!["extra"]);
    assert!(validate_entity(&e)[0].reason.contains("\"extra\""));
    // Backstage's NoForeignRootFieldsEntityPolicy also rejects relations and status in files.
    let e = set(component(), "status", json!({}));
    assert_eq!(fields(&e), vec!["status"]);
    let e = set(
        component(),
        "relations",
        json!([{ "type": "ownedBy", "targetRef": "group:default/a" }]),
    );
    assert_eq!(fields(&e), vec!["relations"]);
}

#[test]
fn relations_and_status_shapes_are_checked() {
    let rel = json!([
        { "type": "owned-by", "targetRef": "group:default/a" },
        { "type": "ownedBy" },
        { "type": "ownedBy", "targetRef": "g", "extra": 1,
          "target": { "kind": "Group", "namespace": "default" } },
        "x"
    ]);
    let e = set(component(), "relations", rel);
    assert_eq!(
        fields(&e),
        vec![
            "relations",
            "relations[0].type",
            "relations[1].targetRef",
            "relations[2].extra",
            "relations[2].target.name",
            "relations[3]",
        ]
    );
    let status = json!({ "items": [
        { "type": "t", "level": "fatal", "message": "m" },
        { "type": "t", "level": "info", "message": "m", "error": { "message": "x" } },
    ]});
    let e = set(component(), "status", status);
    assert_eq!(
        fields(&e),
        vec![
            "status",
            "status.items[0].level",
            "status.items[1].error.name"
        ]
    );
}

#[test]
fn labels_keys_and_values() {
    let e = set(
        component(),
        "metadata.labels",
        json!({ "ok": "v", "bad key": "v", "k": "bad value", "n": 1, "": "v" }),
    );
    let errs = validate_entity(&e);
    let got: Vec<(&str, bool)> = errs
        .iter()
        .map(|e| (e.field.as_str(), e.reason.contains("prefix and/or suffix")))
        .collect();
    assert_eq!(
        got,
        vec![
            ("metadata.labels.", true),
            ("metadata.labels.bad key", true),
            ("metadata.labels.k", false),
            ("metadata.labels.n", false),
        ]
    );
    assert_eq!(
        errs[3].reason,
        "\"metadata.labels.n\" must be a string but found 1"
    );
}

#[test]
fn annotations_keys_and_values() {
    let e = set(
        component(),
        "metadata.annotations",
        json!({
            "backstage.io/x": "any value / with spaces",
            "a/b/c": "v",
            "backstage.io/y": 5,
            "backstage.io/z": null
        }),
    );
    assert_eq!(
        fields(&e),
        vec![
            "metadata.annotations.a/b/c",
            "metadata.annotations.backstage.io/y",
            "metadata.annotations.backstage.io/z",
        ]
    );
}

#[test]
fn tags_are_checked_one_by_one() {
    let e = set(
        component(),
        "metadata.tags",
        json!([
            "java",
            "Java",
            "",
            7,
            "go 1.15.3",
            "a".repeat(64),
            "a".repeat(63)
        ]),
    );
    assert_eq!(
        fields(&e),
        vec![
            "metadata.tags[1]",
            "metadata.tags[2]",
            "metadata.tags[3]",
            "metadata.tags[4]",
            "metadata.tags[5]",
        ]
    );
    assert_eq!(
        validate_entity(&e)[0].reason,
        "\"metadata.tags[1]\" is not valid; expected a string that is sequences of [a-z0-9+#] \
         separated by [-], at most 63 characters in total but found \"Java\""
    );
}

#[test]
fn links_are_checked() {
    let links = json!([
        { "url": "https://ok.example" },
        { "title": "no url" },
        { "url": "not a url" },
        { "url": 5 },
        { "url": "https://x.example", "title": "   " },
        { "url": "https://x.example", "icon": 1 },
        { "url": "https://x.example", "type": "" },
        "https://string.example"
    ]);
    let e = set(component(), "metadata.links", links);
    let errs = validate_entity(&e);
    assert_eq!(
        errs.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
        vec![
            "metadata.links[1].url",
            "metadata.links[2].url",
            "metadata.links[3].url",
            "metadata.links[4].title",
            "metadata.links[5].icon",
            "metadata.links[6].type",
            "metadata.links[7]",
        ]
    );
    assert_eq!(
        errs[0].reason,
        "\"metadata.links[1]\" must have required property 'url'"
    );
    assert_eq!(
        errs[1].reason,
        "\"metadata.links[2].url\" is not valid; expected a string that is a valid url but found \"not a url\""
    );
    assert!(errs[3].reason.contains("a non empty string"));
}

#[test]
fn namespace_absent_is_fine() {
    // DefaultNamespaceEntityPolicy fills it in; nothing to reject.
    assert_eq!(
        validate_entity(&unset(component(), "metadata.namespace")),
        vec![]
    );
    let e = set(component(), "metadata.namespace", json!("development"));
    assert_eq!(validate_entity(&e), vec![]);
}

#[test]
fn garbage_never_panics() {
    let mut deep = json!("bottom");
    for _ in 0..500 {
        deep = json!({ "a": [deep] });
    }
    let inputs = vec![
        json!({ "apiVersion": deep, "kind": deep, "metadata": deep, "spec": deep }),
        json!({ "apiVersion": "backstage.io/v1alpha1", "kind": "API",
                "metadata": { "name": "x", "labels": deep, "links": [deep, null, []] },
                "spec": { "type": "mcp-server", "remotes": [deep, null] } }),
        json!({ "apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template",
                "metadata": { "name": "t" },
                "spec": { "type": "x", "steps": deep, "parameters": [deep, 1], "output": deep } }),
        json!({ "metadata": null, "relations": deep, "status": deep }),
        json!({ "kind": "Group", "apiVersion": "backstage.io/v1alpha1",
                "metadata": { "name": "ü".repeat(1000), "tags": [deep] }, "spec": null }),
    ];
    for input in inputs {
        let errs = validate_entity(&input);
        assert!(!errs.is_empty());
        assert!(
            errs.iter().all(|e| e.reason.chars().count() < 400),
            "{errs:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// kinds (kinds.rs)

#[test]
fn modelled_kinds() {
    for k in [
        "component",
        "api",
        "resource",
        "system",
        "domain",
        "group",
        "user",
        "location",
        "template",
        "Component",
    ] {
        assert!(is_modelled_kind(k), "{k}");
    }
    for k in ["airesource", "widget", "", "components"] {
        assert!(!is_modelled_kind(k), "{k}");
    }
}

#[test]
fn unmodelled_kind_needs_only_a_valid_envelope() {
    let e =
        json!({ "apiVersion": "my-company.net/v1", "kind": "Widget", "metadata": { "name": "w" } });
    assert_eq!(validate_entity(&e), vec![]);
    let e = set(e, "spec", json!({ "anything": [1, { "x": null }] }));
    assert_eq!(validate_entity(&e), vec![]);
    let e = set(e, "apiVersion", json!("My.Company/v1"));
    assert_eq!(fields(&e), vec!["apiVersion"]);
}

#[test]
fn api_versions_per_kind() {
    let e = set(component(), "apiVersion", json!("backstage.io/v1beta1"));
    assert_eq!(validate_entity(&e), vec![]);
    let e = set(component(), "apiVersion", json!("my-company.net/v1"));
    assert_eq!(
        validate_entity(&e),
        vec![FieldError {
            field: "apiVersion".into(),
            reason: "kind Component does not support apiVersion \"my-company.net/v1\"; expected \
                     one of backstage.io/v1alpha1, backstage.io/v1beta1"
                .into(),
        }]
    );
    // Templates are only scaffolder.backstage.io/v1beta3.
    let t = entity(
        "Template",
        "backstage.io/v1beta2",
        json!({ "type": "service", "steps": [] }),
    );
    assert_eq!(fields(&t), vec!["apiVersion"]);
    let t = set(t, "apiVersion", json!("scaffolder.backstage.io/v1beta3"));
    assert_eq!(validate_entity(&t), vec![]);
    let c = set(
        component(),
        "apiVersion",
        json!("scaffolder.backstage.io/v1beta3"),
    );
    assert_eq!(fields(&c), vec!["apiVersion"]);
}

#[test]
fn kinds_are_case_sensitive() {
    let e = set(component(), "kind", json!("component"));
    assert_eq!(
        validate_entity(&e),
        vec![FieldError {
            field: "kind".into(),
            reason: "kind \"component\" is not recognized; kinds are case-sensitive, expected \
                     \"Component\""
                .into(),
        }]
    );
    let e = entity("Api", "backstage.io/v1alpha1", json!({}));
    assert_eq!(fields(&e), vec!["kind"]);
}

/// A valid spec for each modelled kind, and for each required member: removing it, and setting
/// it to a number, must each produce exactly one error naming it.
#[test]
fn required_spec_fields_per_kind() {
    let cases: Vec<(&str, &str, Value, Vec<&str>)> = vec![
        (
            "Component",
            "backstage.io/v1alpha1",
            json!({ "type": "service", "lifecycle": "production", "owner": "o" }),
            vec!["type", "lifecycle", "owner"],
        ),
        (
            "API",
            "backstage.io/v1alpha1",
            json!({ "type": "openapi", "lifecycle": "production", "owner": "o", "definition": "d" }),
            vec!["type", "lifecycle", "owner", "definition"],
        ),
        (
            "API",
            "backstage.io/v1beta1",
            json!({ "type": "mcp-server", "lifecycle": "experimental", "owner": "o",
                    "remotes": [{ "type": "streamable-http", "url": "http://h/mcp" }] }),
            vec!["lifecycle", "owner", "remotes"],
        ),
        (
            "Resource",
            "backstage.io/v1alpha1",
            json!({ "type": "database", "owner": "o" }),
            vec!["type", "owner"],
        ),
        (
            "System",
            "backstage.io/v1alpha1",
            json!({ "owner": "o" }),
            vec!["owner"],
        ),
        (
            "Domain",
            "backstage.io/v1alpha1",
            json!({ "owner": "o" }),
            vec!["owner"],
        ),
        (
            "Group",
            "backstage.io/v1alpha1",
            json!({ "type": "team", "children": [] }),
            vec!["type", "children"],
        ),
        (
            "User",
            "backstage.io/v1alpha1",
            json!({ "memberOf": [] }),
            vec!["memberOf"],
        ),
        (
            "Template",
            "scaffolder.backstage.io/v1beta3",
            json!({ "type": "service", "steps": [{ "action": "fetch:plain" }] }),
            vec!["type", "steps"],
        ),
    ];
    for (kind, version, spec, required) in cases {
        let e = entity(kind, version, spec);
        assert_eq!(validate_entity(&e), vec![], "{kind} base");
        assert_eq!(
            fields(&unset(e.clone(), "spec")),
            vec!["spec"],
            "{kind} without spec"
        );
        for name in required {
            let path = format!("spec.{name}");
            let missing = validate_entity(&unset(e.clone(), &path));
            assert_eq!(
                missing,
                vec![FieldError {
                    field: path.clone(),
                    reason: format!("\"spec\" must have required property '{name}'"),
                }],
                "{kind} without {name}"
            );
            assert_eq!(
                fields(&set(e.clone(), &path, json!(7))),
                vec![path.clone()],
                "{kind} {name}: 7"
            );
        }
    }
}

#[test]
fn location_has_no_required_spec_fields_but_checks_types() {
    let loc = entity("Location", "backstage.io/v1alpha1", json!({}));
    assert_eq!(validate_entity(&loc), vec![]);
    let loc = set(loc, "spec.targets", json!(["./a.yaml", ""]));
    let loc = set(loc, "spec.presence", json!("sometimes"));
    let loc = set(loc, "spec.target", json!(["./b.yaml"]));
    assert_eq!(
        fields(&loc),
        vec!["spec.target", "spec.targets[1]", "spec.presence"]
    );
    let ok = entity(
        "Location",
        "backstage.io/v1alpha1",
        json!({ "type": "url", "target": "https://x/y.yaml", "presence": "optional" }),
    );
    assert_eq!(validate_entity(&ok), vec![]);
}

#[test]
fn optional_spec_field_types() {
    let c = set(component(), "spec.providesApis", json!("single-api"));
    let c = set(c, "spec.consumesApis", json!(["a", 1]));
    let c = set(c, "spec.dependsOn", json!([""]));
    let c = set(c, "spec.system", json!(""));
    let c = set(c, "spec.subcomponentOf", json!({}));
    assert_eq!(
        fields(&c),
        vec![
            "spec.system",
            "spec.subcomponentOf",
            "spec.providesApis",
            "spec.consumesApis[1]",
            "spec.dependsOn[0]",
        ]
    );
    let g = entity(
        "Group",
        "backstage.io/v1alpha1",
        json!({ "type": "team", "children": ["a"], "parent": 1, "members": "m",
                "profile": { "displayName": "", "email": 1, "picture": "https://p" } }),
    );
    assert_eq!(
        fields(&g),
        vec![
            "spec.profile.displayName",
            "spec.profile.email",
            "spec.parent",
            "spec.members",
        ]
    );
    let u = entity(
        "User",
        "backstage.io/v1alpha1",
        json!({ "memberOf": ["g"], "profile": "me" }),
    );
    assert_eq!(fields(&u), vec!["spec.profile"]);
}

#[test]
fn api_mcp_server_variant() {
    let mcp = entity(
        "API",
        "backstage.io/v1alpha1",
        json!({ "type": "mcp-server", "lifecycle": "experimental", "owner": "o", "remotes": [] }),
    );
    let errs = validate_entity(&mcp);
    assert_eq!(
        errs,
        vec![FieldError {
            field: "spec.remotes".into(),
            reason: "\"spec.remotes\" must NOT have fewer than 1 items but found 0".into(),
        }]
    );
    let mcp = set(
        mcp,
        "spec.remotes",
        json!([{ "type": "sse" }, { "url": "" }, "x"]),
    );
    assert_eq!(
        fields(&mcp),
        vec![
            "spec.remotes[0].url",
            "spec.remotes[1].type",
            "spec.remotes[1].url",
            "spec.remotes[2]",
        ]
    );
    // Any other type needs a definition, and `remotes` alone is not enough.
    let openapi = entity(
        "API",
        "backstage.io/v1alpha1",
        json!({ "type": "openapi", "lifecycle": "production", "owner": "o",
                "remotes": [{ "type": "sse", "url": "http://x" }] }),
    );
    assert_eq!(fields(&openapi), vec!["spec.definition"]);
}

#[test]
fn unresolved_placeholder_definition_is_not_a_string() {
    let api = entity(
        "API",
        "backstage.io/v1alpha1",
        json!({ "type": "openapi", "lifecycle": "production", "owner": "o",
                "definition": { "$text": "./openapi.yaml" } }),
    );
    assert_eq!(
        validate_entity(&api),
        vec![FieldError {
            field: "spec.definition".into(),
            reason: "\"spec.definition\" must be a string but found an object".into(),
        }]
    );
}

#[test]
fn template_spec_shapes() {
    let t = entity(
        "Template",
        "scaffolder.backstage.io/v1beta3",
        json!({
            "type": "service",
            "owner": "",
            "parameters": { "backstage:permissions": { "tags": ["a", 1] } },
            "secrets": { "schema": [] },
            "presentation": { "buttonLabels": { "backButtonText": 1 } },
            "EXPERIMENTAL_recovery": { "EXPERIMENTAL_strategy": true },
            "formDecorators": [{ "id": "x", "input": "y" }],
            "steps": [
                { "id": "a", "name": "A", "action": "fetch:template", "input": {}, "if": true },
                { "id": "b" },
                { "action": "x", "if": 1, "input": null }
            ],
            "output": {
                "links": [{ "url": "" , "if": "${{ x }}" }],
                "text": [{ "title": "t", "content": 5 }],
                "extra": "s",
                "bad": 1
            }
        }),
    );
    assert_eq!(
        fields(&t),
        vec![
            "spec.owner",
            "spec.parameters.backstage:permissions.tags[1]",
            "spec.secrets.schema",
            "spec.presentation.buttonLabels.backButtonText",
            "spec.EXPERIMENTAL_recovery.EXPERIMENTAL_strategy",
            "spec.formDecorators[0].input",
            "spec.steps[1].action",
            "spec.steps[2].input",
            "spec.steps[2].if",
            "spec.output.links[0].url",
            "spec.output.text[0].content",
            "spec.output.bad",
        ]
    );
    let t = set(
        t,
        "spec",
        json!({ "type": "t", "steps": [], "parameters": [{}, 3] }),
    );
    assert_eq!(fields(&t), vec!["spec.parameters[1]"]);
    let t = set(t, "spec.parameters", json!("p"));
    assert_eq!(fields(&t), vec!["spec.parameters"]);
}

// ---------------------------------------------------------------------------------------------
// real catalogs

/// Every `.yaml` file under `dir` (sorted), except OpenAPI documents and files under `skip`.
fn yaml_files(dir: &Path, skip: &[&str], out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if skip.contains(&name.as_str()) {
            continue;
        }
        if path.is_dir() {
            yaml_files(&path, skip, out);
        } else if name.ends_with(".yaml") && !name.ends_with(".oas.yaml") {
            out.push(path);
        }
    }
}

/// The documents of a multi-document YAML file, as JSON values (empty documents dropped).
fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap())
        .filter(|v| !v.is_null())
        .collect()
}

/// Stands in for placeholder substitution, which runs before validation: `$text` becomes a
/// string, `$json`/`$yaml` an object. Returns how many were replaced.
fn resolve_placeholders(value: &mut Value) -> usize {
    match value {
        Value::Object(map) if map.len() == 1 => {
            let key = map.keys().next().cloned().unwrap_or_default();
            match key.as_str() {
                "$text" => {
                    *value = json!(format!("(contents of {})", map[&key]));
                    1
                }
                "$json" | "$yaml" => {
                    *value = json!({});
                    1
                }
                _ => map.values_mut().map(resolve_placeholders).sum(),
            }
        }
        Value::Object(map) => map.values_mut().map(resolve_placeholders).sum(),
        Value::Array(a) => a.iter_mut().map(resolve_placeholders).sum(),
        _ => 0,
    }
}

/// `kind:namespace/name`, lower-case.
fn entity_ref(e: &Value) -> String {
    format!(
        "{}:{}/{}",
        e["kind"].as_str().unwrap_or("?"),
        e["metadata"]["namespace"].as_str().unwrap_or("default"),
        e["metadata"]["name"].as_str().unwrap_or("?")
    )
    .to_lowercase()
}

#[test]
fn backstage_example_catalog_is_valid() {
    let root = fixtures_dir().join("backstage-examples");
    let mut files = Vec::new();
    yaml_files(&root, &[], &mut files);
    let mut refs = BTreeSet::new();
    let mut placeholders = 0;
    let mut problems = Vec::new();
    for file in &files {
        for mut doc in documents(file) {
            placeholders += resolve_placeholders(&mut doc);
            for e in validate_entity(&doc) {
                problems.push(format!("{}: {} {e}", file.display(), entity_ref(&doc)));
            }
            refs.insert(entity_ref(&doc));
        }
    }
    assert_eq!(problems, Vec::<String>::new());
    assert_eq!(placeholders, 4);
    let expected: BTreeSet<String> =
        std::fs::read_to_string(fixtures_dir().join("expected-entity-refs.txt"))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect();
    assert_eq!(refs, expected);
    assert!(refs.contains("api:default/backstage-mcp-server"));
    assert!(refs.contains("airesource:default/code-review-plugin"));
}

#[test]
fn create_app_examples_are_valid() {
    let root = fixtures_dir().join("create-app-examples");
    let mut files = Vec::new();
    // template/content is the scaffolder's skeleton (`${{ values.name }}`), not catalog data.
    yaml_files(&root, &["content"], &mut files);
    let mut refs = BTreeSet::new();
    for file in &files {
        for doc in documents(file) {
            assert_eq!(validate_entity(&doc), vec![], "{}", file.display());
            refs.insert(entity_ref(&doc));
        }
    }
    assert!(
        refs.contains("template:default/example-nodejs-template"),
        "{refs:?}"
    );
    assert!(refs.contains("api:default/example-grpc-api"), "{refs:?}");
    assert!(refs.contains("group:default/guests"), "{refs:?}");
}

#[test]
fn template_skeleton_is_not_an_entity() {
    let path = fixtures_dir().join("create-app-examples/template/content/catalog-info.yaml");
    let docs = documents(&path);
    assert_eq!(docs.len(), 1);
    assert_eq!(fields(&docs[0]), vec!["metadata.name"]);
}

#[test]
fn invalid_example_component_fails_on_name_and_tag() {
    let path = fixtures_dir().join("backstage-examples-invalid/components/invalid-component.yaml");
    let docs = documents(&path);
    assert_eq!(docs.len(), 1);
    let errs = validate_entity(&docs[0]);
    assert_eq!(fields(&docs[0]), vec!["metadata.name", "metadata.tags[1]"]);
    assert!(errs[0].reason.ends_with("but found \"invalid component\""));
    assert!(errs[1].reason.ends_with("but found \"go 1.15.3\""));
    // Renaming alone is not enough: the tag with a space still fails.
    let renamed = set(docs[0].clone(), "metadata.name", json!("invalid-component"));
    assert_eq!(fields(&renamed), vec!["metadata.tags[1]"]);
}
