//! Safe parsing of one file's text into YAML documents, as JSON values.
//!
//! Behaves like Backstage's `parseEntityYaml` (the `yaml` package's `parseAllDocuments`,
//! `merge: false`): every document is parsed separately, a bad document yields an error for that
//! document only, `<<` merge keys stay literal keys, duplicate keys are an error, non-string keys
//! become strings, `.nan`/`.inf` become `null` (as `JSON.stringify` does).
//!
//! serde_yaml 0.9 cannot continue after a parse error: its multi-document iterator repeats the
//! error forever, and after an unknown alias it goes on parsing mid-document and panics
//! ("unexpected end of mapping"). So the text is first split at document markers (`---` and `...`
//! at column 0, which YAML forbids inside any scalar) and each piece is parsed on its own; one
//! bad document then loses nothing else. A `catch_unwind` stays around the parser anyway.
//!
//! Alias bombs: serde_yaml's own guard (a "repetition limit" of 100 alias jumps per event) stops
//! the classic billion-laughs file, but not a quadratic one: a 300 KB document with one
//! 1000-element anchor referenced 100 000 times passes it and needs gigabytes. Documents are
//! therefore built against a memory budget for the whole file ([`budget_for`]).
//!
//! Not handled here: what the documents mean (see `location`), reading files.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// One YAML document of a file.
#[derive(Clone, Debug, PartialEq)]
pub struct YamlDocument {
    /// Position in the file, counting from 1.
    pub number: usize,
    /// The document as JSON (`Null` for an empty document), or why it could not be read.
    pub value: Result<Value, YamlError>,
}

/// Why one YAML document could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum YamlError {
    /// The parser rejected the text (syntax, unknown alias, duplicate key, nesting too deep).
    #[error("{message}")]
    Invalid {
        /// Line of the error in the whole file, counting from 1, when known.
        line: Option<usize>,
        /// Column of the error, counting from 1, when known.
        column: Option<usize>,
        /// The parser's message, its line numbers counted in the whole file.
        message: String,
    },
    /// Aliases expand the document past the budget: an alias bomb, or a document far too big.
    #[error(
        "the file expands to more than {budget} bytes in memory (through aliases: an alias \
         bomb?); this document was not read"
    )]
    TooLarge {
        /// The budget that was exceeded, in estimated bytes.
        budget: usize,
    },
    /// The YAML parser panicked on this input (a serde_yaml bug); the document was skipped.
    #[error("the YAML parser failed on this document")]
    ParserPanic,
}

/// Estimated memory of one node (a JSON value in its parent), for the budget.
const NODE_COST: usize = 32;

/// The memory budget, in estimated bytes, for the documents of a text of `len` bytes (string
/// bytes count one each, nodes 32): 40 times the text, at least 64 MiB. An
/// alias-free text needs at most about 16 times its length (`[1,1,1...]`: a node per 2 bytes);
/// a 10 MiB file may use at most 400 MiB.
pub fn budget_for(len: usize) -> usize {
    len.saturating_mul(40).max(64 << 20)
}

/// Parses every document of `text`, in order.
pub fn parse_documents(text: &str) -> Vec<YamlDocument> {
    let budget = budget_for(text.len());
    let remaining = Cell::new(budget);
    let mut documents = Vec::new();
    for piece in split_documents(text) {
        let values = parse_piece(piece.text, piece.first_line - 1, &remaining, budget);
        for value in values {
            documents.push(YamlDocument {
                number: documents.len() + 1,
                value,
            });
        }
    }
    documents
}

/// A slice of the text holding (normally) one document, and the line it starts on.
struct Piece<'a> {
    text: &'a str,
    first_line: usize,
}

/// Splits before a `---` line once the current piece has opened a document, and after a `...`
/// line. Comment, blank and `%` directive lines before a `---` stay with the document they
/// precede, so document numbers match what a YAML parser counts.
fn split_documents(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    let mut opened = false;
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let line_no = index + 1;
        if is_marker(line, "---") {
            if opened {
                pieces.push(Piece {
                    text: &text[start..offset],
                    first_line: start_line,
                });
                start = offset;
                start_line = line_no;
            }
            opened = true;
        } else if is_marker(line, "...") {
            pieces.push(Piece {
                text: &text[start..offset + line.len()],
                first_line: start_line,
            });
            start = offset + line.len();
            start_line = line_no + 1;
            opened = false;
            offset += line.len();
            continue;
        } else if !opened && is_content(line) {
            opened = true;
        }
        offset += line.len();
    }
    if opened || pieces.is_empty() {
        pieces.push(Piece {
            text: &text[start..],
            first_line: start_line,
        });
    }
    pieces
}

