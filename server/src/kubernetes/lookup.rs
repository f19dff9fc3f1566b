//! What to look up for an entity, as pure functions: the label selector, the namespaces, the
//! object types, and the REST paths — exactly as Backstage's Kubernetes backend derives them.

use serde_json::Value;

use super::names::{Group, NameError, Namespace, Plural, Version};
use super::selector::{LabelSelector, SelectorError};

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

/// One kind of object to list. Its group, version and plural are validated names, so its
/// paths never carry anything but Kubernetes name characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectType {
    /// Backstage's `objectType` (also the response's `type`): the plural, or `customresources`.
    pub object_type: String,
    /// API group, "" for core.
    pub group: Group,
    /// API version.
    pub api_version: Version,
    /// Plural resource name.
    pub plural: Plural,
}

impl ObjectType {
    /// A built-in type from literals (the table below; a unit test parses every entry).
    fn builtin(group: &'static str, api_version: &'static str, plural: &'static str) -> Self {
        Self {
            object_type: plural.to_string(),
            group: Group::from_static(group),
            api_version: Version::from_static(api_version),
            plural: Plural::from_static(plural),
        }
    }

    /// A custom resource matcher as an object type.
    pub fn custom(group: Group, api_version: Version, plural: Plural) -> Self {
        Self {
            object_type: "customresources".to_string(),
            group,
            api_version,
            plural,
        }
    }

    /// The same type at another API version (`apiVersionOverrides`).
    pub fn with_version(mut self, api_version: Version) -> Self {
        self.api_version = api_version;
        self
    }

    /// Whether objects of this type are Secrets (their values are masked where they enter).
    pub fn is_secret(&self) -> bool {
        self.group.is_empty() && self.plural == "secrets"
    }

    /// The collection path, in a namespace or cluster-wide. Built from validated names only.
    pub fn path(&self, namespace: Option<&Namespace>) -> String {
        let mut p = if self.group.is_empty() {
            format!("/api/{}", self.api_version)
        } else {
            format!("/apis/{}/{}", self.group, self.api_version)
        };
        if let Some(ns) = namespace {
            p.push_str("/namespaces/");
            p.push_str(ns);
        }
        p.push('/');
        p.push_str(&self.plural);
        p
    }

    /// The `resource` label of metrics: the plural of a built-in type, `customresources` for
    /// any custom resource (names a request chose must not create new series).
    pub fn metric_label(&self) -> &str {
        if self.object_type == "customresources" {
            "customresources"
        } else {
            &self.plural
        }
    }

    /// The `group/version` string (`v1` for core).
    pub fn group_version(&self) -> String {
        if self.group.is_empty() {
            self.api_version.to_string()
        } else {
            format!("{}/{}", self.group, self.api_version)
        }
    }
}

/// Backstage's 13 default object types, in its order.
pub fn default_object_types() -> Vec<ObjectType> {
    vec![
        ObjectType::builtin("", "v1", "pods"),
        ObjectType::builtin("", "v1", "services"),
        ObjectType::builtin("", "v1", "configmaps"),
        ObjectType::builtin("", "v1", "limitranges"),
        ObjectType::builtin("", "v1", "resourcequotas"),
        ObjectType::builtin("apps", "v1", "deployments"),
        ObjectType::builtin("apps", "v1", "replicasets"),
        ObjectType::builtin("autoscaling", "v2", "horizontalpodautoscalers"),
        ObjectType::builtin("batch", "v1", "jobs"),
        ObjectType::builtin("batch", "v1", "cronjobs"),
        ObjectType::builtin("networking.k8s.io", "v1", "ingresses"),
        ObjectType::builtin("apps", "v1", "statefulsets"),
        ObjectType::builtin("apps", "v1", "daemonsets"),
    ]
}

/// Core v1 events: read by the pod panel (from a shared watch when the cache is on), never by
/// a lookup.
pub fn events_type() -> ObjectType {
    ObjectType::builtin("", "v1", "events")
}

/// Every object type `objectTypes` may name: the defaults plus secrets and persistent volumes
/// (opt-in only), in Backstage's order.
pub fn all_object_types() -> Vec<ObjectType> {
    let mut all = vec![
        ObjectType::builtin("", "v1", "secrets"),
        ObjectType::builtin("", "v1", "persistentvolumes"),
        ObjectType::builtin("", "v1", "persistentvolumeclaims"),
    ];
    all.extend(default_object_types());
    all
}

fn annotation<'a>(entity: &'a Value, key: &str) -> Option<&'a str> {
    entity["metadata"]["annotations"][key]
        .as_str()
        .filter(|s| !s.is_empty())
}

/// Why an entity's annotations cannot be looked up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnnotationError {
    /// The selector annotation (or the id it is built from) is not a valid label selector.
    #[error("annotation {annotation}: {error}")]
    Selector {
        /// Which annotation.
        annotation: &'static str,
        /// Why.
        error: SelectorError,
    },
    /// A namespace in the namespace annotation is not a valid namespace name.
    #[error("annotation {0}")]
    Namespace(NameError),
    /// The namespace annotation lists more namespaces than a lookup reads.
    #[error("annotation {NAMESPACE} lists more than {MAX_NAMESPACES} namespaces")]
    TooManyNamespaces,
}

/// Most namespaces one entity's lookup reads (each costs a list or a watch per object type).
pub const MAX_NAMESPACES: usize = 20;

