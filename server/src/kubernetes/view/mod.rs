//! The Kubernetes tab's view: Backstage's `ObjectsByEntityResponse` turned into workloads with
//! their pods (Deployments through their ReplicaSets, CronJobs through their Jobs; standalone
//! Jobs and bare Pods too — Backstage hides those), services, ingresses, config maps, custom
//! resources, usage against requests and limits, detected errors, and cluster problems in plain
//! words. Pure: the same response always gives the same view.
//!
//! Objects are read once into k8s-openapi types ([`crate::kubernetes::objects`]); then
//! [`workloads`] groups them, [`pods`] makes the pod rows, [`resources`] the services,
//! ingresses, config maps and custom resources, and [`problems`] says what went wrong.

pub mod pods;
pub mod problems;
pub mod resources;
pub mod workloads;

use std::time::SystemTime;

use app::wire::kubernetes::{ClusterProblem, ClusterView, DetectedError, KubernetesView};
use serde::de::DeserializeOwned;

use super::dashboard;
use super::error_detection;
use super::objects::{self, ConfigMap, CronJob, DaemonSet, Deployment, Hpa, Ingress, Job, Pod};
use super::objects::{ReplicaSet, Service, StatefulSet};
use super::types::{ClusterObjects, ObjectsByEntityResponse};

pub use pods::{chips, cpu_text, mem_text, usage};

/// One cluster's objects, by type, read as their types.
#[derive(Default)]
pub struct Objects {
    pub pods: Vec<Pod>,
    pub deployments: Vec<Deployment>,
    pub replicasets: Vec<ReplicaSet>,
    pub statefulsets: Vec<StatefulSet>,
    pub daemonsets: Vec<DaemonSet>,
    pub jobs: Vec<Job>,
    pub cronjobs: Vec<CronJob>,
    pub hpas: Vec<Hpa>,
    pub services: Vec<Service>,
    pub ingresses: Vec<Ingress>,
    pub config_maps: Vec<ConfigMap>,
}

impl Objects {
    /// Reads a cluster's objects; each one that does not read as its type is left out, with a
    /// problem naming it.
    pub fn read(c: &ClusterObjects, unreadable: &mut Vec<ClusterProblem>) -> Self {
        Self {
            pods: read_all(c, "pods", "Pod", unreadable),
            deployments: read_all(c, "deployments", "Deployment", unreadable),
            replicasets: read_all(c, "replicasets", "ReplicaSet", unreadable),
            statefulsets: read_all(c, "statefulsets", "StatefulSet", unreadable),
            daemonsets: read_all(c, "daemonsets", "DaemonSet", unreadable),
            jobs: read_all(c, "jobs", "Job", unreadable),
            cronjobs: read_all(c, "cronjobs", "CronJob", unreadable),
            hpas: read_all(
                c,
                "horizontalpodautoscalers",
                "HorizontalPodAutoscaler",
                unreadable,
            ),
            services: read_all(c, "services", "Service", unreadable),
            ingresses: read_all(c, "ingresses", "Ingress", unreadable),
            config_maps: read_all(c, "configmaps", "ConfigMap", unreadable),
        }
    }
}

fn read_all<T: DeserializeOwned>(
    c: &ClusterObjects,
    object_type: &str,
    kind: &str,
    unreadable: &mut Vec<ClusterProblem>,
) -> Vec<T> {
    let mut out = Vec::new();
    for o in c
        .resources
        .iter()
        .filter(|r| r.object_type == object_type)
        .flat_map(|r| &r.resources)
    {
        match o.read::<T>() {
            Ok(t) => out.push(t),
            Err(e) => unreadable.push(problems::unreadable(
                &c.cluster.name,
                kind,
                o,
                &e.to_string(),
            )),
        }
    }
    out
}

