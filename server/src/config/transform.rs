//! The transform walk over one config document (Backstage's
//! `applyConfigTransforms`): every string gets `${VAR}` substitution, every
//! object with a `$file`/`$env`/`$include` key is replaced by what it
//! points at (see `include.rs`), and values that became undefined are
//! dropped from their object or array (array indices close up).
//!
//! Problems are collected, not returned early, so one load reports all of
//! them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::error::{ConfigError, IncludeErrorKind};
use super::keys;
use super::node::{Node, Value};
use super::substitute::substitute;

/// The keys that turn an object into an include directive.
pub(crate) const DIRECTIVES: [&str; 3] = ["$file", "$env", "$include"];

/// A value that `${VAR}` substitution made undefined.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dropped {
    /// Full dotted key, e.g. `integrations.github[0].token`.
    pub(crate) key: String,
    /// File the `${...}` was written in.
    pub(crate) file: PathBuf,
    /// The unset variables.
    pub(crate) variables: Vec<String>,
}

/// Where the node being walked was written.
pub(crate) struct Ctx<'p> {
    /// Directory relative paths are resolved against.
    pub(crate) dir: &'p Path,
    /// The file that declared the node (named in errors).
    pub(crate) file: &'p Path,
}

/// Walks documents, collecting errors, dropped values and included files.
pub(crate) struct Transformer<'e> {
    pub(crate) env: &'e HashMap<String, String>,
    pub(crate) errors: Vec<ConfigError>,
    pub(crate) dropped: Vec<Dropped>,
    /// Files read through `$file` and `$include`, first-read order, no repeats.
    pub(crate) included: Vec<PathBuf>,
    /// `(file, fragment)` pairs whose content is being walked, for cycle detection.
    pub(crate) stack: Vec<(PathBuf, String)>,
}

impl<'e> Transformer<'e> {
    pub(crate) fn new(env: &'e HashMap<String, String>) -> Self {
        Transformer {
            env,
            errors: Vec::new(),
            dropped: Vec::new(),
            included: Vec::new(),
            stack: Vec::new(),
        }
    }

    /// Transforms a whole document read from `file`. `None` if the root
    /// itself became undefined.
    pub(crate) fn document(&mut self, root: Node, file: &Path) -> Option<Node> {
        let dir = file.parent().unwrap_or(Path::new(""));
        let ctx = Ctx { dir, file };
        self.stack.push((file.to_path_buf(), String::new()));
        let out = self.walk(root, "", &ctx);
        self.stack.pop();
        out
    }

    /// Transforms one node: substitution for strings, directive resolution
    /// for directive objects, recursion otherwise.
    pub(crate) fn walk(&mut self, node: Node, key: &str, ctx: &Ctx<'_>) -> Option<Node> {
        match node.value {
            Value::String(s) => self.substitute_string(&s, node.origin, key, ctx.file),
            Value::Object(entries) => {
                let directive = entries
                    .iter()
                    .find_map(|(k, _)| DIRECTIVES.iter().find(|d| **d == k.as_str()).copied());
                match directive {
                    Some(d) => self.directive(d, entries, &node.origin, key, ctx),
                    None => self.walk_children(
                        Node {
                            value: Value::Object(entries),
                            origin: node.origin,
                        },
                        key,
                        ctx,
                    ),
                }
            }
            _ => self.walk_children(node, key, ctx),
        }
    }

    /// Recurses into an object's or array's children without checking the
    /// node itself for a directive (Backstage does not re-check the root of
    /// an included value either).
    pub(crate) fn walk_children(&mut self, node: Node, key: &str, ctx: &Ctx<'_>) -> Option<Node> {
        let value = match node.value {
            Value::Object(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, child) in entries {
                    let child_key = keys::join(key, &k);
                    if let Some(v) = self.walk(child, &child_key, ctx) {
                        out.push((k, v));
                    }
                }
                Value::Object(out)
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for child in items {
                    let child_key = keys::index(key, out.len());
                    if let Some(v) = self.walk(child, &child_key, ctx) {
                        out.push(v);
                    }
                }
                Value::Array(out)
            }
            Value::String(s) => return self.substitute_string(&s, node.origin, key, ctx.file),
            other => other,
        };
        Some(Node {
            value,
            origin: node.origin,
        })
    }

    /// Substitutes a string value; records it as dropped if undefined.
    pub(crate) fn substitute_string(
        &mut self,
        s: &str,
        origin: super::node::Origin,
        key: &str,
        file: &Path,
    ) -> Option<Node> {
        match substitute(s, self.env) {
            Ok(v) => Some(Node {
                value: Value::String(v),
                origin,
            }),
            Err(variables) => {
                tracing::debug!(key, file = %file.display(), ?variables, "config value undefined");
                self.dropped.push(Dropped {
                    key: key.to_string(),
                    file: file.to_path_buf(),
                    variables,
                });
                None
            }
        }
    }

    /// Records an include error and yields "no value".
    pub(crate) fn fail<T>(
        &mut self,
        key: &str,
        ctx: &Ctx<'_>,
        kind: IncludeErrorKind,
    ) -> Option<T> {
        self.errors.push(ConfigError::Include {
            file: ctx.file.to_path_buf(),
            key: key.to_string(),
            kind,
        });
        None
    }
}