/// The label selector for an entity: the selector annotation verbatim, else
/// `backstage.io/kubernetes-id=<id annotation, or metadata.name>`; refused if it is not a valid
/// selector (so a crafted annotation cannot reach the API server as anything but a selector).
pub fn label_selector(entity: &Value) -> Result<LabelSelector, AnnotationError> {
    if let Some(sel) = annotation(entity, LABEL_SELECTOR) {
        return LabelSelector::parse(sel).map_err(|error| AnnotationError::Selector {
            annotation: LABEL_SELECTOR,
            error,
        });
    }
    let id = annotation(entity, KUBERNETES_ID)
        .or_else(|| entity["metadata"]["name"].as_str())
        .unwrap_or("");
    LabelSelector::parse(&format!("{KUBERNETES_ID}={id}")).map_err(|error| {
        AnnotationError::Selector {
            annotation: KUBERNETES_ID,
            error,
        }
    })
}

/// The namespaces to look in: the annotation, split on commas (Backstage issue #13698), or
/// `None` for every namespace. Each must be a valid namespace name.
pub fn namespaces(entity: &Value) -> Result<Option<Vec<Namespace>>, AnnotationError> {
    let Some(raw) = annotation(entity, NAMESPACE) else {
        return Ok(None);
    };
    let mut out: Vec<Namespace> = Vec::new();
    for ns in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let ns = Namespace::parse(NAMESPACE, ns).map_err(AnnotationError::Namespace)?;
        if !out.contains(&ns) {
            if out.len() == MAX_NAMESPACES {
                return Err(AnnotationError::TooManyNamespaces);
            }
            out.push(ns);
        }
    }
    Ok((!out.is_empty()).then_some(out))
}

/// Whether the entity asks for Kubernetes at all (either annotation present).
pub fn has_kubernetes_annotations(entity: &Value) -> bool {
    annotation(entity, KUBERNETES_ID).is_some() || annotation(entity, LABEL_SELECTOR).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entity(annotations: Value) -> Value {
        json!({"kind": "Component", "metadata": {"name": "example1", "annotations": annotations}})
    }

    fn sel(e: &Value) -> String {
        label_selector(e)
            .map(|s| s.to_string())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn selector_prefers_the_selector_annotation_then_the_id_then_the_name() {
        assert_eq!(
            sel(&entity(
                json!({"backstage.io/kubernetes-id": "backstage-app"})
            )),
            "backstage.io/kubernetes-id=backstage-app"
        );
        assert_eq!(
            sel(&entity(
                json!({"backstage.io/kubernetes-label-selector": "app=cart,tier=backend", "backstage.io/kubernetes-id": "x"})
            )),
            "app=cart,tier=backend"
        );
        assert_eq!(
            sel(&entity(json!({}))),
            "backstage.io/kubernetes-id=example1"
        );
        assert_eq!(
            sel(&entity(json!({"backstage.io/kubernetes-id": ""}))),
            "backstage.io/kubernetes-id=example1"
        );
    }

    #[test]
    fn crafted_annotations_are_refused_naming_the_annotation() {
        let e = label_selector(&entity(
            json!({"backstage.io/kubernetes-label-selector": "app=x&fieldSelector=metadata.name%3Dy"}),
        ))
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("annotation backstage.io/kubernetes-label-selector: label selector"),
            "{e}"
        );
        let e = label_selector(&entity(json!({"backstage.io/kubernetes-id": "a b"}))).unwrap_err();
        assert!(e.to_string().contains("backstage.io/kubernetes-id"), "{e}");
        let many: Vec<String> = (0..=MAX_NAMESPACES).map(|i| format!("n{i}")).collect();
        assert_eq!(
            namespaces(&entity(
                json!({"backstage.io/kubernetes-namespace": many.join(",")})
            )),
            Err(AnnotationError::TooManyNamespaces)
        );
        for bad in ["shop/../kube-system", "shop?x=1", "Shop", "a/b"] {
            let e =
                namespaces(&entity(json!({"backstage.io/kubernetes-namespace": bad}))).unwrap_err();
            assert!(
                e.to_string().contains("backstage.io/kubernetes-namespace"),
                "{e}"
            );
        }
    }

    #[test]
    fn namespaces_one_many_or_all() {
        let names = |v: Value| {
            namespaces(&entity(v))
                .ok()
                .flatten()
                .map(|l| l.iter().map(|n| n.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(
            names(json!({"backstage.io/kubernetes-namespace": "backstage"})),
            Some(vec!["backstage".to_string()])
        );
        assert_eq!(
            names(json!({"backstage.io/kubernetes-namespace": "a, b,,a"})),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(names(json!({})), None);
        assert_eq!(
            names(json!({"backstage.io/kubernetes-namespace": " , "})),
            None
        );
    }

    #[test]
    fn paths_as_backstage_builds_them() {
        let types = default_object_types();
        assert_eq!(types.len(), 13);
        let ns = |s: &str| Namespace::parse("namespace", s).ok();
        assert_eq!(
            types[0].path(ns("backstage").as_ref()),
            "/api/v1/namespaces/backstage/pods"
        );
        assert_eq!(types[5].path(None), "/apis/apps/v1/deployments");
        assert_eq!(
            types[7].path(ns("ns").as_ref()),
            "/apis/autoscaling/v2/namespaces/ns/horizontalpodautoscalers"
        );
        assert_eq!(all_object_types()[0].plural, "secrets");
        assert!(all_object_types()[0].is_secret());
    }

    #[test]
    fn every_built_in_type_is_a_valid_name() {
        for t in all_object_types() {
            assert!(Group::parse("g", &t.group).is_ok(), "{t:?}");
            assert!(Version::parse("v", &t.api_version).is_ok(), "{t:?}");
            assert!(Plural::parse("p", &t.plural).is_ok(), "{t:?}");
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
