//! Typed Kubernetes objects for the code that reads them — the tab's view
//! ([`super::view`]), error detection ([`super::error_detection`]) and the pod panel
//! ([`super::pod_detail`]): k8s-openapi's spec and status types under an `ObjectMeta`, read
//! from the JSON the cluster sent (the watch cache and the REST API keep that JSON as it is).
//!
//! `apiVersion` and `kind` are not checked here (k8s-openapi's own resource types refuse any
//! other version): the object type that listed an object decides what it is, so an HPA served as
//! `autoscaling/v1` reads as far as `v2` shares its fields, as Backstage's frontend reads it.
//! Missing fields read as their defaults; a field of the wrong type makes the object unreadable,
//! and the view says which object and why instead of guessing.

use k8s_openapi::api::{apps::v1 as apps, autoscaling::v2 as autoscaling, batch::v1 as batch};
use k8s_openapi::api::{core::v1 as core, networking::v1 as networking};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde::de::{Deserialize, Deserializer, IgnoredAny};

/// An object: its metadata, spec and status (each its default when absent or null).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(bound(deserialize = "S: Deserialize<'de> + Default, T: Deserialize<'de> + Default"))]
pub struct Typed<S, T> {
    /// `metadata`.
    #[serde(default, deserialize_with = "null_default")]
    pub metadata: ObjectMeta,
    /// `spec`.
    #[serde(default, deserialize_with = "null_default")]
    pub spec: S,
    /// `status`.
    #[serde(default, deserialize_with = "null_default")]
    pub status: T,
}

fn null_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A Pod.
pub type Pod = Typed<core::PodSpec, core::PodStatus>;
/// A Deployment.
pub type Deployment = Typed<apps::DeploymentSpec, apps::DeploymentStatus>;
/// A ReplicaSet (only its metadata is read).
pub type ReplicaSet = Typed<IgnoredAny, IgnoredAny>;
/// A StatefulSet.
pub type StatefulSet = Typed<apps::StatefulSetSpec, apps::StatefulSetStatus>;
/// A DaemonSet.
pub type DaemonSet = Typed<IgnoredAny, apps::DaemonSetStatus>;
/// A Job.
pub type Job = Typed<batch::JobSpec, batch::JobStatus>;
/// A CronJob.
pub type CronJob = Typed<batch::CronJobSpec, batch::CronJobStatus>;
/// A HorizontalPodAutoscaler (`autoscaling/v2`).
pub type Hpa =
    Typed<autoscaling::HorizontalPodAutoscalerSpec, autoscaling::HorizontalPodAutoscalerStatus>;
/// A Service.
pub type Service = Typed<core::ServiceSpec, IgnoredAny>;
/// An Ingress.
pub type Ingress = Typed<networking::IngressSpec, IgnoredAny>;

/// A ConfigMap's metadata and keys (its values are never read).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMap {
    /// `metadata`.
    #[serde(default, deserialize_with = "null_default")]
    pub metadata: ObjectMeta,
    /// `data`'s keys.
    #[serde(default, deserialize_with = "null_default")]
    pub data: std::collections::BTreeMap<String, IgnoredAny>,
    /// `binaryData`'s keys.
    #[serde(default, deserialize_with = "null_default")]
    pub binary_data: std::collections::BTreeMap<String, IgnoredAny>,
}

/// `metadata.name` ("" when absent).
pub fn name(m: &ObjectMeta) -> &str {
    m.name.as_deref().unwrap_or("")
}

/// `metadata.namespace` ("" when absent).
pub fn namespace(m: &ObjectMeta) -> &str {
    m.namespace.as_deref().unwrap_or("")
}

/// `metadata.uid` ("" when absent).
pub fn uid(m: &ObjectMeta) -> &str {
    m.uid.as_deref().unwrap_or("")
}

