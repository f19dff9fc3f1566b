//! Link annotations that could run script: `backstage.io/view-url`, `backstage.io/edit-url` and
//! `backstage.io/source-location` are rewritten at ingestion (so every API response and page
//! sees the safe value) when they do not point at an http(s) URL.
//!
//! Backstage (`@backstage/plugin-catalog-backend` 4.0.5,
//! `dist/database/operations/stitcher/performStitching.cjs.js` lines 23-26 and 93-98) replaces
//! `view-url` and `edit-url` values matching
//! `/^[\u0000-\u001F ]*j[\r\n\t]*a[\r\n\t]*v[\r\n\t]*a[\r\n\t]*s[\r\n\t]*c[\r\n\t]*r[\r\n\t]*i[\r\n\t]*p[\r\n\t]*t[\r\n\t]*\:/i`
//! (a `javascript:` scheme, allowing the leading control characters and embedded tabs and
//! newlines that browsers ignore) with `https://backstage.io/annotation-rejected-for-security-reasons`.
//! It does not check `source-location` there.
//!
//! Greenroom is stricter, deliberately: after the same clean-up browsers do (leading C0
//! controls and spaces dropped, tabs and newlines removed anywhere), a value with any scheme
//! other than `http`/`https` is rejected (`javascript:`, `data:`, `vbscript:`, `file:`...);
//! values without a scheme (relative links) are kept. `source-location` is a location ref:
//! `url:<target>` must have an http(s) target and becomes
//! `url:https://backstage.io/annotation-rejected-for-security-reasons` otherwise; `file:<path>`
//! is kept (it is not a link); any other value with a scheme is rejected the same way.

use serde_json::Value;

/// What a rejected link becomes (Backstage's value).
pub const REJECTED: &str = "https://backstage.io/annotation-rejected-for-security-reasons";

/// `backstage.io/view-url`.
pub const VIEW_URL: &str = "backstage.io/view-url";
/// `backstage.io/edit-url`.
pub const EDIT_URL: &str = "backstage.io/edit-url";
/// `backstage.io/source-location`.
pub const SOURCE_LOCATION: &str = "backstage.io/source-location";

/// Rewrites the three annotations of `entity` in place; returns the keys rewritten.
pub fn sanitize(entity: &mut Value) -> Vec<&'static str> {
    let mut rewritten = Vec::new();
    let Some(annotations) = entity
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    else {
        return rewritten;
    };
    for key in [VIEW_URL, EDIT_URL] {
        if let Some(Value::String(value)) = annotations.get_mut(key) {
            if !is_safe_link(value) {
                *value = REJECTED.to_string();
                rewritten.push(key);
            }
        }
    }
    if let Some(Value::String(value)) = annotations.get_mut(SOURCE_LOCATION) {
        if !is_safe_source_location(value) {
            *value = format!("url:{REJECTED}");
            rewritten.push(SOURCE_LOCATION);
        }
    }
    rewritten
}

/// Whether `value` is an http(s) URL or has no scheme at all (a relative link).
pub fn is_safe_link(value: &str) -> bool {
    match scheme(value) {
        None => true,
        Some(s) => s == "http" || s == "https",
    }
}

fn is_safe_source_location(value: &str) -> bool {
    if let Some(target) = value.strip_prefix("url:") {
        return matches!(scheme(target).as_deref(), Some("http" | "https"));
    }
    if value.starts_with("file:") {
        return true;
    }
    is_safe_link(value)
}

/// Whether `value` starts with a `javascript:` scheme as Backstage's `scriptProtocolPattern`
/// sees it (leading C0 controls and spaces allowed, tabs and newlines between the letters).
pub fn is_script_url(value: &str) -> bool {
    let rest = value.trim_start_matches(|c: char| c <= ' ');
    let mut letters = rest.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r'));
    "javascript:".chars().all(|want| {
        letters
            .next()
            .is_some_and(|c| c.eq_ignore_ascii_case(&want))
    })
}

