//! The entity envelope: root fields and `metadata`, as Backstage's catalog checks them for every
//! kind (`EntityEnvelope`, `Entity` and `EntityMeta` JSON schemas, the `common` schema's
//! relation/status shapes, `NoForeignRootFieldsEntityPolicy` and `FieldFormatEntityPolicy`).
//!
//! Owns: which root fields may appear, the types of root and metadata fields, and the format of
//! apiVersion, kind, name, namespace, labels, annotations, tags and links. Does not own: what is
//! inside `spec` (see `kinds`), or the single-value format rules themselves (see `names`).
//!
//! `relations` and `status` are part of Backstage's `Entity` schema, so their shape is checked,
//! but the catalog's default `NoForeignRootFieldsEntityPolicy` only knows `apiVersion`, `kind`,
//! `metadata` and `spec`: an entity read from a file that carries them is rejected by Backstage,
//! and is reported here too.

use serde_json::{Map, Value};

use super::kinds::{check_props, check_shape, obj, opt, req, Prop, Shape};
use super::names::{
    self, EXPECT_DNS_LABEL, EXPECT_KIND, EXPECT_NON_EMPTY, EXPECT_OBJECT_NAME,
    EXPECT_PREFIX_SUFFIX, EXPECT_TAG, EXPECT_URL,
};
use super::{child, format_error, item, quote, required_error, subject, type_error, FieldError};

/// Root fields an entity read from a location may have (`NoForeignRootFieldsEntityPolicy`).
const KNOWN_ROOT_FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec"];

/// `status` from the `common` schema: `items` of `{type, level, message, error?}`.
const STATUS: Shape = obj(&[opt(
    "items",
    Shape::Array {
        items: &obj(&[
            req("type", Shape::NonEmptyStr),
            req("level", Shape::Enum(&["info", "warning", "error"])),
            req("message", Shape::Str),
            opt(
                "error",
                obj(&[
                    req("name", Shape::NonEmptyStr),
                    req("message", Shape::Str),
                    opt("code", Shape::Str),
                    opt("stack", Shape::Str),
                ]),
            ),
        ]),
        min: 0,
    },
)]);

/// `metadata` members whose only rule is their type.
const PLAIN_METADATA: &[Prop] = &[
    opt("title", Shape::NonEmptyStr),
    opt("description", Shape::Str),
    opt("uid", Shape::NonEmptyStr),
    opt("etag", Shape::NonEmptyStr),
];

/// `common#reference`, the deprecated `target` of a relation (no other members allowed).
const REFERENCE: Shape = obj(&[
    req("kind", Shape::NonEmptyStr),
    req("namespace", Shape::NonEmptyStr),
    req("name", Shape::NonEmptyStr),
]);

