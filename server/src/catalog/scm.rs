//! The annotations Backstage's `AnnotateLocationEntityProcessor` adds to every entity read from a
//! `url` location (catalog-backend 4.0.5, `dist/processors/AnnotateLocationEntityProcessor.cjs.js`,
//! values observed against the real backend):
//!
//! - `backstage.io/view-url`: the URL of the file read, always;
//! - `backstage.io/edit-url`: the host's edit page of the file, when an SCM integration knows the
//!   host (Backstage's default integrations: github.com and gitlab.com) and the URL does not pin
//!   a commit (no 40+ hex digit word);
//! - `backstage.io/source-location`: `url:` + the file's directory, for the same hosts.
//!
//! Values the file sets itself win (Backstage merges its defaults under the entity).

/// `backstage.io/view-url`.
pub const VIEW_URL: &str = "backstage.io/view-url";
/// `backstage.io/edit-url`.
pub const EDIT_URL: &str = "backstage.io/edit-url";
/// `backstage.io/source-location`.
pub const SOURCE_LOCATION: &str = "backstage.io/source-location";

/// The annotations for an entity read from `file_url`, in Backstage's order.
pub fn location_annotations(file_url: &str) -> Vec<(&'static str, String)> {
    let mut out = vec![(VIEW_URL, file_url.to_string())];
    let Ok(url) = url::Url::parse(file_url) else {
        return out;
    };
    let (blob, edit) = match url.host_str() {
        Some("github.com") => ("/blob/", "/edit/"),
        Some("gitlab.com") => ("/-/blob/", "/-/edit/"),
        _ => return out,
    };
    let Some(at) = file_url.find(blob) else {
        return out;
    };
    if !pins_commit(file_url) {
        out.push((
            EDIT_URL,
            format!("{}{edit}{}", &file_url[..at], &file_url[at + blob.len()..]),
        ));
    }
    // The directory of the file; GitHub shows directories under /tree/, GitLab under /-/blob/.
    let path_end = file_url.find(['?', '#']).unwrap_or(file_url.len());
    let dir_end = file_url[..path_end].rfind('/').map_or(path_end, |i| i + 1);
    let dir = &file_url[..dir_end];
    let source = if blob == "/blob/" {
        dir.replacen("/blob/", "/tree/", 1)
    } else {
        dir.to_string()
    };
    out.push((SOURCE_LOCATION, format!("url:{source}")));
    out
}

/// Whether the URL names a commit (a word of 40 or more hex digits), which has no edit page.
fn pins_commit(url: &str) -> bool {
    url.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| w.len() >= 40 && w.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_backstage_for_the_default_integrations() {
        assert_eq!(
            location_annotations("http://127.0.0.1:7219/repo/catalog-info.yaml"),
            vec![(
                VIEW_URL,
                "http://127.0.0.1:7219/repo/catalog-info.yaml".to_string()
            )]
        );
        let gh = location_annotations("https://github.com/acme/repo/blob/main/catalog-info.yaml");
        assert_eq!(
            gh[1],
            (
                EDIT_URL,
                "https://github.com/acme/repo/edit/main/catalog-info.yaml".to_string()
            )
        );
        assert_eq!(
            gh[2],
            (
                SOURCE_LOCATION,
                "url:https://github.com/acme/repo/tree/main/".to_string()
            )
        );
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let pinned = location_annotations(&format!(
            "https://github.com/acme/repo/blob/{sha}/catalog-info.yaml"
        ));
        assert_eq!(pinned.len(), 2);
        assert_eq!(
            pinned[1],
            (
                SOURCE_LOCATION,
                format!("url:https://github.com/acme/repo/tree/{sha}/")
            )
        );
        let gl = location_annotations("https://gitlab.com/acme/repo/-/blob/main/catalog-info.yaml");
        assert_eq!(
            gl[1],
            (
                EDIT_URL,
                "https://gitlab.com/acme/repo/-/edit/main/catalog-info.yaml".to_string()
            )
        );
        assert_eq!(
            gl[2],
            (
                SOURCE_LOCATION,
                "url:https://gitlab.com/acme/repo/-/blob/main/".to_string()
            )
        );
    }
}
