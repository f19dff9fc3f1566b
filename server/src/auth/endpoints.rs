//! The sign-in endpoints, at Backstage's paths: the `/sign-in` page, `/api/auth/oidc/start`,
//! `/api/auth/oidc/handler/frame` (the provider's callback), `/api/auth/guest/start`,
//! `/api/auth/<provider>/refresh` and `/api/auth/<provider>/logout`. The gate in the parent
//! module decides who the viewer is; these start, finish, renew and end sessions.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::*;

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
