//! Backstage's entity validation, rule for rule: what Backstage's catalog checks before it
//! accepts an entity read from a location.
//!
//! Owns, per submodule:
//! - `names`: single-value format rules (`KubernetesValidatorFunctions`,
//!   `CommonValidatorFunctions`, the catalog's default `makeValidator` tag rule);
//! - `envelope`: the root and `metadata` (the `EntityEnvelope`/`Entity`/`EntityMeta` JSON
//!   schemas, `NoForeignRootFieldsEntityPolicy`, `FieldFormatEntityPolicy`);
//! - `verdict`: the answer of `POST /validate-entity` in Backstage's form (stages, first error);
//! - `kinds`: the per-kind `spec` schemas of the built-in kinds, the MCP-server API variant and
//!   the scaffolder's `Template` (`scaffolder.backstage.io/v1beta3`), and which apiVersions each
//!   kind accepts.
//!
//! Where Backstage stops at the first failing policy, this module reports every problem, but at
//! most one per value (a wrong type hides the format check of the same value).
//!
//! Deliberately not here: placeholder substitution (`$text` etc. must be resolved before
//! validation; an unresolved `spec.definition: {$text: ...}` is not a string), defaulting the
//! namespace (`DefaultNamespaceEntityPolicy` changes nothing that can fail), entity references
//! and relations, and catalog rules (which kinds a location may contribute). Kinds without a
//! modelled spec (e.g. `AiResource`) are accepted when their envelope is valid, where a stock
//! Backstage catalog would need a processor that recognises them.

mod envelope;
mod kinds;
mod names;
#[cfg(test)]
mod tests;
mod verdict;

use serde_json::Value;

pub use names::{
    is_non_empty_string, is_valid_annotation_key, is_valid_annotation_value, is_valid_api_version,
    is_valid_dns_label, is_valid_dns_subdomain, is_valid_kind, is_valid_label_key,
    is_valid_label_value, is_valid_namespace, is_valid_object_name, is_valid_tag, is_valid_url,
};
pub use verdict::validate_for_api;

/// One validation failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path of the offending field, e.g. "metadata.name", "spec.owner",
    /// "metadata.tags[1]", "metadata.annotations.backstage.io/x" ("" for the root).
    pub field: String,
    /// Why it is invalid, naming the offending value, in words close to Backstage's messages.
    pub reason: String,
}

impl FieldError {
    fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "{}: {}", self.field, self.reason)
        }
    }
}

impl std::error::Error for FieldError {}

/// Every problem in `entity` (a parsed YAML/JSON document as serde_json::Value); empty = valid.
/// Never panics: any JSON value is accepted as input.
pub fn validate_entity(entity: &Value) -> Vec<FieldError> {
    let Some(root) = entity.as_object() else {
        return vec![FieldError::new(
            "",
            format!("entity must be an object but found {}", describe(entity)),
        )];
    };
    let mut errors = Vec::new();
    envelope::check(root, &mut errors);
    kinds::check(root, &mut errors);
    errors
}

/// The kinds with a modelled spec (lower-case names: `component`, `api`, `resource`, `system`,
/// `domain`, `group`, `user`, `location`, `template`); matched case-insensitively.
pub fn is_modelled_kind(kind: &str) -> bool {
    kinds::modelled_kind(kind).is_some()
}

/// Whether a processor of a standard Backstage backend (the built-in kinds and the scaffolder's
/// `Template`) recognises the entity: a modelled kind, spelled exactly, at one of its
/// apiVersions. Backstage answers "No processor recognized the entity …" otherwise.
pub fn is_recognized(entity: &Value) -> bool {
    let (Some(kind), Some(api_version)) = (
        entity.get("kind").and_then(Value::as_str),
        entity.get("apiVersion").and_then(Value::as_str),
    ) else {
        return false;
    };
    kinds::modelled_kind(kind)
        .is_some_and(|rule| rule.kind == kind && rule.api_versions.contains(&api_version))
}

// Message helpers shared by the submodules. The wording follows ajv's and
// `FieldFormatEntityPolicy`'s messages, with our field paths instead of JSON pointers.

/// `parent.name`, or `name` at the root.
fn child(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// `parent[i]`.
fn item(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// `"field"`, or `entity` for the root.
fn subject(path: &str) -> String {
    if path.is_empty() {
        "entity".to_string()
    } else {
        format!("\"{path}\"")
    }
}

/// A string in double quotes, control characters escaped, cut at 100 characters.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for (i, c) in s.chars().enumerate() {
        if i == 100 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// A short description of a value for "but found ..." (never the whole of a large value).
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quote(s),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

/// `"path" must be <expected> but found <value>`.
fn type_error(path: &str, expected: &str, found: &Value) -> FieldError {
    FieldError::new(
        path,
        format!(
            "{} must be {expected} but found {}",
            subject(path),
            describe(found)
        ),
    )
}

/// `"parent" must have required property 'name'`, reported on `parent.name`.
fn required_error(parent: &str, name: &str) -> FieldError {
    FieldError::new(
        child(parent, name),
        format!("{} must have required property '{name}'", subject(parent)),
    )
}

/// An empty string where JSON Schema's `minLength: 1` applies.
fn empty_error(path: &str) -> FieldError {
    FieldError::new(
        path,
        format!(
            "{} must NOT have fewer than 1 characters but found \"\"",
            subject(path)
        ),
    )
}

/// `FieldFormatEntityPolicy`'s message: `"path" is not valid; expected ... but found "value"`.
fn format_error(path: &str, expectation: &str, value: &str) -> FieldError {
    FieldError::new(
        path,
        format!(
            "{} is not valid; expected {expectation} but found {}",
            subject(path),
            quote(value)
        ),
    )
}
