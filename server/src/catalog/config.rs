//! The `catalog:` block of app-config: `catalog.locations` and `catalog.rules`.
//!
//! Relative `type: file` targets are resolved against the directory of the config file that
//! declares them (Backstage resolves them against the backend's working directory, which for a
//! create-app project is `packages/backend`; resolving against the declaring file gives the same
//! answer for configs kept next to their catalog, and does not depend on where the binary was
//! started). One exception, so that an existing Backstage repository's app-config works
//! unmodified: when the declaring file's directory has a `packages/backend/` subdirectory (the
//! layout of a Backstage monorepo), its relative targets resolve against
//! `<config dir>/packages/backend`, as Backstage's backend would (`../../examples/entities.yaml`
//! is then `<config dir>/examples/entities.yaml`). Targets from `APP_CONFIG_*` variables resolve
//! against the working directory. Root locations are trusted configuration under every rule
//! (see [`crate::catalog::confine`]); [`file_target_notes`] tells `greenroom validate` which rule
//! each relative target used.

use std::path::{Path, PathBuf};

use crate::catalog::glob::{expand_glob, has_glob};
use crate::catalog::location::{LocationSpec, LocationType};
use crate::catalog::rules::{default_rules, Rule};
use crate::config::{Config, ConfigError};

/// What the catalog reads from configuration.
#[derive(Clone, Debug)]
pub struct CatalogConfig {
    /// `catalog.locations`, in order.
    pub locations: Vec<LocationSpec>,
    /// `catalog.rules`, or Backstage's default (`allow: [Component, API, Location]`) when unset.
    pub rules: Vec<Rule>,
}

/// Reads `catalog.locations` and `catalog.rules`; collects every problem.
pub fn read(config: &Config, cwd: &Path) -> Result<CatalogConfig, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let rules = match config.get_optional_config_array("catalog.rules") {
        Ok(Some(items)) => read_rules(&items, &mut errors),
        Ok(None) => default_rules(),
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
    let mut locations = Vec::new();
    match config.get_optional_config_array("catalog.locations") {
        Ok(Some(items)) => {
            for item in &items {
                if let Some(spec) = read_location(item, cwd, &mut errors) {
                    locations.push(spec);
                }
            }
        }
        Ok(None) => {}
        Err(e) => errors.push(e),
    }
    if errors.is_empty() {
        Ok(CatalogConfig { locations, rules })
    } else {
        Err(errors)
    }
}

fn read_rules(items: &[Config], errors: &mut Vec<ConfigError>) -> Vec<Rule> {
    let mut rules = Vec::new();
    for item in items {
        match item.get_optional_string_array("allow") {
            Ok(Some(allow)) => rules.push(Rule { allow }),
            Ok(None) => {
                errors.push(item.invalid_value("allow", "a rule needs an 'allow' list of kinds"))
            }
            Err(e) => errors.push(e),
        }
    }
    rules
}