/// One cluster's section and its detected errors.
pub fn cluster_view(c: &ClusterObjects, now: SystemTime) -> (ClusterView, Vec<DetectedError>) {
    let name = c.cluster.name.as_str();
    let mut unreadable = Vec::new();
    let o = Objects::read(c, &mut unreadable);
    let mut errors = Vec::new();
    let mut rows = pods::Rows::new(name, &c.pod_metrics, now);
    for p in &o.pods {
        let e = error_detection::pod_errors(name, p, now);
        rows.error_counts
            .insert(objects::uid(&p.metadata).to_string(), e.len());
        errors.extend(e);
    }
    for d in &o.deployments {
        errors.extend(error_detection::deployment_errors(name, d));
    }
    for h in &o.hpas {
        errors.extend(error_detection::hpa_errors(name, h));
    }
    let workloads = workloads::workloads(&c.cluster, &o, &rows);
    let custom_resources = c
        .resources
        .iter()
        .filter(|r| r.object_type == "customresources")
        .flat_map(|r| &r.resources)
        .map(|v| resources::custom_resource(v))
        .collect();
    let mut problems = problems::problems(name, &c.errors);
    problems.extend(unreadable);
    let view = ClusterView {
        name: name.to_string(),
        title: c.cluster.title.clone(),
        dashboard_url: dashboard::cluster_link(&c.cluster),
        pods: o.pods.len(),
        pods_with_errors: rows.error_counts.values().filter(|n| **n > 0).count(),
        problems,
        workloads,
        services: o.services.iter().map(resources::service).collect(),
        ingresses: o.ingresses.iter().map(resources::ingress).collect(),
        config_maps: o.config_maps.iter().map(resources::config_map).collect(),
        custom_resources,
    };
    (view, errors)
}

