//! Errors and warnings of config loading and reading.
//!
//! Reader messages keep Backstage's wording (`Invalid type in config for key
//! ...`, `Unable to convert config value ...`, `Missing required config
//! value ...`, lower-cased) and add the file or environment variable the
//! value came from.

use std::fmt;
use std::path::PathBuf;

/// A fatal config problem, at load time or when reading a value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A value has the right type but is not acceptable to the code that reads it (a port out
    /// of range, a URL that is not absolute, ...); built with [`super::Config::invalid_value`].
    #[error("invalid value for config key '{key}' in '{origin}': {reason}")]
    InvalidValue {
        key: String,
        origin: String,
        reason: String,
    },
    /// A value has the wrong type for the getter that read it (`got` is Backstage's type name).
    #[error("invalid type in config for key '{key}' in '{origin}', got {got}, wanted {wanted}")]
    InvalidType {
        key: String,
        origin: String,
        got: String,
        wanted: String,
    },
    /// A string could not be converted to the number or boolean a getter wants.
    #[error("unable to convert config value for key '{key}' in '{origin}' to a {wanted}")]
    Convert {
        key: String,
        origin: String,
        wanted: String,
    },
    /// A required value is absent from every config source of the view.
    #[error(
        "missing required config value at '{key}' (looked in: {})",
        list_or_none(looked_in)
    )]
    Missing { key: String, looked_in: Vec<String> },
    /// A required value is absent because `${VAR}` substitution left it undefined.
    #[error(
        "missing required config value at '{key}', which is undefined because {} (in {})",
        unset_phrase(variables),
        file.display()
    )]
    MissingUnsetVariable {
        key: String,
        variables: Vec<String>,
        file: PathBuf,
    },
    /// A getter was called with a key that is not valid Backstage key syntax.
    #[error("invalid config key '{key}'")]
    InvalidKey { key: String },
    /// A config file (given with --config, or the default app-config.yaml) does not exist.
    #[error("config file '{}' does not exist", path.display())]
    FileNotFound { path: PathBuf },
    /// A config file exists but could not be read as UTF-8 text.
    #[error("failed to read config file '{}': {message}", path.display())]
    Read { path: PathBuf, message: String },
    /// A config file is not valid YAML.
    #[error("failed to parse {}: {}", path.display(), with_location(message, *line, *column))]
    Parse {
        path: PathBuf,
        message: String,
        line: Option<usize>,
        column: Option<usize>,
    },
    /// A config file's root is not a mapping (Backstage: "expected object at config root").
    #[error("config file '{}' must contain a mapping at its root, got {got}", path.display())]
    NotAnObject { path: PathBuf, got: String },
    /// A `$file`, `$env` or `$include` directive could not be resolved.
    #[error("failed to resolve include at '{}' in '{}': {kind}", key_or_root(key), file.display())]
    Include {
        file: PathBuf,
        key: String,
        kind: IncludeErrorKind,
    },
    /// An `APP_CONFIG_*` name whose `_`-separated parts are not valid key parts.
    #[error("invalid env config key '{key}' in environment variable {var}")]
    InvalidEnvKey { var: String, key: String },
    /// Two `APP_CONFIG_*` variables that would overwrite each other (e.g. `a` and `a_b`).
    #[error("could not nest config for key '{key}' (environment variable {var}) under existing value '{existing}'")]
    EnvKeyConflict {
        var: String,
        key: String,
        existing: String,
    },
    /// An `APP_CONFIG_*` variable whose value is JSON `null`.
    #[error(
        "invalid config value for key '{key}' in environment variable {var}: value may not be null"
    )]
    EnvNullValue { var: String, key: String },
    /// A --config argument that is a URL; remote config is not supported.
    #[error(
        "config argument '{target}' looks like a URL, but remote configuration is not supported"
    )]
    RemoteTarget { target: String },
}

