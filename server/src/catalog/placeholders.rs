//! `$text`, `$json` and `$yaml` placeholders, as Backstage's `PlaceholderProcessor` resolves them.
//!
//! Anywhere in an entity, an object whose only key is `$text`, `$json` or `$yaml` is replaced by
//! the content of the file or URL its string value names: as text, parsed JSON or the single
//! parsed YAML document. As in Backstage: an object with a `$` key next to other keys is left as
//! it is (and not searched further), unknown `$x` keys are left as they are, and resolved content
//! is not searched for placeholders again.
//!
//! Where the value points:
//! - an absolute `http://`/`https://` URL: read through the [`UrlReader`];
//! - otherwise, for an entity read from a URL: joined to that URL and read through the reader;
//! - otherwise: a local path, relative to the entity file's directory. Backstage cannot
//!   resolve these for `file` locations (its URL resolver needs a URL base); Greenroom reads
//!   them, applying the same size and UTF-8 checks as for catalog files, but only inside the
//!   entity file's directory tree ([`confine`]: no absolute paths, no `..` out of it, no
//!   symbolic link out of it, no `/proc`, `/sys`, devices or FIFOs). A refusal reads
//!   "`$text` placeholder '<target>' reads outside the directory of <file>".
//!
//! A placeholder that cannot be resolved is reported with the field path, and the entity is kept
//! (Backstage fails the whole entity instead): an unresolved `$text` becomes a short text saying
//! so (its field, typically an API's `spec.definition`, must be a string for the entity to stay
//! valid); unresolved `$json`/`$yaml` are left as written.
//!
//! Not handled here: custom resolvers, and Backstage's "same repository" check for SCM URLs.

use std::path::{Path, PathBuf};

use crate::catalog::confine;

use serde_json::Value;

use crate::catalog::read::{read_local_text, read_url_text, ReadError, UrlReader};
use crate::catalog::urls::{join_url, url_scheme};
use crate::catalog::yaml;

/// What placeholders in an entity are relative to: the file or URL the entity was read from.
#[derive(Clone, Copy, Debug)]
pub enum Base<'a> {
    /// An absolute local file path.
    File(&'a Path),
    /// An absolute URL.
    Url(&'a str),
}

/// One placeholder that could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unresolved {
    /// Dotted path of the placeholder in the entity, e.g. `spec.definition`.
    pub field: String,
    /// Why, naming the placeholder value.
    pub reason: String,
}

/// The outcome of [`resolve`] for one entity.
#[derive(Debug, Default)]
pub struct Resolution {
    /// Placeholders left unresolved.
    pub problems: Vec<Unresolved>,
    /// Local files read or attempted (for file watching).
    pub files: Vec<PathBuf>,
    /// Whether a URL read failed other than with 404/410 (a retry may succeed).
    pub transient_failure: bool,
}

/// Replaces every resolvable placeholder in `entity` (the root object itself is never one).
pub fn resolve(
    entity: &mut Value,
    base: &Base<'_>,
    reader: &dyn UrlReader,
    max_file_bytes: u64,
) -> Resolution {
    let mut context = Context {
        base,
        reader,
        max_file_bytes,
        out: Resolution::default(),
    };
    if let Value::Object(map) = entity {
        for (key, value) in map.iter_mut() {
            context.walk(value, key.clone());
        }
    }
    context.out
}

struct Context<'a> {
    base: &'a Base<'a>,
    reader: &'a dyn UrlReader,
    max_file_bytes: u64,
    out: Resolution,
}