/// A location ref (`<type>:<target>`) split as catalog-model's `parseLocationRef` splits it
/// (both parts trimmed), with its errors word for word.
pub fn parse_location_ref(raw: &str) -> Result<(&str, &str), String> {
    let malformed = || {
        format!("Unable to parse location ref '{raw}', expected '<type>:<target>', e.g. 'url:https://host/path'")
    };
    let (kind, target) = raw.split_once(':').ok_or_else(malformed)?;
    let (kind, target) = (kind.trim(), target.trim());
    if kind.is_empty() || target.is_empty() {
        return Err(malformed());
    }
    if kind == "http" || kind == "https" {
        return Err(format!(
            "Invalid location ref '{raw}', please prefix it with 'url:', e.g. 'url:{raw}'"
        ));
    }
    if is_script_url(target) {
        return Err(format!(
            "Invalid location ref '{raw}', target is a javascript: URL"
        ));
    }
    Ok((kind, target))
}

/// The lower-case scheme a browser would see: leading C0 controls and spaces dropped, tabs and
/// newlines removed (WHATWG URL parsing), then letters, digits, `+`, `-`, `.` up to `:`.
fn scheme(value: &str) -> Option<String> {
    let cleaned: String = value
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let (candidate, _) = cleaned.split_once(':')?;
    let mut chars = candidate.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (first_ok && rest_ok).then(|| candidate.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entity(view: &str, source: &str) -> Value {
        json!({"metadata": {"annotations": {VIEW_URL: view, EDIT_URL: view, SOURCE_LOCATION: source}}})
    }

    #[test]
    fn location_refs_parse_as_catalog_models_parse_location_ref() {
        // Messages from @backstage/catalog-model 1.10.3 dist/location/helpers.cjs.js 10-38.
        assert_eq!(
            parse_location_ref(" url : https://x/y "),
            Ok(("url", "https://x/y"))
        );
        assert_eq!(parse_location_ref("file:/x"), Ok(("file", "/x")));
        assert_eq!(
            parse_location_ref("nocolon"),
            Err("Unable to parse location ref 'nocolon', expected '<type>:<target>', e.g. 'url:https://host/path'".into())
        );
        assert!(parse_location_ref("url: ").is_err());
        assert_eq!(
            parse_location_ref("https://x"),
            Err("Invalid location ref 'https://x', please prefix it with 'url:', e.g. 'url:https://x'".into())
        );
        assert_eq!(
            parse_location_ref("url: Java\tScript:alert(1)"),
            Err(
                "Invalid location ref 'url: Java\tScript:alert(1)', target is a javascript: URL"
                    .into()
            )
        );
        assert!(
            !is_script_url("javascript :x"),
            "a space before the colon is not the pattern"
        );
        assert!(is_script_url("\u{1} javascript:x"));
    }

    #[test]
    fn script_and_data_urls_are_rejected_like_backstage_and_stricter() {
        let bad = [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "  javascript:alert(1)",
            "\u{1}\u{1f} javascript:alert(1)",
            "java\tscr\nipt:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
        ];
        for value in bad {
            let mut e = entity(value, &format!("url:{value}"));
            assert_eq!(
                sanitize(&mut e),
                vec![VIEW_URL, EDIT_URL, SOURCE_LOCATION],
                "{value:?}"
            );
            assert_eq!(e["metadata"]["annotations"][VIEW_URL], json!(REJECTED));
            assert_eq!(e["metadata"]["annotations"][EDIT_URL], json!(REJECTED));
            assert_eq!(
                e["metadata"]["annotations"][SOURCE_LOCATION],
                json!(format!("url:{REJECTED}"))
            );
        }
        let mut e = entity("x", "javascript:alert(1)");
        assert_eq!(sanitize(&mut e), vec![SOURCE_LOCATION]);
    }

    #[test]
    fn http_links_relative_links_and_file_refs_are_kept() {
        let mut e = entity(
            "https://github.com/acme/x/blob/main/catalog-info.yaml",
            "url:https://github.com/acme/x/tree/main/",
        );
        let before = e.clone();
        assert!(sanitize(&mut e).is_empty());
        assert_eq!(e, before);
        let mut e = entity("/docs/x", "file:/srv/catalog/x.yaml");
        assert!(sanitize(&mut e).is_empty());
        let mut e = json!({"metadata": {"annotations": {VIEW_URL: 5}}});
        assert!(sanitize(&mut e).is_empty());
        assert!(sanitize(&mut json!({"metadata": {}})).is_empty());
    }
}
