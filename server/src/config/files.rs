//! File-system side of loading: which config files to read (Backstage's
//! `ConfigSources.defaultForTargets`), path resolution, and reading and
//! parsing YAML/JSON into [`Node`] trees with line/column on syntax errors.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::error::{with_location, ConfigError};
use super::node::{from_json, from_yaml, Node, Origin};

pub(crate) use crate::files::resolve;

/// Largest config file read (a bigger one is surely not configuration).
pub(crate) const MAX_CONFIG_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The config files to load, lowest priority first.
///
/// With explicit `files`, those (relative ones resolved against `cwd`).
/// Otherwise `app-config.yaml` (which must exist), then for each name in
/// `BACKSTAGE_ENV` (comma separated) `app-config.<name>.yaml`, then
/// `app-config.local.yaml`, then `app-config.<name>.local.yaml`, each only
/// if present.
pub(crate) fn config_targets(
    files: &[PathBuf],
    cwd: &Path,
    env: &HashMap<String, String>,
    errors: &mut Vec<ConfigError>,
) -> Vec<PathBuf> {
    if !files.is_empty() {
        let mut out = Vec::new();
        for file in files {
            let text = file.to_string_lossy();
            if looks_like_url(&text) {
                errors.push(ConfigError::RemoteTarget {
                    target: text.into_owned(),
                });
            } else {
                out.push(resolve(cwd, file));
            }
        }
        return out;
    }
    let envs: Vec<&str> = env
        .get("BACKSTAGE_ENV")
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let mut out = vec![resolve(cwd, Path::new("app-config.yaml"))];
    let optional = envs
        .iter()
        .map(|e| format!("app-config.{e}.yaml"))
        .chain(std::iter::once("app-config.local.yaml".to_string()))
        .chain(envs.iter().map(|e| format!("app-config.{e}.local.yaml")));
    for name in optional {
        let path = resolve(cwd, Path::new(&name));
        if path.is_file() {
            out.push(path);
        }
    }
    out
}

/// `scheme://host...`, which Backstage would treat as a remote config URL.
fn looks_like_url(target: &str) -> bool {
    match target.split_once("://") {
        Some((scheme, rest)) => {
            let mut chars = scheme.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                && !rest.is_empty()
                && !rest.starts_with('/')
        }
        None => false,
    }
}

/// Why a file could not be read.
pub(crate) enum ReadError {
    NotFound,
    Other(String),
}

/// Reads a UTF-8 text file (at most [`MAX_CONFIG_FILE_BYTES`]), through the same bounded read
/// as catalog files ([`crate::files::read_text`]).
pub(crate) fn read_text(path: &Path) -> Result<String, ReadError> {
    match crate::files::read_text(path, MAX_CONFIG_FILE_BYTES) {
        Ok(text) => Ok(text),
        Err(crate::files::FileError::NotFound(_)) => Err(ReadError::NotFound),
        Err(e) => Err(ReadError::Other(e.reason())),
    }
}

/// A parse failure: message plus 1-based line/column when known.
pub(crate) struct ParseFailure {
    pub(crate) message: String,
    pub(crate) line: Option<usize>,
    pub(crate) column: Option<usize>,
}

impl ParseFailure {
    /// Message with " at line L column C" appended unless already there.
    pub(crate) fn describe(&self) -> String {
        with_location(&self.message, self.line, self.column)
    }
}

/// Parses YAML text; an empty document is `Null`.
pub(crate) fn parse_yaml(text: &str, origin: &Origin) -> Result<Node, ParseFailure> {
    match serde_yaml::from_str::<serde_yaml::Value>(text) {
        Ok(value) => Ok(from_yaml(value, origin)),
        Err(e) => {
            let location = e.location();
            Err(ParseFailure {
                message: e.to_string(),
                line: location.as_ref().map(|l| l.line()),
                column: location.as_ref().map(|l| l.column()),
            })
        }
    }
}

/// Parses JSON text.
pub(crate) fn parse_json(text: &str, origin: &Origin) -> Result<Node, ParseFailure> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) => Ok(from_json(value, origin)),
        Err(e) => Err(ParseFailure {
            message: e.to_string(),
            line: Some(e.line()),
            column: Some(e.column()),
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn resolve_folds_dots() {
        let base = Path::new("/a/b");
        assert_eq!(
            resolve(base, Path::new("c.yaml")),
            PathBuf::from("/a/b/c.yaml")
        );
        assert_eq!(
            resolve(base, Path::new("../c/./d.yaml")),
            PathBuf::from("/a/c/d.yaml")
        );
        assert_eq!(
            resolve(base, Path::new("/x/../y.yaml")),
            PathBuf::from("/y.yaml")
        );
        assert_eq!(
            resolve(Path::new("/"), Path::new("../../z")),
            PathBuf::from("/z")
        );
        assert_eq!(
            resolve(Path::new("rel"), Path::new("../../z")),
            PathBuf::from("../z")
        );
    }

    #[test]
    fn urls_are_recognised() {
        assert!(looks_like_url("https://example.com/app-config.yaml"));
        assert!(looks_like_url("http://localhost:8080/c"));
        assert!(!looks_like_url("app-config.yaml"));
        assert!(!looks_like_url("file:///x.yaml"));
        assert!(!looks_like_url("./a://b"));
    }

    #[test]
    fn yaml_errors_carry_line_and_column() {
        let origin = Origin::from("x.yaml");
        let Err(failure) = parse_yaml("a: 1\nb: [1, 2\nc: 3\n", &origin) else {
            panic!("expected a parse error");
        };
        assert!(failure.line.is_some() && failure.column.is_some());
        assert!(
            failure.describe().contains("at line"),
            "{}",
            failure.describe()
        );
    }

    #[test]
    fn json_errors_carry_line_and_column() {
        let origin = Origin::from("x.json");
        let Err(failure) = parse_json("{\n  \"a\": }", &origin) else {
            panic!("expected a parse error");
        };
        assert_eq!(failure.line, Some(2));
        assert!(
            failure.describe().contains("line 2 column"),
            "{}",
            failure.describe()
        );
    }
}