/// Whether an owner reference names `owner_uid` (never for an empty uid).
pub fn owned_by(m: &ObjectMeta, owner_uid: &str) -> bool {
    !owner_uid.is_empty()
        && m.owner_references
            .iter()
            .flatten()
            .any(|o| o.uid == owner_uid)
}

/// Seconds since the Unix epoch.
pub fn seconds(t: &Time) -> i64 {
    t.0.as_second()
}

/// Seconds since the Unix epoch (0 before it).
pub fn unix_seconds(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A timestamp as the API server writes it (`2026-11-24T10:00:00Z`).
pub fn timestamp(t: &Time) -> String {
    t.0.to_string()
}

/// A status condition of any kind of object.
pub trait Condition {
    /// `type`.
    fn kind(&self) -> &str;
    /// `status` (`True`, `False`, `Unknown`).
    fn status(&self) -> &str;
    /// `message`.
    fn message(&self) -> Option<&str>;
    /// `reason`.
    fn reason(&self) -> Option<&str>;
}

macro_rules! conditions {
    ($($t:ty),*) => {$(
        impl Condition for $t {
            fn kind(&self) -> &str { &self.type_ }
            fn status(&self) -> &str { &self.status }
            fn message(&self) -> Option<&str> { self.message.as_deref() }
            fn reason(&self) -> Option<&str> { self.reason.as_deref() }
        }
    )*};
}

conditions!(
    apps::DeploymentCondition,
    apps::StatefulSetCondition,
    apps::DaemonSetCondition,
    batch::JobCondition,
    core::PodCondition
);

/// "Type: message" (or the reason) for every condition that is False.
pub fn failing<C: Condition>(conditions: Option<&Vec<C>>) -> Vec<String> {
    conditions
        .into_iter()
        .flatten()
        .filter(|c| c.status() == "False")
        .map(|c| {
            format!(
                "{}: {}",
                c.kind(),
                c.message().or(c.reason()).unwrap_or("False")
            )
        })
        .collect()
}

/// Whether a condition of this type is True.
pub fn holds<C: Condition>(conditions: Option<&Vec<C>>, kind: &str) -> bool {
    conditions
        .into_iter()
        .flatten()
        .any(|c| c.kind() == kind && c.status() == "True")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_what_a_list_returns_whatever_its_api_version() {
        let v = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "h", "namespace": "n", "uid": "u1",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "d", "uid": "d1"}]},
            "spec": {"maxReplicas": 4, "scaleTargetRef": {"kind": "Deployment", "name": "d"}},
            "status": null});
        let h = Hpa::deserialize(&v).expect("an HPA");
        assert_eq!(
            (name(&h.metadata), namespace(&h.metadata), uid(&h.metadata)),
            ("h", "n", "u1")
        );
        assert_eq!(h.spec.max_replicas, 4);
        assert_eq!(h.status.current_replicas, None);
        assert!(owned_by(&h.metadata, "d1"));
        assert!(!owned_by(&h.metadata, ""));
        let empty = Pod::deserialize(&json!({})).expect("an empty object reads as defaults");
        assert!(empty.spec.containers.is_empty());
        let bad = Pod::deserialize(
            &json!({"metadata": {"name": "p"}, "status": {"containerStatuses": "no"}}),
        );
        assert!(bad.is_err());
    }

    #[test]
    fn failing_conditions_name_their_type_and_message() {
        let d = Deployment::deserialize(&json!({"status": {"conditions": [
            {"type": "Available", "status": "False", "message": "Deployment does not have minimum availability."},
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"},
            {"type": "ReplicaFailure", "status": "True"}]}}))
        .expect("a Deployment");
        assert_eq!(
            failing(d.status.conditions.as_ref()),
            [
                "Available: Deployment does not have minimum availability.",
                "Progressing: ProgressDeadlineExceeded"
            ]
        );
        assert!(holds(d.status.conditions.as_ref(), "ReplicaFailure"));
        assert!(!holds(d.status.conditions.as_ref(), "Available"));
    }
}
