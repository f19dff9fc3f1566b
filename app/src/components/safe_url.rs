//! The one gate every URL from data passes before it becomes a link: entity links, cluster
//! dashboard settings and ingress hosts are written by catalog authors or clusters, so only
//! `http:`/`https:` URLs are ever rendered as `href`. Anything else (`javascript:`, `data:`,
//! `vbscript:`, scheme-relative or malformed) is shown as text, never as a link.

/// `url` if it is an absolute http(s) URL, else `None`. Leading/trailing whitespace and any
/// control character (which browsers strip inside schemes: `java\tscript:`) disqualify it.
pub fn external_href(url: &str) -> Option<String> {
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    let (scheme, rest) = url.split_once(':')?;
    let ok = scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http");
    (ok && rest.starts_with("//") && rest.len() > 2).then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::external_href;

    #[test]
    fn only_http_urls_become_links() {
        for ok in ["https://example.com", "http://a.b/c?d#e", "HTTPS://x.y"] {
            assert_eq!(external_href(ok).as_deref(), Some(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:x",
            "//evil.example",
            "/relative",
            "https:",
            "https://",
            "https://x y",
            "",
        ] {
            assert_eq!(external_href(bad), None, "{bad:?}");
        }
    }
}
