//! `kind: Status` error responses, worded as kube-apiserver words them.

use axum::response::{IntoResponse, Response};
use http::{header, StatusCode};
use serde_json::{json, Value};

/// A Status object with the given code, reason and message.
pub fn status_object(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut v = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code});
    if let Some(d) = details {
        v["details"] = d;
    }
    v
}

/// A Status response.
pub fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Response {
    json_response(code, &status_object(code, reason, message, details))
}

/// A JSON response with a status code.
pub fn json_response(code: u16, body: &Value) -> Response {
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// 401 for an unknown or missing token.
pub fn unauthorized() -> Response {
    status(401, "Unauthorized", "Unauthorized", None)
}

/// `<resource> "<name>" not found`.
pub fn not_found(group: &str, resource: &str, name: &str) -> Response {
    let mut details = json!({"name": name, "kind": resource});
    if !group.is_empty() {
        details["group"] = json!(group);
    }
    let what = if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    };
    status(
        404,
        "NotFound",
        &format!("{what} \"{name}\" not found"),
        Some(details),
    )
}

/// 404 for a path no resource serves.
pub fn no_such_path() -> Response {
    status(
        404,
        "NotFound",
        "the server could not find the requested resource",
        Some(json!({})),
    )
}

/// 400 BadRequest.
pub fn bad_request(message: &str) -> Response {
    status(400, "BadRequest", message, None)
}

/// 410 Expired, for a continue token or resourceVersion the server no longer has.
pub fn expired(message: &str) -> Response {
    status(410, "Expired", message, None)
}

/// 405 for verbs this read-only API does not serve.
pub fn method_not_supported(resource: &str) -> Response {
    status(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        Some(json!({"kind": resource})),
    )
}

/// 500 InternalError.
pub fn internal(message: &str) -> Response {
    status(
        500,
        "InternalError",
        &format!("Internal error occurred: {message}"),
        Some(json!({"causes": [{"message": message}]})),
    )
}
