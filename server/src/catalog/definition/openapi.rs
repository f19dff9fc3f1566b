//! OpenAPI 3.x, read by [`oas3`]: its 3.1 model also reads 3.0 documents (`nullable` and the
//! like are ignored, which changes nothing shown here). The document is deserialised straight
//! from YAML (JSON is YAML), so paths and schemas keep their order.

use app::wire::{ApiInfo, ApiOperation, OpenApiDoc, RenderedDefinition, SchemaField, SchemaType};
use oas3::spec::{
    ObjectOrReference, ObjectSchema, Operation, Parameter, ParameterIn, Schema, SchemaType as Type,
    SchemaTypeSet as TypeSet,
};
use oas3::Spec;

use super::{cap, Rendered, MAX_FIELDS, MAX_ITEMS};

/// Deepest schema nesting described in a type (`array of array of …`).
const MAX_DEPTH: usize = 8;

pub(super) fn render(text: &str) -> Rendered {
    let spec: Spec = serde_yaml::from_str(text)
        .map_err(|e| format!("The OpenAPI definition could not be read: {e}"))?;
    let mut notes = Vec::new();
    let mut operations = Vec::new();
    for (path, item) in spec.paths.iter().flat_map(|p| p.iter()) {
        for (method, op) in [
            ("GET", &item.get),
            ("PUT", &item.put),
            ("POST", &item.post),
            ("DELETE", &item.delete),
            ("OPTIONS", &item.options),
            ("HEAD", &item.head),
            ("PATCH", &item.patch),
            ("TRACE", &item.trace),
        ] {
            if let Some(op) = op {
                operations.push(operation(&spec, method, path, op, &item.parameters));
            }
        }
    }
    cap(&mut operations, MAX_ITEMS, "operations", &mut notes);
    let mut schemas: Vec<SchemaType> = spec
        .components
        .iter()
        .flat_map(|c| c.schemas.iter())
        .take(MAX_ITEMS + 1)
        .map(|(name, schema)| schema_type(&spec, name, schema))
        .collect();
    cap(&mut schemas, MAX_ITEMS, "schemas", &mut notes);
    let doc = OpenApiDoc {
        version: spec.openapi.clone(),
        info: ApiInfo {
            title: spec.info.title.clone(),
            version: spec.info.version.clone(),
            description: spec.info.description.clone(),
            servers: spec.servers.iter().map(|s| s.url.clone()).collect(),
        },
        operations,
        schemas,
    };
    Ok((RenderedDefinition::OpenApi(doc), notes))
}

fn operation(
    spec: &Spec,
    method: &str,
    path: &str,
    op: &Operation,
    shared: &[ObjectOrReference<Parameter>],
) -> ApiOperation {
    let mut parameters: Vec<SchemaField> = Vec::new();
    for p in shared.iter().chain(op.parameters.iter()) {
        let Some(p) = resolve_parameter(spec, p) else {
            continue;
        };
        // An operation's parameter replaces a path item's of the same name and place.
        parameters.retain(|q| !(q.name == p.name && q.place == p.place));
        parameters.push(p);
    }
    parameters.truncate(MAX_FIELDS);
    let request_body = match &op.request_body {
        Some(ObjectOrReference::Object(body)) => body
            .content
            .iter()
            .map(|(media, m)| match &m.schema {
                Some(s) => format!("{media}: {}", type_text(s, 0)),
                None => media.clone(),
            })
            .collect(),
        Some(ObjectOrReference::Ref { ref_path, .. }) => vec![ref_name(ref_path).to_string()],
        None => Vec::new(),
    };
    let responses = op
        .responses
        .iter()
        .flat_map(|r| r.iter())
        .take(MAX_FIELDS)
        .map(|(code, response)| {
            let text = match response {
                ObjectOrReference::Object(r) => {
                    let schema = r
                        .content
                        .iter()
                        .find_map(|(_, m)| m.schema.as_ref())
                        .map(|s| type_text(s, 0));
                    match (r.description.as_deref(), schema) {
                        (Some(d), Some(s)) => format!("{d} ({s})"),
                        (Some(d), None) => d.to_string(),
                        (None, Some(s)) => s,
                        (None, None) => String::new(),
                    }
                }
                ObjectOrReference::Ref { ref_path, .. } => ref_name(ref_path).to_string(),
            };
            (code.clone(), text)
        })
        .collect();
    ApiOperation {
        method: method.to_string(),
        path: path.to_string(),
        summary: op.summary.clone(),
        description: op.description.clone(),
        deprecated: op.deprecated.unwrap_or(false),
        parameters,
        request_body,
        responses,
    }
}

/// Most `$ref` hops followed from one place. oas3's own `resolve` follows references without a
/// limit, so a schema referring to itself would recurse until the stack overflows: references
/// are resolved here instead, locally (`#/components/...`) and a few hops deep.
const MAX_HOPS: usize = 8;

