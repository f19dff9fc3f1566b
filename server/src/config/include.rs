//! The `$file`, `$env` and `$include` directives (Backstage's include
//! transform).
//!
//! - The directive must be the object's only key; its value must be a
//!   string, which first gets `${VAR}` substitution (undefined is an error).
//! - `$file: path` is the text of the file (relative to the declaring file's
//!   directory), trailing white space trimmed, not substituted further.
//! - `$env: NAME` is the trimmed variable. Unset makes the value undefined,
//!   as in Backstage (the key falls back to lower-priority config); unlike
//!   Backstage we also record it, so it is reported like an unset `${NAME}`.
//! - `$include: path#a.b` parses a `.yaml`, `.yml` or `.json` file, walks
//!   the optional dotted fragment (each step must be an object; a missing
//!   last key is undefined), then transforms the result relative to the
//!   included file: strings are substituted, objects and arrays walked, so
//!   nested includes resolve against the included file's directory.
//! - Cycles (re-entering a file and fragment being walked) are errors.

use std::path::Path;

use super::error::IncludeErrorKind;
use super::files::{parse_json, parse_yaml, read_text, resolve, ReadError};
use super::node::{Node, Origin, Value};
use super::substitute::{js_trim, substitute};
use super::transform::{Ctx, Transformer};

/// Deepest include nesting accepted, as a backstop to cycle detection.
const MAX_INCLUDE_DEPTH: usize = 32;

impl Transformer<'_> {
    /// Resolves the directive object `entries` (which contains `directive`).
    pub(crate) fn directive(
        &mut self,
        directive: &'static str,
        entries: Vec<(String, Node)>,
        origin: &Origin,
        key: &str,
        ctx: &Ctx<'_>,
    ) -> Option<Node> {
        if entries.len() != 1 {
            return self.fail(key, ctx, IncludeErrorKind::AdjacentKeys { directive });
        }
        let raw = match entries.into_iter().next().map(|(_, v)| v.value) {
            Some(Value::String(s)) => s,
            _ => return self.fail(key, ctx, IncludeErrorKind::NotAString { directive }),
        };
        let arg = match substitute(&raw, self.env) {
            Ok(arg) => arg,
            Err(variables) => {
                let kind = IncludeErrorKind::SubstitutionUndefined {
                    directive,
                    variables,
                };
                return self.fail(key, ctx, kind);
            }
        };
        match directive {
            "$file" => {
                let path = resolve(ctx.dir, Path::new(&arg));
                let text = self.read_included(directive, &path, key, ctx)?;
                Some(Node::new(
                    Value::String(text.trim_end().to_string()),
                    origin,
                ))
            }
            "$env" => match self.env.get(&arg) {
                Some(v) => Some(Node::new(Value::String(js_trim(v).to_string()), origin)),
                None => {
                    self.dropped.push(super::transform::Dropped {
                        key: key.to_string(),
                        file: ctx.file.to_path_buf(),
                        variables: vec![arg],
                    });
                    None
                }
            },
            _ => self.include(&arg, key, ctx),
        }
    }

    /// `$include: file#fragment`.
    fn include(&mut self, arg: &str, key: &str, ctx: &Ctx<'_>) -> Option<Node> {
        let (file_part, fragment) = arg.split_once('#').unwrap_or((arg, ""));
        let ext = Path::new(file_part).extension().and_then(|e| e.to_str());
        let is_json = match ext {
            Some("yaml" | "yml") => false,
            Some("json") => true,
            _ => {
                let kind = IncludeErrorKind::UnsupportedExtension {
                    file: file_part.to_string(),
                };
                return self.fail(key, ctx, kind);
            }
        };
        let path = resolve(ctx.dir, Path::new(file_part));
        let frame = (path.clone(), fragment.to_string());
        if self.stack.contains(&frame) || self.stack.len() >= MAX_INCLUDE_DEPTH {
            let chain = self
                .stack
                .iter()
                .chain(std::iter::once(&frame))
                .map(|(p, f)| describe_frame(p, f))
                .collect();
            return self.fail(key, ctx, IncludeErrorKind::Cycle { chain });
        }
        let text = self.read_included("$include", &path, key, ctx)?;
        let origin = Origin::from(path.display().to_string());
        let parsed = if is_json {
            parse_json(&text, &origin)
        } else {
            parse_yaml(&text, &origin)
        };
        let mut value = match parsed {
            Ok(node) => node,
            Err(failure) => {
                let kind = IncludeErrorKind::ParseFailed {
                    path,
                    message: failure.describe(),
                };
                return self.fail(key, ctx, kind);
            }
        };
        if !fragment.is_empty() {
            let parts: Vec<&str> = fragment.split('.').collect();
            let mut current = Some(value);
            for (i, part) in parts.iter().enumerate() {
                current = match current {
                    Some(Node {
                        value: Value::Object(entries),
                        ..
                    }) => entries.into_iter().find(|(k, _)| k == part).map(|(_, v)| v),
                    _ => {
                        let kind = IncludeErrorKind::FragmentNotObject {
                            path,
                            fragment: parts[..i].join("."),
                        };
                        return self.fail(key, ctx, kind);
                    }
                };
            }
            value = current?;
        }
        let dir = path.parent().unwrap_or(Path::new(""));
        let inner = Ctx { dir, file: &path };
        self.stack.push(frame);
        let out = self.walk_children(value, key, &inner);
        self.stack.pop();
        out
    }

    /// Reads a `$file`/`$include` target, recording it; errors name the
    /// declaring file and key.
    fn read_included(
        &mut self,
        directive: &'static str,
        path: &Path,
        key: &str,
        ctx: &Ctx<'_>,
    ) -> Option<String> {
        match read_text(path) {
            Ok(text) => {
                if !self.included.iter().any(|p| p == path) {
                    self.included.push(path.to_path_buf());
                }
                Some(text)
            }
            Err(ReadError::NotFound) => {
                let kind = IncludeErrorKind::FileNotFound {
                    directive,
                    path: path.to_path_buf(),
                };
                self.fail(key, ctx, kind)
            }
            Err(ReadError::Other(message)) => {
                let kind = IncludeErrorKind::ReadFailed {
                    directive,
                    path: path.to_path_buf(),
                    message,
                };
                self.fail(key, ctx, kind)
            }
        }
    }
}

fn describe_frame(path: &Path, fragment: &str) -> String {
    if fragment.is_empty() {
        path.display().to_string()
    } else {
        format!("{}#{fragment}", path.display())
    }
}