impl Context<'_> {
    fn walk(&mut self, value: &mut Value, path: String) {
        match value {
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    self.walk(item, format!("{path}[{i}]"));
                }
            }
            Value::Object(map) => {
                if !map.keys().any(|k| k.starts_with('$')) {
                    for (key, child) in map.iter_mut() {
                        self.walk(child, format!("{path}.{key}"));
                    }
                    return;
                }
                let mut entries = map.iter();
                let (Some((key, argument)), None) = (entries.next(), entries.next()) else {
                    return;
                };
                let key = key.clone();
                let resolved = match key.as_str() {
                    "$text" | "$json" | "$yaml" => self.placeholder(&key, argument),
                    _ => return,
                };
                match resolved {
                    Ok(new_value) => *value = new_value,
                    Err(reason) => {
                        if key == "$text" {
                            let target = argument.as_str().unwrap_or_default();
                            *value = Value::String(format!(
                                "(unresolved $text placeholder: {target} — see Catalog problems)"
                            ));
                        }
                        self.out.problems.push(Unresolved {
                            field: path,
                            reason: format!("{reason}; the placeholder was left unresolved"),
                        });
                    }
                }
            }
            _ => {}
        }
    }

    fn placeholder(&mut self, key: &str, argument: &Value) -> Result<Value, String> {
        let Some(target) = argument.as_str() else {
            return Err(format!(
                "Placeholder {key} expected a string value parameter, in the form of an absolute URL or a relative path"
            ));
        };
        let content = self.read(key, target).map_err(|e| {
            if matches!(e, ReadError::Url(..)) && !e.is_not_found() {
                self.out.transient_failure = true;
            }
            let why = match e {
                ReadError::Url(_, e) => e.to_string(),
                ReadError::BadUrl(_, reason) => reason,
                ReadError::Refused(reason) => return reason,
                other => other.to_string(),
            };
            format!("Placeholder {key} could not read location {target}, {why}")
        })?;
        match key {
            "$json" => serde_json::from_str(&content).map_err(|e| {
                format!("Placeholder {key} failed to parse JSON data at {target}, {e}")
            }),
            "$yaml" => {
                let mut documents = yaml::parse_documents(&content);
                if documents.len() != 1 {
                    return Err(format!(
                        "Placeholder {key} expected to find exactly one document of data at {target}, found {}",
                        documents.len()
                    ));
                }
                documents.remove(0).value.map_err(|e| {
                    format!("Placeholder {key} found an error in the data at {target}, {e}")
                })
            }
            _ => Ok(Value::String(content)),
        }
    }

    fn read(&mut self, key: &str, target: &str) -> Result<String, ReadError> {
        if let Some(scheme) = url_scheme(target) {
            return match scheme.to_ascii_lowercase().as_str() {
                "http" | "https" => read_url_text(self.reader, target, self.max_file_bytes),
                _ => Err(ReadError::BadUrl(
                    target.to_string(),
                    "only http(s) URLs and local paths are supported".into(),
                )),
            };
        }
        match self.base {
            Base::Url(base) => match join_url(base, target) {
                Some(url) => read_url_text(self.reader, &url, self.max_file_bytes),
                None => Err(ReadError::BadUrl(
                    target.to_string(),
                    format!("cannot form a URL out of {base} and {target}"),
                )),
            },
            Base::File(file) => {
                let confined = confine::confine(file, target)
                    .map_err(|e| ReadError::Refused(format!("{key} placeholder '{target}' {e}")))?;
                self.out.files.push(confined.shown.clone());
                read_local_text(&confined.real, self.max_file_bytes).map_err(|e| {
                    // Name the file as written, not where its links lead.
                    e.renamed(&confined.real, &confined.shown)
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::read::UrlReadError;
    use serde_json::json;
    use std::collections::HashMap;

    struct FakeReader(HashMap<&'static str, &'static str>);

    impl UrlReader for FakeReader {
        fn read_url(&self, url: &str) -> Result<String, UrlReadError> {
            self.0
                .get(url)
                .map(|s| s.to_string())
                .ok_or_else(|| UrlReadError::Status {
                    url: url.to_string(),
                    code: 404,
                    status: "404 Not Found".to_string(),
                })
        }
    }

    fn reader() -> FakeReader {
        FakeReader(HashMap::from([
            ("http://h/c/spec.json", r#"{"openapi": "3.0.0"}"#),
            ("http://h/c/one.yaml", "a: [1, 2]\n"),
            ("http://h/c/two.yaml", "a: 1\n---\nb: 2\n"),
            ("http://h/other.txt", "remote text"),
        ]))
    }

    fn run(entity: &mut Value) -> Resolution {
        resolve(
            entity,
            &Base::Url("http://h/c/entity.yaml"),
            &reader(),
            1024,
        )
    }

    #[test]
    fn resolves_text_json_and_yaml_relative_to_a_url() {
        let mut entity = json!({
            "kind": "API",
            "spec": {
                "definition": {"$text": "../other.txt"},
                "list": [{"$json": "./spec.json"}, {"$yaml": "one.yaml"}],
            }
        });
        let out = run(&mut entity);
        assert_eq!(out.problems, vec![]);
        assert_eq!(
            entity,
            json!({
                "kind": "API",
                "spec": {
                    "definition": "remote text",
                    "list": [{"openapi": "3.0.0"}, {"a": [1, 2]}],
                }
            })
        );
    }

    #[test]
    fn leaves_unknown_and_mixed_placeholders_alone() {
        let original = json!({
            "spec": {
                "a": {"$unknown": "x"},
                "b": {"$text": "./spec.json", "other": 1},
                "c": {"$text": 5, "x": {"$text": "./spec.json"}},
            }
        });
        let mut entity = original.clone();
        let out = run(&mut entity);
        assert_eq!(entity, original);
        assert_eq!(out.problems, vec![]);
    }

    #[test]
    fn failures_keep_the_placeholder_and_name_the_field() {
        let mut entity = json!({
            "spec": {
                "missing": {"$text": "./nope.txt"},
                "multi": [{"$yaml": "./two.yaml"}],
                "notstring": {"$json": 3},
            }
        });
        let out = run(&mut entity);
        assert_eq!(
            entity["spec"]["missing"],
            json!("(unresolved $text placeholder: ./nope.txt — see Catalog problems)")
        );
        assert_eq!(entity["spec"]["multi"], json!([{"$yaml": "./two.yaml"}]));
        assert_eq!(entity["spec"]["notstring"], json!({"$json": 3}));
        let fields: Vec<&str> = out.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["spec.missing", "spec.multi[0]", "spec.notstring"]
        );
        assert!(out.problems[0]
            .reason
            .contains("HTTP 404 Not Found from http://h/c/nope.txt"));
        assert!(out.problems[1].reason.contains("exactly one document"));
        assert!(out.problems[2].reason.contains("expected a string value"));
    }

    #[test]
    fn reads_local_files_relative_to_the_entity_file() {
        let dir =
            std::env::temp_dir().join(format!("greenroom-placeholders-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap_or_default();
        std::fs::write(dir.join("sub/def.json"), "[1, true]").unwrap_or_default();
        let entity_file = dir.join("entity.yaml");
        let mut entity =
            json!({"spec": {"d": {"$json": "./sub/def.json"}, "m": {"$text": "gone.txt"}}});
        let out = resolve(&mut entity, &Base::File(&entity_file), &reader(), 1024);
        assert_eq!(entity["spec"]["d"], json!([1, true]));
        assert_eq!(
            entity["spec"]["m"],
            json!("(unresolved $text placeholder: gone.txt — see Catalog problems)")
        );
        assert_eq!(
            out.files,
            vec![dir.join("sub/def.json"), dir.join("gone.txt")]
        );
        assert_eq!(out.problems.len(), 1);
        assert!(out.problems[0].reason.contains(&format!(
            "file {} does not exist",
            dir.join("gone.txt").display()
        )));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