fn read_location(item: &Config, cwd: &Path, errors: &mut Vec<ConfigError>) -> Option<LocationSpec> {
    let kind = match item.get_string("type") {
        Ok(t) if t == "file" => LocationType::File,
        Ok(t) if t == "url" => LocationType::Url,
        Ok(t) => {
            errors.push(item.invalid_value(
                "type",
                format!("unknown location type '{t}' (expected 'file' or 'url')"),
            ));
            return None;
        }
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let target = match item.get_string("target") {
        Ok(t) => t,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let rules = match item.get_optional_config_array("rules") {
        Ok(Some(items)) => read_rules(&items, errors),
        Ok(None) => Vec::new(),
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
    let optional = match item.get_optional_string("presence") {
        Ok(None) => false,
        Ok(Some(p)) if p == "required" => false,
        Ok(Some(p)) if p == "optional" => true,
        Ok(Some(p)) => {
            errors.push(
                item.invalid_value("presence", format!("'{p}' is not 'required' or 'optional'")),
            );
            false
        }
        Err(e) => {
            errors.push(e);
            false
        }
    };
    let target = match kind {
        LocationType::Url => target,
        LocationType::File => {
            let declared_in = item.source_of("target");
            resolve_file_target(&target, declared_in.as_deref(), cwd)
                .display()
                .to_string()
        }
    };
    Some(LocationSpec {
        kind,
        target,
        rules,
        optional,
    })
}

/// The directory a relative `type: file` target of `catalog.locations` resolves against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileTargetBase {
    /// The declaring config file's directory (Greenroom's own layout).
    ConfigDir,
    /// `<config dir>/packages/backend`: the declaring config file sits at the root of a
    /// Backstage monorepo, whose backend runs from `packages/backend`.
    BackstageBackend,
    /// The working directory: the value came from an `APP_CONFIG_*` variable.
    WorkingDir,
}

impl FileTargetBase {
    /// How `greenroom validate` names the rule.
    pub fn describe(self) -> &'static str {
        match self {
            FileTargetBase::ConfigDir => "relative to the config file's directory",
            FileTargetBase::BackstageBackend => "relative to packages/backend (Backstage layout)",
            FileTargetBase::WorkingDir => "relative to the working directory",
        }
    }
}

/// `<dir>/packages/backend`, the working directory of a Backstage monorepo's backend.
fn backstage_backend(config_dir: &Path) -> PathBuf {
    config_dir.join("packages").join("backend")
}

/// The directory relative targets declared in `declared_in` (a config file path, or something
/// else such as `env APP_CONFIG_x`) resolve against, and the rule that chose it:
/// `<config dir>/packages/backend` when that directory exists, else the config file's
/// directory; `cwd` when the value did not come from a file.
pub fn file_target_base(declared_in: Option<&str>, cwd: &Path) -> (PathBuf, FileTargetBase) {
    let Some(dir) = declared_in
        .map(Path::new)
        .filter(|p| p.is_absolute())
        .and_then(Path::parent)
    else {
        return (cwd.to_path_buf(), FileTargetBase::WorkingDir);
    };
    let backend = backstage_backend(dir);
    if backend.is_dir() {
        (backend, FileTargetBase::BackstageBackend)
    } else {
        (dir.to_path_buf(), FileTargetBase::ConfigDir)
    }
}

/// `target` made absolute: relative to the base [`file_target_base`] picks for the declaring
/// config file (its directory, or its `packages/backend` in a Backstage monorepo), else to
/// `cwd`. `.` and `..` segments are removed lexically.
pub fn resolve_file_target(target: &str, declared_in: Option<&str>, cwd: &Path) -> PathBuf {
    let target = Path::new(target);
    let joined = if target.is_absolute() {
        target.to_path_buf()
    } else {
        file_target_base(declared_in, cwd).0.join(target)
    };
    normalize(&joined)
}

/// How one relative `type: file` target of `catalog.locations` was resolved, for
/// `greenroom validate`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileTargetNote {
    /// The target as written.
    pub target: String,
    /// Where it was written: the config file, or `env APP_CONFIG_x`.
    pub declared_in: String,
    /// The rule used.
    pub base: FileTargetBase,
    /// The absolute path (or glob pattern) read.
    pub resolved: PathBuf,
    /// Whether `resolved` exists (for a glob: whether it matches a file).
    pub exists: bool,
    /// When it does not exist and the other rule (config dir vs `packages/backend`) names a
    /// path that does: that path, and the target that names it under the rule in use.
    pub suggestion: Option<(PathBuf, String)>,
}

impl FileTargetNote {
    /// One line: the target, where it was declared, the rule and the path it names.
    pub fn describe(&self) -> String {
        format!(
            "file target '{}' in {} resolved {}: {}",
            self.target,
            self.declared_in,
            self.base.describe(),
            self.resolved.display()
        )
    }

    /// For a target that does not exist: what to write instead, when the other rule names a
    /// path that exists.
    pub fn hint(&self) -> Option<String> {
        let (path, suggested) = self.suggestion.as_ref()?;
        let why = match self.base {
            FileTargetBase::BackstageBackend => format!(
                "packages/backend/ exists next to the config file, so relative targets resolve \
                 from there, as in Backstage; '{}' names {} only relative to the config file's \
                 directory",
                self.target,
                path.display()
            ),
            _ => format!(
                "'{}' names {} only relative to packages/backend (Backstage layout), the rule \
                 used when packages/backend/ exists next to the config file",
                self.target,
                path.display()
            ),
        };
        Some(format!(
            "file target '{}' in {} names {}, which does not exist; did you mean {suggested}? ({why})",
            self.target,
            self.declared_in,
            self.resolved.display(),
        ))
    }
}

