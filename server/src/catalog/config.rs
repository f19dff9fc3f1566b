//! The `catalog:` block of app-config: `catalog.locations` and `catalog.rules`.
//!
//! Relative `type: file` targets are resolved against the directory of the config file that
//! declares them (Backstage resolves them against the backend's working directory, which for a
//! create-app project is `packages/backend`; resolving against the declaring file gives the same
//! answer for configs kept next to their catalog, and does not depend on where the binary was
//! started). Targets from `APP_CONFIG_*` variables resolve against the working directory.

use std::path::{Path, PathBuf};

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

/// `target` made absolute: relative to the declaring config file's directory when the value
/// came from a file, else to `cwd`. `.` and `..` segments are removed lexically.
pub fn resolve_file_target(target: &str, declared_in: Option<&str>, cwd: &Path) -> PathBuf {
    let target = Path::new(target);
    let joined = if target.is_absolute() {
        target.to_path_buf()
    } else {
        let base = declared_in
            .map(Path::new)
            .filter(|p| p.is_absolute())
            .and_then(Path::parent)
            .unwrap_or(cwd);
        base.join(target)
    };
    normalize(&joined)
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