fn resolve_parameter(spec: &Spec, p: &ObjectOrReference<Parameter>) -> Option<SchemaField> {
    let mut p = p;
    let mut hops = 0;
    let p = loop {
        match p {
            ObjectOrReference::Object(p) => break p.clone(),
            ObjectOrReference::Ref { ref_path, .. } => {
                hops += 1;
                let name = ref_path.strip_prefix("#/components/parameters/")?;
                if hops > MAX_HOPS {
                    return None;
                }
                p = spec.components.as_ref()?.parameters.get(name)?;
            }
        }
    };
    Some(SchemaField {
        place: match p.location {
            ParameterIn::Path => "path",
            ParameterIn::Query => "query",
            ParameterIn::Header => "header",
            ParameterIn::Cookie => "cookie",
        }
        .to_string(),
        type_text: p
            .schema
            .as_ref()
            .map(|s| type_text(s, 0))
            .unwrap_or_default(),
        required: p.required.unwrap_or(false),
        description: p.description.clone(),
        name: p.name,
    })
}

/// The object schema `schema` is, or refers to (locally, a few hops deep).
fn local_schema<'a>(spec: &'a Spec, mut schema: &'a Schema) -> Option<&'a ObjectSchema> {
    for _ in 0..=MAX_HOPS {
        match schema {
            Schema::Boolean(_) => return None,
            Schema::Object(boxed) => match boxed.as_ref() {
                ObjectOrReference::Object(o) => return Some(o),
                ObjectOrReference::Ref { ref_path, .. } => {
                    let name = ref_path.strip_prefix("#/components/schemas/")?;
                    schema = spec.components.as_ref()?.schemas.get(name)?;
                }
            },
        }
    }
    None
}

/// `#/components/schemas/Cart` → `Cart`.
fn ref_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn object(schema: &Schema) -> Result<&ObjectSchema, String> {
    match schema {
        Schema::Boolean(b) => Err(if b.0 { "any" } else { "nothing" }.to_string()),
        Schema::Object(o) => match o.as_ref() {
            ObjectOrReference::Object(o) => Ok(o),
            ObjectOrReference::Ref { ref_path, .. } => Err(ref_name(ref_path).to_string()),
        },
    }
}

fn type_name(t: &Type) -> &'static str {
    match t {
        Type::Boolean => "boolean",
        Type::Integer => "integer",
        Type::Number => "number",
        Type::String => "string",
        Type::Array => "array",
        Type::Object => "object",
        Type::Null => "null",
    }
}

/// A schema's type for people: `string (date-time)`, `array of Item`, `Cart`, `one of A, B`.
fn type_text(schema: &Schema, depth: usize) -> String {
    let o = match object(schema) {
        Ok(o) => o,
        Err(name) => return name,
    };
    if depth >= MAX_DEPTH {
        return "…".into();
    }
    let alternatives = |list: &[Schema], word: &str| {
        let names: Vec<String> = list
            .iter()
            .take(8)
            .map(|s| type_text(s, depth + 1))
            .collect();
        format!("{word} {}", names.join(", "))
    };
    if !o.one_of.is_empty() {
        return alternatives(&o.one_of, "one of");
    }
    if !o.any_of.is_empty() {
        return alternatives(&o.any_of, "any of");
    }
    if !o.all_of.is_empty() {
        return alternatives(&o.all_of, "all of");
    }
    let base = match &o.schema_type {
        Some(TypeSet::Single(Type::Array)) => match &o.items {
            Some(items) => format!("array of {}", type_text(items, depth + 1)),
            None => "array".into(),
        },
        Some(TypeSet::Single(t)) => type_name(t).to_string(),
        Some(TypeSet::Multiple(ts)) => ts.iter().map(type_name).collect::<Vec<_>>().join(" or "),
        None if !o.properties.is_empty() => "object".into(),
        None => "any".into(),
    };
    let mut text = match &o.format {
        Some(f) => format!("{base} ({f})"),
        None => base,
    };
    if !o.enum_values.is_empty() {
        let values: Vec<String> = o
            .enum_values
            .iter()
            .take(12)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect();
        text.push_str(&format!(": {}", values.join(" | ")));
    }
    text
}

/// The fields of an object schema, with those of every `allOf` member (local references
/// resolved, a few levels deep).
fn properties(spec: &Spec, o: &ObjectSchema, depth: usize, out: &mut Vec<SchemaField>) {
    if depth > 3 || out.len() >= MAX_FIELDS {
        return;
    }
    for member in o.all_of.iter().take(8) {
        if let Some(inner) = local_schema(spec, member) {
            properties(spec, inner, depth + 1, out);
        }
    }
    for (field, s) in o.properties.iter().take(MAX_FIELDS - out.len()) {
        out.push(SchemaField {
            name: field.clone(),
            place: String::new(),
            type_text: type_text(s, 0),
            required: o.required.iter().any(|r| r == field),
            description: object(s).ok().and_then(|d| d.description.clone()),
        });
    }
}

fn schema_type(spec: &Spec, name: &str, schema: &Schema) -> SchemaType {
    let o = object(schema).ok();
    let mut fields = Vec::new();
    if let Some(o) = o {
        properties(spec, o, 0, &mut fields);
    }
    if fields.is_empty() {
        fields.push(super::field("", type_text(schema, 0)));
    }
    SchemaType {
        kind: match o {
            Some(o) if !o.enum_values.is_empty() => "enum".into(),
            _ => "schema".into(),
        },
        name: name.to_string(),
        description: o.and_then(|o| o.description.clone()),
        fields,
    }
}