/// Every relative `type: file` target of `catalog.locations`: the rule that resolved it, and
/// for one that does not exist, a target that names an existing file under the other rule.
/// Entries `read` reports as invalid are skipped.
pub fn file_target_notes(config: &Config, cwd: &Path) -> Vec<FileTargetNote> {
    let Ok(Some(items)) = config.get_optional_config_array("catalog.locations") else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    for item in &items {
        let (Ok(kind), Ok(target)) = (item.get_string("type"), item.get_string("target")) else {
            continue;
        };
        if kind != "file" || Path::new(&target).is_absolute() {
            continue;
        }
        let declared_in = item.source_of("target");
        let (base_dir, base) = file_target_base(declared_in.as_deref(), cwd);
        let resolved = normalize(&base_dir.join(&target));
        let exists = names_files(&resolved);
        let other_base = match base {
            FileTargetBase::ConfigDir => Some(backstage_backend(&base_dir)),
            FileTargetBase::BackstageBackend => base_dir
                .parent()
                .and_then(Path::parent)
                .map(Path::to_path_buf),
            FileTargetBase::WorkingDir => None,
        };
        let suggestion = other_base
            .filter(|_| !exists)
            .map(|other| normalize(&other.join(&target)))
            .filter(|other| names_files(other))
            .map(|other| {
                let written = relative_target(&other, &normalize(&base_dir));
                (other, written)
            });
        notes.push(FileTargetNote {
            target,
            declared_in: declared_in.unwrap_or_else(|| "the configuration".into()),
            base,
            resolved,
            exists,
            suggestion,
        });
    }
    notes
}

/// Whether a file target names something: the file exists, or the glob matches a file.
fn names_files(path: &Path) -> bool {
    if has_glob(&path.to_string_lossy()) {
        !expand_glob(path).1.is_empty()
    } else {
        path.exists()
    }
}

