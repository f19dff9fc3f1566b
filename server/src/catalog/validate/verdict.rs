//! `POST /api/catalog/validate-entity`'s answer, as catalog-backend 4.0.5 gives it
//! (`dist/service/createRouter.cjs.js` 676-744 and
//! `dist/processing/DefaultCatalogProcessingOrchestrator.cjs.js` 33-298, observed side by side in
//! `end2end/compat`): the stages run in Backstage's order and the first failing one answers with
//! its first problem only, in Backstage's words:
//!
//! 1. the entity envelope (`apiVersion`, `kind`, `metadata.name`): a `TypeError` in ajv's form,
//!    `<root> must have required property 'kind' - missingProperty: kind`;
//! 2. the location ref, which must be `url:<target>` (a `TypeError`);
//! 3. the entity policies (field formats, foreign root fields, metadata types): an `InputError`
//!    `Policy check failed for <ref>; caused by Error: <message>`, with the cause;
//! 4. a processor that recognises the kind and apiVersion, else an `InputError`
//!    `No processor recognized the entity <ref> as valid, …`;
//! 5. that kind's `spec` schema: an `InputError` `Processor BuiltinKindsEntityProcessor threw an
//!    error while validating the entity <ref>; caused by TypeError: <ajv message>`, with the cause;
//! 6. for a Location, its type: only `url` may be registered. Backstage then fetches its targets;
//!    Greenroom does not (a deliberate deviation: no outbound request on a caller's behalf).
//!
//! The catalog's own problem list keeps Greenroom's fuller messages (every problem, field paths
//! as written); this module only translates the first one into Backstage's form.

use serde_json::{json, Value};

use super::{is_recognized, validate_entity, FieldError};

/// Where Backstage's format messages send the reader.
const FORMAT_DOC: &str = "To learn more about catalog file format, visit: https://github.com/backstage/backstage/blob/master/docs/architecture-decisions/adr002-default-catalog-file-format.md";

/// Which check reports a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Envelope,
    Policy,
    Kind,
}

/// The errors to answer with (`{errors: [...]}`, each `{name, message, cause?}`), or `None` when
/// the entity is valid. `location` is the request's location ref.
pub fn validate_for_api(entity: &Value, location: &str) -> Option<Vec<Value>> {
    let errors: Vec<FieldError> = validate_entity(entity)
        .into_iter()
        // Reported as "No processor recognized" below, as Backstage reports them.
        .filter(|e| !is_recognition_error(e))
        .collect();
    let first_of = |stage: Stage| errors.iter().find(|e| stage_of(e) == stage);
    if let Some(e) = first_of(Stage::Envelope) {
        return Some(vec![
            json!({ "name": "TypeError", "message": ajv_message(e) }),
        ]);
    }
    match crate::catalog::script_urls::parse_location_ref(location) {
        Err(message) => return Some(vec![json!({ "name": "TypeError", "message": message })]),
        Ok((kind, _)) if kind != "url" => {
            return Some(vec![json!({
                "name": "TypeError",
                "message": format!("Invalid location ref {location}, only 'url:<target>' is supported, e.g. url:https://host/path"),
            })])
        }
        Ok(_) => {}
    }
    let entity_ref = entity_ref(entity);
    if let Some(e) = first_of(Stage::Policy) {
        let message = policy_message(e);
        return Some(vec![json!({
            "name": "InputError",
            "message": format!("Policy check failed for {entity_ref}; caused by Error: {message}"),
            "cause": { "name": "Error", "message": message },
        })]);
    }
    if !is_recognized(entity) {
        return Some(vec![json!({
            "name": "InputError",
            "message": format!("No processor recognized the entity {entity_ref} as valid, possibly caused by a foreign kind or apiVersion"),
        })]);
    }
    if let Some(e) = first_of(Stage::Kind) {
        let message = ajv_message(e);
        return Some(vec![json!({
            "name": "InputError",
            "message": format!("Processor BuiltinKindsEntityProcessor threw an error while validating the entity {entity_ref}; caused by TypeError: {message}"),
            "cause": { "name": "TypeError", "message": message },
        })]);
    }
    // A Location is then read (`DefaultCatalogProcessingOrchestrator.cjs.js` 213-298): only
    // `url` locations may be, the type defaulting to the request location's. Greenroom stops
    // before fetching its targets (an outbound request on behalf of any caller).
    if entity["kind"] == "Location" {
        let location_type = entity["spec"]["type"].as_str().unwrap_or("url");
        if location_type != "url" {
            return Some(vec![json!({
                "name": "InputError",
                "message": "Registered locations must be of an allowed type [\"url\"]",
            })]);
        }
    }
    None
}