/// A format rule and the expectation text Backstage's `FieldFormatEntityPolicy` gives for it.
type Format = (fn(&str) -> bool, &'static str);
const API_VERSION: Format = (names::is_valid_api_version, EXPECT_PREFIX_SUFFIX);
const KIND: Format = (names::is_valid_kind, EXPECT_KIND);
const NAME: Format = (names::is_valid_object_name, EXPECT_OBJECT_NAME);
const NAMESPACE: Format = (names::is_valid_namespace, EXPECT_DNS_LABEL);
const URL: Format = (names::is_valid_url, EXPECT_URL);
const NON_EMPTY: Format = (names::is_non_empty_string, EXPECT_NON_EMPTY);

/// Checks the root fields and `metadata` of an entity.
pub(super) fn check(root: &Map<String, Value>, out: &mut Vec<FieldError>) {
    for key in root.keys() {
        if !KNOWN_ROOT_FIELDS.contains(&key.as_str()) {
            out.push(FieldError::new(
                key.as_str(),
                format!(
                    "unknown root field {}; an entity may only have apiVersion, kind, metadata and spec",
                    quote(key)
                ),
            ));
        }
    }
    check_formatted("", root, "apiVersion", true, API_VERSION, out);
    check_formatted("", root, "kind", true, KIND, out);
    match root.get("metadata") {
        None => out.push(required_error("", "metadata")),
        Some(Value::Object(meta)) => check_metadata(meta, out),
        Some(v) => out.push(type_error("metadata", "an object", v)),
    }
    match root.get("spec") {
        None | Some(Value::Object(_)) => {}
        Some(v) => out.push(type_error("spec", "an object", v)),
    }
    if let Some(relations) = root.get("relations") {
        check_relations(relations, out);
    }
    if let Some(status) = root.get("status") {
        check_shape(status, &STATUS, "status", out);
    }
}

/// Checks a string member that has a format rule: missing (when required), not a string, or
/// failing `rule` (reported with Backstage's `expectation` text for that rule).
fn check_formatted(
    parent: &str,
    map: &Map<String, Value>,
    name: &str,
    required: bool,
    (rule, expectation): Format,
    out: &mut Vec<FieldError>,
) {
    let path = child(parent, name);
    match map.get(name) {
        None if required => out.push(required_error(parent, name)),
        None => {}
        Some(Value::String(s)) if !rule(s) => out.push(format_error(&path, expectation, s)),
        Some(Value::String(_)) => {}
        Some(v) => out.push(type_error(&path, "a string", v)),
    }
}

/// Checks `metadata`: the `EntityMeta` schema's types plus the field format policy.
fn check_metadata(meta: &Map<String, Value>, out: &mut Vec<FieldError>) {
    let m = "metadata";
    check_formatted(m, meta, "name", true, NAME, out);
    check_formatted(m, meta, "namespace", false, NAMESPACE, out);
    check_props(meta, PLAIN_METADATA, m, out);
    check_key_values(meta, "labels", out);
    check_key_values(meta, "annotations", out);
    match meta.get("tags") {
        None => {}
        Some(Value::Array(tags)) => {
            for (i, tag) in tags.iter().enumerate() {
                let path = item("metadata.tags", i);
                match tag {
                    Value::String(s) if !names::is_valid_tag(s) => {
                        out.push(format_error(&path, EXPECT_TAG, s))
                    }
                    Value::String(_) => {}
                    v => out.push(type_error(&path, "a string", v)),
                }
            }
        }
        Some(v) => out.push(type_error("metadata.tags", "an array", v)),
    }
    match meta.get("links") {
        None => {}
        Some(Value::Array(links)) => {
            for (i, link) in links.iter().enumerate() {
                let path = item("metadata.links", i);
                match link {
                    Value::Object(link) => check_link(link, &path, out),
                    v => out.push(type_error(&path, "an object", v)),
                }
            }
        }
        Some(v) => out.push(type_error("metadata.links", "an array", v)),
    }
}

/// Checks `metadata.labels` or `metadata.annotations`: an object of string values whose keys
/// are `[prefix/]name`; label values must also be empty or a valid name.
fn check_key_values(meta: &Map<String, Value>, which: &str, out: &mut Vec<FieldError>) {
    let base = child("metadata", which);
    let map = match meta.get(which) {
        None => return,
        Some(Value::Object(map)) => map,
        Some(v) => {
            out.push(type_error(&base, "an object", v));
            return;
        }
    };
    let labels = which == "labels";
    for (key, value) in map {
        let path = child(&base, key);
        let key_ok = if labels {
            names::is_valid_label_key(key)
        } else {
            names::is_valid_annotation_key(key)
        };
        if !key_ok {
            out.push(format_error(&path, EXPECT_PREFIX_SUFFIX, key));
        }
        match value {
            Value::String(s) if labels && !names::is_valid_label_value(s) => {
                out.push(format_error(&path, EXPECT_OBJECT_NAME, s))
            }
            Value::String(_) => {}
            v => out.push(type_error(&path, "a string", v)),
        }
    }
}

/// Checks one entry of `metadata.links`: `url` required and a valid URL; `title` and `icon`
/// non-blank strings; `type` a non-empty string.
fn check_link(link: &Map<String, Value>, path: &str, out: &mut Vec<FieldError>) {
    check_formatted(path, link, "url", true, URL, out);
    for name in ["title", "icon"] {
        check_formatted(path, link, name, false, NON_EMPTY, out);
    }
    check_props(link, &[opt("type", Shape::NonEmptyStr)], path, out);
}

/// Checks `relations` against the `common#relation` schema: `{type, targetRef, target?}` with
/// nothing else, `type` made of word characters.
fn check_relations(relations: &Value, out: &mut Vec<FieldError>) {
    let Value::Array(list) = relations else {
        out.push(type_error("relations", "an array", relations));
        return;
    };
    for (i, relation) in list.iter().enumerate() {
        let path = item("relations", i);
        let Value::Object(r) = relation else {
            out.push(type_error(&path, "an object", relation));
            continue;
        };
        no_extra_members(r, &["type", "targetRef", "target"], &path, out);
        let props = [
            req("type", Shape::NonEmptyStr),
            req("targetRef", Shape::NonEmptyStr),
        ];
        check_props(r, &props, &path, out);
        if let Some(Value::String(t)) = r.get("type") {
            if !t.is_empty() && !t.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
                out.push(FieldError::new(
                    child(&path, "type"),
                    format!(
                        "{} must match pattern \"^\\w+$\" but found {}",
                        subject(&child(&path, "type")),
                        quote(t)
                    ),
                ));
            }
        }
        if let Some(target) = r.get("target") {
            let target_path = child(&path, "target");
            if check_shape(target, &REFERENCE, &target_path, out) {
                if let Value::Object(t) = target {
                    no_extra_members(t, &["kind", "namespace", "name"], &target_path, out);
                }
            }
        }
    }
}

/// JSON Schema's `additionalProperties: false`.
fn no_extra_members(
    map: &Map<String, Value>,
    allowed: &[&str],
    path: &str,
    out: &mut Vec<FieldError>,
) {
    for key in map.keys().filter(|k| !allowed.contains(&k.as_str())) {
        out.push(FieldError::new(
            child(path, key),
            format!(
                "{} must NOT have additional properties; found {}",
                subject(path),
                quote(key)
            ),
        ));
    }
}
