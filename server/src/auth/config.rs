//! The `auth:` block of app-config, with Backstage's keys:
//!
//! - `auth.environment` (default `development`) picks the provider settings of
//!   `auth.providers.oidc.<environment>` and decides whether guest sign-in is allowed;
//! - `auth.session.secret` encrypts and signs the session cookie (required as soon as a
//!   provider that signs in with a session is on; the same secret on every replica);
//! - `auth.backstageTokenExpiration` (Backstage's name for how long a sign-in lasts before it is
//!   refreshed; default 1 hour, 10 minutes to 24 hours) is the session's idle lifetime;
//! - `auth.providers.guest`, `auth.providers.oidc.<env>`, `auth.providers.oauth2Proxy`.
//!
//! Every mistake is collected, naming its key and file, so `greenroom validate` lists them all.
//! Providers Greenroom does not implement are an error rather than ignored: ignoring one would
//! leave a portal its operator believes is closed open to everyone.

use std::net::IpAddr;
use std::time::Duration;

use crate::config::{Config, ConfigError};

/// `auth.environment` when unset (Backstage's default).
pub const DEFAULT_ENVIRONMENT: &str = "development";
/// The entity guests sign in as (Backstage's guest provider default).
pub const GUEST_USER: &str = "user:development/guest";
/// `auth.backstageTokenExpiration` when unset: one hour (Backstage's default).
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(3600);
/// However often it is refreshed, a session ends this long after sign-in.
pub const SESSION_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// The shortest `auth.session.secret` accepted.
pub const MIN_SECRET_LEN: usize = 32;

/// Everything `auth:` configures.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// `auth.environment`.
    pub environment: String,
    /// `auth.session.secret`, when set.
    pub session_secret: Option<Secret>,
    /// `auth.backstageTokenExpiration`: a session not used for this long ends.
    pub session_idle: Duration,
    /// `auth.providers.guest`, when configured and allowed in this environment.
    pub guest: Option<GuestProvider>,
    /// `auth.providers.oidc.<environment>`.
    pub oidc: Option<OidcProvider>,
    /// `auth.providers.oauth2Proxy`.
    pub proxy: Option<ProxyProvider>,
}

impl AuthConfig {
    /// No `auth:` block: development, nobody signs in, everyone is the guest.
    pub fn open() -> Self {
        AuthConfig {
            environment: DEFAULT_ENVIRONMENT.into(),
            session_secret: None,
            session_idle: DEFAULT_SESSION_IDLE,
            guest: None,
            oidc: None,
            proxy: None,
        }
    }

    /// Whether a sign-in is required: a provider other than guest is on.
    pub fn sign_in_required(&self) -> bool {
        self.oidc.is_some() || self.proxy.is_some()
    }
}

/// A secret config value; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// `auth.providers.guest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestProvider {
    /// `userEntityRef` (default `user:development/guest`).
    pub user_entity_ref: String,
    /// `ownershipEntityRefs` (default: the user ref alone).
    pub ownership_entity_refs: Vec<String>,
}

/// `auth.providers.oidc.<environment>`.
#[derive(Clone, Debug)]
pub struct OidcProvider {
    /// `metadataUrl`: the provider's discovery document (`.../.well-known/openid-configuration`).
    pub metadata_url: String,
    /// `clientId`.
    pub client_id: String,
    /// `clientSecret`.
    pub client_secret: Secret,
    /// `callbackUrl` (default `<backend.baseUrl>/api/auth/oidc/handler/frame`).
    pub callback_url: Option<String>,
    /// `openid profile email` plus `additionalScopes` (Backstage's key). Greenroom also accepts
    /// the older `scope` key, which replaces the default set.
    pub scopes: Vec<String>,
    /// `prompt` (Backstage's default `none` is not sent: it makes a first sign-in fail).
    pub prompt: Option<String>,
    /// `signIn.resolvers`, tried in order.
    pub resolvers: Vec<Resolver>,
}

