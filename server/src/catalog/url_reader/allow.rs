//! `backend.reading.allow`: which URLs the catalog may read, with Backstage's semantics.
//!
//! Read from `@backstage/backend-defaults` 0.19.0,
//! `dist/entrypoints/urlReader/lib/FetchUrlReader.cjs.js` lines 13-61 (`predicateFromConfig`,
//! `parsePortPredicate`, `parsePortRange`):
//! - `host` is split at the first `:` into hostname and optional port. A hostname starting with
//!   `*.` matches any host ending in `.<rest>` (not `<rest>` itself); otherwise the hostname
//!   must be equal to the URL's (lower-case) hostname.
//! - Without a port in `host`, only URLs without an explicit port match (`http://h:80/` counts
//!   as no port, as WHATWG URLs drop the default port). With a port (`host:8080`) or a range
//!   (`host:8000-8100`), the URL's port, or the scheme's default port, must be in it.
//! - `paths`, when given, are prefixes: the URL's normalized path must equal an entry or start
//!   with it at a segment boundary (an entry `"/a"` allows `/a` and `/a/...`; `"/a/"` allows
//!   `/a/` and below).
//! - An absent or empty list allows nothing.
//!
//! Stricter than Backstage (see [`ReadingAllow::permits`]): a host that resolves to a private,
//! loopback, link-local or unspecified address is read only when an entry names it exactly
//! (a wildcard entry never does). Greenroom also accepts bracketed IPv6 literals in `host`
//! (`[::1]:8080`), which Backstage's split at `:` cannot express.

use crate::config::{Config, ConfigError};

/// Backstage's config key.
pub const KEY: &str = "backend.reading.allow";

/// One `backend.reading.allow` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowEntry {
    /// Lower-case hostname, or the suffix (starting with `.`) of a `*.` wildcard.
    host: HostPattern,
    /// Which ports match.
    port: PortRule,
    /// Allowed path prefixes; `None` allows every path.
    paths: Option<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum HostPattern {
    /// `example.com`: this host only.
    Exact(String),
    /// `*.example.com`: stored as `.example.com`.
    Suffix(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PortRule {
    /// No port in `host`: the URL must not name a non-default port.
    Default,
    /// An inclusive range (a single port is `n..=n`).
    Range(u16, u16),
}

/// The parsed `backend.reading.allow` list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadingAllow {
    entries: Vec<AllowEntry>,
}

/// What a URL is, for matching: lower-case host (IPv6 without brackets), explicit port, the
/// scheme's default port and the path.
#[derive(Clone, Debug)]
pub struct Target<'a> {
    /// Lower-case hostname.
    pub host: &'a str,
    /// The port written in the URL, if any (and not the scheme's default).
    pub explicit_port: Option<u16>,
    /// 80 for http, 443 for https.
    pub default_port: u16,
    /// The URL path (percent-encoded as written).
    pub path: &'a str,
}

/// How a URL matched the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permit {
    /// No entry matches: refused.
    Denied,
    /// Only a `*.` wildcard entry matches: public addresses only.
    Wildcard,
    /// An entry names the host exactly: private addresses allowed too.
    Exact,
}

impl ReadingAllow {
    /// A list from entries written as in app-config (for tests and programmatic use).
    /// `entries` are `(host, paths)`.
    pub fn from_entries(entries: &[(&str, Option<&[&str]>)]) -> Result<Self, AllowEntryError> {
        let mut out = Vec::new();
        for (host, paths) in entries {
            out.push(parse_entry(
                host,
                paths.map(|p| p.iter().map(|s| s.to_string()).collect()),
            )?);
        }
        Ok(Self { entries: out })
    }

