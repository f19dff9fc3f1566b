//! Benchmark of the Kubernetes lookup by plain lists (the watch cache off, Backstage's path):
//! latency of one entity lookup (all 13 object types plus pod metrics) and the API-server
//! requests it costs, against 1 and 3 demo clusters holding 1,000 matching pods each, over HTTPS
//! with verified TLS and bearer tokens — the same path as a real cluster. The cached path is
//! measured by `live_bench`.
//!
//! `. ./env.sh && cargo run --release -p server --example kubernetes_bench`

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use server::catalog::store::{CatalogStore, Snapshot};
use server::kubernetes::auth::Authenticator;
use server::kubernetes::KubernetesService;

const PODS: usize = 1000;
const RUNS: usize = 30;

fn sim_config(n: usize) -> demo_cluster::SimConfig {
    let clusters = (1..=n)
        .map(|i| demo_cluster::config::ClusterConfig {
            name: format!("bench-{i}"),
            manifests: None,
            port: None,
            service_accounts: vec![demo_cluster::config::ServiceAccount {
                name: "reader".into(),
                namespace: "default".into(),
                token: Some(format!("bench-token-{i}")),
                forbid: vec![],
            }],
            anonymous: false,
            eks: None,
        })
        .collect();
    demo_cluster::SimConfig {
        clusters,
        aws: None,
        base: PathBuf::new(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn run(running: &demo_cluster::Running, clusters: usize) -> (Duration, Duration, f64, usize) {
    let list: Vec<serde_json::Value> = running.clusters[..clusters]
        .iter()
        .map(|c| json!({"name": c.name, "url": c.url, "authProvider": "serviceAccount", "serviceAccountToken": c.token("reader"), "caData": c.ca_data()}))
        .collect();
    let cfg = server::config::Config::from_json_layers(vec![(
        "bench.yaml".into(),
        json!({"kubernetes": {"serviceLocatorMethod": {"type": "multiTenant"}, "fetchTimeoutMs": 30000, "cache": {"enabled": false}, "clusterLocatorMethods": [{"type": "config", "clusters": list}]}}),
    )]);
    let k = server::kubernetes::config::read(&cfg, &PathBuf::from("."))
        .expect("config")
        .expect("block");
    let svc = KubernetesService::new(
        k,
        Authenticator::new(Default::default(), &HashMap::new()),
        Arc::new(CatalogStore::new(Snapshot::default())),
    );
    let entity = json!({"kind": "Component", "metadata": {"name": "bench-app", "annotations": {"backstage.io/kubernetes-id": "bench-app", "backstage.io/kubernetes-namespace": "bench"}}});
    // Warm-up: connections and TLS sessions.
    let first = svc
        .objects_by_entity(&entity, None)
        .await
        .expect("valid annotations");
    let pods: usize = first
        .items
        .iter()
        .flat_map(|i| i.resources.iter())
        .filter(|r| r.object_type == "pods")
        .map(|r| r.resources.len())
        .sum();
    for c in &running.clusters {
        c.cluster.stats.reset();
    }
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let r = svc
            .objects_by_entity(&entity, None)
            .await
            .expect("valid annotations");
        times.push(t.elapsed());
        assert!(
            r.items.iter().all(|i| i.errors.is_empty()),
            "errors: {:?}",
            r.items.iter().map(|i| &i.errors).collect::<Vec<_>>()
        );
    }
    times.sort();
    let requests: u64 = running.clusters[..clusters]
        .iter()
        .map(|c| c.cluster.stats.snapshot()["total"].as_u64().unwrap_or(0))
        .sum();
    (
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        requests as f64 / RUNS as f64,
        pods,
    )
}

#[tokio::main]
async fn main() {
    let running = demo_cluster::start(&sim_config(3), &demo_cluster::Options::default())
        .await
        .expect("demo clusters start");
    let t = Instant::now();
    for c in &running.clusters {
        c.cluster
            .apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}}))
            .expect("namespace");
        for i in 0..PODS {
            c.cluster
                .apply(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("bench-app-{i:04}"), "namespace": "bench", "labels": {"backstage.io/kubernetes-id": "bench-app"}},
                    "spec": {"containers": [{"name": "app", "image": "acme/bench:1", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}}}]}}))
                .expect("pod");
        }
    }
    eprintln!(
        "seeded 3 clusters × {PODS} pods in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    println!(
        "| clusters | pods returned | lookup p50 | lookup p99 | API-server requests per lookup |"
    );
    println!("| --- | --- | --- | --- | --- |");
    for n in [1, 3] {
        let (p50, p99, reqs, pods) = run(&running, n).await;
        println!(
            "| {n} | {pods} | {:.1} ms | {:.1} ms | {reqs:.0} |",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
    }
}
