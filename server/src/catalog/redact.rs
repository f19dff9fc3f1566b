//! Credentials in location URLs, redacted for display: the locations API, stored entities
//! (Location targets, `managed-by-*` annotations), problems and log lines show
//! `https://host/x.yaml?token=***`; the real URL is still what the reader fetches.
//!
//! Redacted: the userinfo (`user:pass@` → `user:***@`, a lone `token@` → `***@`) and the value
//! of every query or fragment parameter whose key (case-insensitive) is a known credential
//! (`token`, `private_token`, `access_token`, `sig`, `X-Amz-Signature`, `X-Amz-Credential`,
//! `X-Amz-Security-Token`, `password`, `secret`, `key`, `api_key`, `auth`, ...) or contains
//! `token`, `secret`, `password`, `signature` or `credential`. The key is kept, so the reader
//! of a problem still sees which parameter it was.
//!
//! Not done here: deciding what to read (the URL reader gets the real URL).

/// What a redacted value becomes.
pub const REDACTED: &str = "***";

const SENSITIVE_KEYS: &[&str] = &[
    "token",
    "private_token",
    "access_token",
    "refresh_token",
    "id_token",
    "sig",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "x-goog-credential",
    "password",
    "passwd",
    "pwd",
    "secret",
    "client_secret",
    "key",
    "api_key",
    "apikey",
    "api-key",
    "auth",
    "authorization",
];

const SENSITIVE_PARTS: &[&str] = &["token", "secret", "password", "signature", "credential"];

/// Whether a query parameter named `key` carries a credential.
pub fn is_sensitive_key(key: &str) -> bool {
    let decoded: String = percent_encoding::percent_decode_str(key)
        .decode_utf8_lossy()
        .to_ascii_lowercase();
    SENSITIVE_KEYS.contains(&decoded.as_str())
        || SENSITIVE_PARTS.iter().any(|part| decoded.contains(part))
}

/// `url` with its userinfo and credential parameters redacted; anything else is unchanged
/// (also text that is not a URL).
pub fn redact_url(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let (before_query, query) = match before_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (before_fragment, None),
    };
    let mut out = redact_userinfo(before_query);
    if let Some(query) = query {
        out.push('?');
        out.push_str(&redact_params(query));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        if fragment.contains('=') {
            out.push_str(&redact_params(fragment));
        } else {
            out.push_str(fragment);
        }
    }
    out
}

/// Every `http://` / `https://` URL inside `text` redacted with [`redact_url`].
pub fn redact_text(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut rest_start = 0;
    let mut search = 0;
    while let Some(found) = next_url_start(&lower, search) {
        let end = text[found..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .map_or(text.len(), |i| found + i);
        let token = &text[found..end];
        let trimmed = token.trim_end_matches([',', '.', ';', ')', ']', '}']);
        out.push_str(&text[rest_start..found]);
        out.push_str(&redact_url(trimmed));
        out.push_str(&token[trimmed.len()..]);
        rest_start = end;
        search = end.max(found + 1);
    }
    out.push_str(&text[rest_start..]);
    out
}

fn next_url_start(lower: &str, from: usize) -> Option<usize> {
    let hay = lower.get(from..)?;
    let http = hay.find("http://");
    let https = hay.find("https://");
    match (http, https) {
        (Some(a), Some(b)) => Some(from + a.min(b)),
        (Some(a), None) | (None, Some(a)) => Some(from + a),
        (None, None) => None,
    }
}

fn redact_userinfo(before_query: &str) -> String {
    let Some(scheme_end) = before_query.find("://") else {
        return before_query.to_string();
    };
    let authority_start = scheme_end + 3;
    let authority_end = before_query[authority_start..]
        .find('/')
        .map_or(before_query.len(), |i| authority_start + i);
    let authority = &before_query[authority_start..authority_end];
    let Some(at) = authority.rfind('@') else {
        return before_query.to_string();
    };
    let userinfo = &authority[..at];
    let shown = match userinfo.split_once(':') {
        Some((user, _password)) if !user.is_empty() => format!("{user}:{REDACTED}"),
        _ => REDACTED.to_string(),
    };
    format!(
        "{}{shown}{}{}",
        &before_query[..authority_start],
        &authority[at..],
        &before_query[authority_end..]
    )
}

fn redact_params(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if is_sensitive_key(key) && !value.is_empty() => {
                format!("{key}={REDACTED}")
            }
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credential_parameters_and_keeps_their_keys() {
        let cases = [
            (
                "https://gitlab.example/api/v4/x.yaml?ref=main&private_token=glpat-SECRET",
                "https://gitlab.example/api/v4/x.yaml?ref=main&private_token=***",
            ),
            ("http://h/a?token=abc", "http://h/a?token=***"),
            ("http://h/a?access_token=abc&b=1", "http://h/a?access_token=***&b=1"),
            (
                "https://b.s3.amazonaws.com/c.yaml?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=f00&X-Amz-Security-Token=t&X-Amz-Date=1",
                "https://b.s3.amazonaws.com/c.yaml?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Security-Token=***&X-Amz-Date=1",
            ),
            ("https://acct.blob/c.yaml?sv=1&sig=zzz", "https://acct.blob/c.yaml?sv=1&sig=***"),
            ("http://h/a?password=p&secret=s&key=k&api_key=a&auth=x", "http://h/a?password=***&secret=***&key=***&api_key=***&auth=***"),
            ("http://h/a?GITHUB_TOKEN=x", "http://h/a?GITHUB_TOKEN=***"),
            ("https://user:hunter2@h/a.yaml", "https://user:***@h/a.yaml"),
            ("https://ghp_abc@h/a.yaml", "https://***@h/a.yaml"),
            ("http://h/a#access_token=x", "http://h/a#access_token=***"),
            ("http://h/a?ref=main", "http://h/a?ref=main"),
            ("/abs/file.yaml", "/abs/file.yaml"),
        ];
        for (url, expected) in cases {
            assert_eq!(redact_url(url), expected, "{url}");
        }
    }

    #[test]
    fn redacts_every_url_inside_text() {
        let text = "Unable to read url http://h/x.yaml?token=s3cr3t, HTTP 500 from url:https://u:p@h/y?sig=a.";
        assert_eq!(
            redact_text(text),
            "Unable to read url http://h/x.yaml?token=***, HTTP 500 from url:https://u:***@h/y?sig=***."
        );
        assert_eq!(redact_text("no urls here"), "no urls here");
        assert_eq!(
            redact_text("'HTTPS://h/a?Token=x'"),
            "'HTTPS://h/a?Token=***'"
        );
    }
}
