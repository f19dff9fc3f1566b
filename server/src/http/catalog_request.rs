//! What every `/api/catalog` handler shares, reads and writes alike: the request context that
//! shapes errors as Backstage's catalog router does, the query-parameter check, and JSON bodies
//! in and out.

use axum::{
    body::Bytes,
    extract::OriginalUri,
    http::{Method, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{json, Value};

use super::catalog_params::Params;
use super::error::ApiError;
use crate::catalog::query::QueryError;

/// A 200 response whose body is already JSON text.
/// `value` as a JSON response; stored entities (`service::Item`) are written as they are.
pub(super) fn json_response<T: serde::Serialize + ?Sized>(value: &T) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(value).unwrap_or_default(),
    )
        .into_response()
}

/// Per-request context for error responses.
pub(super) struct Req {
    pub(super) method: Method,
    pub(super) uri: OriginalUri,
}

impl Req {
    /// The request's URL as Backstage reports it in errors (relative to `/api/catalog`).
    pub(super) fn url(&self) -> String {
        super::error::plugin_relative(&self.uri.0.to_string())
    }
    pub(super) fn error(
        &self,
        status: StatusCode,
        name: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError::at(status, name, message, &self.method, &self.url())
    }
    pub(super) fn input(&self, message: impl Into<String>) -> ApiError {
        self.error(StatusCode::BAD_REQUEST, "InputError", message)
    }
    pub(super) fn not_found(&self, message: impl Into<String>) -> ApiError {
        self.error(StatusCode::NOT_FOUND, "NotFoundError", message)
    }
    pub(super) fn query(&self, e: QueryError) -> ApiError {
        self.input(e.to_string())
    }
    /// The query string checked against the route's declared parameters (Backstage's OpenAPI
    /// validation, which runs before the handler).
    pub(super) fn params(&self, raw: Option<&str>, route: &[&str]) -> Result<Params, ApiError> {
        let params = Params::parse(raw);
        params.check(route).map_err(|m| self.input(m))?;
        Ok(params)
    }
}

/// A JSON request body; an empty one is `{}` (as Express' parser leaves it).
pub(super) fn json_body(req: &Req, body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| req.input(format!("Malformed JSON request body: {e}")))
}