/// `kind:namespace/name`, lower-cased, as Backstage's `stringifyEntityRef` writes it.
fn entity_ref(entity: &Value) -> String {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let namespace = entity["metadata"]
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    format!(
        "{}:{}/{}",
        text(&entity["kind"]),
        namespace,
        text(&entity["metadata"]["name"])
    )
    .to_lowercase()
}

/// The kind-rule errors that mean "no processor takes this entity": an apiVersion the kind
/// does not have, a kind spelled in another case.
fn is_recognition_error(e: &FieldError) -> bool {
    (e.field == "apiVersion" && e.reason.contains("does not support apiVersion"))
        || (e.field == "kind" && e.reason.contains("kinds are case-sensitive"))
}

fn stage_of(e: &FieldError) -> Stage {
    let envelope_field = matches!(
        e.field.as_str(),
        "apiVersion" | "kind" | "metadata" | "metadata.name"
    );
    let shape_problem =
        e.reason.contains("must have required property") || e.reason.contains(" must be ");
    if envelope_field && shape_problem {
        Stage::Envelope
    } else if e.field == "spec" || e.field.starts_with("spec.") || e.field.starts_with("spec[") {
        Stage::Kind
    } else {
        Stage::Policy
    }
}

/// A Greenroom field path (`spec.type`, `metadata.tags[1]`) as a JSON pointer (`/spec/type`,
/// `/metadata/tags/1`); the root is ajv's `<root>`.
fn pointer(path: &str) -> String {
    if path.is_empty() {
        return "<root>".to_string();
    }
    let mut out = String::new();
    for part in path.split('.') {
        let (name, indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        out.push('/');
        out.push_str(&name.replace('~', "~0").replace('/', "~1"));
        for index in indexes.split(['[', ']']).filter(|s| !s.is_empty()) {
            out.push('/');
            out.push_str(index);
        }
    }
    out
}

/// The parent of a dotted path ("" for a top-level field).
fn parent(path: &str) -> &str {
    path.rfind(['.', '[']).map_or("", |i| &path[..i])
}

/// ajv's `errorsText` for the error (`<instancePath> <message> - <param>: <value>`), rebuilt from
/// the kind of problem Greenroom reports.
fn ajv_message(e: &FieldError) -> String {
    if let Some(rest) = e.reason.split("must have required property '").nth(1) {
        let property = rest.split('\'').next().unwrap_or_default();
        return format!(
            "{} must have required property '{property}' - missingProperty: {property}",
            pointer(parent(&e.field))
        );
    }
    if e.reason.contains("must NOT have fewer than 1 characters") {
        return format!(
            "{} must NOT have fewer than 1 characters - limit: 1",
            pointer(&e.field)
        );
    }
    if let Some(rest) = e.reason.split(" must be ").nth(1) {
        let expected = rest.split(" but found").next().unwrap_or_default();
        let types: Vec<&str> = expected
            .split(" or ")
            .map(|t| t.trim_start_matches("an ").trim_start_matches("a "))
            .collect();
        let types = types.join(",");
        return format!("{} must be {types} - type: {types}", pointer(&e.field));
    }
    e.reason.clone()
}

/// The policy's message: the format message with Backstage's pointer to the file format, tags
/// named as Backstage names them (`tags.0`), foreign root fields as the envelope policy says it.
fn policy_message(e: &FieldError) -> String {
    if e.reason.starts_with("unknown root field") {
        return "Malformed envelope, <root> must NOT have additional properties".to_string();
    }
    if e.reason.contains(" is not valid; expected ") {
        let mut reason = e.reason.clone();
        if let Some(i) = e.field.strip_prefix("metadata.tags[") {
            let index = i.trim_end_matches(']');
            reason = reason.replacen(&format!("\"{}\"", e.field), &format!("\"tags.{index}\""), 1);
        }
        return format!("{reason}. {FORMAT_DOC}");
    }
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(spec: Value) -> Value {
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "v"}, "spec": spec})
    }

    const URL: &str = "url:https://example.com/catalog-info.yaml";

    // Every expected body below is what catalog-backend 4.0.5 answered to the same request in
    // the differential harness (end2end/compat, cases "validate-entity N").
    #[test]
    fn answers_as_backstage_does() {
        assert_eq!(
            validate_for_api(
                &component(json!({"type": "service", "lifecycle": "production", "owner": "x"})),
                URL
            ),
            None
        );
        assert_eq!(
            validate_for_api(&component(json!({"type": "service"})), URL),
            Some(vec![json!({
                "name": "InputError",
                "message": "Processor BuiltinKindsEntityProcessor threw an error while validating the entity component:default/v; caused by TypeError: /spec must have required property 'lifecycle' - missingProperty: lifecycle",
                "cause": {"name": "TypeError", "message": "/spec must have required property 'lifecycle' - missingProperty: lifecycle"},
            })])
        );
        let mut bad_name =
            component(json!({"type": "service", "lifecycle": "production", "owner": "x"}));
        bad_name["metadata"]["name"] = json!("bad name!");
        let message = "\"metadata.name\" is not valid; expected a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total but found \"bad name!\". To learn more about catalog file format, visit: https://github.com/backstage/backstage/blob/master/docs/architecture-decisions/adr002-default-catalog-file-format.md";
        assert_eq!(
            validate_for_api(&bad_name, URL),
            Some(vec![json!({
                "name": "InputError",
                "message": format!("Policy check failed for component:default/bad name!; caused by Error: {message}"),
                "cause": {"name": "Error", "message": message},
            })])
        );
        let mut foreign =
            component(json!({"type": "service", "lifecycle": "production", "owner": "x"}));
        foreign["apiVersion"] = json!("backstage.io/v1beta9");
        assert_eq!(
            validate_for_api(&foreign, URL),
            Some(vec![json!({
                "name": "InputError",
                "message": "No processor recognized the entity component:default/v as valid, possibly caused by a foreign kind or apiVersion",
            })])
        );
        assert_eq!(
            validate_for_api(
                &json!({"kind": "Component", "metadata": {"name": "v"}}),
                URL
            ),
            Some(vec![json!({
                "name": "TypeError",
                "message": "<root> must have required property 'apiVersion' - missingProperty: apiVersion",
            })])
        );
        assert_eq!(
            validate_for_api(
                &component(json!({"type": 1, "lifecycle": "p", "owner": "x"})),
                URL
            )
            .and_then(|e| e[0]["cause"]["message"].as_str().map(str::to_string)),
            Some("/spec/type must be string - type: string".to_string())
        );
        assert_eq!(
            validate_for_api(&component(json!({"type": "s", "lifecycle": "p", "owner": "x"})), "file:/x")
                .map(|e| e[0]["message"].clone()),
            Some(json!("Invalid location ref file:/x, only 'url:<target>' is supported, e.g. url:https://host/path"))
        );
    }

    #[test]
    fn pointers_follow_json_pointer() {
        assert_eq!(pointer(""), "<root>");
        assert_eq!(pointer("spec.type"), "/spec/type");
        assert_eq!(pointer("metadata.tags[1]"), "/metadata/tags/1");
        assert_eq!(parent("spec.type"), "spec");
        assert_eq!(parent("metadata.tags[1]"), "metadata.tags");
        assert_eq!(parent("kind"), "");
    }
}
