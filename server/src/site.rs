//! Finding the built site assets (`pkg/greenroom.js`, `.wasm`, `.css`, favicon) at run time,
//! so the release binary works from any working directory.
//!
//! An explicit `GREENROOM_SITE_ROOT` (else `LEPTOS_SITE_ROOT`, set by `cargo leptos`) is the only
//! place looked at: a wrong explicit setting is an error, not silently bypassed. Without one: a
//! `site/` folder next to the executable, `../site` from the executable (the `target/` layout:
//! `target/release/greenroom` + `target/site`), then `target/site` under the working directory.

use std::path::{Path, PathBuf};

/// The file whose presence marks a complete site root.
pub fn marker(bundle: &str) -> PathBuf {
    Path::new("pkg").join(format!("{bundle}.js"))
}

/// The assets were found nowhere.
#[derive(Debug, thiserror::Error)]
#[error(
    "site assets not found: no {marker} under {looked}. Build them with `scripts/dev.sh build` \
     or point GREENROOM_SITE_ROOT at the folder that holds pkg/"
)]
pub struct SiteNotFound {
    /// The marker file looked for.
    pub marker: String,
    /// Every folder tried, in order.
    pub looked: String,
}

/// Where to look, in order of preference.
pub fn candidates(
    env_root: Option<PathBuf>,
    leptos_env_root: Option<PathBuf>,
    exe: Option<&Path>,
    cwd: &Path,
) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    if let Some(explicit) = env_root.or(leptos_env_root) {
        out.push(explicit);
    } else {
        if let Some(dir) = exe.and_then(Path::parent) {
            out.push(dir.join("site"));
            out.extend(dir.parent().map(|parent| parent.join("site")));
        }
        out.push(cwd.join("target").join("site"));
    }
    out.into_iter()
        .map(|p| if p.is_relative() { cwd.join(p) } else { p })
        .collect()
}

/// The first candidate that holds the bundle.
pub fn locate(candidates: &[PathBuf], bundle: &str) -> Result<PathBuf, SiteNotFound> {
    let marker = marker(bundle);
    candidates
        .iter()
        .find(|dir| dir.join(&marker).is_file())
        .cloned()
        .ok_or_else(|| SiteNotFound {
            marker: marker.display().to_string(),
            looked: candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("greenroom-site-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn an_explicit_root_is_the_only_candidate_and_resolves_against_cwd() {
        let cwd = temp_dir("explicit");
        let exe = cwd.join("bin/greenroom");
        let c = candidates(
            Some("custom".into()),
            Some("/elsewhere".into()),
            Some(&exe),
            &cwd,
        );
        assert_eq!(c, vec![cwd.join("custom")]);
        let c = candidates(None, Some("/elsewhere".into()), Some(&exe), &cwd);
        assert_eq!(c, vec![PathBuf::from("/elsewhere")]);
        let c = candidates(None, None, Some(&exe), &cwd);
        assert_eq!(
            c,
            vec![
                cwd.join("bin/site"),
                cwd.join("site"),
                cwd.join("target/site")
            ]
        );
    }

    #[test]
    fn finds_site_next_to_the_target_dir_of_the_executable() {
        let root = temp_dir("exe");
        let exe = root.join("target/release/greenroom");
        std::fs::create_dir_all(root.join("target/site/pkg")).expect("mkdir");
        std::fs::write(root.join("target/site/pkg/greenroom.js"), "//").expect("write");
        let elsewhere = temp_dir("exe-cwd");
        let found = locate(&candidates(None, None, Some(&exe), &elsewhere), "greenroom");
        assert_eq!(found.expect("found"), root.join("target/site"));
    }

    #[test]
    fn not_found_lists_every_place_looked() {
        let cwd = temp_dir("missing");
        let err = locate(&candidates(None, None, None, &cwd), "greenroom").expect_err("missing");
        let msg = err.to_string();
        assert!(msg.contains("pkg/greenroom.js"), "{msg}");
        assert!(
            msg.contains(&cwd.join("target/site").display().to_string()),
            "{msg}"
        );
    }
}
