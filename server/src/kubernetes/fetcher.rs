//! One cluster: a kube-rs client over verified TLS (the cluster's `caData`/`caFile`, or the
//! in-cluster CA), and the list calls for an entity — one per object type and namespace, paged
//! with `limit`/`continue`, run concurrently — plus pod metrics from metrics.k8s.io.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::auth::Credential;
use super::cluster_objects::{ClusterBuilder, PodMetrics};
use super::config::ClusterDetails;
use super::errors;
use super::lookup::{ObjectType, URI_COMPONENT};
use super::names::Namespace;
use super::selector::LabelSelector;
use super::types::{ClusterObjects, FetchError};

/// Items per list page.
pub const PAGE_SIZE: usize = 500;
const MAX_PAGES: usize = 200;

/// What every request to a cluster goes through: counted and timed into the registry, and given
/// the cluster's current credential from its [`BearerSlot`]. The credential is attached here
/// and nowhere else, for plain lists and watches alike (kube-rs's watcher makes its own
/// requests, so it could not be added per call there).
#[derive(Clone)]
pub struct Observe {
    /// The cluster's name (the `cluster` label).
    pub cluster: Arc<str>,
    /// Where the counts go.
    pub metrics: Arc<crate::metrics::Registry>,
    /// The credential its requests carry.
    pub bearer: BearerSlot,
}

/// The credential a cluster's client sends: written by whoever resolved the cluster's current
/// credential (before a list, before every (re)list of a watch), read for every request.
#[derive(Clone, Default)]
pub struct BearerSlot(Arc<RwLock<Option<String>>>);

impl BearerSlot {
    /// Requests from now on carry this credential.
    pub fn set(&self, credential: Credential) {
        let token = match credential {
            Credential::Bearer(t) => Some(t),
            Credential::Anonymous => None,
        };
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = token;
    }

    fn header(&self) -> Option<http::HeaderValue> {
        let slot = self.0.read().unwrap_or_else(|p| p.into_inner());
        let mut v: http::HeaderValue = format!("Bearer {}", slot.as_deref()?).parse().ok()?;
        v.set_sensitive(true);
        Some(v)
    }
}

/// [`Observe`] around a service.
#[derive(Clone)]
pub struct Observed<S> {
    inner: S,
    observe: Observe,
}

impl<S> tower::Layer<S> for Observe {
    type Service = Observed<S>;
    fn layer(&self, inner: S) -> Observed<S> {
        Observed {
            inner,
            observe: self.clone(),
        }
    }
}

impl<S, B, RB> tower::Service<http::Request<B>> for Observed<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        match self.observe.bearer.header() {
            Some(v) => req.headers_mut().insert(http::header::AUTHORIZATION, v),
            None => req.headers_mut().remove(http::header::AUTHORIZATION),
        };
        let (verb, group, resource) = classify(req.method(), req.uri());
        let start = Instant::now();
        let fut = self.inner.call(req);
        let o = self.observe.clone();
        Box::pin(async move {
            let r = fut.await;
            let code = match &r {
                Ok(resp) => resp.status().as_u16().to_string(),
                Err(_) => "error".to_string(),
            };
            let labels = vec![
                ("cluster", o.cluster.to_string()),
                ("verb", verb.to_string()),
                ("group", group.clone()),
                ("resource", resource.clone()),
            ];
            o.metrics.observe(
                "greenroom_kubernetes_request_duration_seconds",
                labels.clone(),
                start.elapsed(),
            );
            let mut labels = labels;
            labels.push(("code", code));
            o.metrics
                .add("greenroom_kubernetes_requests_total", labels, 1);
            r
        })
    }
}

/// (verb, API group, resource) of a request, as the API server's own metrics name them:
/// `list`/`watch`/`get`, `""` for core, `pods` or `pods/log`; `-` for non-resource paths.
pub fn classify(method: &http::Method, uri: &http::Uri) -> (&'static str, String, String) {
    let segs: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let watch = uri
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv == "watch=true" || kv == "watch=1"));
    let start = segs.iter().position(|s| *s == "api" || *s == "apis");
    let (group, rest) = match start {
        Some(i) if segs[i] == "api" && segs.len() > i + 2 => ("", &segs[i + 2..]),
        Some(i) if segs[i] == "apis" && segs.len() > i + 3 => (segs[i + 1], &segs[i + 3..]),
        _ => ("", &segs[0..0]),
    };
    let rest = if rest.len() >= 3 && rest[0] == "namespaces" {
        &rest[2..]
    } else {
        rest
    };
    let verb = match *method {
        http::Method::GET if watch => "watch",
        http::Method::GET if rest.len() == 1 => "list",
        http::Method::GET => "get",
        http::Method::POST => "create",
        http::Method::PUT => "update",
        http::Method::PATCH => "patch",
        http::Method::DELETE => "delete",
        _ => "other",
    };
    let resource = match rest {
        [] => "-".to_string(),
        [r] | [r, _] => r.to_string(),
        [r, _, sub, ..] => format!("{r}/{sub}"),
    };
    // Label values come from a fixed set: a custom resource's (or any unknown) name must not
    // create a new series.
    const GROUPS: &[&str] = &[
        "",
        "apps",
        "autoscaling",
        "batch",
        "networking.k8s.io",
        "metrics.k8s.io",
    ];
    const EXTRA: &[&str] = &["-", "events", "namespaces", "nodes", "pods/log"];
    if !GROUPS.contains(&group) {
        return (verb, "other".to_string(), "customresources".to_string());
    }
    let known = EXTRA.contains(&resource.as_str())
        || super::lookup::all_object_types()
            .iter()
            .any(|t| *t.plural == *resource);
    (
        verb,
        group.to_string(),
        if known { resource } else { "other".to_string() },
    )
}

