//! Joining catalog URLs: a Location's relative `url` target or a placeholder's relative path
//! against the URL of the file that names it ([`join_url`], Backstage's `defaultScmResolveUrl`),
//! and a redirect's `Location` against the request URL ([`resolve_reference`]). Both are
//! `url::Url::join` (WHATWG URL parsing and RFC 3986 reference resolution); only the query rule
//! below is Greenroom's.

use url::Url;

/// The URL scheme `s` starts with (`http`, `https`, `ftp`...), per RFC 3986; one-letter
/// "schemes" are not taken (they are Windows drive letters). Used to tell a URL from a path
/// before parsing anything.
pub fn url_scheme(s: &str) -> Option<&str> {
    let (scheme, _) = s.split_once(':')?;
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (first_ok && rest_ok && scheme.len() > 1).then_some(scheme)
}

/// `s` parsed as an absolute `http(s)` URL with a host.
fn http_url(s: &str) -> Option<Url> {
    let url = Url::parse(s).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty()))
        .then_some(url)
}

/// Resolves `reference` against the absolute `http(s)` URL `base` (the fragment is dropped).
/// A relative reference without a query keeps the base's query, as Backstage's
/// `defaultScmResolveUrl` does (so `?ref=main` survives). `None` if `base` is not an absolute
/// http(s) URL with a host.
pub fn join_url(base: &str, reference: &str) -> Option<String> {
    let base = http_url(base)?;
    let mut joined = base.join(reference).ok()?;
    joined.set_fragment(None);
    // As the URL parser reads it: leading and trailing C0 controls and spaces trimmed, tabs and
    // newlines removed (so " https://other/x" is absolute, and keeps no base query).
    let as_parsed: String = reference
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let without_fragment = as_parsed.split('#').next().unwrap_or_default();
    if url_scheme(&as_parsed).is_none() && !without_fragment.contains('?') {
        joined.set_query(base.query());
    }
    Some(joined.into())
}

/// Resolves `reference` against `base` exactly as WHATWG's `new URL(reference, base)` does for
/// a redirect's `Location` (fragment dropped); `None` unless both the base and the result are
/// absolute http(s) URLs.
pub fn resolve_reference(base: &str, reference: &str) -> Option<String> {
    let mut joined = http_url(base)?.join(reference).ok()?;
    joined.set_fragment(None);
    http_url(joined.as_str()).map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_resolve_without_keeping_the_query() {
        let base = "https://h.example/a/b?q=1";
        assert_eq!(
            resolve_reference(base, "c").as_deref(),
            Some("https://h.example/a/c")
        );
        assert_eq!(
            resolve_reference(base, "//other.example/x#f").as_deref(),
            Some("https://other.example/x")
        );
        assert_eq!(resolve_reference(base, "ftp://h/x"), None);
        assert_eq!(resolve_reference("/relative", "x"), None);
    }

    #[test]
    fn an_absolute_reference_keeps_no_base_query_however_it_is_spaced() {
        let base = "https://h.example/cat/all.yaml?token=secret";
        for reference in [" https://other.example/x", "ht\ttps://other.example/x"] {
            assert_eq!(
                join_url(base, reference).as_deref(),
                Some("https://other.example/x"),
                "{reference:?}"
            );
        }
        assert_eq!(
            join_url(base, "./x.yaml").as_deref(),
            Some("https://h.example/cat/x.yaml?token=secret")
        );
    }

    #[test]
    fn schemes_are_told_from_drive_letters() {
        assert_eq!(url_scheme("https://x"), Some("https"));
        assert_eq!(url_scheme("c:/x"), None);
        assert_eq!(url_scheme("./a:b"), None);
    }
}
