//! Typed settings read from the merged app-config: the keys Greenroom uses, their defaults and
//! their validation. Every problem is collected (not just the first), each naming its key and
//! the file it came from, so `greenroom validate` can print them all at once.
//!
//! Keys owned here: `app.title`, `app.baseUrl`, `backend.baseUrl`, `backend.listen`,
//! `backend.auth.externalAccess`, `backend.lifecycle.serverShutdownDelay`, and Greenroom's
//! `backend.metrics.listen`.

use crate::config::{Config, ConfigError};

/// Backstage's key for the delay between SIGTERM and the server closing.
const SHUTDOWN_DELAY: &str = "backend.lifecycle.serverShutdownDelay";

/// `app.title` when unset.
pub const DEFAULT_TITLE: &str = "Greenroom";
/// `backend.listen.host` when unset (Backstage listens on all interfaces; we default to loopback
/// so a first run exposes nothing).
pub const DEFAULT_HOST: &str = "127.0.0.1";
/// `backend.listen.port` when unset (Backstage's backend port).
pub const DEFAULT_PORT: u16 = 7007;

/// Everything the server needs from configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `app.*`
    pub app: AppSettings,
    /// `backend.*`
    pub backend: BackendSettings,
}

/// `app.*` keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppSettings {
    /// `app.title`: the portal's name in the header and page titles. Default "Greenroom".
    pub title: String,
    /// `app.baseUrl` (required): the URL users reach the portal at, e.g. `http://localhost:7007`.
    pub base_url: String,
}

/// `backend.*` keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendSettings {
    /// `backend.baseUrl` (required): the URL the APIs are reached at. Greenroom serves UI and
    /// APIs from one process, so this is usually equal to `app.baseUrl`.
    pub base_url: String,
    /// `backend.listen`: where to bind.
    pub listen: Listen,
    /// `backend.metrics.listen` (Greenroom's key, same forms as `backend.listen`): a second
    /// address that serves only `/metrics`, without sign-in, for a scraper on an internal
    /// network. `/metrics` on the main address stays behind sign-in (a token or a session).
    pub metrics_listen: Option<Listen>,
    /// `backend.auth.externalAccess` entries of `type: static`: when any is configured, the REST
    /// APIs (`/api/catalog/...`) require one of these as a Bearer token. The UI keeps working
    /// through server functions, which never leave the process's trust boundary.
    pub static_tokens: Vec<StaticToken>,
    /// `backend.lifecycle.serverShutdownDelay` (a duration, as Backstage reads it): after
    /// SIGTERM, how long to keep serving with readiness answering 503 ("Backend is shutting
    /// down") before the server stops accepting, so a load balancer takes the replica out first.
    /// None (Backstage's default): stop at once.
    pub shutdown_delay: Option<std::time::Duration>,
}

/// A static external-access token (Backstage's `type: static`).
#[derive(Clone, PartialEq, Eq)]
pub struct StaticToken {
    /// `options.token`.
    pub token: String,
    /// `options.subject`: who uses it (for logs).
    pub subject: String,
}

impl std::fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("StaticToken")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// `backend.listen`: either `{host, port}` or a string `"<port>"` / `"<host>:<port>"`, as in
/// Backstage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listen {
    /// `backend.listen.host`: interface to bind; default 127.0.0.1; empty = all interfaces.
    pub host: String,
    /// `backend.listen.port`: TCP port; default 7007; 0 picks a free port.
    pub port: u16,
}

