//! Backstage-compatible `app-config` loading and reading.
//!
//! Follows `@backstage/config-loader` and `@backstage/config`:
//! - files: `--config` files in order (later wins), or by default
//!   `app-config.yaml` (required), `app-config.<BACKSTAGE_ENV>.yaml`,
//!   `app-config.local.yaml`, `app-config.<BACKSTAGE_ENV>.local.yaml`;
//! - per file: `${VAR}` / `${VAR:-default}` / `$${` substitution
//!   (`substitute.rs`), `$file` / `$env` / `$include` directives
//!   (`include.rs`), run by the walk in `transform.rs`;
//! - `APP_CONFIG_*` variables form a layer above all files (`env.rs`);
//! - reading: [`Config`] looks layers up highest priority first; objects
//!   merge, arrays and scalars replace, undefined values fall through and
//!   nulls mask (`reader.rs`, `getters.rs`).
//!
//! Every error names the key and the file or variable concerned; loading
//! reports all fatal problems at once.

mod coerce;
mod env;
mod error;
mod files;
mod getters;
mod include;
mod keys;
mod loader;
mod node;
mod reader;
mod substitute;
mod transform;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::PathBuf;

pub use error::{ConfigError, ConfigWarning, IncludeErrorKind};
pub use reader::Config;

/// What to load and from where.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Files given with --config, in order; empty = defaults (app-config.yaml, then app-config.local.yaml if present, in `cwd`).
    pub files: Vec<PathBuf>,
    /// Directory the default files and relative --config paths are resolved against.
    pub cwd: PathBuf,
    /// Snapshot of the process environment (tests pass their own map; never read std::env inside the module).
    pub env: HashMap<String, String>,
}

/// The result of a successful [`load`].
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The merged configuration (root view).
    pub config: Config,
    /// Non-fatal findings, e.g. values made undefined by unset `${VAR}`s.
    pub warnings: Vec<ConfigWarning>,
    /// Config files actually read, in load order: lowest priority first,
    /// later entries win (the `APP_CONFIG_*` layer is above all of them).
    pub files: Vec<PathBuf>,
    /// Files read through `$file` and `$include`, in first-read order.
    pub included: Vec<PathBuf>,
}

/// Load, include, substitute and merge. Fatal problems (missing file, YAML syntax error with line/column, bad include, bad APP_CONFIG_ key, missing default app-config.yaml) are returned as errors; ALL of them are collected, not just the first.
pub fn load(opts: &LoadOptions) -> Result<LoadedConfig, Vec<ConfigError>> {
    loader::load(opts)
}