    /// Reads `backend.reading.allow` (absent: an empty list, which allows nothing).
    pub fn from_config(config: &Config) -> Result<Self, Vec<ConfigError>> {
        let items = match config.get_optional_config_array(KEY) {
            Ok(Some(items)) => items,
            Ok(None) => return Ok(Self::default()),
            Err(e) => return Err(vec![e]),
        };
        let mut errors = Vec::new();
        let mut entries = Vec::new();
        for item in &items {
            let host = match item.get_string("host") {
                Ok(h) => h,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let paths = match item.get_optional_string_array("paths") {
                Ok(p) => p,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            match parse_entry(&host, paths) {
                Ok(entry) => entries.push(entry),
                Err(reason) => errors.push(item.invalid_value("host", reason.to_string())),
            }
        }
        if errors.is_empty() {
            Ok(Self { entries })
        } else {
            Err(errors)
        }
    }

    /// Whether the list is empty (then nothing may be read).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How `target` matches: [`Permit::Exact`] when some matching entry names the host without
    /// a wildcard, else [`Permit::Wildcard`] when a wildcard entry matches, else denied.
    pub fn permits(&self, target: &Target<'_>) -> Permit {
        let mut best = Permit::Denied;
        for entry in &self.entries {
            if !entry.matches(target) {
                continue;
            }
            match entry.host {
                HostPattern::Exact(_) => return Permit::Exact,
                HostPattern::Suffix(_) => best = Permit::Wildcard,
            }
        }
        best
    }
}

impl AllowEntry {
    fn matches(&self, target: &Target<'_>) -> bool {
        let host_ok = match &self.host {
            HostPattern::Exact(h) => target.host == h,
            HostPattern::Suffix(s) => target.host.ends_with(s.as_str()),
        };
        let port_ok = match self.port {
            PortRule::Default => target.explicit_port.is_none(),
            PortRule::Range(lo, hi) => {
                let port = target.explicit_port.unwrap_or(target.default_port);
                (lo..=hi).contains(&port)
            }
        };
        host_ok && port_ok && self.path_ok(target.path)
    }

    fn path_ok(&self, path: &str) -> bool {
        let Some(paths) = &self.paths else {
            return true;
        };
        // An encoded dot, slash or backslash could climb out of the prefix once a server
        // decodes it (`/catalog/%2e%2e/admin`): such paths never match a path rule.
        let lower = path.to_ascii_lowercase();
        if ["%2e", "%2f", "%5c"].iter().any(|e| lower.contains(e)) {
            return false;
        }
        let target = posix_normalize(path);
        paths.iter().any(|allowed| {
            let prefix = if allowed.ends_with('/') {
                allowed.clone()
            } else {
                format!("{allowed}/")
            };
            target == *allowed || target.starts_with(&prefix)
        })
    }
}

/// Why a `backend.reading.allow` host entry was refused; each names the entry as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowEntryError {
    #[error("'{0}' has an unclosed '['")]
    UnclosedBracket(String),
    #[error("'{0}' has no host name")]
    NoHostName(String),
    #[error("'{0}' is not a valid host: only a leading '*.' wildcard is supported (like '*.example.com')")]
    Wildcard(String),
    /// The entry and its port part.
    #[error("'{0}' has an invalid port or port range '{1}' (expected like 8080 or 8000-8100)")]
    Port(String, String),
}

fn parse_entry(host: &str, paths: Option<Vec<String>>) -> Result<AllowEntry, AllowEntryError> {
    let host = host.trim();
    let (hostname, port) = if let Some(rest) = host.strip_prefix('[') {
        let (inside, after) = rest
            .split_once(']')
            .ok_or_else(|| AllowEntryError::UnclosedBracket(host.into()))?;
        (inside, after.strip_prefix(':'))
    } else {
        match host.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host, None),
        }
    };
    if hostname.is_empty() {
        return Err(AllowEntryError::NoHostName(host.into()));
    }
    let hostname = hostname.to_ascii_lowercase();
    let pattern = match hostname.strip_prefix("*.") {
        Some(rest) if !rest.is_empty() && !rest.contains('*') => {
            HostPattern::Suffix(format!(".{rest}"))
        }
        _ if hostname.contains('*') => return Err(AllowEntryError::Wildcard(host.into())),
        _ => HostPattern::Exact(hostname),
    };
    let port = match port {
        None => PortRule::Default,
        Some(p) => {
            parse_port_range(p).ok_or_else(|| AllowEntryError::Port(host.into(), p.into()))?
        }
    };
    Ok(AllowEntry {
        host: pattern,
        port,
        paths,
    })
}

fn parse_port_range(p: &str) -> Option<PortRule> {
    match p.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (a.trim().parse::<u16>().ok()?, b.trim().parse::<u16>().ok()?);
            (a > 0 && a <= b).then_some(PortRule::Range(a, b))
        }
        None => {
            let n = p.trim().parse::<u16>().ok()?;
            (n > 0).then_some(PortRule::Range(n, n))
        }
    }
}

