//! The Kubernetes tab's view, built from what the watch cache holds: how long one build takes
//! for an entity with N pods (every live update of an open tab builds one). Objects are the
//! cache's JSON text, read into k8s-openapi types on every build, as in the portal.
//!
//!     . ./env.sh && cargo run --release -p server --example view_bench

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};
use server::kubernetes::types::{
    ClusterAttributes, ClusterObjects, FetchResponse, Object, ObjectsByEntityResponse, Stored,
};

const PODS_PER_DEPLOYMENT: usize = 10;

fn stored(v: Value) -> Arc<Stored> {
    let text = serde_json::to_string(&v).unwrap_or_default();
    Arc::new(Stored {
        namespace: "shop".into(),
        labels: BTreeMap::new(),
        json: serde_json::value::RawValue::from_string(text).expect("JSON text"),
    })
}

/// Deployments, their ReplicaSets and `pods` pods, as the cache stores them.
fn objects(pods: usize) -> Vec<(&'static str, Vec<Arc<Stored>>)> {
    let deployments = pods.div_ceil(PODS_PER_DEPLOYMENT);
    let mut d = Vec::new();
    let mut rs = Vec::new();
    let mut p = Vec::new();
    for i in 0..deployments {
        d.push(stored(json!({"metadata": {"name": format!("app-{i}"), "namespace": "shop", "uid": format!("d{i}"), "labels": {"app": "bench"}},
            "spec": {"replicas": PODS_PER_DEPLOYMENT, "selector": {"matchLabels": {"app": "bench"}}},
            "status": {"readyReplicas": PODS_PER_DEPLOYMENT - 1, "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "ReplicaSet has successfully progressed."}]}})));
        rs.push(stored(json!({"metadata": {"name": format!("app-{i}-5d8f"), "namespace": "shop", "uid": format!("rs{i}"),
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": format!("app-{i}"), "uid": format!("d{i}"), "controller": true}]},
            "spec": {"replicas": PODS_PER_DEPLOYMENT}, "status": {"replicas": PODS_PER_DEPLOYMENT}})));
        for j in 0..PODS_PER_DEPLOYMENT.min(pods - i * PODS_PER_DEPLOYMENT) {
            let crashing = j == 0;
            let state = if crashing {
                json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}})
            } else {
                json!({"running": {"startedAt": "2026-11-24T09:00:05Z"}})
            };
            p.push(stored(json!({"metadata": {"name": format!("app-{i}-5d8f-{j:05}"), "namespace": "shop", "uid": format!("p{i}-{j}"),
                    "creationTimestamp": "2026-11-24T09:00:00Z", "labels": {"app": "bench", "pod-template-hash": "5d8f"},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("app-{i}-5d8f"), "uid": format!("rs{i}"), "controller": true}]},
                "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "bench:1.0",
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
                    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 10, "failureThreshold": 3}}]},
                "status": {"phase": "Running", "podIP": "10.0.0.1", "conditions": [{"type": "Ready", "status": if crashing { "False" } else { "True" }}],
                    "containerStatuses": [{"name": "app", "ready": !crashing, "restartCount": if crashing { 7 } else { 0 }, "image": "bench:1.0", "imageID": "", "state": state,
                        "lastState": if crashing { json!({"terminated": {"reason": "Error", "exitCode": 1}}) } else { json!({}) }}]}})));
        }
    }
    vec![("deployments", d), ("replicasets", rs), ("pods", p)]
}

fn response(objects: &[(&'static str, Vec<Arc<Stored>>)]) -> ObjectsByEntityResponse {
    ObjectsByEntityResponse {
        items: vec![ClusterObjects {
            cluster: ClusterAttributes {
                name: "bench".into(),
                title: None,
                dashboard_url: None,
                dashboard_app: None,
                dashboard_parameters: None,
            },
            pod_metrics: Vec::new(),
            resources: objects
                .iter()
                .map(|(t, list)| FetchResponse {
                    object_type: t.to_string(),
                    resources: list.iter().cloned().map(Object::cached).collect(),
                })
                .collect(),
            errors: Vec::new(),
        }],
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    println!("| pods | objects | view build p50 | p99 | per pod |");
    println!("| --- | --- | --- | --- | --- |");
    let now = SystemTime::now();
    for pods in [10, 100, 1000, 5000] {
        let objects = objects(pods);
        let count: usize = objects.iter().map(|(_, l)| l.len()).sum();
        let runs = (20_000 / pods).clamp(20, 2000);
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            // Fresh objects each time, as each live update reads the cache anew.
            let resp = response(&objects);
            let t = Instant::now();
            let view = server::kubernetes::view::build(&resp, 10_000, now);
            times.push(t.elapsed());
            assert_eq!(view.clusters[0].pods, pods, "every pod is in the view");
        }
        times.sort();
        let p50 = times[times.len() / 2];
        let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
        println!(
            "| {pods} | {count} | {} | {} | {:.1} µs |",
            ms(p50),
            ms(p99),
            p50.as_secs_f64() * 1e6 / pods as f64
        );
    }
}