/// `auth.providers.oauth2Proxy`: identity from oauth2-proxy's forwarded headers.
#[derive(Clone, Debug)]
pub struct ProxyProvider {
    /// `signIn.resolvers`, tried in order.
    pub resolvers: Vec<Resolver>,
    /// `trustedProxies` (Greenroom's addition): the addresses the proxy connects from. Headers
    /// from any other peer are ignored, so a client that bypasses the proxy cannot claim an
    /// identity. Required.
    pub trusted_proxies: Vec<IpNet>,
}

/// An address or a CIDR range (`10.0.0.0/8`, `::1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or range.
    pub fn parse(s: &str) -> Option<IpNet> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpNet { addr, prefix })
    }

    /// Whether `ip` is in the range (IPv4-mapped IPv6 peers match IPv4 ranges).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// A sign-in resolver, as Backstage names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolver {
    /// Which one.
    pub kind: ResolverKind,
    /// `dangerouslyAllowSignInWithoutUserInCatalog`: sign in as `user:default/<name>` even
    /// when the catalog has no such User (ownership is then the user ref alone).
    pub allow_without_user: bool,
    /// `allowedDomains` (emailLocalPartMatchingUserEntityName only): accepted email domains.
    pub allowed_domains: Vec<String>,
}

/// The resolvers Greenroom implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResolverKind {
    /// A User whose `spec.profile.email` equals the email (case-insensitive).
    EmailMatchingUserEntityProfileEmail,
    /// A User named like the part of the email before `@`.
    EmailLocalPartMatchingUserEntityName,
    /// A User named like the `preferred_username` claim.
    PreferredUsernameMatchingUserEntityName,
    /// A User named like oauth2-proxy's `X-Forwarded-User` (oauth2Proxy only).
    ForwardedUserMatchingUserEntityName,
    /// A User named like oauth2-proxy's `X-Forwarded-Preferred-Username` (oauth2Proxy only).
    ForwardedPreferredUsernameMatchingUserEntityName,
}

impl ResolverKind {
    /// Backstage's name.
    pub fn name(self) -> &'static str {
        match self {
            ResolverKind::EmailMatchingUserEntityProfileEmail => {
                "emailMatchingUserEntityProfileEmail"
            }
            ResolverKind::EmailLocalPartMatchingUserEntityName => {
                "emailLocalPartMatchingUserEntityName"
            }
            ResolverKind::PreferredUsernameMatchingUserEntityName => {
                "preferredUsernameMatchingUserEntityName"
            }
            ResolverKind::ForwardedUserMatchingUserEntityName => {
                "forwardedUserMatchingUserEntityName"
            }
            ResolverKind::ForwardedPreferredUsernameMatchingUserEntityName => {
                "forwardedPreferredUsernameMatchingUserEntityName"
            }
        }
    }

    const OIDC: [ResolverKind; 3] = [
        ResolverKind::EmailMatchingUserEntityProfileEmail,
        ResolverKind::EmailLocalPartMatchingUserEntityName,
        ResolverKind::PreferredUsernameMatchingUserEntityName,
    ];
    const PROXY: [ResolverKind; 4] = [
        ResolverKind::ForwardedUserMatchingUserEntityName,
        ResolverKind::ForwardedPreferredUsernameMatchingUserEntityName,
        ResolverKind::EmailMatchingUserEntityProfileEmail,
        ResolverKind::EmailLocalPartMatchingUserEntityName,
    ];
}

const PROVIDERS: [&str; 3] = ["guest", "oidc", "oauth2Proxy"];

