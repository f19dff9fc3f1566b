//! Config key syntax: the key-part pattern Backstage enforces on reads and on
//! `APP_CONFIG_*` names, and how full dotted keys such as
//! `kubernetes.clusterLocatorMethods[0].clusters[1].url` are spelled.

/// Backstage's `CONFIG_KEY_PART_PATTERN`, `/^[a-z][a-z0-9]*(?:[-_:][a-z0-9]+)*$/i`:
/// an ASCII letter, then letters and digits, optionally separated by single
/// `-`, `_` or `:` characters (never two in a row, never at the end).
pub(crate) fn is_valid_key_part(part: &str) -> bool {
    let mut chars = part.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => {}
        _ => return false,
    }
    let mut after_separator = false;
    for c in chars {
        if c.is_ascii_alphanumeric() {
            after_separator = false;
        } else if matches!(c, '-' | '_' | ':') && !after_separator {
            after_separator = true;
        } else {
            return false;
        }
    }
    !after_separator
}

/// `parent.child`, or just `child` at the root.
pub(crate) fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}

/// `parent[index]`.
pub(crate) fn index(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// Splits a getter key into its parts, checking each against the pattern.
/// The empty key means "this value itself".
pub(crate) fn split(key: &str) -> Option<Vec<&str>> {
    if key.is_empty() {
        return Some(Vec::new());
    }
    let parts: Vec<&str> = key.split('.').collect();
    parts.iter().all(|p| is_valid_key_part(p)).then_some(parts)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn key_part_pattern_matches_backstage() {
        for ok in [
            "a",
            "baseUrl",
            "connect-src",
            "page:catalog",
            "a_b",
            "x1-2:3",
            "A",
        ] {
            assert!(is_valid_key_part(ok), "{ok} should be valid");
        }
        for bad in [
            "", "1a", "-a", "a-", "a--b", "a-_b", "a.b", "/test", "a b", "ä",
        ] {
            assert!(!is_valid_key_part(bad), "{bad} should be invalid");
        }
    }

    #[test]
    fn join_and_split() {
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a", "b"), "a.b");
        assert_eq!(index("a.b", 2), "a.b[2]");
        assert_eq!(split("a.b-c"), Some(vec!["a", "b-c"]));
        assert_eq!(split(""), Some(vec![]));
        assert_eq!(split("a..b"), None);
        assert_eq!(split("a[0]"), None);
    }
}
