//! Bearer-token protection of the REST APIs with Backstage's `backend.auth.externalAccess`
//! static tokens. With no token configured the APIs are open to whoever passed the sign-in gate
//! ([`crate::auth::gate`]); with any, a request needs one of them, or a signed-in user on a
//! portal that requires sign-in (the guest of a portal without sign-in does not count).

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::Response,
};

use crate::settings::StaticToken;

/// Lets the request through if no tokens are configured or it carries one of them.
pub async fn require_static_token(
    State(tokens): State<Arc<Vec<StaticToken>>>,
    req: Request,
    next: Next,
) -> Response {
    if tokens.is_empty() {
        return next.run(req).await;
    }
    if let Some(v) = req.extensions().get::<app::wire::Viewer>() {
        // The gate checked the token, or the session of a portal that requires sign-in.
        if v.provider == "static" || v.sign_in_required {
            return next.run(req).await;
        }
    }
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let message = match presented {
        None => "Missing credentials",
        Some(t) => match tokens
            .iter()
            .find(|k| crate::auth::constant_time_eq(k.token.as_bytes(), t.as_bytes()))
        {
            Some(k) => {
                tracing::debug!(subject = %k.subject, "static token accepted");
                return next.run(req).await;
            }
            None => "Illegal token",
        },
    };
    crate::auth::error_body(
        StatusCode::UNAUTHORIZED,
        "AuthenticationError",
        message,
        req.method(),
        &req.uri().to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::store::{CatalogStore, Snapshot};
    use axum::body::Body;
    use tower::ServiceExt;

    fn api(tokens: Vec<StaticToken>) -> axum::Router {
        super::super::catalog_api::routes::<()>(
            Arc::new(CatalogStore::new(Snapshot::default())),
            Arc::new(tokens),
            Arc::new(crate::permission::Permissions::disabled()),
        )
    }

    async fn status(router: axum::Router, auth: Option<&str>) -> (StatusCode, serde_json::Value) {
        let mut req = axum::http::Request::get("/api/catalog/entities");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let res = router
            .oneshot(req.body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .expect("body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        )
    }

    #[tokio::test]
    async fn without_tokens_the_api_is_open() {
        assert_eq!(status(api(Vec::new()), None).await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn with_tokens_a_bearer_token_is_required() {
        let tokens = vec![StaticToken {
            token: "s3cret-token".into(),
            subject: "ci-script".into(),
        }];
        let (s, body) = status(api(tokens.clone()), None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["name"], "AuthenticationError");
        assert_eq!(body["error"]["message"], "Missing credentials");
        let (s, body) = status(api(tokens.clone()), Some("Bearer wrong-token")).await;
        assert_eq!(
            (s, body["error"]["message"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("Illegal token"))
        );
        assert_eq!(
            status(api(tokens), Some("Bearer s3cret-token")).await.0,
            StatusCode::OK
        );
    }
}