fn is_marker(line: &str, marker: &str) -> bool {
    match line.strip_prefix(marker) {
        Some(rest) => rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']),
        None => false,
    }
}

fn is_content(line: &str) -> bool {
    let trimmed = line.trim_start_matches(['\u{feff}', ' ', '\t']).trim_end();
    !(trimmed.is_empty() || trimmed.starts_with('#') || line.starts_with('%'))
}

/// Parses one piece; stops at its first error (serde_yaml cannot go on after one).
fn parse_piece(
    text: &str,
    line_offset: usize,
    remaining: &Cell<usize>,
    budget: usize,
) -> Vec<Result<Value, YamlError>> {
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut values = Vec::new();
        for document in serde_yaml::Deserializer::from_str(text) {
            let exceeded = Cell::new(false);
            let seed = Budgeted {
                remaining,
                exceeded: &exceeded,
            };
            match seed.deserialize(document) {
                Ok(value) => values.push(Ok(value)),
                Err(_) if exceeded.get() => {
                    values.push(Err(YamlError::TooLarge { budget }));
                    break;
                }
                Err(e) => {
                    values.push(Err(invalid(&e, line_offset)));
                    break;
                }
            }
        }
        values
    }));
    // The budget cell is only ever lowered, so a panic leaves it in a usable state.
    parsed.unwrap_or_else(|_| vec![Err(YamlError::ParserPanic)])
}

fn invalid(e: &serde_yaml::Error, line_offset: usize) -> YamlError {
    let location = e.location();
    YamlError::Invalid {
        line: location.as_ref().map(|l| l.line() + line_offset),
        column: location.as_ref().map(|l| l.column()),
        message: match shift_line_numbers(&e.to_string(), line_offset) {
            m if m.contains("repetition limit exceeded") => {
                format!("{m} (aliases expand the document too far: an alias bomb?)")
            }
            m => m,
        },
    }
}

/// Rewrites every `line N` in a serde_yaml message to count from the start of the file.
fn shift_line_numbers(message: &str, offset: usize) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("line ") {
        let (before, after) = rest.split_at(at + "line ".len());
        out.push_str(before);
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        match after[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&after[..digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// Builds a JSON value while charging [`NODE_COST`] per node and one per string byte.
#[derive(Clone, Copy)]
struct Budgeted<'a> {
    remaining: &'a Cell<usize>,
    exceeded: &'a Cell<bool>,
}

impl Budgeted<'_> {
    fn charge<E: de::Error>(&self, cost: usize) -> Result<(), E> {
        match self
            .remaining
            .get()
            .checked_sub(cost.saturating_add(NODE_COST))
        {
            Some(left) => {
                self.remaining.set(left);
                Ok(())
            }
            None => {
                self.exceeded.set(true);
                Err(E::custom("expansion budget exceeded"))
            }
        }
    }
}

impl<'de> DeserializeSeed<'de> for Budgeted<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Budgeted<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.charge(0)?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.charge(0)?;
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.charge(0)?;
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.charge(0)?;
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.charge(v.len())?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.charge(v.len())?;
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.charge(0)?;
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.charge(0)?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.charge(0)?;
        let mut object = Map::new();
        while let Some(key) = map.next_key_seed(self)? {
            let key = key_string(key);
            let value = map.next_value_seed(self)?;
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "duplicate key '{key}' in a mapping (keys must be unique)"
                )));
            }
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }

    /// A node with a custom tag (`!foo bar`): the tag is dropped and the value kept, as the
    /// `yaml` package does for tags it does not know.
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (_tag, variant) = data.variant::<de::IgnoredAny>()?;
        de::VariantAccess::newtype_variant_seed(variant, self)
    }
}

