//! Which local files a catalog file may make the server read: `$text`/`$json`/`$yaml`
//! placeholders and `type: file` Location targets declared in a catalog file resolve only
//! inside the directory tree of that file.
//!
//! A target is refused when it is absolute, when `..` leads out of the declaring file's
//! directory, when the file it names (symbolic links resolved with `canonicalize` before the
//! check) lies outside that directory, is under `/proc`, `/sys` or `/dev`, or is not a regular
//! file or directory (a FIFO, socket or device could block or never end). A missing file is not
//! refused here: reading it reports it missing.
//!
//! Root locations in app-config (`catalog.locations`) are trusted configuration and are not
//! confined (they may point anywhere, e.g. `../../examples/entities.yaml`). Documents read from
//! a URL never read local files at all (see `location` and `placeholders`).

use std::path::{Path, PathBuf};

use crate::files::normalize;

/// Why a target was refused. Each message completes a sentence starting with the target,
/// e.g. "`$text` placeholder '/proc/self/environ' reads outside the directory of /cat/x.yaml".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfineError {
    /// An absolute path.
    #[error("reads outside the directory of {file} (absolute paths are not allowed; use a path relative to that file)")]
    Absolute {
        /// The declaring file.
        file: String,
    },
    /// `..` leads out of the declaring file's directory.
    #[error("reads outside the directory of {file}")]
    Outside {
        /// The declaring file.
        file: String,
    },
    /// A symbolic link leads out of the directory.
    #[error("reads outside the directory of {file} (through a symbolic link)")]
    LinkOutside {
        /// The declaring file.
        file: String,
        /// Where the link leads.
        real: String,
    },
    /// Under `/proc`, `/sys` or `/dev`.
    #[error("names a system file, which catalog files may not read")]
    System {
        /// The resolved path.
        real: String,
    },
    /// A FIFO, socket or device.
    #[error("is not a regular file")]
    NotRegular {
        /// The resolved path.
        real: String,
    },
}

/// A confined target: the path as written (for display, location refs and file watching) and
/// the resolved path to read (symbolic links resolved, so the check and the read agree).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confined {
    /// `dir(declaring file)/target`, `.` and `..` removed lexically.
    pub shown: PathBuf,
    /// The canonical path when the file exists, else `shown`.
    pub real: PathBuf,
}

/// Resolves `target` against the directory of `declaring_file` and checks it (lexically, then
/// on the file system).
pub fn confine(declaring_file: &Path, target: &str) -> Result<Confined, ConfineError> {
    let shown = lexical(declaring_file, target)?;
    let real = check_real(declaring_file, &shown)?;
    Ok(Confined { shown, real })
}

/// The lexical part of [`confine`] (also for glob patterns, whose matches are then checked
/// one by one with [`check_real`]).
pub fn lexical(declaring_file: &Path, target: &str) -> Result<PathBuf, ConfineError> {
    let file = declaring_file.display().to_string();
    let dir = normalize(declaring_file.parent().unwrap_or(Path::new("/")));
    if Path::new(target).is_absolute() || target.starts_with('\\') {
        return Err(ConfineError::Absolute { file });
    }
    let joined = normalize(&dir.join(target));
    if !joined.starts_with(&dir) {
        return Err(ConfineError::Outside { file });
    }
    Ok(joined)
}

