//! Backstage's response shapes for `/api/kubernetes` (`@backstage/plugin-kubernetes-common`):
//! `ObjectsByEntityResponse`, cluster attributes, fetch responses and errors.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use serde_json::Value;

/// One object as the watch cache keeps it (and as a cluster's result can carry it).
#[derive(Debug)]
pub struct Stored {
    /// `metadata.namespace` ("" for cluster-scoped objects).
    pub namespace: String,
    /// `metadata.labels` (for selecting in memory in cluster-wide mode).
    pub labels: BTreeMap<String, String>,
    /// The object as a list returns it, as compact JSON.
    pub json: Box<serde_json::value::RawValue>,
}

impl Stored {
    /// The object, parsed.
    pub fn value(&self) -> Value {
        serde_json::from_str(self.json.get()).unwrap_or(Value::Null)
    }
}

/// `{items: [...]}`, one item per cluster that had objects or errors.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ObjectsByEntityResponse {
    /// Per cluster.
    pub items: Vec<ClusterObjects>,
}

/// What one cluster returned.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterObjects {
    /// The cluster.
    pub cluster: ClusterAttributes,
    /// One entry per pod listed (Backstage's `ClientPodStatus`).
    pub pod_metrics: Vec<PodStatus>,
    /// One entry per object type that listed successfully.
    pub resources: Vec<FetchResponse>,
    /// One entry per failed call, or a single FETCH_ERROR.
    pub errors: Vec<FetchError>,
}

/// The cluster as the response names it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClusterAttributes {
    /// Name.
    pub name: String,
    /// Display title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Dashboard base URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dashboard_url: Option<String>,
    /// Dashboard flavour (standard, rancher, openshift, gke, aks, eks, headlamp).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dashboard_app: Option<String>,
    /// Parameters for the dashboard link formatter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dashboard_parameters: Option<Value>,
}

/// The objects of one type.
#[derive(Debug, Clone, Serialize)]
pub struct FetchResponse {
    /// `pods`, `services`, ..., `customresources`.
    #[serde(rename = "type")]
    pub object_type: String,
    /// The raw Kubernetes objects (list items; managedFields removed, secret values masked).
    pub resources: Vec<Object>,
}

/// A Kubernetes object in a response: a parsed value (from a list), or the watch cache's JSON
/// text, parsed only if someone reads it (the view does; the REST API mostly does not) and
/// otherwise written out as it is.
#[derive(Clone, Default)]
pub struct Object {
    raw: Option<Arc<Stored>>,
    parsed: OnceLock<Value>,
}

impl Object {
    /// The object read as `T` (a typed view of it): from the cache's JSON text without an
    /// intermediate value, or from the parsed value.
    pub fn read<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match (self.parsed.get(), &self.raw) {
            (Some(v), _) => T::deserialize(v),
            (None, Some(stored)) => serde_json::from_str(stored.json.get()),
            (None, None) => T::deserialize(&Value::Null),
        }
    }

    /// A cached object.
    pub fn cached(stored: Arc<Stored>) -> Self {
        Self {
            raw: Some(stored),
            parsed: OnceLock::new(),
        }
    }
}

impl From<Value> for Object {
    fn from(v: Value) -> Self {
        Self {
            raw: None,
            parsed: OnceLock::from(v),
        }
    }
}

impl std::ops::Deref for Object {
    type Target = Value;
    fn deref(&self) -> &Value {
        self.parsed
            .get_or_init(|| self.raw.as_ref().map_or(Value::Null, |s| s.value()))
    }
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl Serialize for Object {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.raw {
            Some(stored) => stored.json.serialize(s),
            None => self.parsed.get().unwrap_or(&Value::Null).serialize(s),
        }
    }
}

/// Backstage's `ClientPodStatus`: a pod's CPU and memory against its requests and limits.
#[derive(Debug, Clone, Serialize)]
pub struct PodStatus {
    /// The pod.
    pub pod: Object,
    /// `{currentUsage, requestTotal, limitTotal}` in cores.
    pub cpu: Value,
    /// The same in bytes (as strings).
    pub memory: Value,
    /// Per container with metrics.
    pub containers: Vec<Value>,
}

/// Backstage's `KubernetesErrorTypes`, serialised as Backstage spells them.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FetchErrorType {
    /// 400.
    BadRequest,
    /// 401.
    UnauthorizedError,
    /// 404.
    NotFound,
    /// 500.
    SystemError,
    /// Any other status.
    UnknownError,
    /// The cluster could not be reached.
    FetchError,
}

/// Backstage's `KubernetesFetchError`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum FetchError {
    /// An HTTP error status from the cluster.
    Status {
        /// Which kind of status.
        #[serde(rename = "errorType")]
        error_type: FetchErrorType,
        /// The HTTP status.
        #[serde(rename = "statusCode")]
        status_code: u16,
        /// The path that failed (no query).
        #[serde(rename = "resourcePath")]
        resource_path: String,
    },
    /// The cluster could not be reached (connection, TLS, timeout, auth provider failure).
    Fetch {
        /// Always [`FetchErrorType::FetchError`].
        #[serde(rename = "errorType")]
        error_type: FetchErrorType,
        /// What happened, in plain words.
        message: String,
    },
}

impl FetchError {
    /// An HTTP status error, typed as Backstage types it.
    pub fn status(code: u16, resource_path: &str) -> Self {
        let error_type = match code {
            400 => FetchErrorType::BadRequest,
            401 => FetchErrorType::UnauthorizedError,
            404 => FetchErrorType::NotFound,
            500 => FetchErrorType::SystemError,
            _ => FetchErrorType::UnknownError,
        };
        FetchError::Status {
            error_type,
            status_code: code,
            resource_path: resource_path.to_string(),
        }
    }

    /// A transport-level error.
    pub fn fetch(message: impl Into<String>) -> Self {
        FetchError::Fetch {
            error_type: FetchErrorType::FetchError,
            message: message.into(),
        }
    }

    /// The message a user sees.
    pub fn message(&self) -> String {
        match self {
            FetchError::Fetch { message, .. } => message.clone(),
            FetchError::Status {
                status_code,
                resource_path,
                ..
            } => format!("{resource_path}: HTTP {status_code}"),
        }
    }
}

/// `GET /clusters` item.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSummary {
    /// Name.
    pub name: String,
    /// Title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Dashboard URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dashboard_url: Option<String>,
    /// The auth provider name (the frontend needs it).
    pub auth_provider: String,
    /// OIDC token provider, when configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oidc_token_provider: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_shapes_match_backstage() {
        let cases = [
            (400, "BAD_REQUEST"),
            (401, "UNAUTHORIZED_ERROR"),
            (403, "UNKNOWN_ERROR"),
            (404, "NOT_FOUND"),
            (500, "SYSTEM_ERROR"),
            (503, "UNKNOWN_ERROR"),
        ];
        for (code, ty) in cases {
            let v =
                serde_json::to_value(FetchError::status(code, "/api/v1/pods")).unwrap_or_default();
            assert_eq!(
                v,
                serde_json::json!({"errorType": ty, "statusCode": code, "resourcePath": "/api/v1/pods"})
            );
        }
        let v = serde_json::to_value(FetchError::fetch("connection refused")).unwrap_or_default();
        assert_eq!(
            v,
            serde_json::json!({"errorType": "FETCH_ERROR", "message": "connection refused"})
        );
    }
}