/// Why a `$file`, `$env` or `$include` directive failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IncludeErrorKind {
    /// The directive key shares its object with other keys.
    #[error("include key {directive} should not have adjacent keys")]
    AdjacentKeys { directive: &'static str },
    /// The directive's value is not a string.
    #[error("{directive} include value is not a string")]
    NotAString { directive: &'static str },
    /// `${VAR}` substitution in the directive's value left it undefined.
    #[error(
        "{directive} substitution value was undefined because {}",
        unset_phrase(variables)
    )]
    SubstitutionUndefined {
        directive: &'static str,
        variables: Vec<String>,
    },
    /// The referenced file does not exist.
    #[error("{directive} file '{}' does not exist", path.display())]
    FileNotFound {
        directive: &'static str,
        path: PathBuf,
    },
    /// The referenced file exists but could not be read as UTF-8 text.
    #[error("failed to read {directive} file '{}': {message}", path.display())]
    ReadFailed {
        directive: &'static str,
        path: PathBuf,
        message: String,
    },
    /// `$include` of a file whose extension is not .yaml, .yml or .json.
    #[error("no configuration parser available for included file {file} (supported: .yaml, .yml, .json)")]
    UnsupportedExtension { file: String },
    /// The included file is not valid YAML/JSON.
    #[error("failed to parse included file '{}': {message}", path.display())]
    ParseFailed { path: PathBuf, message: String },
    /// The `#a.b` fragment walks through something that is not an object.
    #[error("value at '{fragment}' in included file '{}' is not an object", path.display())]
    FragmentNotObject { path: PathBuf, fragment: String },
    /// The include chain comes back to a file (and fragment) it is already inside.
    #[error("include cycle: {}", chain.join(" -> "))]
    Cycle { chain: Vec<String> },
}

/// A non-fatal finding of the loader.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigWarning {
    /// Full dotted key of the value that became undefined, e.g. `integrations.github[0].token`.
    pub key: String,
    /// File in which the `${...}` expression was written.
    pub file: PathBuf,
    /// The variables whose absence made the value undefined.
    pub variables: Vec<String>,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "config value '{}' in '{}' is undefined because {}; \
             it falls back to lower-priority config, if any",
            self.key,
            self.file.display(),
            unset_phrase(&self.variables)
        )
    }
}

/// "environment variable X is not set" / "environment variables X, Y are not set".
pub(crate) fn unset_phrase(variables: &[String]) -> String {
    match variables {
        [one] => format!("environment variable {one} is not set"),
        many => format!("environment variables {} are not set", many.join(", ")),
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "no config sources".to_string()
    } else {
        items.join(", ")
    }
}

/// The key as written, or `(root)` for the document root.
fn key_or_root(key: &str) -> &str {
    if key.is_empty() {
        "(root)"
    } else {
        key
    }
}

/// `message` with " at line L column C" appended unless it already says so.
pub(crate) fn with_location(message: &str, line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) if !message.contains(&format!("line {l} column {c}")) => {
            format!("{message} at line {l} column {c}")
        }
        _ => message.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_key_and_origin() {
        let e = ConfigError::InvalidType {
            key: "backend.listen.port".into(),
            origin: "/x/app-config.yaml".into(),
            got: "string".into(),
            wanted: "number".into(),
        };
        assert_eq!(
            e.to_string(),
            "invalid type in config for key 'backend.listen.port' in '/x/app-config.yaml', got string, wanted number"
        );
        let e = ConfigError::Missing {
            key: "app.baseUrl".into(),
            looked_in: vec!["a.yaml".into(), "b.yaml".into()],
        };
        assert_eq!(
            e.to_string(),
            "missing required config value at 'app.baseUrl' (looked in: a.yaml, b.yaml)"
        );
        let e = ConfigError::MissingUnsetVariable {
            key: "app.baseUrl".into(),
            variables: vec!["BASE_URL".into()],
            file: "a.yaml".into(),
        };
        assert_eq!(
            e.to_string(),
            "missing required config value at 'app.baseUrl', which is undefined because environment variable BASE_URL is not set (in a.yaml)"
        );
    }

    #[test]
    fn parse_error_location_is_not_repeated() {
        let e = ConfigError::Parse {
            path: "/x/a.yaml".into(),
            message: "bad thing at line 2 column 3".into(),
            line: Some(2),
            column: Some(3),
        };
        assert_eq!(
            e.to_string(),
            "failed to parse /x/a.yaml: bad thing at line 2 column 3"
        );
        let e = ConfigError::Parse {
            path: "/x/a.yaml".into(),
            message: "bad thing".into(),
            line: Some(4),
            column: Some(1),
        };
        assert_eq!(
            e.to_string(),
            "failed to parse /x/a.yaml: bad thing at line 4 column 1"
        );
    }

    #[test]
    fn warning_display_names_variables_key_and_file() {
        let w = ConfigWarning {
            key: "backend.baseUrl".into(),
            file: "/x/app-config.yaml".into(),
            variables: vec!["A".into(), "B".into()],
        };
        assert_eq!(
            w.to_string(),
            "config value 'backend.baseUrl' in '/x/app-config.yaml' is undefined because \
             environment variables A, B are not set; it falls back to lower-priority config, if any"
        );
    }
}