/// `path` written relative to `base` (both absolute and normalized): `./x/y` inside it,
/// `../../x/y` outside.
fn relative_target(path: &Path, base: &Path) -> String {
    let path_parts: Vec<_> = path.components().collect();
    let base_parts: Vec<_> = base.components().collect();
    let common = path_parts
        .iter()
        .zip(&base_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let ups = base_parts.len() - common;
    let rest: Vec<String> = path_parts[common..]
        .iter()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let mut parts: Vec<String> = if ups == 0 {
        vec![".".into()]
    } else {
        vec!["..".into(); ups]
    };
    parts.extend(rest);
    parts.join("/")
}

fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `catalog.processingInterval`: how often URL locations are re-read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessingInterval {
    /// `false`: URL locations are read at start (and when a local file changes) only.
    Disabled,
    /// Each cycle waits a random time between `min` and `max`, as Backstage's
    /// `createRandomProcessingInterval` does.
    Random {
        /// Shortest wait.
        min: std::time::Duration,
        /// Longest wait.
        max: std::time::Duration,
    },
}

impl Default for ProcessingInterval {
    /// Backstage's default when the key is absent: 100 to 150 seconds.
    fn default() -> Self {
        ProcessingInterval::Random {
            min: std::time::Duration::from_secs(100),
            max: std::time::Duration::from_secs(150),
        }
    }
}

impl ProcessingInterval {
    /// The wait before the next cycle, `None` when disabled. `jitter` in `[0, 1)` picks where
    /// in the range it falls.
    pub fn next_wait(&self, jitter: f64) -> Option<std::time::Duration> {
        match *self {
            ProcessingInterval::Disabled => None,
            ProcessingInterval::Random { min, max } => {
                let span = max.saturating_sub(min).as_secs_f64() * jitter.clamp(0.0, 1.0);
                Some(min + std::time::Duration::from_secs_f64(span))
            }
        }
    }
}

const PROCESSING_INTERVAL: &str = "catalog.processingInterval";

/// HumanDuration keys, as `@backstage/config`'s `propsOfHumanDuration`, with their length in
/// milliseconds as `@backstage/types`' `durationToMilliseconds` counts them.
const DURATION_UNITS: &[(&str, f64)] = &[
    ("years", 365.0 * 86_400_000.0),
    ("months", 30.0 * 86_400_000.0),
    ("weeks", 7.0 * 86_400_000.0),
    ("days", 86_400_000.0),
    ("hours", 3_600_000.0),
    ("minutes", 60_000.0),
    ("seconds", 1000.0),
    ("milliseconds", 1.0),
];

/// Reads `catalog.processingInterval` as Backstage's `CatalogBuilder.getDefaultProcessingInterval`
/// does (`@backstage/plugin-catalog-backend` 4.0.5, `dist/service/CatalogBuilder.cjs.js`
/// lines 567-592): absent → 100-150 s; a falsy value (`false`) → disabled; otherwise a duration
/// (`readDurationFromConfig`: a HumanDuration object like `{ minutes: 2 }`, an ISO 8601 string
/// like `PT2M`, or a string like `2 minutes` / `90s`), rounded to whole seconds (at least 1),
/// and each cycle waits between that and 1.5 times that.
pub fn read_processing_interval(config: &Config) -> Result<ProcessingInterval, ConfigError> {
    let Some(raw) = config.get_optional_value(PROCESSING_INTERVAL) else {
        return Ok(ProcessingInterval::default());
    };
    let falsy = match &raw {
        serde_json::Value::Bool(b) => !b,
        serde_json::Value::Number(n) => n.as_f64() == Some(0.0),
        serde_json::Value::String(s) => s.is_empty(),
        serde_json::Value::Null => true,
        _ => false,
    };
    if falsy {
        return Ok(ProcessingInterval::Disabled);
    }
    let millis = duration_millis(config, PROCESSING_INTERVAL, &raw)?;
    let seconds = (millis / 1000.0).round().clamp(1.0, 1e9);
    Ok(ProcessingInterval::Random {
        min: std::time::Duration::from_secs_f64(seconds),
        max: std::time::Duration::from_secs_f64(seconds * 1.5),
    })
}

/// A duration value at `key` in milliseconds, read as Backstage's `readDurationFromConfig`: a
/// HumanDuration object like `{ minutes: 2 }`, an ISO 8601 string like `PT2M`, or a string like
/// `2 minutes` / `90s`.
pub fn duration_millis(
    config: &Config,
    key: &str,
    raw: &serde_json::Value,
) -> Result<f64, ConfigError> {
    let invalid = |reason: String| config.invalid_value(key, reason);
    let millis = match raw {
        serde_json::Value::String(s) => {
            let s = s.trim();
            let parsed = if s.starts_with('P') {
                parse_iso_duration(s)
            } else {
                parse_ms_duration(s)
            };
            parsed
                .map_err(|e| invalid(format!("Invalid duration '{s}' in config at '{key}', {e}")))?
        }
        serde_json::Value::Object(map) => {
            let mut total = 0.0;
            let mut found = false;
            for (key, value) in map {
                let Some((_, unit)) = DURATION_UNITS.iter().find(|(k, _)| k == key) else {
                    let good: Vec<&str> = DURATION_UNITS.iter().map(|(k, _)| *k).collect();
                    return Err(invalid(format!(
                        "Unknown property '{key}'; expected one or more of {}",
                        good.join(", ")
                    )));
                };
                let Some(n) = value.as_f64() else {
                    return Err(invalid(format!("'{key}' must be a number")));
                };
                total += n * unit;
                found = true;
            }
            if !found {
                return Err(invalid(
                    "Needs one or more of years, months, weeks, days, hours, minutes, seconds, milliseconds".into(),
                ));
            }
            total
        }
        other => {
            return Err(invalid(format!(
                "expected a duration like {{ minutes: 2 }} or 'PT2M', or false; found {other}"
            )))
        }
    };
    if !millis.is_finite() || millis < 0.0 {
        return Err(invalid("durations must be positive".into()));
    }
    Ok(millis)
}

/// Why a duration string was refused (the messages of Backstage's `readDurationFromConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum DurationError {
    #[error("Invalid ISO format, expected a value similar to 'P2DT6H' (2 days 6 hours) or 'PT1M' (1 minute)")]
    Iso,
    #[error("The value cannot be a plain number; try adding a unit like 'ms' or 'seconds'")]
    PlainNumber,
    #[error(
        "Not a valid duration string, try a number followed by a unit such as '1d' or '2 seconds'"
    )]
    Ms,
    #[error("Negative durations are not allowed")]
    Negative,
}

/// `PnYnMnWnDTnHnMnS` (fractions allowed) in milliseconds.
fn parse_iso_duration(s: &str) -> Result<f64, DurationError> {
    let bad = || DurationError::Iso;
    let rest = s.strip_prefix('P').ok_or_else(bad)?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let mut total = 0.0;
    let mut any = false;
    let mut take = |part: &str, units: &[(char, f64)]| -> Result<(), DurationError> {
        let mut number = String::new();
        let mut next_unit = 0;
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' || c == ',' {
                number.push(if c == ',' { '.' } else { c });
                continue;
            }
            let position = units[next_unit..]
                .iter()
                .position(|(u, _)| *u == c)
                .ok_or_else(bad)?;
            let value: f64 = number.parse().map_err(|_| bad())?;
            total += value * units[next_unit + position].1;
            next_unit += position + 1;
            number.clear();
            any = true;
        }
        if number.is_empty() {
            Ok(())
        } else {
            Err(bad())
        }
    };
    take(
        date,
        &[
            ('Y', 365.0 * 86_400_000.0),
            ('M', 30.0 * 86_400_000.0),
            ('W', 7.0 * 86_400_000.0),
            ('D', 86_400_000.0),
        ],
    )?;
    if let Some(time) = time {
        take(time, &[('H', 3_600_000.0), ('M', 60_000.0), ('S', 1000.0)])?;
    }
    if any {
        Ok(total)
    } else {
        Err(bad())
    }
}