/// Why a client for a cluster could not be set up (its connection settings are unusable).
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// `url` is not a URL.
    #[error("bad url '{url}': {reason}")]
    BadUrl {
        /// The configured URL.
        url: String,
        /// Why it does not parse.
        reason: String,
    },
    /// `caData` holds no usable certificate.
    #[error("caData: {0}")]
    CaData(super::tls::CaError),
    /// `caFile` cannot be read or holds no usable certificate.
    #[error("caFile {path}: {reason}")]
    CaFile {
        /// The file.
        path: String,
        /// Why.
        reason: super::tls::CaError,
    },
    /// The in-cluster service-account CA holds no usable certificate.
    #[error("in-cluster CA: {0}")]
    InClusterCa(super::tls::CaError),
    /// kube-rs refused the configuration (TLS setup).
    #[error("{0}")]
    Client(String),
}

/// A kube-rs client for a cluster; its requests carry the credential in `observe.bearer`.
pub fn connect(
    details: &ClusterDetails,
    in_cluster_ca: Option<Vec<u8>>,
    timeout: Duration,
    observe: Observe,
) -> Result<kube::Client, ConnectError> {
    let uri: http::Uri =
        details
            .url
            .parse()
            .map_err(|e: http::uri::InvalidUri| ConnectError::BadUrl {
                url: details.url.clone(),
                reason: e.to_string(),
            })?;
    let mut cfg = kube::Config::new(uri);
    let mut roots = Vec::new();
    if let Some(d) = &details.ca_data {
        roots.extend(super::tls::pem_certs_from_base64(d).map_err(ConnectError::CaData)?);
    }
    if let Some(f) = &details.ca_file {
        let ca_file = |reason: super::tls::CaError| ConnectError::CaFile {
            path: f.display().to_string(),
            reason,
        };
        let pem = std::fs::read(f)
            .map_err(|e| ca_file(super::tls::CaError::Unreadable(e.to_string())))?;
        roots.extend(super::tls::certs_from_pem(&pem).map_err(ca_file)?);
    }
    if roots.is_empty() {
        if let Some(pem) = in_cluster_ca {
            roots.extend(super::tls::certs_from_pem(&pem).map_err(ConnectError::InClusterCa)?);
        }
    }
    if !roots.is_empty() {
        cfg.root_cert = Some(roots);
    }
    cfg.accept_invalid_certs = details.skip_tls_verify;
    cfg.connect_timeout = Some(timeout);
    cfg.read_timeout = Some(timeout);
    let builder = kube::client::ClientBuilder::try_from(cfg)
        .map_err(|e| ConnectError::Client(errors::chain(&e)))?;
    Ok(builder.with_layer(&observe).build())
}

pub use super::cluster_objects::{attributes, transport_failure};

/// The path part of the cluster URL (a proxy prefix like `/k8s/clusters/c-1`), for resourcePath.
pub(crate) fn base_path(url: &str) -> String {
    url.parse::<http::Uri>()
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default()
}

/// Lists every page of a collection; returns (list kind, items).
pub(crate) async fn list_all(
    client: &kube::Client,
    path: &str,
    selector: &LabelSelector,
) -> Result<(String, Vec<Value>), kube::Error> {
    let sel = percent_encoding::utf8_percent_encode(selector.as_str(), URI_COMPONENT).to_string();
    let mut items = Vec::new();
    let mut kind = String::new();
    let mut cont: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut uri = format!("{path}?labelSelector={sel}&limit={PAGE_SIZE}");
        if let Some(c) = &cont {
            uri.push_str("&continue=");
            uri.push_str(&percent_encoding::utf8_percent_encode(c, URI_COMPONENT).to_string());
        }
        let mut page: Value = client.request(request(&uri, "application/json")?).await?;
        if kind.is_empty() {
            kind = page["kind"].as_str().unwrap_or("").to_string();
        }
        if let Some(a) = page["items"].as_array_mut() {
            items.append(a);
        }
        cont = page["metadata"]["continue"]
            .as_str()
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        if cont.is_none() {
            break;
        }
    }
    Ok((kind, items))
}