/// Node's `path.posix.normalize` for an absolute URL path: `.`/`..` resolved, repeated slashes
/// collapsed, a trailing slash kept.
fn posix_normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut out = format!("/{}", parts.join("/"));
    if (path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..")) && out != "/" {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target<'a>(host: &'a str, port: Option<u16>, path: &'a str) -> Target<'a> {
        Target {
            host,
            explicit_port: port,
            default_port: 443,
            path,
        }
    }

    fn allow(entries: &[(&str, Option<&[&str]>)]) -> ReadingAllow {
        ReadingAllow::from_entries(entries).unwrap_or_default()
    }

    #[test]
    fn hosts_match_exactly_or_by_subdomain_wildcard() {
        let list = allow(&[("example.com", None), ("*.acme.io", None)]);
        assert_eq!(
            list.permits(&target("example.com", None, "/")),
            Permit::Exact
        );
        assert_eq!(
            list.permits(&target("a.example.com", None, "/")),
            Permit::Denied
        );
        assert_eq!(
            list.permits(&target("git.acme.io", None, "/x")),
            Permit::Wildcard
        );
        assert_eq!(
            list.permits(&target("a.b.acme.io", None, "/x")),
            Permit::Wildcard
        );
        assert_eq!(list.permits(&target("acme.io", None, "/x")), Permit::Denied);
        assert_eq!(
            list.permits(&target("evilacme.io", None, "/x")),
            Permit::Denied
        );
        assert_eq!(
            ReadingAllow::default().permits(&target("example.com", None, "/")),
            Permit::Denied
        );
    }

    #[test]
    fn encoded_dot_segments_never_pass_a_path_rule() {
        let list = allow(&[("git.internal", Some(&["/catalog/"]))]);
        assert_eq!(
            list.permits(&target("git.internal", None, "/catalog/x.yaml")),
            Permit::Exact
        );
        for p in [
            "/catalog/%2e%2e/admin/x",
            "/catalog/%2E%2E/admin",
            "/catalog/..%2fadmin",
            "/catalog/..%5Cadmin",
        ] {
            assert_eq!(
                list.permits(&target("git.internal", None, p)),
                Permit::Denied,
                "{p}"
            );
        }
    }

    #[test]
    fn ports_follow_backstage() {
        let list = allow(&[
            ("h", None),
            ("p:8080", None),
            ("r:8000-8100", None),
            ("d:443", None),
        ]);
        assert_eq!(list.permits(&target("h", None, "/")), Permit::Exact);
        assert_eq!(list.permits(&target("h", Some(8080), "/")), Permit::Denied);
        assert_eq!(list.permits(&target("p", Some(8080), "/")), Permit::Exact);
        assert_eq!(list.permits(&target("p", None, "/")), Permit::Denied);
        assert_eq!(list.permits(&target("r", Some(8050), "/")), Permit::Exact);
        assert_eq!(list.permits(&target("r", Some(8101), "/")), Permit::Denied);
        assert_eq!(
            list.permits(&target("d", None, "/")),
            Permit::Exact,
            "default port"
        );
        assert!(ReadingAllow::from_entries(&[("h:0", None)]).is_err());
        assert!(ReadingAllow::from_entries(&[("h:9-1", None)]).is_err());
        assert!(ReadingAllow::from_entries(&[("prod.*.example.com", None)]).is_err());
        let v6 = allow(&[("[::1]:8080", None)]);
        assert_eq!(v6.permits(&target("::1", Some(8080), "/")), Permit::Exact);
    }

    #[test]
    fn paths_are_prefixes_at_segment_boundaries() {
        let list = allow(&[("h", Some(&["/a", "/b/"]))]);
        assert_eq!(list.permits(&target("h", None, "/a")), Permit::Exact);
        assert_eq!(list.permits(&target("h", None, "/a/x.yaml")), Permit::Exact);
        assert_eq!(list.permits(&target("h", None, "/ab")), Permit::Denied);
        assert_eq!(list.permits(&target("h", None, "/b")), Permit::Denied);
        assert_eq!(list.permits(&target("h", None, "/b/")), Permit::Exact);
        assert_eq!(list.permits(&target("h", None, "/a/../c")), Permit::Denied);
        assert_eq!(list.permits(&target("h", None, "//a//x")), Permit::Exact);
    }

    #[test]
    fn reads_the_config_key_and_names_bad_entries() {
        let config = Config::from_json_layers(vec![(
            "test.yaml".into(),
            serde_json::json!({"backend": {"reading": {"allow": [
                {"host": "example.com", "paths": ["/cat/"]},
                {"host": "127.0.0.1:9000"},
            ]}}}),
        )]);
        let list = ReadingAllow::from_config(&config).unwrap_or_default();
        assert_eq!(
            list.permits(&target("example.com", None, "/cat/x")),
            Permit::Exact
        );
        assert_eq!(
            list.permits(&target("127.0.0.1", Some(9000), "/")),
            Permit::Exact
        );
        let bad = Config::from_json_layers(vec![(
            "test.yaml".into(),
            serde_json::json!({"backend": {"reading": {"allow": [{"host": "a.*.b"}]}}}),
        )]);
        let errors = ReadingAllow::from_config(&bad).err().unwrap_or_default();
        assert_eq!(errors.len(), 1);
        let text = errors[0].to_string();
        assert!(text.contains("backend.reading.allow[0].host"), "{text}");
    }
}
