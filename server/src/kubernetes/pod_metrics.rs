//! Backstage's `podMetrics` (`ClientPodStatus`): per listed pod, CPU (cores, numbers) and memory
//! (bytes, as strings; zero as the number 0) in use against the requests and limits of its
//! containers, from metrics.k8s.io `PodMetrics`. A pod without metrics gets zero usage and no
//! container entries. (Backstage's pod-level memory `requestTotal` adds up limits by mistake;
//! Greenroom sums the requests.)

use serde_json::{json, Value};

use super::quantity::{bytes, cores};
use super::types::{Object, PodStatus};

fn cpu_value(v: f64) -> Value {
    // Whole nanocores: avoids 0.30000000000000004-style noise.
    json!((v * 1e9).round() / 1e9)
}

fn mem_value(v: f64) -> Value {
    if v == 0.0 {
        json!(0)
    } else {
        json!(format!("{}", v.round() as u64))
    }
}

#[derive(Default, Clone, Copy)]
struct Totals {
    usage: f64,
    request: f64,
    limit: f64,
}

impl Totals {
    fn add(&mut self, o: Totals) {
        self.usage += o.usage;
        self.request += o.request;
        self.limit += o.limit;
    }
}

fn container_totals(
    container: &Value,
    res: &str,
    usage: Option<&Value>,
    parse: fn(&str) -> Option<f64>,
) -> Totals {
    let r = &container["resources"];
    let get = |section: &str| r[section][res].as_str().and_then(parse).unwrap_or(0.0);
    Totals {
        usage: usage
            .and_then(|u| u[res].as_str())
            .and_then(parse)
            .unwrap_or(0.0),
        request: get("requests"),
        limit: get("limits"),
    }
}

fn usage_json(t: Totals, f: fn(f64) -> Value) -> Value {
    json!({"currentUsage": f(t.usage), "requestTotal": f(t.request), "limitTotal": f(t.limit)})
}

/// One `podMetrics` entry for a pod, given the PodMetrics items of its namespace.
pub fn pod_status(pod: &Object, metrics: &[Value]) -> PodStatus {
    let name = &pod["metadata"]["name"];
    let ns = &pod["metadata"]["namespace"];
    let m = metrics.iter().find(|m| {
        &m["metadata"]["name"] == name
            && (m["metadata"]["namespace"].is_null() || &m["metadata"]["namespace"] == ns)
    });
    let mut cpu = Totals::default();
    let mut mem = Totals::default();
    let mut containers = Vec::new();
    for c in pod["spec"]["containers"].as_array().into_iter().flatten() {
        let usage = m
            .and_then(|m| m["containers"].as_array())
            .and_then(|cs| cs.iter().find(|x| x["name"] == c["name"]))
            .map(|x| &x["usage"]);
        let c_cpu = container_totals(c, "cpu", usage, cores);
        let c_mem = container_totals(c, "memory", usage, bytes);
        cpu.add(c_cpu);
        mem.add(c_mem);
        if usage.is_some() {
            containers.push(json!({"container": c["name"], "cpuUsage": usage_json(c_cpu, cpu_value), "memoryUsage": usage_json(c_mem, mem_value)}));
        }
    }
    PodStatus {
        pod: pod.clone(),
        cpu: usage_json(cpu, cpu_value),
        memory: usage_json(mem, mem_value),
        containers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_against_requests_and_limits() {
        let pod = json!({"metadata": {"name": "p", "namespace": "n"}, "spec": {"containers": [
            {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}},
            {"name": "b", "resources": {}}]}});
        let metrics = vec![
            json!({"metadata": {"name": "p", "namespace": "n"}, "containers": [{"name": "a", "usage": {"cpu": "410000000n", "memory": "237568Ki"}}]}),
        ];
        let pod = Object::from(pod);
        let s = pod_status(&pod, &metrics);
        assert_eq!(
            s.cpu,
            json!({"currentUsage": 0.41, "requestTotal": 0.1, "limitTotal": 0.5})
        );
        assert_eq!(
            s.memory,
            json!({"currentUsage": "243269632", "requestTotal": "134217728", "limitTotal": "268435456"})
        );
        assert_eq!(s.containers.len(), 1);
        assert_eq!(s.containers[0]["container"], "a");
        // No metrics: zero usage, no containers.
        let none = pod_status(&pod, &[]);
        assert_eq!(none.cpu["currentUsage"], json!(0.0));
        assert_eq!(none.memory["currentUsage"], json!(0));
        assert!(none.containers.is_empty());
    }
}
