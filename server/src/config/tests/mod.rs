//! Load-level tests of the config module, on files written to unique
//! temporary directories. Shared helpers live here; each submodule covers
//! one concern.

#![allow(clippy::unwrap_used)]

mod env_layer;
mod files;
mod fixture;
mod includes;
mod reader;
mod substitution;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{load, ConfigError, LoadOptions, LoadedConfig};

/// A directory under the system temp dir, removed on drop.
pub(super) struct TempDir(PathBuf);

impl TempDir {
    pub(super) fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("greenroom-config-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub(super) fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `content` to `rel` (creating directories); returns the full path.
    pub(super) fn write(&self, rel: &str, content: &str) -> PathBuf {
        let path = self.0.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(&path, content).expect("write test file");
        path
    }

    /// Full path of `rel` as a display string.
    pub(super) fn p(&self, rel: &str) -> String {
        self.0.join(rel).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(super) fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(super) fn opts(dir: &TempDir, files: &[&str], env: HashMap<String, String>) -> LoadOptions {
    LoadOptions {
        files: files.iter().map(PathBuf::from).collect(),
        cwd: dir.path().to_path_buf(),
        env,
    }
}

pub(super) fn load_ok(opts: &LoadOptions) -> LoadedConfig {
    match load(opts) {
        Ok(loaded) => loaded,
        Err(errors) => panic!(
            "load failed:\n{}",
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

pub(super) fn load_errors(opts: &LoadOptions) -> Vec<ConfigError> {
    match load(opts) {
        Ok(_) => panic!("load unexpectedly succeeded"),
        Err(errors) => errors,
    }
}

pub(super) fn messages(errors: &[ConfigError]) -> Vec<String> {
    errors.iter().map(|e| e.to_string()).collect()
}
