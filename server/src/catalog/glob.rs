//! Glob file targets (`*`, `?`, `[...]`, `{a,b}`, `**`) of `file` locations, expanded like
//! Backstage's `glob` call: `globset` compiles the pattern, `walkdir` walks the directory it
//! starts in. Greenroom's rules on top:
//! - only regular files are returned, sorted and without repeats;
//! - entries whose name starts with `.` are skipped unless the pattern has a segment starting
//!   with `.` (node-glob's default without `dot: true`; a little looser where `**` meets such
//!   a segment);
//! - symbolic links are never descended through: a link to `/` in a repository must not turn a
//!   glob into a walk of the server's disk (a matched file that is a link is still resolved and
//!   checked by the confinement rule when it is read);
//! - at most [`MAX_GLOB_ENTRIES`] directory entries are visited per pattern (skipped ones
//!   included), and a pattern longer than [`MAX_PATTERN_BYTES`] matches nothing: a catalog file
//!   cannot make one glob walk a whole disk or compile an outsized matcher.

use std::cell::Cell;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSetBuilder};
use walkdir::WalkDir;

use crate::files::normalize;

/// Bounds the directory walk of one glob (a `**` over a huge tree).
pub const MAX_GLOB_ENTRIES: usize = 100_000;
/// Longest glob pattern expanded (a path is at most 4096 bytes on Linux).
pub const MAX_PATTERN_BYTES: usize = 4096;

/// Whether a target is a pattern rather than one file.
pub fn has_glob(target: &str) -> bool {
    target.contains(['*', '?', '[', '{'])
}

/// Expands a glob: the directory the search starts in and the matching regular files, sorted.
/// A pattern `globset` cannot compile (an unclosed `[`) is taken literally.
pub fn expand_glob(pattern: &Path) -> (PathBuf, Vec<PathBuf>) {
    let pattern = normalize(pattern);
    if pattern.as_os_str().len() > MAX_PATTERN_BYTES {
        return (PathBuf::new(), Vec::new());
    }
    let mut base = PathBuf::new();
    let mut parts: Vec<String> = Vec::new();
    for component in pattern.components() {
        let text = component.as_os_str().to_string_lossy().into_owned();
        if parts.is_empty() && !has_glob(&text) {
            base.push(component.as_os_str());
        } else {
            parts.push(text);
        }
    }
    let relative = parts.join("/");
    // A set, not `Glob::compile_matcher`: building a set reports a matcher over the regex size
    // limit as an error instead of panicking.
    let matcher = match GlobBuilder::new(&relative)
        .literal_separator(true)
        .build()
        .and_then(|glob| GlobSetBuilder::new().add(glob).build())
    {
        Ok(set) => set,
        Err(_) => {
            let literal = pattern.is_file().then(|| pattern.clone());
            return (base, literal.into_iter().collect());
        }
    };
    let dots_allowed = parts.iter().any(|p| p.starts_with('.'));
    let max_depth = if parts.iter().any(|p| p.contains("**")) {
        usize::MAX
    } else {
        parts.len()
    };
    // Every entry read counts against the budget, the skipped ones too; past it, nothing more
    // is entered or returned.
    let visited = Cell::new(0usize);
    let walk = WalkDir::new(&base)
        .follow_links(false)
        .min_depth(1)
        .max_depth(max_depth)
        .into_iter()
        .filter_entry(|e| {
            visited.set(visited.get() + 1);
            visited.get() <= MAX_GLOB_ENTRIES
                && (dots_allowed || !e.file_name().to_string_lossy().starts_with('.'))
        });
    let mut found: Vec<PathBuf> = walk
        .filter_map(Result::ok)
        .filter(|e| {
            e.path()
                .strip_prefix(&base)
                .is_ok_and(|rel| matcher.is_match(rel))
                && e.path().is_file()
        })
        .map(walkdir::DirEntry::into_path)
        .collect();
    found.sort();
    found.dedup();
    (base, found)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Tree(PathBuf);

    impl Tree {
        fn new(files: &[&str]) -> Tree {
            let dir = std::env::temp_dir().join(format!(
                "greenroom-glob-{}-{}",
                std::process::id(),
                files.len()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            for f in files {
                let path = dir.join(f);
                std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
                std::fs::write(&path, "x").expect("write");
            }
            Tree(dir)
        }

        fn names(&self, pattern: &str) -> Vec<String> {
            let (_, found) = expand_glob(&self.0.join(pattern));
            found
                .iter()
                .map(|p| {
                    p.strip_prefix(&self.0)
                        .expect("inside")
                        .to_string_lossy()
                        .into_owned()
                })
                .collect()
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn matches_like_backstage_glob() {
        let tree = Tree::new(&[
            "all.yaml",
            "all.yml",
            "abcdef",
            "team-b.yaml",
            "a-b-c-d.yaml",
            "[x",
            ".hidden.yaml",
            "sub/c.yaml",
            "sub/.dot/d.yaml",
        ]);
        assert_eq!(
            tree.names("*.yaml"),
            ["a-b-c-d.yaml", "all.yaml", "team-b.yaml"]
        );
        assert_eq!(tree.names("a?c*"), ["abcdef"]);
        assert_eq!(tree.names("team-[a-c].yaml"), ["team-b.yaml"]);
        assert!(tree.names("team-[!a-c].yaml").is_empty());
        assert_eq!(tree.names("*-*-*.yaml"), ["a-b-c-d.yaml"]);
        assert_eq!(tree.names("[x"), ["[x"]);
        assert_eq!(tree.names(".*.yaml"), [".hidden.yaml"]);
        assert_eq!(
            tree.names("**/*.yaml"),
            ["a-b-c-d.yaml", "all.yaml", "sub/c.yaml", "team-b.yaml"]
        );
        assert_eq!(tree.names("all.{yaml,yml}"), ["all.yaml", "all.yml"]);
        // An outsized pattern matches nothing (and does not panic building its matcher).
        assert!(tree.names(&"?".repeat(300_000)).is_empty());
        assert!(tree.names(&format!("{}*", "a".repeat(5000))).is_empty());
    }
}
