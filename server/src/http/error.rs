//! Backstage's error response, for every route that answers one (both REST APIs and the
//! sign-in gate): `{"error": {"name", "message"}, "request": {"method", "url"},
//! "response": {"statusCode"}}`, which `@backstage/catalog-client` and scripts parse.

use axum::{
    extract::OriginalUri,
    http::{Method, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

/// A Backstage-shaped error response.
pub struct ApiError {
    status: StatusCode,
    name: &'static str,
    message: String,
    method: Method,
    url: String,
}

impl ApiError {
    /// An error about the request `method` `uri`.
    pub(crate) fn new(
        status: StatusCode,
        name: &'static str,
        message: impl Into<String>,
        method: &Method,
        uri: &OriginalUri,
    ) -> Self {
        Self::at(status, name, message, method, &uri.0.to_string())
    }

    /// The same, where only the URL's text is at hand.
    pub fn at(
        status: StatusCode,
        name: &'static str,
        message: impl Into<String>,
        method: &Method,
        url: &str,
    ) -> Self {
        Self {
            status,
            name,
            message: message.into(),
            method: method.clone(),
            url: url.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": { "name": self.name, "message": self.message },
            "request": { "method": self.method.as_str(), "url": self.url },
            "response": { "statusCode": self.status.as_u16() },
        });
        (self.status, Json(body)).into_response()
    }
}
