//! Sign-in: who is looking.
//!
//! One gate ([`gate`]) runs before every route and decides, per request, who the viewer is:
//!
//! 1. a `backend.auth.externalAccess` static token (`Authorization: Bearer …`): a service;
//! 2. oauth2-proxy's forwarded headers, only from a `trustedProxies` peer;
//! 3. the session cookie (OIDC or guest sign-in; see [`session`]);
//! 4. on a portal without sign-in (no provider other than guest, in development): the guest.
//!
//! The viewer goes into the request's extensions as an [`app::wire::Viewer`], where server
//! functions and handlers read it. Without one, on a portal that requires sign-in, pages
//! redirect to `/sign-in` and everything else answers 401 in Backstage's error shape; only the
//! health endpoints, the sign-in page, `/api/auth/*` and the static bundle stay open.
//! State-changing requests must come from this portal's own pages (`Sec-Fetch-Site` /
//! `Origin`), whoever sends them.
//!
//! The routes under `/api/auth/` keep Backstage's paths: `/api/auth/oidc/start`,
//! `/api/auth/oidc/handler/frame`, `/api/auth/<provider>/refresh`, `/api/auth/<provider>/logout`.

pub mod config;
mod endpoints;
pub mod oidc;
pub mod resolve;
pub mod session;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::wire::Viewer;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::catalog::store::CatalogStore;
use crate::settings::StaticToken;

use self::config::{AuthConfig, GUEST_USER};
use self::oidc::{FlowState, Oidc};
use self::resolve::Claims;
use self::session::{Session, SessionCodec};

pub use endpoints::{escape, routes};

/// The OIDC flow cookie: state, nonce and PKCE verifier between `start` and the callback.
const FLOW_COOKIE: &str = "greenroom-oidc-flow";
const FLOW_PATH: &str = "/api/auth/oidc";
/// How long a started sign-in may take at the provider.
const FLOW_TTL: Duration = Duration::from_secs(600);
/// The longest profile field (name, email, picture URL) kept in a session.
const MAX_PROFILE_FIELD: usize = 512;

/// The sign-in service: configuration, session codec, OIDC client and the catalog to resolve
/// users in.
pub struct Auth {
    config: AuthConfig,
    codec: Option<SessionCodec>,
    oidc: Option<Oidc>,
    store: Arc<CatalogStore>,
    tokens: Arc<Vec<StaticToken>>,
    title: String,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("environment", &self.config.environment)
            .field("sign_in_required", &self.config.sign_in_required())
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// The service for validated `config`; `secure` when the portal is served over https.
    pub fn new(
        config: AuthConfig,
        settings: &crate::settings::Settings,
        store: Arc<CatalogStore>,
    ) -> Self {
        let secure = settings.app.base_url.starts_with("https://");
        let codec = config
            .session_secret
            .as_ref()
            .map(|s| SessionCodec::new(&s.0, config.session_idle, secure));
        let oidc = config
            .oidc
            .clone()
            .map(|o| Oidc::new(o, &settings.backend.base_url));
        Auth {
            config,
            codec,
            oidc,
            store,
            tokens: Arc::new(settings.backend.static_tokens.clone()),
            title: settings.app.title.clone(),
        }
    }

    /// Whether this portal requires sign-in.
    pub fn sign_in_required(&self) -> bool {
        self.config.sign_in_required()
    }

    fn viewer(
        &self,
        user: &str,
        provider: &str,
        idp: (Option<String>, Option<String>, Option<String>),
    ) -> Viewer {
        let facts = resolve::user_facts(&self.store.snapshot(), user);
        let (name, email, picture) = facts.profile;
        let fallback = user.rsplit('/').next().unwrap_or(user).to_string();
        Viewer {
            entity_ref: user.to_string(),
            ownership_refs: facts.ownership_refs,
            display_name: idp.0.or(name).unwrap_or(fallback),
            email: idp.1.or(email),
            picture: idp.2.or(picture).filter(|p| p.starts_with("https://")),
            provider: provider.into(),
            sign_in_required: self.sign_in_required(),
        }
    }

    /// The guest: its configured refs (or `user:development/guest` alone), not the catalog's.
    fn guest_viewer(&self) -> Viewer {
        let (user, refs) = match &self.config.guest {
            Some(g) => (g.user_entity_ref.as_str(), g.ownership_entity_refs.clone()),
            None => (GUEST_USER, vec![GUEST_USER.to_string()]),
        };
        let mut v = self.viewer(user, "guest", (None, None, None));
        v.ownership_refs = refs;
        v
    }

    fn static_token(&self, headers: &HeaderMap) -> Option<&StaticToken> {
        let presented = bearer(headers)?;
        self.tokens
            .iter()
            .find(|k| constant_time_eq(k.token.as_bytes(), presented.as_bytes()))
    }

    fn proxy_viewer(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<Viewer> {
        let proxy = self.config.proxy.as_ref()?;
        let peer = peer?;
        if !proxy.trusted_proxies.iter().any(|n| n.contains(peer.ip())) {
            return None;
        }
        let h = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| truncate(v.to_string()))
        };
        let claims = Claims {
            email: h("x-forwarded-email"),
            preferred_username: None,
            forwarded_user: h("x-forwarded-user"),
            forwarded_preferred_username: h("x-forwarded-preferred-username"),
        };
        if claims == Claims::default() {
            return None;
        }
        let snapshot = self.store.snapshot();
        match resolve::resolve(&snapshot, &proxy.resolvers, &claims) {
            Ok(user) => Some(self.viewer(&user, "oauth2Proxy", (None, claims.email, None))),
            Err(e) => {
                tracing::info!(error = %e, "oauth2Proxy sign-in refused");
                None
            }
        }
    }

    fn session(&self, headers: &HeaderMap, now: u64) -> Option<(Session, Option<String>)> {
        let codec = self.codec.as_ref()?;
        let cookies = cookie_header(headers)?;
        let session = codec.open(&cookies, now)?;
        if codec.needs_refresh(&session, now) {
            let fresh = codec.refreshed(session, now);
            let set = codec.cookie(&fresh);
            return Some((fresh, Some(set)));
        }
        Some((session, None))
    }

    fn session_viewer(&self, s: &Session) -> Viewer {
        self.viewer(
            &s.user,
            &s.provider,
            (s.name.clone(), s.email.clone(), s.picture.clone()),
        )
    }
}

