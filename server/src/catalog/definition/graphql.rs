//! GraphQL SDL, read by [`graphql_parser`]: every type, input, interface, union, enum and scalar
//! with its fields and arguments, in document order.

use app::wire::{RenderedDefinition, SchemaField, SchemaType};
use graphql_parser::schema::{Definition, TypeDefinition, TypeExtension};

use super::{cap, field, Rendered, MAX_FIELDS, MAX_ITEMS};

pub(super) fn render(text: &str) -> Rendered {
    let doc = graphql_parser::parse_schema::<String>(text)
        .map_err(|e| format!("The GraphQL schema could not be read: {e}"))?;
    let mut types = Vec::new();
    for definition in &doc.definitions {
        match definition {
            Definition::TypeDefinition(t) => types.push(type_definition(t)),
            Definition::TypeExtension(TypeExtension::Object(o)) => types.push(SchemaType {
                kind: "extend type".into(),
                name: o.name.clone(),
                description: None,
                fields: o
                    .fields
                    .iter()
                    .take(MAX_FIELDS)
                    .map(|f| object_field(f))
                    .collect(),
            }),
            Definition::SchemaDefinition(s) => {
                let roots = [
                    ("query", &s.query),
                    ("mutation", &s.mutation),
                    ("subscription", &s.subscription),
                ];
                types.push(SchemaType {
                    kind: "schema".into(),
                    name: "schema".into(),
                    description: None,
                    fields: roots
                        .into_iter()
                        .filter_map(|(name, t)| t.as_ref().map(|t| field(name, t.clone())))
                        .collect(),
                });
            }
            _ => {}
        }
        if types.len() > MAX_ITEMS {
            break;
        }
    }
    let mut notes = Vec::new();
    cap(&mut types, MAX_ITEMS, "types", &mut notes);
    Ok((RenderedDefinition::GraphQl(types), notes))
}

fn object_field(f: &graphql_parser::schema::Field<'_, String>) -> SchemaField {
    let args: Vec<String> = f
        .arguments
        .iter()
        .take(16)
        .map(|a| format!("{}: {}", a.name, a.value_type))
        .collect();
    SchemaField {
        name: if args.is_empty() {
            f.name.clone()
        } else {
            format!("{}({})", f.name, args.join(", "))
        },
        place: String::new(),
        type_text: f.field_type.to_string(),
        required: matches!(f.field_type, graphql_parser::schema::Type::NonNullType(_)),
        description: f.description.clone(),
    }
}

fn type_definition(t: &TypeDefinition<'_, String>) -> SchemaType {
    let (kind, name, description, fields): (&str, &String, &Option<String>, Vec<SchemaField>) =
        match t {
            TypeDefinition::Object(o) => (
                "type",
                &o.name,
                &o.description,
                o.fields.iter().take(MAX_FIELDS).map(object_field).collect(),
            ),
            TypeDefinition::Interface(i) => (
                "interface",
                &i.name,
                &i.description,
                i.fields.iter().take(MAX_FIELDS).map(object_field).collect(),
            ),
            TypeDefinition::InputObject(i) => (
                "input",
                &i.name,
                &i.description,
                i.fields
                    .iter()
                    .take(MAX_FIELDS)
                    .map(|f| SchemaField {
                        name: f.name.clone(),
                        place: String::new(),
                        type_text: f.value_type.to_string(),
                        required: matches!(
                            f.value_type,
                            graphql_parser::schema::Type::NonNullType(_)
                        ),
                        description: f.description.clone(),
                    })
                    .collect(),
            ),
            TypeDefinition::Enum(e) => (
                "enum",
                &e.name,
                &e.description,
                e.values
                    .iter()
                    .take(MAX_FIELDS)
                    .map(|v| SchemaField {
                        description: v.description.clone(),
                        ..field(v.name.clone(), "")
                    })
                    .collect(),
            ),
            TypeDefinition::Union(u) => (
                "union",
                &u.name,
                &u.description,
                u.types
                    .iter()
                    .take(MAX_FIELDS)
                    .map(|t| field("", t.clone()))
                    .collect(),
            ),
            TypeDefinition::Scalar(s) => ("scalar", &s.name, &s.description, Vec::new()),
        };
    SchemaType {
        kind: kind.into(),
        name: name.clone(),
        description: description.clone(),
        fields,
    }
}