/// Reads `auth:`; collects every problem.
pub fn read(config: &Config) -> Result<AuthConfig, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut out = AuthConfig::open();
    if let Some(env) = push(config.get_optional_string("auth.environment"), &mut errors).flatten() {
        out.environment = env;
    }
    let development = out.environment == DEFAULT_ENVIRONMENT;
    out.session_secret = push(
        config.get_optional_string("auth.session.secret"),
        &mut errors,
    )
    .flatten()
    .map(Secret);
    if let Some(secret) = &out.session_secret {
        if secret.0.len() < MIN_SECRET_LEN {
            errors.push(config.invalid_value(
                "auth.session.secret",
                format!(
                    "the session secret must be at least {MIN_SECRET_LEN} characters long \
                     (generate one with `openssl rand -base64 32`)"
                ),
            ));
        }
    }
    out.session_idle = read_expiration(config, &mut errors);
    let providers = push(config.get_optional_config("auth.providers"), &mut errors).flatten();
    let oidc_configured = providers.as_ref().is_some_and(|p| p.has("oidc"));
    if let Some(providers) = &providers {
        for key in providers.keys() {
            if !PROVIDERS.contains(&key.as_str()) {
                errors.push(providers.invalid_value(
                    &key,
                    format!(
                        "sign-in provider '{key}' is not supported (supported: {}); remove it, \
                         or use oidc with the same identity provider",
                        PROVIDERS.join(", ")
                    ),
                ));
            }
        }
        if let Some(guest) = push(providers.get_optional_config("guest"), &mut errors).flatten() {
            out.guest = read_guest(&guest, development, &out.environment, &mut errors);
        }
        if let Some(oidc) = push(providers.get_optional_config("oidc"), &mut errors).flatten() {
            let env_key = out.environment.clone();
            match push(oidc.get_optional_config(&env_key), &mut errors).flatten() {
                Some(env) => out.oidc = read_oidc(&env, &mut errors),
                None => errors.push(oidc.invalid_value(
                    &env_key,
                    format!(
                        "auth.providers.oidc has no settings for the environment '{env_key}' \
                         (auth.environment); add auth.providers.oidc.{env_key}"
                    ),
                )),
            }
        }
        if let Some(proxy) =
            push(providers.get_optional_config("oauth2Proxy"), &mut errors).flatten()
        {
            out.proxy = read_proxy(&proxy, &mut errors);
        }
    }
    let session_provider = oidc_configured || (out.sign_in_required() && out.guest.is_some());
    if session_provider && out.session_secret.is_none() {
        errors.push(config.invalid_value(
            "auth.session.secret",
            "a session secret is required when a sign-in provider other than oauth2Proxy is \
             configured (the same value on every replica; generate one with \
             `openssl rand -base64 32`)",
        ));
    }
    if !development && !out.sign_in_required() && out.guest.is_none() {
        errors.push(config.invalid_value(
            "auth.environment",
            format!(
                "auth.environment is '{}' but no sign-in provider is configured, so the portal \
                 would be open to everyone: configure auth.providers.oidc.{} or \
                 auth.providers.oauth2Proxy (or auth.providers.guest with \
                 dangerouslyAllowOutsideDevelopment: true)",
                out.environment, out.environment
            ),
        ));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn push<T>(r: Result<T, ConfigError>, errors: &mut Vec<ConfigError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

/// `auth.backstageTokenExpiration`: a duration as Backstage reads them (`{ minutes: 30 }`,
/// `PT30M`, `30 minutes`), from 10 minutes to 24 hours.
fn read_expiration(config: &Config, errors: &mut Vec<ConfigError>) -> Duration {
    const KEY: &str = "auth.backstageTokenExpiration";
    let Some(raw) = config.get_optional_value(KEY) else {
        return DEFAULT_SESSION_IDLE;
    };
    let millis = match crate::catalog::config::duration_millis(config, KEY, &raw) {
        Ok(m) => m,
        Err(e) => {
            errors.push(e);
            return DEFAULT_SESSION_IDLE;
        }
    };
    let secs = millis / 1000.0;
    if !(600.0..=86400.0).contains(&secs) {
        errors.push(config.invalid_value(
            KEY,
            "must be between 10 minutes and 24 hours, e.g. { minutes: 60 }",
        ));
        return DEFAULT_SESSION_IDLE;
    }
    Duration::from_secs_f64(secs)
}

fn read_guest(
    guest: &Config,
    development: bool,
    environment: &str,
    errors: &mut Vec<ConfigError>,
) -> Option<GuestProvider> {
    let user = push(guest.get_optional_string("userEntityRef"), errors)
        .flatten()
        .unwrap_or_else(|| GUEST_USER.into());
    let user = match crate::catalog::refs::parse_ref(&user, Some("user"), "default") {
        Ok(r) if r.kind.eq_ignore_ascii_case("user") => r.canonical(),
        _ => {
            errors.push(guest.invalid_value(
                "userEntityRef",
                format!("'{user}' is not a User entity ref (example: user:development/guest)"),
            ));
            return None;
        }
    };
    let ownership = push(
        guest.get_optional_string_array("ownershipEntityRefs"),
        errors,
    )
    .flatten()
    .unwrap_or_else(|| vec![user.clone()]);
    let ownership = ownership
        .iter()
        .map(|r| {
            crate::catalog::refs::parse_ref(r, None, "default")
                .map(|r| r.canonical())
                .unwrap_or_else(|_| r.to_ascii_lowercase())
        })
        .collect();
    let allowed = push(
        guest.get_optional_bool("dangerouslyAllowOutsideDevelopment"),
        errors,
    )
    .flatten()
    .unwrap_or(false);
    if !development && !allowed {
        errors.push(guest.invalid_value(
            "",
            format!(
                "The guest provider cannot be used outside of a development environment unless \
                 'auth.providers.guest.dangerouslyAllowOutsideDevelopment' is enabled \
                 (auth.environment is '{environment}')"
            ),
        ));
        return None;
    }
    Some(GuestProvider {
        user_entity_ref: user,
        ownership_entity_refs: ownership,
    })
}

fn read_oidc(c: &Config, errors: &mut Vec<ConfigError>) -> Option<OidcProvider> {
    let metadata_url = push(c.get_string("metadataUrl"), errors);
    if let Some(url) = &metadata_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            errors.push(c.invalid_value(
                "metadataUrl",
                format!("'{url}' is not an http(s) URL of the provider's discovery document"),
            ));
        }
    }
    let client_id = push(c.get_string("clientId"), errors);
    let client_secret = push(c.get_string("clientSecret"), errors).map(Secret);
    let callback_url = push(c.get_optional_string("callbackUrl"), errors).flatten();
    let mut scopes: Vec<String> = push(c.get_optional_string("scope"), errors)
        .flatten()
        .unwrap_or_else(|| "openid profile email".into())
        .split_whitespace()
        .map(String::from)
        .collect();
    // `additionalScopes`: a string split on whitespace, `,` or `|`, or a list (Backstage).
    let extra = match c.get_optional_value("additionalScopes") {
        Some(serde_json::Value::String(_)) => {
            push(c.get_optional_string("additionalScopes"), errors)
                .flatten()
                .into_iter()
                .collect()
        }
        Some(_) => push(c.get_optional_string_array("additionalScopes"), errors)
            .flatten()
            .unwrap_or_default(),
        None => Vec::new(),
    };
    for e in extra {
        scopes.extend(
            e.split(|ch: char| ch.is_whitespace() || ch == ',' || ch == '|')
                .filter(|s| !s.is_empty())
                .map(String::from),
        );
    }
    if !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".into());
    }
    scopes.dedup();
    let prompt = push(c.get_optional_string("prompt"), errors).flatten();
    if let Some(p) = &prompt {
        if p.split_whitespace()
            .any(|v| !matches!(v, "none" | "login" | "consent" | "select_account" | "auto"))
        {
            errors.push(c.invalid_value(
                "prompt",
                format!("'{p}' is not an OpenID prompt (none, login, consent, select_account)"),
            ));
        }
    }
    let prompt = prompt.filter(|p| p != "auto");
    let resolvers = read_resolvers(c, &ResolverKind::OIDC, errors);
    Some(OidcProvider {
        metadata_url: metadata_url?,
        client_id: client_id?,
        client_secret: client_secret?,
        callback_url,
        scopes,
        prompt,
        resolvers,
    })
}

