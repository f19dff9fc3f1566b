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
            url: plugin_relative(url),
        }
    }
}

/// A request URL as Backstage reports it in errors: path and query only (an absolute-form
/// request target does not put its host into the answer), relative to the plugin's mount point
/// when it is under `/api/<plugin>` (each plugin has its own router there, so Express' `req.url`
/// is `/entities?…`, not `/api/catalog/entities?…`).
pub fn plugin_relative(url: &str) -> String {
    let path = match url.find("://") {
        Some(i) => url[i + 3..].find('/').map_or("/", |j| &url[i + 3 + j..]),
        None => url,
    };
    let Some(rest) = path.strip_prefix("/api/") else {
        return path.to_string();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    if end == 0 {
        return path.to_string();
    }
    match &rest[end..] {
        "" => "/".to_string(),
        r if r.starts_with('?') => format!("/{r}"),
        r => r.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::plugin_relative;

    #[test]
    fn urls_are_relative_to_the_plugin_as_backstage_reports_them() {
        assert_eq!(
            plugin_relative("/api/catalog/entities?limit=x"),
            "/entities?limit=x"
        );
        assert_eq!(plugin_relative("/api/catalog"), "/");
        assert_eq!(plugin_relative("/api/catalog?x=1"), "/?x=1");
        assert_eq!(plugin_relative("/api/kubernetes/services/a"), "/services/a");
        assert_eq!(
            plugin_relative("http://evil.example/api/catalog/nope"),
            "/nope"
        );
        assert_eq!(
            plugin_relative("/catalog/default/component/x"),
            "/catalog/default/component/x"
        );
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