/// The `Authorization: Bearer` value, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

/// Every `Cookie` header joined (HTTP/2 may split them).
fn cookie_header(headers: &HeaderMap) -> Option<String> {
    let all: Vec<&str> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!all.is_empty()).then(|| all.join("; "))
}

/// Compares without stopping at the first difference, so timing does not reveal a prefix.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn truncate(mut s: String) -> String {
    if s.len() > MAX_PROFILE_FIELD {
        let mut end = MAX_PROFILE_FIELD;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// Paths anyone may reach, signed in or not.
fn is_open(path: &str) -> bool {
    path == "/sign-in"
        || path == "/healthz"
        || path == "/favicon.ico"
        || path.starts_with("/.backstage/health/")
        || path.starts_with("/api/auth/")
        || path.starts_with("/pkg/")
}

/// Backstage's error body.
pub fn error_body(
    status: StatusCode,
    name: &'static str,
    message: &str,
    method: &Method,
    uri: &str,
) -> Response {
    crate::http::error::ApiError::at(status, name, message, method, uri).into_response()
}

/// Whether a state-changing request comes from this portal's own pages (or from no browser at
/// all: scripts send neither header).
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest.trim_end_matches('/'));
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// When the session a request was made in ends unless renewed (Unix seconds): the gate puts it
/// beside the viewer of a request signed in by session cookie, and long-lived responses end
/// then (see [`crate::http::streams`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionDeadline(pub u64);

/// The gate: identifies the viewer of every request (see the module docs).
pub async fn gate(State(auth): State<Arc<Auth>>, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let unsafe_method = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && !same_origin(req.headers()) {
        return error_body(
            StatusCode::FORBIDDEN,
            "NotAllowedError",
            "Cross-site request refused: state-changing requests must come from this portal's pages",
            &method,
            req.uri().path(),
        );
    }
    let path = req.uri().path().to_string();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let now = session::now();
    let mut set_cookie = None;
    let mut deadline = None;
    let viewer = if let Some(t) = auth.static_token(req.headers()) {
        Some(Viewer {
            display_name: t.subject.clone(),
            provider: "static".into(),
            sign_in_required: auth.sign_in_required(),
            ..Viewer::default()
        })
    } else if let Some(v) = auth.proxy_viewer(req.headers(), peer) {
        Some(v)
    } else if let Some((s, refresh)) = auth.session(req.headers(), now) {
        set_cookie = refresh;
        deadline = Some(SessionDeadline(s.expires_at));
        Some(auth.session_viewer(&s))
    } else if !auth.sign_in_required() {
        Some(auth.guest_viewer())
    } else {
        None
    };
    match viewer {
        Some(v) => {
            req.extensions_mut().insert(v);
            if let Some(d) = deadline {
                req.extensions_mut().insert(d);
            }
        }
        None if is_open(&path) => {}
        None => {
            let api = path.starts_with("/api/") || path == "/metrics";
            if api || method != Method::GET {
                let message = if bearer(req.headers()).is_some() {
                    "Illegal token"
                } else {
                    "Missing credentials"
                };
                return error_body(
                    StatusCode::UNAUTHORIZED,
                    "AuthenticationError",
                    message,
                    &method,
                    req.uri().path(),
                );
            }
            let target = req
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_string();
            let to = format!("/sign-in?redirect={}", encode(&target));
            return Redirect::to(&to).into_response();
        }
    }
    let mut res = next.run(req).await;
    if let Some(c) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A redirect target that stays on this portal: a path (not `//host`, not `/\host`), else
/// `/catalog`.
pub fn safe_redirect(target: Option<&str>) -> String {
    match target {
        Some(t)
            if t.starts_with('/')
                && !t.starts_with("//")
                && !t.starts_with("/\\")
                && !t.chars().any(|c| c.is_control() || c == '\\') =>
        {
            t.to_string()
        }
        _ => "/catalog".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_the_portal() {
        assert_eq!(
            safe_redirect(Some("/catalog/default/component/x?tab=1")),
            "/catalog/default/component/x?tab=1"
        );
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "",
            "/a\nb",
        ] {
            assert_eq!(safe_redirect(Some(bad)), "/catalog", "{bad}");
        }
        assert_eq!(safe_redirect(None), "/catalog");
    }

    #[test]
    fn same_origin_checks_fetch_metadata_then_origin() {
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, HeaderValue::from_static(v));
            }
            m
        };
        assert!(same_origin(&h(&[])));
        assert!(same_origin(&h(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&h(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&h(&[("sec-fetch-site", "same-site")])));
        assert!(same_origin(&h(&[
            ("origin", "http://portal:7007"),
            ("host", "portal:7007")
        ])));
        assert!(!same_origin(&h(&[
            ("origin", "http://evil.example"),
            ("host", "portal:7007")
        ])));
        assert!(!same_origin(&h(&[
            ("origin", "null"),
            ("host", "portal:7007")
        ])));
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }

    #[test]
    fn the_sign_in_page_escapes_what_it_shows() {
        assert_eq!(
            escape(r#"<a href="x">'&"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
    }
}