/// The `ms` package's format: a number and a unit (`90s`, `2 minutes`, `1.5h`, `500ms`).
fn parse_ms_duration(s: &str) -> Result<f64, DurationError> {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
        return Err(DurationError::PlainNumber);
    }
    let bad = || DurationError::Ms;
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .ok_or_else(bad)?;
    let value: f64 = s[..split].parse().map_err(|_| bad())?;
    let unit = s[split..].trim().to_ascii_lowercase();
    let factor = match unit.as_str() {
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => 1.0,
        "s" | "sec" | "secs" | "second" | "seconds" => 1000.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600_000.0,
        "d" | "day" | "days" => 86_400_000.0,
        "w" | "week" | "weeks" => 7.0 * 86_400_000.0,
        "y" | "yr" | "yrs" | "year" | "years" => 365.25 * 86_400_000.0,
        _ => return Err(bad()),
    };
    if value < 0.0 {
        return Err(DurationError::Negative);
    }
    Ok(value * factor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn read(value: serde_json::Value) -> Result<ProcessingInterval, String> {
        let config = Config::from_json_layers(vec![(
            "app-config.yaml".into(),
            serde_json::json!({"catalog": {"processingInterval": value}}),
        )]);
        read_processing_interval(&config).map_err(|e| e.to_string())
    }

    fn range(min: u64, max_ms: u64) -> ProcessingInterval {
        ProcessingInterval::Random {
            min: Duration::from_secs(min),
            max: Duration::from_millis(max_ms),
        }
    }

    #[test]
    fn reads_backstages_duration_shapes() {
        assert_eq!(
            read_processing_interval(&Config::empty()),
            Ok(ProcessingInterval::default())
        );
        assert_eq!(
            read(serde_json::json!(false)),
            Ok(ProcessingInterval::Disabled)
        );
        assert_eq!(
            read(serde_json::json!({"minutes": 2})),
            Ok(range(120, 180_000))
        );
        assert_eq!(read(serde_json::json!({"seconds": 1})), Ok(range(1, 1500)));
        assert_eq!(
            read(serde_json::json!({"milliseconds": 10})),
            Ok(range(1, 1500))
        );
        assert_eq!(read(serde_json::json!("PT1M30S")), Ok(range(90, 135_000)));
        assert_eq!(read(serde_json::json!("90s")), Ok(range(90, 135_000)));
        assert_eq!(
            read(serde_json::json!("2 minutes")),
            Ok(range(120, 180_000))
        );
        for bad in [
            serde_json::json!("90"),
            serde_json::json!({"minute": 2}),
            serde_json::json!({}),
            serde_json::json!("P1X"),
            serde_json::json!(true),
            serde_json::json!(30),
        ] {
            let error = read(bad.clone()).err().unwrap_or_default();
            assert!(
                error.contains("catalog.processingInterval"),
                "{bad}: {error}"
            );
        }
    }

    /// A scratch directory holding `examples/entities.yaml`, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir()
                .join(format!("greenroom-config-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("examples")).unwrap_or_default();
            std::fs::write(dir.join("examples/entities.yaml"), "x").unwrap_or_default();
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn notes(dir: &Path, target: &str) -> Vec<FileTargetNote> {
        let file = dir.join("app-config.yaml");
        let config = Config::from_json_layers(vec![(
            file.display().to_string(),
            serde_json::json!({"catalog": {"locations": [
                {"type": "file", "target": target},
                {"type": "file", "target": "/abs/ignored.yaml"},
                {"type": "url", "target": "https://example.com/x.yaml"},
            ]}}),
        )]);
        file_target_notes(&config, Path::new("/nowhere"))
    }

    #[test]
    fn relative_targets_resolve_from_packages_backend_in_a_backstage_repo() {
        let scratch = Scratch::new("layout");
        let dir = &scratch.0;
        let file = dir.join("app-config.yaml").display().to_string();
        let cwd = Path::new("/cwd");
        let target = "../../examples/entities.yaml";
        // Greenroom's layout: against the config file's directory.
        assert_eq!(
            file_target_base(Some(&file), cwd),
            (dir.clone(), FileTargetBase::ConfigDir)
        );
        assert_eq!(
            resolve_file_target("./examples/entities.yaml", Some(&file), cwd),
            dir.join("examples/entities.yaml")
        );
        // A Backstage monorepo: against packages/backend.
        std::fs::create_dir_all(dir.join("packages/backend")).unwrap_or_default();
        assert_eq!(
            file_target_base(Some(&file), cwd),
            (
                dir.join("packages/backend"),
                FileTargetBase::BackstageBackend
            )
        );
        assert_eq!(
            resolve_file_target(target, Some(&file), cwd),
            dir.join("examples/entities.yaml")
        );
        // Absolute targets and APP_CONFIG_* values are not affected.
        assert_eq!(
            resolve_file_target("/abs/x.yaml", Some(&file), cwd),
            PathBuf::from("/abs/x.yaml")
        );
        assert_eq!(
            resolve_file_target("x.yaml", Some("env APP_CONFIG_catalog"), cwd),
            PathBuf::from("/cwd/x.yaml")
        );
        assert_eq!(
            file_target_base(Some("env APP_CONFIG_catalog"), cwd).1,
            FileTargetBase::WorkingDir
        );
    }

    #[test]
    fn notes_name_the_rule_and_suggest_the_other_one() {
        let scratch = Scratch::new("notes");
        let dir = &scratch.0;
        let file = dir.join("app-config.yaml");

        // No packages/backend: a Backstage-style target misses, the suggestion is config-relative.
        let found = notes(dir, "../../examples/entities.yaml");
        assert_eq!(found.len(), 1, "only relative file targets: {found:?}");
        let note = &found[0];
        assert_eq!(note.base, FileTargetBase::ConfigDir);
        assert!(!note.exists);
        assert_eq!(
            note.suggestion,
            Some((
                dir.join("examples/entities.yaml"),
                "./examples/entities.yaml".to_string()
            ))
        );
        assert!(note
            .describe()
            .contains("resolved relative to the config file's directory"));
        let hint = note.hint().unwrap_or_default();
        assert!(
            hint.contains("did you mean ./examples/entities.yaml?"),
            "{hint}"
        );
        assert!(hint.contains(&file.display().to_string()), "{hint}");
        assert!(!hint.contains("  "), "{hint}");

        // A target that exists needs no hint.
        let found = notes(dir, "./examples/entities.yaml");
        assert!(found[0].exists && found[0].hint().is_none(), "{found:?}");
        assert!(notes(dir, "./examples/*.yaml")[0].exists);

        // Backstage layout: a config-relative target misses, the suggestion is backend-relative.
        std::fs::create_dir_all(dir.join("packages/backend")).unwrap_or_default();
        let found = notes(dir, "./examples/entities.yaml");
        let note = &found[0];
        assert_eq!(note.base, FileTargetBase::BackstageBackend);
        assert_eq!(
            note.resolved,
            dir.join("packages/backend/examples/entities.yaml")
        );
        assert!(note
            .describe()
            .contains("resolved relative to packages/backend (Backstage layout)"));
        let hint = note.hint().unwrap_or_default();
        assert!(
            hint.contains("did you mean ../../examples/entities.yaml?"),
            "{hint}"
        );
        assert!(!hint.contains("  "), "{hint}");
        let found = notes(dir, "../../examples/entities.yaml");
        assert!(
            found[0].exists && found[0].suggestion.is_none(),
            "{found:?}"
        );

        // Missing under both rules: no suggestion.
        assert_eq!(notes(dir, "./nowhere.yaml")[0].suggestion, None);
    }

    #[test]
    fn relative_targets_are_written_from_the_base() {
        let base = Path::new("/r/packages/backend");
        assert_eq!(
            relative_target(Path::new("/r/examples/a.yaml"), base),
            "../../examples/a.yaml"
        );
        assert_eq!(
            relative_target(Path::new("/r/packages/backend/a.yaml"), base),
            "./a.yaml"
        );
    }

    #[test]
    fn waits_fall_in_the_range() {
        let interval = range(100, 150_000);
        assert_eq!(interval.next_wait(0.0), Some(Duration::from_secs(100)));
        assert_eq!(interval.next_wait(1.0), Some(Duration::from_secs(150)));
        assert_eq!(ProcessingInterval::Disabled.next_wait(0.5), None);
    }
}