fn request(path_and_query: &str, accept: &str) -> Result<http::Request<Vec<u8>>, kube::Error> {
    http::Request::get(path_and_query)
        .header(http::header::ACCEPT, accept)
        .body(Vec::new())
        .map_err(kube::Error::HttpError)
}

/// GET one JSON document.
pub async fn get_json(client: &kube::Client, path_and_query: &str) -> Result<Value, kube::Error> {
    client
        .request(request(path_and_query, "application/json")?)
        .await
}

/// GET text (pod logs).
pub async fn get_text(client: &kube::Client, path_and_query: &str) -> Result<String, kube::Error> {
    client
        .request_text(request(path_and_query, "text/plain")?)
        .await
}

/// The value every masked Secret value is replaced with.
pub const MASK: &str = "***";
/// The annotation `kubectl apply` writes: the whole object as last applied, values included.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Masks a Secret's values: `data`, `stringData`, and the same inside the last-applied
/// annotation (re-serialised masked, or replaced whole when it is not JSON).
pub fn mask_secret(item: &mut Value) {
    fn mask_sections(v: &mut Value) {
        for section in ["data", "stringData"] {
            if let Some(d) = v.get_mut(section).and_then(Value::as_object_mut) {
                for v in d.values_mut() {
                    *v = Value::String(MASK.into());
                }
            }
        }
    }
    mask_sections(item);
    if let Some(a) = item
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        if let Some(Value::String(text)) = a.get_mut(LAST_APPLIED) {
            *text = match serde_json::from_str::<Value>(text) {
                Ok(mut applied) => {
                    mask_sections(&mut applied);
                    serde_json::to_string(&applied).unwrap_or_else(|_| MASK.into())
                }
                Err(_) => MASK.into(),
            };
        }
    }
}

/// Whether an object is a Secret: by the type it was listed as, its list's kind, or its own
/// `kind`/`apiVersion` (whichever the cluster said).
pub fn is_secret(item: &Value, object_type: &ObjectType, list_kind: &str) -> bool {
    object_type.is_secret()
        || list_kind == "SecretList"
        || (item["kind"] == "Secret" && item["apiVersion"] == "v1")
}

/// What the caller shows of an object: no managedFields; secret values masked.
pub(crate) fn clean(mut item: Value, object_type: &ObjectType, list_kind: &str) -> Value {
    if let Some(m) = item["metadata"].as_object_mut() {
        m.remove("managedFields");
    }
    if is_secret(&item, object_type, list_kind) {
        mask_secret(&mut item);
    }
    if object_type.object_type == "customresources" && item.get("kind").is_none() {
        if let Some(k) = list_kind.strip_suffix("List") {
            item["kind"] = Value::String(k.to_string());
        }
    }
    item
}

/// What to fetch.
pub struct Query<'a> {
    /// Label selector.
    pub selector: &'a LabelSelector,
    /// Namespaces, or every namespace.
    pub namespaces: Option<&'a [Namespace]>,
    /// Object types, custom resources included.
    pub object_types: &'a [ObjectType],
}

/// Fetches everything for one cluster (no deadline here; the caller applies it).
pub async fn fetch(
    client: &kube::Client,
    details: &ClusterDetails,
    q: &Query<'_>,
) -> ClusterObjects {
    let base = base_path(&details.url);
    let namespaces: Vec<Option<&Namespace>> = match q.namespaces {
        Some(list) => list.iter().map(Some).collect(),
        None => vec![None],
    };
    let mut calls = Vec::new();
    for (i, t) in q.object_types.iter().enumerate() {
        for ns in &namespaces {
            let path = t.path(*ns);
            calls.push(async move { (i, path.clone(), list_all(client, &path, q.selector).await) });
        }
    }
    let mut result = ClusterBuilder::new(details, q.object_types);
    for (i, path, r) in futures_util::future::join_all(calls).await {
        let t = &q.object_types[i];
        let r = r
            .map(|(kind, items)| {
                items
                    .into_iter()
                    .map(move |it| super::types::Object::from(clean(it, t, &kind)))
                    .collect::<Vec<_>>()
            })
            .map_err(|e| {
                errors::from_kube(&details.name, &details.url, &format!("{base}{path}"), &e)
            });
        if let Err(f) = result.read(i, r) {
            return result.failed(f);
        }
    }
    let metrics_namespaces = result.metrics_namespaces();
    if metrics_namespaces.is_empty() {
        return result.finish(None);
    }
    result
        .with_metrics(metrics_namespaces, |ns| async move {
            list_pod_metrics(client, details, &ns, q.selector).await
        })
        .await
}

