//! What to look up for an entity, as pure functions: the label selector, the namespaces, the
//! object types, and the REST paths — exactly as Backstage's Kubernetes backend derives them.

use serde_json::Value;

/// Annotation: the id a component's objects carry as the `backstage.io/kubernetes-id` label.
pub const KUBERNETES_ID: &str = "backstage.io/kubernetes-id";
/// Annotation: a label selector used verbatim instead of the id.
pub const LABEL_SELECTOR: &str = "backstage.io/kubernetes-label-selector";
/// Annotation: the namespace (or comma-separated namespaces) to look in.
pub const NAMESPACE: &str = "backstage.io/kubernetes-namespace";
/// Annotation: the cluster an entity lives on (singleTenant).
pub const CLUSTER: &str = "backstage.io/kubernetes-cluster";

/// What JavaScript's `encodeURIComponent` leaves alone.
pub const URI_COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// One kind of object to list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectType {
    /// Backstage's `objectType` (also the response's `type`): the plural, or `customresources`.
    pub object_type: String,
    /// API group, "" for core.
    pub group: String,
    /// API version.
    pub api_version: String,
    /// Plural resource name.
    pub plural: String,
}

impl ObjectType {
    fn new(group: &str, api_version: &str, plural: &str) -> Self {
        Self {
            object_type: plural.to_string(),
            group: group.to_string(),
            api_version: api_version.to_string(),
            plural: plural.to_string(),
        }
    }

    /// A custom resource matcher as an object type.
    pub fn custom(group: &str, api_version: &str, plural: &str) -> Self {
        Self {
            object_type: "customresources".to_string(),
            ..Self::new(group, api_version, plural)
        }
    }

    /// The collection path, in a namespace or cluster-wide.
    pub fn path(&self, namespace: Option<&str>) -> String {
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, URI_COMPONENT).to_string();
        let mut p = if self.group.is_empty() {
            format!("/api/{}", enc(&self.api_version))
        } else {
            format!("/apis/{}/{}", enc(&self.group), enc(&self.api_version))
        };
        if let Some(ns) = namespace {
            p.push_str("/namespaces/");
            p.push_str(&enc(ns));
        }
        p.push('/');
        p.push_str(&enc(&self.plural));
        p
    }
}

/// Backstage's 13 default object types, in its order.
pub fn default_object_types() -> Vec<ObjectType> {
    vec![
        ObjectType::new("", "v1", "pods"),
        ObjectType::new("", "v1", "services"),
        ObjectType::new("", "v1", "configmaps"),
        ObjectType::new("", "v1", "limitranges"),
        ObjectType::new("", "v1", "resourcequotas"),
        ObjectType::new("apps", "v1", "deployments"),
        ObjectType::new("apps", "v1", "replicasets"),
        ObjectType::new("autoscaling", "v2", "horizontalpodautoscalers"),
        ObjectType::new("batch", "v1", "jobs"),
        ObjectType::new("batch", "v1", "cronjobs"),
        ObjectType::new("networking.k8s.io", "v1", "ingresses"),
        ObjectType::new("apps", "v1", "statefulsets"),
        ObjectType::new("apps", "v1", "daemonsets"),
    ]
}

/// Every object type `objectTypes` may name: the defaults plus secrets and persistent volumes
/// (opt-in only), in Backstage's order.
pub fn all_object_types() -> Vec<ObjectType> {
    let mut all = vec![
        ObjectType::new("", "v1", "secrets"),
        ObjectType::new("", "v1", "persistentvolumes"),
        ObjectType::new("", "v1", "persistentvolumeclaims"),
    ];
    all.extend(default_object_types());
    all
}

fn annotation<'a>(entity: &'a Value, key: &str) -> Option<&'a str> {
    entity["metadata"]["annotations"][key]
        .as_str()
        .filter(|s| !s.is_empty())
}

/// The label selector for an entity: the selector annotation verbatim, else
/// `backstage.io/kubernetes-id=<id annotation, or metadata.name>`.
pub fn label_selector(entity: &Value) -> String {
    if let Some(sel) = annotation(entity, LABEL_SELECTOR) {
        return sel.to_string();
    }
    let id = annotation(entity, KUBERNETES_ID)
        .or_else(|| entity["metadata"]["name"].as_str())
        .unwrap_or("");
    format!("{KUBERNETES_ID}={id}")
}