impl Listen {
    /// `host:port` as accepted by `TcpListener::bind` (IPv6 literals bracketed).
    pub fn bind_address(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Reads and checks every setting; returns all problems found.
pub fn read(config: &Config) -> Result<Settings, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let title = ok_or_push(config.get_optional_string("app.title"), &mut errors)
        .flatten()
        .unwrap_or_else(|| DEFAULT_TITLE.to_string());
    let app_base_url = read_base_url(config, "app.baseUrl", &mut errors);
    let backend_base_url = read_base_url(config, "backend.baseUrl", &mut errors);
    let listen = read_listen(config, "backend.listen", &mut errors);
    let metrics_listen = if config.has("backend.metrics.listen") {
        read_listen(config, "backend.metrics.listen", &mut errors)
    } else {
        None
    };
    let static_tokens = read_external_access(config, &mut errors);
    let shutdown_delay = config
        .get_optional_value(SHUTDOWN_DELAY)
        .and_then(|raw| {
            ok_or_push(
                crate::catalog::config::duration_millis(config, SHUTDOWN_DELAY, &raw),
                &mut errors,
            )
        })
        .map(|ms| std::time::Duration::from_millis(ms.clamp(0.0, 3_600_000.0) as u64));
    match (app_base_url, backend_base_url, listen) {
        (Some(app_url), Some(backend_url), Some(listen)) if errors.is_empty() => Ok(Settings {
            app: AppSettings {
                title,
                base_url: app_url,
            },
            backend: BackendSettings {
                base_url: backend_url,
                listen,
                metrics_listen,
                static_tokens,
                shutdown_delay,
            },
        }),
        _ => Err(errors),
    }
}

/// `backend.auth.externalAccess`: `type: static` entries with `options.token` (at least 8
/// characters, no whitespace, as Backstage requires) and `options.subject`. Other types
/// (`legacy`, `jwks`) are not supported yet and are reported, rather than silently leaving the
/// API open or closed.
fn read_external_access(config: &Config, errors: &mut Vec<ConfigError>) -> Vec<StaticToken> {
    let Some(entries) = ok_or_push(
        config.get_optional_config_array("backend.auth.externalAccess"),
        errors,
    )
    .flatten() else {
        return Vec::new();
    };
    let mut tokens = Vec::new();
    for entry in entries {
        match ok_or_push(entry.get_string("type"), errors).as_deref() {
            Some("static") => {}
            Some(other) => {
                errors.push(entry.invalid_value(
                    "type",
                    format!(
                        "external access type '{other}' is not supported yet (supported: static)"
                    ),
                ));
                continue;
            }
            None => continue,
        }
        // Backstage's per-token restrictions: ignoring them would give the token more than its
        // owner meant, so they are refused until Greenroom implements them.
        if entry.has("accessRestrictions") {
            errors.push(entry.invalid_value(
                "accessRestrictions",
                "access restrictions of static tokens are not supported yet: a token here may \
                 call every API; remove accessRestrictions, or leave the token out",
            ));
            continue;
        }
        let token = ok_or_push(entry.get_string("options.token"), errors);
        let subject = ok_or_push(entry.get_string("options.subject"), errors);
        if let (Some(token), Some(subject)) = (token, subject) {
            if token.len() < 8 || token.chars().any(char::is_whitespace) {
                errors.push(entry.invalid_value(
                    "options.token",
                    "a static token must be at least 8 characters long and contain no whitespace",
                ));
            } else {
                tokens.push(StaticToken { token, subject });
            }
        }
    }
    tokens
}

fn ok_or_push<T>(r: Result<T, ConfigError>, errors: &mut Vec<ConfigError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

/// A required absolute http(s) URL; trailing slashes are dropped as Backstage does.
fn read_base_url(config: &Config, key: &str, errors: &mut Vec<ConfigError>) -> Option<String> {
    let value = ok_or_push(config.get_string(key), errors)?;
    let trimmed = value.trim_end_matches('/');
    match trimmed.parse::<http::Uri>() {
        Ok(uri)
            if matches!(uri.scheme_str(), Some("http" | "https")) && uri.authority().is_some() =>
        {
            Some(trimmed.to_string())
        }
        _ => {
            errors.push(config.invalid_value(
                key,
                format!(
                    "'{value}' is not an absolute http(s) URL (example: http://localhost:7007)"
                ),
            ));
            None
        }
    }
}

fn read_listen(
    config: &Config,
    key: &'static str,
    errors: &mut Vec<ConfigError>,
) -> Option<Listen> {
    let default = Listen {
        host: DEFAULT_HOST.into(),
        port: DEFAULT_PORT,
    };
    let raw = match config.get_optional_value(key) {
        None => return Some(default),
        Some(raw) => raw,
    };
    if let serde_json::Value::String(s) = &raw {
        return match parse_listen_string(s) {
            Some(listen) => Some(listen),
            None => {
                errors.push(config.invalid_value(
                    key,
                    format!(
                        "unable to parse listen address '{s}', expected <port> or <host>:<port>"
                    ),
                ));
                None
            }
        };
    }
    if !raw.is_object() {
        // Let the config layer produce its standard "invalid type" message.
        ok_or_push(config.get_optional_config(key), errors);
        return None;
    }
    let host = ok_or_push(config.get_optional_string(&format!("{key}.host")), errors)?
        .map(|h| {
            if h.is_empty() {
                "0.0.0.0".to_string()
            } else {
                h
            }
        })
        .unwrap_or(default.host);
    let port_key = format!("{key}.port");
    let port = match ok_or_push(config.get_optional_number(&port_key), errors)? {
        None => default.port,
        Some(n) if n.fract() == 0.0 && (0.0..=65535.0).contains(&n) => n as u16,
        Some(n) => {
            errors.push(config.invalid_value(
                &port_key,
                format!("{n} is not a TCP port (a whole number from 0 to 65535)"),
            ));
            return None;
        }
    };
    Some(Listen { host, port })
}

fn parse_listen_string(s: &str) -> Option<Listen> {
    let (host, port) = match s.rsplit_once(':') {
        Some((host, port)) => (host.trim_start_matches('[').trim_end_matches(']'), port),
        None => (DEFAULT_HOST, s),
    };
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    Some(Listen {
        host: host.to_string(),
        port: port.trim().parse().ok()?,
    })
}

#[cfg(test)]
mod tests;