/// JavaScript object keys are strings: `1` → `"1"`, `true` → `"true"`, `~` → `""`.
fn key_string(key: Value) -> String {
    match key {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(text: &str) -> Vec<Result<Value, YamlError>> {
        parse_documents(text).into_iter().map(|d| d.value).collect()
    }

    #[test]
    fn reads_every_document_and_keeps_empty_ones_as_null() {
        let docs = parse_documents("a: 1\n---\n---\n# only a comment\nb: [x, 2]\n");
        let numbers: Vec<usize> = docs.iter().map(|d| d.number).collect();
        assert_eq!(numbers, vec![1, 2, 3]);
        assert_eq!(docs[0].value, Ok(json!({"a": 1})));
        assert_eq!(docs[1].value, Ok(Value::Null));
        assert_eq!(docs[2].value, Ok(json!({"b": ["x", 2]})));
    }

    #[test]
    fn leading_comments_and_marker_make_one_document() {
        let docs = parse_documents("# header\n\n---\nkind: Component\n");
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].value, Ok(json!({"kind": "Component"})));
    }

    #[test]
    fn a_syntax_error_loses_only_its_document_and_reports_the_file_line() {
        let docs = values("a: 1\n---\nb: [1, 2\n---\nc: 3\n");
        assert_eq!(docs[0], Ok(json!({"a": 1})));
        match &docs[1] {
            Err(YamlError::Invalid { line, message, .. }) => {
                assert_eq!(*line, Some(4), "{message}");
                assert!(message.contains("line 3 column 4"), "{message}");
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
        assert_eq!(docs[2], Ok(json!({"c": 3})));
        assert_eq!(docs.len(), 3);
    }

    #[test]
    fn an_unknown_alias_does_not_panic_or_lose_the_next_document() {
        let docs = values("a: *nowhere\n---\nb: 1\n");
        assert!(
            matches!(&docs[0], Err(YamlError::Invalid { message, .. }) if message.contains("unknown anchor"))
        );
        assert_eq!(docs[1], Ok(json!({"b": 1})));
    }

    #[test]
    fn merge_keys_stay_literal_and_duplicates_are_errors() {
        let docs = values("x: &a {p: 1}\ny:\n  <<: *a\n  q: 2\n---\nk: 1\nk: 2\n");
        assert_eq!(
            docs[0],
            Ok(json!({"x": {"p": 1}, "y": {"<<": {"p": 1}, "q": 2}}))
        );
        assert!(
            matches!(&docs[1], Err(YamlError::Invalid { message, .. }) if message.contains("duplicate"))
        );
    }

    #[test]
    fn keys_become_strings_tags_are_dropped_and_nan_is_null() {
        let docs = values("1: a\ntrue: b\n~: c\nt: !custom {x: 1}\nn: .nan\ns: !!str 12\n");
        assert_eq!(
            docs[0],
            Ok(json!({"1": "a", "true": "b", "": "c", "t": {"x": 1}, "n": null, "s": "12"}))
        );
    }

    #[test]
    fn billion_laughs_is_refused_quickly() {
        let mut text = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for pair in names.windows(2) {
            let refs = vec![format!("*{}", pair[0]); 9].join(", ");
            text.push_str(&format!("{0}: &{0} [{refs}]\n", pair[1]));
        }
        text.push_str("---\nok: true\n");
        // Refused by the alias expansion limit (9^9 nodes would never finish).
        let docs = values(&text);
        assert!(docs[0].is_err(), "{:?}", docs[0]);
        assert_eq!(docs[1], Ok(json!({"ok": true})));
    }

    #[test]
    fn quadratic_alias_expansion_is_refused_by_the_budget() {
        let mut text = format!("a: &a [{}]\nb: [", vec!["x"; 1000].join(","));
        text.push_str(&vec!["*a"; 100_000].join(","));
        text.push_str("]\n");
        let docs = values(&text);
        assert!(
            matches!(docs[0], Err(YamlError::TooLarge { .. })),
            "{:?}",
            docs[0]
        );
    }

    #[test]
    fn markers_need_a_separator_and_dot_markers_end_documents() {
        let docs = values("---x: 1\n...\n# trailing\n");
        assert_eq!(docs[0], Ok(json!({"---x": 1})));
        let docs = values("a: 1\n...\nb: 2\n");
        assert_eq!(docs, vec![Ok(json!({"a": 1})), Ok(json!({"b": 2}))]);
    }

    #[test]
    fn shifts_all_line_numbers() {
        assert_eq!(
            shift_line_numbers("x at line 3 column 1, while parsing at line 2", 10),
            "x at line 13 column 1, while parsing at line 12"
        );
    }
}