/// The namespaces to look in: the annotation, split on commas (Backstage issue #13698), or
/// `None` for every namespace.
pub fn namespaces(entity: &Value) -> Option<Vec<String>> {
    let raw = annotation(entity, NAMESPACE)?;
    let list: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let mut out: Vec<String> = Vec::new();
    for ns in list {
        if !out.contains(&ns) {
            out.push(ns);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Whether the entity asks for Kubernetes at all (either annotation present).
pub fn has_kubernetes_annotations(entity: &Value) -> bool {
    annotation(entity, KUBERNETES_ID).is_some() || annotation(entity, LABEL_SELECTOR).is_some()
}

/// Whether labels match a label selector string (`=`, `==`, `!=`, `in`, `notin`, `key`,
/// `!key`). An unparsable selector matches nothing.
pub fn selector_matches(selector: &str, labels: &serde_json::Map<String, Value>) -> bool {
    let get = |k: &str| labels.get(k.trim()).and_then(Value::as_str);
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&selector[start..]);
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .all(|p| {
            if let Some(k) = p.strip_prefix('!') {
                return get(k).is_none();
            }
            if let Some((k, v)) = p.split_once("!=") {
                return get(k) != Some(v.trim());
            }
            if let Some((k, v)) = p.split_once("==").or_else(|| p.split_once('=')) {
                return get(k) == Some(v.trim());
            }
            let set = |rest: &str| -> Vec<String> {
                rest.trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .split(',')
                    .map(|x| x.trim().to_string())
                    .collect()
            };
            if let Some((k, rest)) = p.split_once(" notin ") {
                return get(k).is_none_or(|x| !set(rest).iter().any(|v| v == x));
            }
            if let Some((k, rest)) = p.split_once(" in ") {
                return get(k).is_some_and(|x| set(rest).iter().any(|v| v == x));
            }
            get(p).is_some()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entity(annotations: Value) -> Value {
        json!({"kind": "Component", "metadata": {"name": "example1", "annotations": annotations}})
    }

    #[test]
    fn selector_prefers_the_selector_annotation_then_the_id_then_the_name() {
        assert_eq!(
            label_selector(&entity(
                json!({"backstage.io/kubernetes-id": "backstage-app"})
            )),
            "backstage.io/kubernetes-id=backstage-app"
        );
        assert_eq!(
            label_selector(&entity(
                json!({"backstage.io/kubernetes-label-selector": "app=cart,tier=backend", "backstage.io/kubernetes-id": "x"})
            )),
            "app=cart,tier=backend"
        );
        assert_eq!(
            label_selector(&entity(json!({}))),
            "backstage.io/kubernetes-id=example1"
        );
        assert_eq!(
            label_selector(&entity(json!({"backstage.io/kubernetes-id": ""}))),
            "backstage.io/kubernetes-id=example1"
        );
    }

    #[test]
    fn namespaces_one_many_or_all() {
        assert_eq!(
            namespaces(&entity(
                json!({"backstage.io/kubernetes-namespace": "backstage"})
            )),
            Some(vec!["backstage".to_string()])
        );
        assert_eq!(
            namespaces(&entity(
                json!({"backstage.io/kubernetes-namespace": "a, b,,a"})
            )),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(namespaces(&entity(json!({}))), None);
        assert_eq!(
            namespaces(&entity(json!({"backstage.io/kubernetes-namespace": " , "}))),
            None
        );
    }

    #[test]
    fn paths_as_backstage_builds_them() {
        let types = default_object_types();
        assert_eq!(types.len(), 13);
        assert_eq!(
            types[0].path(Some("backstage")),
            "/api/v1/namespaces/backstage/pods"
        );
        assert_eq!(types[5].path(None), "/apis/apps/v1/deployments");
        assert_eq!(
            types[7].path(Some("ns")),
            "/apis/autoscaling/v2/namespaces/ns/horizontalpodautoscalers"
        );
        assert_eq!(
            ObjectType::custom("argoproj.io", "v1alpha1", "rollouts").path(Some("a b")),
            "/apis/argoproj.io/v1alpha1/namespaces/a%20b/rollouts"
        );
        assert_eq!(all_object_types()[0].plural, "secrets");
    }

    #[test]
    fn selectors_match_labels() {
        let labels = json!({"app": "cart", "tier": "backend"});
        let l = labels.as_object().cloned().unwrap_or_default();
        for (sel, want) in [
            ("app=cart,tier=backend", true),
            ("app==cart", true),
            ("app=web", false),
            ("app!=web", true),
            ("app in (cart, web)", true),
            ("app notin (cart)", false),
            ("tier", true),
            ("!tier", false),
            ("x", false),
        ] {
            assert_eq!(selector_matches(sel, &l), want, "{sel}");
        }
    }

    #[test]
    fn annotations_decide_whether_the_tab_applies() {
        assert!(has_kubernetes_annotations(&entity(
            json!({"backstage.io/kubernetes-id": "x"})
        )));
        assert!(has_kubernetes_annotations(&entity(
            json!({"backstage.io/kubernetes-label-selector": "a=b"})
        )));
        assert!(!has_kubernetes_annotations(&entity(
            json!({"backstage.io/kubernetes-namespace": "x"})
        )));
    }
}
