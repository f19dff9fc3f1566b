//! API definitions rendered for people: the entity page of an `API` shows its operations,
//! channels or types rather than only the text.
//!
//! Each format is read by a parser kept for it where the field has one — OpenAPI by [`oas3`]
//! (3.1's model, which also reads 3.0 documents), GraphQL SDL by [`graphql_parser`] — and only
//! turned into the page's wire types here. Two are hand-written, and say why in their module:
//! AsyncAPI (no kept Rust crate models it; the document is read as YAML) and the `.proto`
//! highlighter (only tokens are needed, not a parse).
//!
//! A definition is catalog data, written by any team: its size is bounded by the catalog's read
//! limit, nesting is checked before a recursive parser sees it, and what is rendered is capped
//! ([`MAX_ITEMS`] operations, types or channels; [`MAX_FIELDS`] fields each). A definition that
//! cannot be read is still shown as text, with the reason.

mod asyncapi;
mod graphql;
mod openapi;
mod proto;

use app::wire::{RenderedDefinition, SchemaField};

/// A definition as read: its text, the rendering where the format is known, and any problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadDefinition {
    /// `spec.type`.
    pub api_type: String,
    /// `spec.definition`, as text.
    pub text: String,
    /// The definition read for people; `None` for a format not rendered.
    pub rendered: Option<RenderedDefinition>,
    /// Why it could not be rendered, or what was left out.
    pub problem: Option<String>,
}

/// A rendering, with notes on what was left out.
type Rendered = Result<(RenderedDefinition, Vec<String>), String>;

/// Most operations, types or channels rendered from one definition.
pub const MAX_ITEMS: usize = 500;
/// Most fields rendered per type, operation or message.
pub const MAX_FIELDS: usize = 200;
/// Deepest bracket nesting a definition may have before a parser sees it (GraphQL's and
/// YAML's parsers recurse on it).
pub const MAX_NESTING: usize = 64;

/// The definition `text` of an API of `api_type`, rendered where the format is known.
pub fn render(api_type: &str, text: String) -> ReadDefinition {
    let kind = api_type.to_ascii_lowercase();
    let result = match kind.as_str() {
        "openapi" => Some(check_nesting(&text).and_then(|()| openapi::render(&text))),
        "asyncapi" => Some(check_nesting(&text).and_then(|()| asyncapi::render(&text))),
        "graphql" => Some(check_nesting(&text).and_then(|()| graphql::render(&text))),
        "grpc" => Some(Ok((proto::render(&text), Vec::new()))),
        _ => None,
    };
    let (rendered, problem) = match result {
        None => (None, None),
        Some(Ok((r, notes))) if notes.is_empty() => (Some(r), None),
        Some(Ok((r, notes))) => (
            Some(r),
            Some(format!("The definition is large: {}", notes.join("; "))),
        ),
        Some(Err(reason)) => (None, Some(reason)),
    };
    ReadDefinition {
        api_type: api_type.to_string(),
        text,
        rendered,
        problem,
    }
}

/// Refuses text nested deeper than [`MAX_NESTING`] brackets (`[`, `{`, `(`) or YAML indentation
/// levels, so no recursive parser can be driven into a deep stack.
fn check_nesting(text: &str) -> Result<(), String> {
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '[' | '{' | '(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(format!(
                        "The definition nests brackets deeper than {MAX_NESTING} levels; it is shown as text only"
                    ));
                }
            }
            ']' | '}' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Cuts `items` to `max`, saying so in `notes`.
fn cap<T>(items: &mut Vec<T>, max: usize, what: &str, notes: &mut Vec<String>) {
    if items.len() > max {
        notes.push(format!(
            "only the first {max} of {} {what} are shown",
            items.len()
        ));
        items.truncate(max);
    }
}

/// A field with a name and a type, nothing else known.
fn field(name: impl Into<String>, type_text: impl Into<String>) -> SchemaField {
    SchemaField {
        name: name.into(),
        type_text: type_text.into(),
        ..SchemaField::default()
    }
}

#[cfg(test)]
mod tests;