fn read_proxy(c: &Config, errors: &mut Vec<ConfigError>) -> Option<ProxyProvider> {
    let resolvers = read_resolvers(c, &ResolverKind::PROXY, errors);
    let proxies = match push(c.get_optional_string_array("trustedProxies"), errors).flatten() {
        Some(p) if !p.is_empty() => p,
        _ => {
            errors.push(c.invalid_value(
                "trustedProxies",
                "list the addresses oauth2-proxy connects from (e.g. [10.0.0.0/8]): forwarded \
                 identity headers from any other peer are ignored",
            ));
            return None;
        }
    };
    let mut trusted = Vec::new();
    for (i, p) in proxies.iter().enumerate() {
        match IpNet::parse(p) {
            Some(net) => trusted.push(net),
            None => errors.push(c.invalid_value(
                &format!("trustedProxies[{i}]"),
                format!("'{p}' is not an IP address or CIDR range"),
            )),
        }
    }
    Some(ProxyProvider {
        resolvers,
        trusted_proxies: trusted,
    })
}

fn read_resolvers(
    c: &Config,
    allowed: &[ResolverKind],
    errors: &mut Vec<ConfigError>,
) -> Vec<Resolver> {
    let Some(items) = push(c.get_optional_config_array("signIn.resolvers"), errors).flatten()
    else {
        errors.push(c.invalid_value(
            "signIn.resolvers",
            format!(
                "list at least one sign-in resolver (one of: {})",
                allowed.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
            ),
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in &items {
        let Some(name) = push(item.get_string("resolver"), errors) else {
            continue;
        };
        let Some(kind) = allowed.iter().copied().find(|k| k.name() == name) else {
            errors.push(item.invalid_value(
                "resolver",
                format!(
                    "unknown sign-in resolver '{name}' (one of: {})",
                    allowed.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
                ),
            ));
            continue;
        };
        let allow_without_user = push(
            item.get_optional_bool("dangerouslyAllowSignInWithoutUserInCatalog"),
            errors,
        )
        .flatten()
        .unwrap_or(false);
        let allowed_domains = push(item.get_optional_string_array("allowedDomains"), errors)
            .flatten()
            .unwrap_or_default()
            .into_iter()
            .map(|d| d.to_ascii_lowercase())
            .collect();
        out.push(Resolver {
            kind,
            allow_without_user,
            allowed_domains,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(v: serde_json::Value) -> Config {
        Config::from_json_layers(vec![("app-config.yaml".into(), v)])
    }

    fn messages(v: serde_json::Value) -> Vec<String> {
        read(&cfg(v))
            .err()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn no_auth_block_is_development_without_sign_in() {
        let a = read(&cfg(json!({}))).expect("valid");
        assert_eq!(a.environment, "development");
        assert!(!a.sign_in_required());
        assert!(a.guest.is_none());
    }

    #[test]
    fn guest_defaults_and_outside_development() {
        let a = read(&cfg(json!({"auth": {"providers": {"guest": {}}}}))).expect("valid");
        let g = a.guest.expect("guest");
        assert_eq!(g.user_entity_ref, GUEST_USER);
        assert_eq!(g.ownership_entity_refs, vec![GUEST_USER.to_string()]);
        let m =
            messages(json!({"auth": {"environment": "production", "providers": {"guest": {}}}}));
        assert!(
            m.iter().any(|e| e.contains("auth.providers.guest")
                && e.contains("dangerouslyAllowOutsideDevelopment")),
            "{m:?}"
        );
        let a = read(&cfg(
            json!({"auth": {"environment": "production", "providers": {"guest": {
            "dangerouslyAllowOutsideDevelopment": true}}}}),
        ))
        .expect("valid");
        assert!(a.guest.is_some());
    }

    #[test]
    fn production_without_providers_is_refused() {
        let m = messages(json!({"auth": {"environment": "production"}}));
        assert!(m.iter().any(|e| e.contains("open to everyone")), "{m:?}");
    }

    #[test]
    fn oidc_reads_its_environment_and_reports_every_mistake() {
        let ok = read(&cfg(
            json!({"auth": {"session": {"secret": SECRET}, "providers": {"oidc": {
            "development": {"metadataUrl": "https://idp.example/.well-known/openid-configuration",
              "clientId": "greenroom", "clientSecret": "s3cret", "prompt": "auto",
              "additionalScopes": "groups, offline_access",
              "signIn": {"resolvers": [{"resolver": "emailMatchingUserEntityProfileEmail"}]}}}}}}),
        ))
        .expect("valid");
        let o = ok.oidc.expect("oidc");
        assert_eq!(
            o.scopes,
            ["openid", "profile", "email", "groups", "offline_access"]
        );
        assert_eq!(o.prompt, None);
        assert_eq!(
            o.resolvers[0].kind,
            ResolverKind::EmailMatchingUserEntityProfileEmail
        );
        assert!(!format!("{o:?}").contains("s3cret"));

        let m = messages(
            json!({"auth": {"providers": {"github": {}, "oidc": {"development": {
            "metadataUrl": "ftp://x", "prompt": "maybe",
            "signIn": {"resolvers": [{"resolver": "usernameMatchingUserEntityName"}]}}}}}}),
        );
        for needle in [
            "auth.providers.github",
            "auth.providers.oidc.development.metadataUrl",
            "auth.providers.oidc.development.clientId",
            "auth.providers.oidc.development.clientSecret",
            "auth.providers.oidc.development.prompt",
            "unknown sign-in resolver 'usernameMatchingUserEntityName'",
            "auth.session.secret",
        ] {
            assert!(m.iter().any(|e| e.contains(needle)), "{needle}: {m:?}");
        }
        let m = messages(
            json!({"auth": {"environment": "production", "providers": {"oidc": {
            "development": {}}}}}),
        );
        assert!(
            m.iter()
                .any(|e| e.contains("no settings for the environment 'production'")),
            "{m:?}"
        );
        let m = messages(json!({"auth": {"session": {"secret": "short"}}}));
        assert!(m.iter().any(|e| e.contains("at least 32")), "{m:?}");
    }

    #[test]
    fn oauth2_proxy_needs_trusted_proxies() {
        let m = messages(json!({"auth": {"providers": {"oauth2Proxy": {
            "signIn": {"resolvers": [{"resolver": "forwardedUserMatchingUserEntityName"}]}}}}}));
        assert!(m.iter().any(|e| e.contains("trustedProxies")), "{m:?}");
        let a = read(&cfg(json!({"auth": {"providers": {"oauth2Proxy": {
            "trustedProxies": ["10.0.0.0/8", "::1"],
            "signIn": {"resolvers": [{"resolver": "forwardedUserMatchingUserEntityName"}]}}}}})))
        .expect("valid");
        let p = a.proxy.expect("proxy");
        assert!(p.trusted_proxies[0].contains("10.1.2.3".parse().expect("ip")));
        assert!(!p.trusted_proxies[0].contains("11.1.2.3".parse().expect("ip")));
        assert!(p.trusted_proxies[1].contains("::1".parse().expect("ip")));
        assert!(IpNet::parse("10.0.0.0/33").is_none());
        assert!(IpNet::parse("0.0.0.0/0")
            .expect("net")
            .contains("::ffff:1.2.3.4".parse().expect("ip")));
    }
}