/// The whole tab.
pub fn build(
    resp: &ObjectsByEntityResponse,
    refresh_interval_ms: u64,
    now: SystemTime,
) -> KubernetesView {
    let mut clusters = Vec::new();
    let mut errors = Vec::new();
    for c in &resp.items {
        let (v, e) = cluster_view(c, now);
        clusters.push(v);
        errors.extend(e);
    }
    // Most severe first; stable within a severity (cluster, then object order).
    errors.sort_by(|a, b| b.severity.cmp(&a.severity));
    KubernetesView {
        configured: true,
        refresh_interval_ms,
        clusters,
        errors,
        access_denied: None,
        hidden_clusters: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubernetes::types::{ClusterAttributes, FetchResponse, Object};
    use serde_json::{json, Value};

    /// A cluster's answer from `kubectl get <type> -o json` lists (a `List` per type).
    fn cluster(lists: &[(&str, Value)]) -> ClusterObjects {
        ClusterObjects {
            cluster: ClusterAttributes {
                name: "prod".into(),
                title: None,
                dashboard_url: None,
                dashboard_app: None,
                dashboard_parameters: None,
            },
            pod_metrics: Vec::new(),
            resources: lists
                .iter()
                .map(|(t, list)| FetchResponse {
                    object_type: t.to_string(),
                    resources: list["items"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .cloned()
                        .map(Object::from)
                        .collect(),
                })
                .collect(),
            errors: Vec::new(),
        }
    }

    fn list(items: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items})
    }

    fn pod(name: &str, owner: Option<(&str, &str)>, ready: bool) -> Value {
        let owners: Vec<Value> = owner
            .map(|(kind, uid)| json!({"apiVersion": "apps/v1", "kind": kind, "name": "owner", "uid": uid, "controller": true}))
            .into_iter()
            .collect();
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "uid": format!("uid-{name}"),
                "creationTimestamp": "2026-11-24T09:00:00Z", "labels": {"app": "cart"}, "ownerReferences": owners},
            "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "cart:1.4"}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "app", "ready": ready, "restartCount": 0,
                "image": "cart:1.4", "imageID": "", "state": {"running": {"startedAt": "2026-11-24T09:00:05Z"}}}]}})
    }

    #[test]
    fn workloads_pods_and_problems_from_kubectl_lists() {
        let deployments = list(json!([{"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "cart", "namespace": "shop", "uid": "d1"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "cart"}}, "template": {}},
            "status": {"readyReplicas": 1, "conditions": [
                {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability."}]}}]));
        let replicasets = list(json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "cart-5d8f", "namespace": "shop", "uid": "rs1",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "cart", "uid": "d1"}]},
            "spec": {"replicas": 2}, "status": {"replicas": 2}}]));
        let hpas = list(
            json!([{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "cart", "namespace": "shop"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "cart"}, "minReplicas": 2, "maxReplicas": 2,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]},
            "status": {"currentReplicas": 2, "desiredReplicas": 2,
                "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 35}}}]}}]),
        );
        let cronjobs = list(json!([{"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "report", "namespace": "shop", "uid": "cj1"},
            "spec": {"schedule": "0 * * * *", "jobTemplate": {}}, "status": {"lastScheduleTime": "2026-11-24T09:00:00Z"}}]));
        let jobs = list(json!([{"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "report-29000000", "namespace": "shop", "uid": "j1",
                "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "report", "uid": "cj1"}]},
            "spec": {"completions": 1, "template": {}},
            "status": {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}}]));
        let pods = list(json!([
            pod("cart-5d8f-b", Some(("ReplicaSet", "rs1")), false),
            pod("cart-5d8f-a", Some(("ReplicaSet", "rs1")), true),
            pod("report-29000000-x", Some(("Job", "j1")), true),
            pod("debug", None, true),
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "broken", "namespace": "shop"},
                "status": {"containerStatuses": "not a list"}}]));
        let c = cluster(&[
            ("pods", pods),
            ("deployments", deployments),
            ("replicasets", replicasets),
            ("horizontalpodautoscalers", hpas),
            ("cronjobs", cronjobs),
            ("jobs", jobs),
        ]);
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_514_400);
        let (view, errors) = cluster_view(&c, now);

        let kinds: Vec<(&str, &str, &str)> = view
            .workloads
            .iter()
            .map(|w| (w.kind.as_str(), w.name.as_str(), w.status.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("Deployment", "cart", "1/2 ready"),
                (
                    "CronJob",
                    "report",
                    "schedule 0 * * * *, last run 2026-11-24T09:00:00Z"
                ),
                ("Pod", "debug", "Running"),
            ]
        );
        let cart = &view.workloads[0];
        let pod_names: Vec<&str> = cart.pods.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(pod_names, ["cart-5d8f-a", "cart-5d8f-b"], "by name");
        assert_eq!(
            cart.failing_conditions,
            ["Available: Deployment does not have minimum availability."]
        );
        let hpa = cart.hpa.as_ref().expect("the HPA that scales it");
        assert_eq!(
            (
                hpa.min,
                hpa.max,
                hpa.current,
                hpa.cpu_target,
                hpa.cpu_current
            ),
            (2, 2, 2, Some(70), Some(35))
        );
        let job = &view.workloads[1].jobs[0];
        assert_eq!((job.status.as_str(), job.pods.len()), ("Complete (1/1)", 1));
        assert_eq!(view.workloads[2].pods[0].age_seconds, 3600);
        assert_eq!(view.pods, 4, "the unreadable pod is not counted");

        // Detected errors: the deployment's False condition, the HPA at its maximum.
        let types: Vec<&str> = errors.iter().map(|e| e.error_type.as_str()).collect();
        assert_eq!(
            types,
            ["condition-message-present", "hpa-max-current-replicas"]
        );

        // The pod that does not read as a pod is named, not guessed at.
        assert_eq!(view.problems.len(), 1, "{:?}", view.problems);
        assert_eq!(
            view.problems[0].message,
            "Cluster prod returned a Pod that could not be read (shop/broken); it is not shown"
        );
        assert!(
            view.problems[0].detail.contains("invalid type"),
            "{}",
            view.problems[0].detail
        );
    }
}
