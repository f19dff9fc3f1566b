//! metrics.k8s.io: what metrics-server reports for running containers. Usage comes from the
//! `demo.greenroom.dev/cpu` / `memory` hints (default: a tenth of the request), with a small
//! wobble over time when the cluster is alive.

use std::time::SystemTime;

use serde_json::{json, Value};

use crate::controller::pods::hint;
use crate::quantity;

fn request(container: &Value, res: &str) -> Option<f64> {
    let r = &container["resources"];
    let q = r["requests"]
        .get(res)
        .or_else(|| r["limits"].get(res))?
        .as_str()?;
    if res == "cpu" {
        quantity::millicores(q)
    } else {
        quantity::bytes(q)
    }
}

fn wobble(seed: &str, now: SystemTime) -> f64 {
    use sha2::Digest;
    let bucket = crate::clock::unix(now) / 15;
    let d = sha2::Sha256::digest(format!("{seed}/{bucket}").as_bytes());
    1.0 + (f64::from(d[0]) / 255.0 - 0.5) * 0.06
}

/// (millicores, bytes) a container of a pod uses now; None for a container that is not running.
pub fn usage(pod: &Value, index: usize, now: SystemTime) -> Option<(f64, f64)> {
    let status = &pod["status"]["containerStatuses"][index];
    status["state"]["running"].as_object()?;
    let c = &pod["spec"]["containers"][index];
    let cpu = hint(pod, "cpu")
        .and_then(quantity::millicores)
        .or_else(|| request(c, "cpu").map(|r| r / 10.0))
        .unwrap_or(2.0);
    let mem = hint(pod, "memory")
        .and_then(quantity::bytes)
        .or_else(|| request(c, "memory").map(|r| r / 10.0))
        .unwrap_or(16.0 * 1048576.0);
    let name = pod["metadata"]["name"].as_str().unwrap_or("");
    // Frozen clusters report exact hint values so tests can assert on them.
    let (wc, wm) = if now == SystemTime::UNIX_EPOCH {
        (1.0, 1.0)
    } else {
        (
            wobble(name, now),
            1.0 + (wobble(&format!("{name}m"), now) - 1.0) / 3.0,
        )
    };
    Some((cpu * wc, mem * wm))
}

/// Average CPU use of a pod's running containers as a percentage of their requests.
pub fn cpu_utilisation(pod: &Value, now: SystemTime) -> Option<f64> {
    let cs = pod["spec"]["containers"].as_array()?;
    let (mut used, mut req) = (0.0, 0.0);
    for (i, c) in cs.iter().enumerate() {
        let (cpu, _) = usage(pod, i, now)?;
        used += cpu;
        req += request(c, "cpu")?;
    }
    (req > 0.0).then(|| used / req * 100.0)
}

/// Average CPU use in millicores over pods.
pub fn avg_cpu_millis(pods: &[std::sync::Arc<Value>], now: SystemTime) -> f64 {
    let v: Vec<f64> = pods
        .iter()
        .map(|p| {
            (0..p["spec"]["containers"].as_array().map_or(0, Vec::len))
                .filter_map(|i| usage(p, i, now))
                .map(|u| u.0)
                .sum()
        })
        .collect();
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// The PodMetrics object for a pod, if any container runs.
pub fn pod_metrics(pod: &Value, now: SystemTime, frozen: bool) -> Option<Value> {
    let at = if frozen { SystemTime::UNIX_EPOCH } else { now };
    let containers: Vec<Value> = pod["spec"]["containers"]
        .as_array()?
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let (cpu, mem) = usage(pod, i, at)?;
            Some(json!({"name": c["name"], "usage": {"cpu": format!("{}n", (cpu * 1e6).round() as u64), "memory": format!("{}Ki", (mem / 1024.0).round() as u64)}}))
        })
        .collect();
    if containers.is_empty() {
        return None;
    }
    Some(json!({
        "kind": "PodMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {"name": pod["metadata"]["name"], "namespace": pod["metadata"]["namespace"], "labels": pod["metadata"]["labels"], "creationTimestamp": crate::clock::rfc3339(now)},
        "timestamp": crate::clock::rfc3339(now),
        "window": "15.012s",
        "containers": containers,
    }))
}