/// Lists the `PodMetrics` of one namespace (every page), by pod name.
pub async fn list_pod_metrics(
    client: &kube::Client,
    details: &ClusterDetails,
    namespace: &Namespace,
    selector: &LabelSelector,
) -> Result<PodMetrics, FetchError> {
    let path = format!("/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods");
    list_all(client, &path, selector)
        .await
        .map(|(_, items)| {
            Arc::new(
                items
                    .into_iter()
                    .filter_map(|m| Some((m["metadata"]["name"].as_str()?.to_string(), m)))
                    .collect(),
            )
        })
        .map_err(|e| {
            let base = base_path(&details.url);
            errors::from_kube(&details.name, &details.url, &format!("{base}{path}"), &e)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_masked_wherever_their_values_appear() {
        let applied = json!({"apiVersion": "v1", "kind": "Secret", "data": {"k": "c2VjcmV0"}, "stringData": {"p": "plain-secret"}});
        let item = json!({
            "metadata": {"name": "s", "managedFields": [{}], "annotations": {LAST_APPLIED: applied.to_string(), "other": "kept"}},
            "data": {"k": "c2VjcmV0"}, "stringData": {"p": "plain-secret"}, "type": "Opaque"
        });
        let secrets = super::super::lookup::all_object_types()[0].clone();
        let pods = super::super::lookup::default_object_types()[0].clone();
        // By the type asked for, by the list's kind, and by the object's own kind.
        for (t, list_kind, item) in [
            (&secrets, "", item.clone()),
            (&pods, "SecretList", item.clone()),
            (&pods, "", {
                let mut i = item.clone();
                i["kind"] = json!("Secret");
                i["apiVersion"] = json!("v1");
                i
            }),
        ] {
            let out = clean(item, t, list_kind);
            let text = out.to_string();
            assert!(
                !text.contains("c2VjcmV0") && !text.contains("plain-secret"),
                "{text}"
            );
            assert_eq!(out["data"]["k"], MASK);
            assert_eq!(out["metadata"]["annotations"]["other"], "kept");
            assert!(out["metadata"].get("managedFields").is_none());
        }
        // An annotation that is not JSON is replaced whole.
        let mut odd = json!({"metadata": {"annotations": {LAST_APPLIED: "not json c2VjcmV0"}}});
        mask_secret(&mut odd);
        assert_eq!(odd["metadata"]["annotations"][LAST_APPLIED], MASK);
        // Other objects are left alone.
        let cm = clean(json!({"data": {"k": "v"}}), &pods, "ConfigMapList");
        assert_eq!(cm["data"]["k"], "v");
    }

    #[test]
    fn requests_are_named_as_the_api_server_names_them() {
        let cases = [
            (
                "GET",
                "/api/v1/namespaces/shop/pods?labelSelector=a%3Db&limit=500",
                ("list", "", "pods"),
            ),
            (
                "GET",
                "/api/v1/namespaces/shop/pods?watch=true&resourceVersion=7",
                ("watch", "", "pods"),
            ),
            (
                "GET",
                "/api/v1/namespaces/shop/pods/web-1",
                ("get", "", "pods"),
            ),
            (
                "GET",
                "/api/v1/namespaces/shop/pods/web-1/log?tailLines=10",
                ("get", "", "pods/log"),
            ),
            (
                "GET",
                "/apis/apps/v1/deployments?watch=1",
                ("watch", "apps", "deployments"),
            ),
            (
                "GET",
                "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods",
                ("list", "metrics.k8s.io", "pods"),
            ),
            (
                "GET",
                "/k8s/clusters/c-1/api/v1/namespaces",
                ("list", "", "namespaces"),
            ),
            ("GET", "/api/v1/namespaces/shop", ("get", "", "namespaces")),
            ("GET", "/version", ("get", "", "-")),
            (
                "GET",
                "/apis/evil.example.com/v1/namespaces/shop/widgets-4711",
                ("list", "other", "customresources"),
            ),
            (
                "GET",
                "/api/v1/namespaces/shop/anything-7",
                ("list", "", "other"),
            ),
            (
                "DELETE",
                "/api/v1/namespaces/shop/pods/web-1",
                ("delete", "", "pods"),
            ),
        ];
        for (method, uri, (verb, group, resource)) in cases {
            let m: http::Method = method.parse().unwrap_or_default();
            let u: http::Uri = uri.parse().unwrap_or_default();
            assert_eq!(
                classify(&m, &u),
                (verb, group.to_string(), resource.to_string()),
                "{method} {uri}"
            );
        }
    }
}