/// The file-system part of [`confine`]: `path` (already lexically inside) must really be inside
/// the declaring file's directory once symbolic links are resolved, and not a special file.
/// Returns the path to read.
pub fn check_real(declaring_file: &Path, path: &Path) -> Result<PathBuf, ConfineError> {
    let file = declaring_file.display().to_string();
    let dir = declaring_file.parent().unwrap_or(Path::new("/"));
    let real_dir = std::fs::canonicalize(dir).unwrap_or_else(|_| normalize(dir));
    let real = match std::fs::canonicalize(path) {
        Ok(real) => real,
        // Missing (or a dangling link): reading reports it missing.
        Err(_) => return Ok(path.to_path_buf()),
    };
    let shown = real.display().to_string();
    if ["/proc", "/sys", "/dev"]
        .iter()
        .any(|system| real.starts_with(system))
    {
        return Err(ConfineError::System { real: shown });
    }
    if !real.starts_with(&real_dir) {
        return Err(ConfineError::LinkOutside { file, real: shown });
    }
    match std::fs::metadata(&real) {
        Ok(m) if !m.is_file() && !m.is_dir() => Err(ConfineError::NotRegular { real: shown }),
        _ => Ok(real),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("greenroom-confine-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("cat/a")).unwrap_or_default();
        std::fs::write(dir.join("cat/a/x.yaml"), "x").unwrap_or_default();
        std::fs::write(dir.join("cat/x.yaml"), "x").unwrap_or_default();
        std::fs::write(dir.join("secret.txt"), "s").unwrap_or_default();
        #[cfg(unix)]
        {
            let _ = std::os::unix::fs::symlink("/", dir.join("cat/root"));
            let _ = std::os::unix::fs::symlink(dir.join("secret.txt"), dir.join("cat/leak.txt"));
            let _ = std::os::unix::fs::symlink(dir.join("cat/a/x.yaml"), dir.join("cat/ok.yaml"));
        }
        dir
    }

    #[test]
    fn refuses_absolute_parent_symlinked_and_system_targets() {
        let dir = scratch("unit");
        let file = dir.join("cat/all.yaml");
        assert!(matches!(
            confine(&file, "/proc/self/environ"),
            Err(ConfineError::Absolute { .. })
        ));
        assert!(matches!(
            confine(&file, "../secret.txt"),
            Err(ConfineError::Outside { .. })
        ));
        assert!(matches!(
            confine(&file, "a/../../secret.txt"),
            Err(ConfineError::Outside { .. })
        ));
        #[cfg(unix)]
        {
            assert!(matches!(
                confine(&file, "leak.txt"),
                Err(ConfineError::LinkOutside { .. })
            ));
            assert!(matches!(
                confine(&file, "root/proc/self/environ"),
                Err(ConfineError::System { .. })
            ));
            assert!(matches!(
                confine(&file, "root/etc/hostname"),
                Err(ConfineError::LinkOutside { .. })
            ));
            let ok = confine(&file, "ok.yaml").unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(ok.shown, dir.join("cat/ok.yaml"));
            assert_eq!(
                ok.real,
                std::fs::canonicalize(dir.join("cat/a/x.yaml")).unwrap_or_default()
            );
        }
        let ok = confine(&file, "./a/../a/x.yaml").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ok.shown, dir.join("cat/a/x.yaml"));
        assert_eq!(
            confine(&file, "missing.yaml").map(|c| c.shown),
            Ok(dir.join("cat/missing.yaml"))
        );
        let message = format!(
            "$text placeholder '/proc/self/environ' {}",
            confine(&file, "/proc/self/environ")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        );
        assert!(
            message.starts_with(&format!(
                "$text placeholder '/proc/self/environ' reads outside the directory of {}",
                file.display()
            )),
            "{message}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("..".to_string()),
            Just(".".to_string()),
            Just("".to_string()),
            Just("a".to_string()),
            Just("x.yaml".to_string()),
            Just("root".to_string()),
            Just("leak.txt".to_string()),
            Just("proc".to_string()),
            Just("etc".to_string()),
            "[a-z.]{1,4}",
        ]
    }

    fn target() -> impl Strategy<Value = String> {
        (
            prop_oneof![Just(""), Just("/"), Just("./"), Just("//"), Just("../")],
            prop::collection::vec(segment(), 0..8),
        )
            .prop_map(|(prefix, segments)| format!("{prefix}{}", segments.join("/")))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn a_resolved_target_is_refused_or_inside_the_base_dir(target in target()) {
            let dir = scratch("prop");
            let file = dir.join("cat/all.yaml");
            let real_base = std::fs::canonicalize(dir.join("cat")).unwrap_or_default();
            if let Ok(confined) = confine(&file, &target) {
                prop_assert!(confined.shown.starts_with(dir.join("cat")), "{target} -> {:?}", confined.shown);
                if let Ok(real) = std::fs::canonicalize(&confined.real) {
                    prop_assert!(real.starts_with(&real_base), "{target} -> {:?}", real);
                }
            }
        }
    }
}
