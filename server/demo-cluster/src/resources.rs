//! The resource types this API server serves: built-in ones (a fixed table, as kube-apiserver
//! 1.33 describes them in discovery) and custom resources registered from loaded
//! CustomResourceDefinitions.

use serde_json::{json, Value};

/// One servable resource type.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceType {
    /// API group, "" for core.
    pub group: String,
    /// API version, e.g. `v1`.
    pub version: String,
    /// Plural resource name used in paths, e.g. `pods`.
    pub plural: String,
    /// Singular name.
    pub singular: String,
    /// Kind, e.g. `Pod`.
    pub kind: String,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Short names for discovery.
    pub short_names: Vec<String>,
    /// Extra fields `fieldSelector` may use besides metadata.name / metadata.namespace.
    pub fields: Vec<&'static str>,
    /// Read-only virtual resources (metrics) support only get and list.
    pub list_only: bool,
}

impl ResourceType {
    /// `apiVersion` as written in objects: `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The key objects of this type are stored under: `pods`, `deployments.apps`.
    pub fn id(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Discovery `APIResource` entry.
    pub fn discovery(&self) -> Value {
        let verbs: &[&str] = if self.list_only {
            &["get", "list"]
        } else {
            &[
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ]
        };
        let mut v = json!({
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": verbs,
        });
        if !self.short_names.is_empty() {
            v["shortNames"] = json!(self.short_names);
        }
        if !self.list_only && !self.group.ends_with("metrics.k8s.io") {
            v["storageVersionHash"] = json!(storage_hash(&self.id()));
        }
        v
    }
}

fn storage_hash(id: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let d = sha2::Sha256::digest(id.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(&d[..8])
}

fn rt(
    group: &str,
    version: &str,
    plural: &str,
    kind: &str,
    namespaced: bool,
    short: &[&str],
    fields: &[&'static str],
) -> ResourceType {
    ResourceType {
        group: group.into(),
        version: version.into(),
        plural: plural.into(),
        singular: kind.to_lowercase(),
        kind: kind.into(),
        namespaced,
        short_names: short.iter().map(|s| s.to_string()).collect(),
        fields: fields.to_vec(),
        list_only: false,
    }
}

/// The built-in resource types.
pub fn builtin() -> Vec<ResourceType> {
    let mut v = vec![
        rt(
            "",
            "v1",
            "namespaces",
            "Namespace",
            false,
            &["ns"],
            &["status.phase"],
        ),
        rt(
            "",
            "v1",
            "nodes",
            "Node",
            false,
            &["no"],
            &["spec.unschedulable"],
        ),
        rt(
            "",
            "v1",
            "pods",
            "Pod",
            true,
            &["po"],
            &[
                "status.phase",
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.serviceAccountName",
                "status.podIP",
            ],
        ),
        rt(
            "",
            "v1",
            "services",
            "Service",
            true,
            &["svc"],
            &["spec.clusterIP", "spec.type"],
        ),
        rt("", "v1", "configmaps", "ConfigMap", true, &["cm"], &[]),
        rt("", "v1", "secrets", "Secret", true, &[], &["type"]),
        rt(
            "",
            "v1",
            "events",
            "Event",
            true,
            &["ev"],
            &[
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
            ],
        ),
        rt(
            "",
            "v1",
            "limitranges",
            "LimitRange",
            true,
            &["limits"],
            &[],
        ),
        rt(
            "",
            "v1",
            "resourcequotas",
            "ResourceQuota",
            true,
            &["quota"],
            &[],
        ),
        rt(
            "",
            "v1",
            "serviceaccounts",
            "ServiceAccount",
            true,
            &["sa"],
            &[],
        ),
        rt(
            "apps",
            "v1",
            "deployments",
            "Deployment",
            true,
            &["deploy"],
            &[],
        ),
        rt(
            "apps",
            "v1",
            "replicasets",
            "ReplicaSet",
            true,
            &["rs"],
            &["status.replicas"],
        ),
        rt(
            "apps",
            "v1",
            "statefulsets",
            "StatefulSet",
            true,
            &["sts"],
            &["status.successful"],
        ),
        rt("apps", "v1", "daemonsets", "DaemonSet", true, &["ds"], &[]),
        rt(
            "autoscaling",
            "v2",
            "horizontalpodautoscalers",
            "HorizontalPodAutoscaler",
            true,
            &["hpa"],
            &[],
        ),
        rt(
            "batch",
            "v1",
            "jobs",
            "Job",
            true,
            &[],
            &["status.successful"],
        ),
        rt("batch", "v1", "cronjobs", "CronJob", true, &["cj"], &[]),
        rt(
            "networking.k8s.io",
            "v1",
            "ingresses",
            "Ingress",
            true,
            &["ing"],
            &[],
        ),
        rt(
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            "CustomResourceDefinition",
            false,
            &["crd", "crds"],
            &[],
        ),
    ];
    let mut pm = rt(
        "metrics.k8s.io",
        "v1beta1",
        "pods",
        "PodMetrics",
        true,
        &[],
        &[],
    );
    pm.list_only = true;
    pm.singular = String::new();
    let mut nm = rt(
        "metrics.k8s.io",
        "v1beta1",
        "nodes",
        "NodeMetrics",
        false,
        &[],
        &[],
    );
    nm.list_only = true;
    nm.singular = String::new();
    v.push(pm);
    v.push(nm);
    v
}

/// The resource type a CustomResourceDefinition declares (its storage version), if well-formed.
pub fn from_crd(crd: &Value) -> Option<ResourceType> {
    let spec = crd.get("spec")?;
    let names = spec.get("names")?;
    let version = spec
        .get("versions")?
        .as_array()?
        .iter()
        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .or_else(|| spec.get("versions")?.as_array()?.first())?
        .get("name")?
        .as_str()?;
    Some(ResourceType {
        group: spec.get("group")?.as_str()?.to_string(),
        version: version.to_string(),
        plural: names.get("plural")?.as_str()?.to_string(),
        singular: names
            .get("singular")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                names
                    .get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_lowercase()
            }),
        kind: names.get("kind")?.as_str()?.to_string(),
        namespaced: spec.get("scope").and_then(Value::as_str) != Some("Cluster"),
        short_names: names
            .get("shortNames")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        fields: Vec::new(),
        list_only: false,
    })
}

/// The object's kind and apiVersion, split into (group, version, kind).
pub fn gvk_of(object: &Value) -> Option<(String, String, String)> {
    let api_version = object.get("apiVersion")?.as_str()?;
    let kind = object.get("kind")?.as_str()?;
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    Some((group.to_string(), version.to_string(), kind.to_string()))
}
