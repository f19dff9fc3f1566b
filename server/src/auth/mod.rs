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
pub mod oidc;
pub mod resolve;
pub mod session;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::wire::Viewer;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::catalog::store::CatalogStore;
use crate::settings::StaticToken;

use self::config::{AuthConfig, GUEST_USER};
use self::oidc::{FlowState, Oidc};
use self::resolve::Claims;
use self::session::{Session, SessionCodec};

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
        Some(auth.session_viewer(&s))
    } else if !auth.sign_in_required() {
        Some(auth.guest_viewer())
    } else {
        None
    };
    match viewer {
        Some(v) => {
            req.extensions_mut().insert(v);
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

/// `/sign-in` and `/api/auth/*`.
pub fn routes<S: Clone + Send + Sync + 'static>(auth: Arc<Auth>) -> Router<S> {
    Router::new()
        .route("/sign-in", get(sign_in_page))
        .route("/api/auth/oidc/start", get(oidc_start))
        .route("/api/auth/oidc/handler/frame", get(oidc_frame))
        .route("/api/auth/guest/start", post(guest_start))
        .route("/api/auth/{provider}/refresh", get(refresh))
        .route("/api/auth/{provider}/logout", post(logout))
        .with_state(auth)
}

#[derive(Deserialize)]
struct RedirectQuery {
    redirect: Option<String>,
    env: Option<String>,
}

async fn sign_in_page(
    State(auth): State<Arc<Auth>>,
    Query(q): Query<RedirectQuery>,
    req: Request,
) -> Response {
    let redirect = safe_redirect(q.redirect.as_deref());
    if !auth.sign_in_required() || auth.session(req.headers(), session::now()).is_some() {
        return Redirect::to(&redirect).into_response();
    }
    Html(page(&auth, &redirect, None)).into_response()
}

/// The sign-in page, with an error when a sign-in just failed.
fn page(auth: &Auth, redirect: &str, error: Option<&str>) -> String {
    let title = escape(&auth.title);
    let r = escape(&encode(redirect));
    let mut options = String::new();
    if auth.oidc.is_some() {
        let env = escape(&encode(&auth.config.environment));
        options.push_str(&format!(
            r#"<li><a class="sign-in-provider" href="/api/auth/oidc/start?env={env}&amp;redirect={r}">Sign in with your organization's account (OpenID Connect)</a></li>"#
        ));
    }
    if auth.config.guest.is_some() {
        options.push_str(&format!(
            r#"<li><form method="post" action="/api/auth/guest/start?redirect={r}"><button type="submit" class="sign-in-provider">Enter as guest</button></form></li>"#
        ));
    }
    if auth.config.proxy.is_some() {
        options.push_str(
            r#"<li><p>This portal signs you in through your organization's proxy (oauth2-proxy). Open it through the proxy's address to sign in.</p></li>"#,
        );
    }
    let error = error
        .map(|e| {
            format!(
                r#"<div class="sign-in-error" role="alert"><strong>Sign-in failed.</strong> {}</div>"#,
                escape(e)
            )
        })
        .unwrap_or_default();
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/><title>Sign in | {title}</title><link rel="stylesheet" href="/pkg/{bundle}.css"/></head><body><main class="sign-in-page"><h1>Sign in to {title}</h1>{error}<ul class="sign-in-providers">{options}</ul></main></body></html>"#,
        bundle = app::BUNDLE_NAME
    )
}

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn failed(auth: &Auth, status: StatusCode, message: &str, clear: Option<String>) -> Response {
    let mut res = (status, Html(page(auth, "/catalog", Some(message)))).into_response();
    if let Some(c) = clear.and_then(|c| HeaderValue::from_str(&c).ok()) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

fn not_configured(provider: &str, method: &Method, uri: &str) -> Response {
    error_body(
        StatusCode::NOT_FOUND,
        "NotFoundError",
        &format!("Unknown auth provider '{provider}'"),
        method,
        uri,
    )
}

async fn oidc_start(State(auth): State<Arc<Auth>>, Query(q): Query<RedirectQuery>) -> Response {
    let (Some(oidc), Some(codec)) = (&auth.oidc, &auth.codec) else {
        return not_configured("oidc", &Method::GET, "/api/auth/oidc/start");
    };
    if let Some(env) = q.env.as_deref() {
        if env != auth.config.environment {
            return error_body(
                StatusCode::NOT_FOUND,
                "NotFoundError",
                &format!(
                    "No configuration available for the '{env}' environment of this provider."
                ),
                &Method::GET,
                "/api/auth/oidc/start",
            );
        }
    }
    let redirect = safe_redirect(q.redirect.as_deref());
    match oidc.start(redirect).await {
        Ok((url, flow)) => {
            let set = codec.seal_value(FLOW_COOKIE, &flow, FLOW_PATH, FLOW_TTL);
            let mut res = Redirect::to(&url).into_response();
            if let Ok(v) = HeaderValue::from_str(&set) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => {
            tracing::warn!(error = %e, "OIDC sign-in could not start");
            failed(&auth, StatusCode::BAD_GATEWAY, &e.to_string(), None)
        }
    }
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn oidc_frame(
    State(auth): State<Arc<Auth>>,
    Query(cb): Query<Callback>,
    headers: HeaderMap,
) -> Response {
    let (Some(oidc), Some(codec)) = (&auth.oidc, &auth.codec) else {
        return not_configured("oidc", &Method::GET, "/api/auth/oidc/handler/frame");
    };
    let clear = Some(codec.clear_value(FLOW_COOKIE, FLOW_PATH));
    let flow: Option<FlowState> =
        cookie_header(&headers).and_then(|c| codec.open_value(&c, FLOW_COOKIE));
    let Some(flow) = flow else {
        return failed(
            &auth,
            StatusCode::BAD_REQUEST,
            "This sign-in was not started here or took longer than 10 minutes; please try again.",
            clear,
        );
    };
    if let Some(error) = cb.error {
        let detail = cb.error_description.unwrap_or_default();
        let message = truncate(format!("the identity provider answered '{error}' {detail}"));
        return failed(&auth, StatusCode::UNAUTHORIZED, message.trim(), clear);
    }
    let state_ok = cb
        .state
        .as_deref()
        .is_some_and(|s| constant_time_eq(s.as_bytes(), flow.state.as_bytes()));
    let (Some(code), true) = (cb.code, state_ok) else {
        return failed(
            &auth,
            StatusCode::BAD_REQUEST,
            "The sign-in answer does not match the sign-in started in this browser (state mismatch); please try again.",
            clear,
        );
    };
    let user = match oidc.finish(&code, &flow).await {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(error = %e, "OIDC sign-in failed");
            return failed(&auth, StatusCode::UNAUTHORIZED, &e.to_string(), clear);
        }
    };
    let Some(provider) = &auth.config.oidc else {
        return not_configured("oidc", &Method::GET, "/api/auth/oidc/handler/frame");
    };
    let claims = Claims {
        email: user.email.clone(),
        preferred_username: user.preferred_username.clone(),
        ..Claims::default()
    };
    let entity = match resolve::resolve(&auth.store.snapshot(), &provider.resolvers, &claims) {
        Ok(u) => u,
        Err(e) => {
            tracing::info!(subject = %user.subject, error = %e, "OIDC sign-in: no catalog user");
            return failed(&auth, StatusCode::FORBIDDEN, &e.to_string(), clear);
        }
    };
    let mut s = codec.start(entity, "oidc", session::now());
    s.name = user.name.map(truncate);
    s.email = user.email.map(truncate);
    s.picture = user.picture.map(truncate);
    tracing::info!(user = %s.user, "signed in with OIDC");
    let mut res = Redirect::to(&safe_redirect(Some(&flow.redirect))).into_response();
    for c in [clear, Some(codec.cookie(&s))].into_iter().flatten() {
        if let Ok(v) = HeaderValue::from_str(&c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

async fn guest_start(State(auth): State<Arc<Auth>>, Query(q): Query<RedirectQuery>) -> Response {
    let redirect = safe_redirect(q.redirect.as_deref());
    if !auth.sign_in_required() {
        return Redirect::to(&redirect).into_response();
    }
    let (Some(guest), Some(codec)) = (&auth.config.guest, &auth.codec) else {
        return not_configured("guest", &Method::POST, "/api/auth/guest/start");
    };
    let s = codec.start(guest.user_entity_ref.clone(), "guest", session::now());
    let mut res = Redirect::to(&redirect).into_response();
    if let Ok(v) = HeaderValue::from_str(&codec.cookie(&s)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// Backstage's refresh answer: the profile and the identity (no Backstage token: Greenroom's
/// APIs take the session cookie or a static token).
async fn refresh(
    State(auth): State<Arc<Auth>>,
    Path(provider): Path<String>,
    req: Request,
) -> Response {
    let uri = format!("/api/auth/{provider}/refresh");
    let viewer = req.extensions().get::<Viewer>().cloned();
    match viewer {
        Some(v) if !v.entity_ref.is_empty() => Json(json!({
            "profile": {
                "email": v.email,
                "displayName": v.display_name,
                "picture": v.picture,
            },
            "providerInfo": {},
            "backstageIdentity": {
                "identity": {
                    "type": "user",
                    "userEntityRef": v.entity_ref,
                    "ownershipEntityRefs": v.ownership_refs,
                }
            }
        }))
        .into_response(),
        _ => {
            let _ = &auth;
            error_body(
                StatusCode::UNAUTHORIZED,
                "AuthenticationError",
                "Refresh failed; caused by InputError: Missing session cookie",
                &Method::GET,
                &uri,
            )
        }
    }
}

async fn logout(State(auth): State<Arc<Auth>>, headers: HeaderMap) -> Response {
    let browser_form = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let mut res = if browser_form {
        Redirect::to(if auth.sign_in_required() {
            "/sign-in"
        } else {
            "/catalog"
        })
        .into_response()
    } else {
        StatusCode::OK.into_response()
    };
    if let Some(codec) = &auth.codec {
        if let Ok(v) = HeaderValue::from_str(&codec.clear()) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
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
