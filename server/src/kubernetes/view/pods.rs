//! Pod rows of the tab: phase, one chip per container, readiness, restarts, age, node, and
//! CPU and memory against requests and limits (from Backstage's `podMetrics`).

use std::collections::HashMap;
use std::time::SystemTime;

use app::wire::kubernetes::{ContainerChip, PodRow, Usage};
use serde_json::Value;

use crate::kubernetes::objects::{self, Pod};
use crate::kubernetes::types::PodStatus;

/// "410 mCPU" / "1.5 cores": the unit spelled out, so CPU never reads like an age in minutes.
pub fn cpu_text(cores: f64) -> String {
    if cores < 1.0 {
        format!("{} mCPU", (cores * 1000.0).round() as i64)
    } else {
        let n = format!("{:.2}", cores)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string();
        if n == "1" {
            "1 core".to_string()
        } else {
            format!("{n} cores")
        }
    }
}

/// "232 MiB" / "1.5 GiB".
pub fn mem_text(bytes: f64) -> String {
    const MI: f64 = 1048576.0;
    if bytes >= 1024.0 * MI {
        format!("{:.1} GiB", bytes / (1024.0 * MI))
    } else {
        format!("{} MiB", (bytes / MI).round() as i64)
    }
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::String(s) => s.parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Usage from a podMetrics `{currentUsage, requestTotal, limitTotal}` triple.
pub fn usage(m: &Value, text: fn(f64) -> String) -> Option<Usage> {
    if !m.is_object() {
        return None;
    }
    let (used, req, lim) = (
        num(&m["currentUsage"]),
        num(&m["requestTotal"]),
        num(&m["limitTotal"]),
    );
    let pct = |b: f64| (b > 0.0).then(|| (used / b * 100.0).round() as u32);
    let bounds = match (req > 0.0, lim > 0.0) {
        (true, true) => format!("request {}, limit {}", text(req), text(lim)),
        (true, false) => format!("request {}, no limit", text(req)),
        (false, true) => format!("no request, limit {}", text(lim)),
        (false, false) => "no request or limit".to_string(),
    };
    Some(Usage {
        used: text(used),
        of_request: pct(req),
        of_limit: pct(lim),
        bounds,
    })
}

/// The chips of a pod's containers.
pub fn chips(pod: &Pod) -> Vec<ContainerChip> {
    let statuses = pod.status.container_statuses.as_deref().unwrap_or_default();
    if statuses.is_empty() {
        let reason = pod
            .status
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == "PodScheduled" && c.status == "False")
            .and_then(|c| c.reason.as_deref())
            .unwrap_or("Pending");
        return pod
            .spec
            .containers
            .iter()
            .map(|c| ContainerChip {
                name: c.name.clone(),
                label: reason.to_string(),
                severity: "warning".into(),
            })
            .collect();
    }
    statuses
        .iter()
        .map(|c| {
            let state = c.state.as_ref();
            let waiting = state.and_then(|s| s.waiting.as_ref());
            let terminated = state.and_then(|s| s.terminated.as_ref());
            let (label, severity) = if let Some(r) = waiting.and_then(|w| w.reason.as_deref()) {
                let starting = matches!(r, "ContainerCreating" | "PodInitializing");
                (r.to_string(), if starting { "warning" } else { "error" })
            } else if let Some((r, t)) = terminated.and_then(|t| Some((t.reason.as_deref()?, t))) {
                let code = t.exit_code;
                if code == 0 {
                    (r.to_string(), "ok")
                } else {
                    (format!("{r} (exit {code})"), "error")
                }
            } else if state.is_some_and(|s| s.running.is_some()) {
                if c.ready {
                    ("Running".to_string(), "ok")
                } else {
                    ("Running, not ready".to_string(), "warning")
                }
            } else {
                ("Unknown".to_string(), "warning")
            };
            ContainerChip {
                name: c.name.clone(),
                label,
                severity: severity.to_string(),
            }
        })
        .collect()
}

/// What every pod row of one cluster is made with.
pub struct Rows<'a> {
    /// The cluster's name.
    pub cluster: &'a str,
    /// podMetrics by (namespace, name).
    pub metrics: HashMap<(String, String), &'a PodStatus>,
    /// Detected errors by pod uid.
    pub error_counts: HashMap<String, usize>,
    /// The time ages are measured to, in seconds since the Unix epoch.
    now: i64,
}

impl<'a> Rows<'a> {
    /// Rows for a cluster's pods.
    pub fn new(cluster: &'a str, pod_metrics: &'a [PodStatus], now: SystemTime) -> Self {
        let text = |m: &'a PodStatus, k: &str| {
            m.pod["metadata"][k]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        Self {
            cluster,
            metrics: pod_metrics
                .iter()
                .map(|m| ((text(m, "namespace"), text(m, "name")), m))
                .collect(),
            error_counts: HashMap::new(),
            now: objects::unix_seconds(now),
        }
    }

    /// One pod's row.
    pub fn row(&self, pod: &Pod) -> PodRow {
        let statuses = pod.status.container_statuses.as_deref().unwrap_or_default();
        let key = (
            objects::namespace(&pod.metadata).to_string(),
            objects::name(&pod.metadata).to_string(),
        );
        // A pod without container metrics (not running) shows no usage rather than zero.
        let m = self.metrics.get(&key).filter(|m| !m.containers.is_empty());
        let created = pod.metadata.creation_timestamp.as_ref();
        PodRow {
            cluster: self.cluster.to_string(),
            name: key.1.clone(),
            namespace: key.0.clone(),
            phase: pod.status.phase.clone().unwrap_or_default(),
            containers: chips(pod),
            ready: statuses.iter().filter(|c| c.ready).count(),
            total: pod.spec.containers.len(),
            restarts: statuses.iter().map(|c| i64::from(c.restart_count)).sum(),
            cpu: m.and_then(|m| usage(&m.cpu, cpu_text)),
            memory: m.and_then(|m| usage(&m.memory, mem_text)),
            age_seconds: created.map_or(0, |t| (self.now - objects::seconds(t)).max(0)),
            node: pod.spec.node_name.clone().unwrap_or_default(),
            error_count: self
                .error_counts
                .get(objects::uid(&pod.metadata))
                .copied()
                .unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize as _;
    use serde_json::json;

    fn pod(v: Value) -> Pod {
        Pod::deserialize(&v).expect("a pod")
    }

    #[test]
    fn chips_say_what_each_container_is_doing() {
        let p = pod(
            json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "d"}, {"name": "e"}]},
            "status": {"containerStatuses": [
                {"name": "a", "ready": true, "state": {"running": {"startedAt": "2026-11-24T09:00:00Z"}}},
                {"name": "b", "ready": false, "state": {"running": {}}},
                {"name": "c", "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
                {"name": "d", "state": {"terminated": {"reason": "Error", "exitCode": 2}}},
                {"name": "e", "state": {"waiting": {"reason": "ContainerCreating"}}}]}}),
        );
        let got: Vec<(String, String)> = chips(&p)
            .into_iter()
            .map(|c| (c.label, c.severity))
            .collect();
        let want = [
            ("Running", "ok"),
            ("Running, not ready", "warning"),
            ("CrashLoopBackOff", "error"),
            ("Error (exit 2)", "error"),
            ("ContainerCreating", "warning"),
        ];
        assert_eq!(
            got,
            want.map(|(l, s)| (l.to_string(), s.to_string())).to_vec()
        );
        let unscheduled = pod(
            json!({"spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}}),
        );
        assert_eq!(chips(&unscheduled)[0].label, "Unschedulable");
    }

    #[test]
    fn a_row_counts_readiness_restarts_and_age() {
        let p = pod(
            json!({"metadata": {"name": "p", "namespace": "n", "uid": "u", "creationTimestamp": "2026-11-24T09:00:00Z"},
            "spec": {"nodeName": "node-1", "containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 2, "state": {"running": {}}},
                {"name": "b", "ready": false, "restartCount": 1, "state": {"running": {}}}]}}),
        );
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_510_800 + 90);
        let mut rows = Rows::new("c", &[], now);
        rows.error_counts.insert("u".into(), 3);
        let r = rows.row(&p);
        assert_eq!((r.ready, r.total, r.restarts, r.error_count), (1, 2, 3, 3));
        assert_eq!((r.phase.as_str(), r.node.as_str()), ("Running", "node-1"));
        assert_eq!(r.age_seconds, 90);
        assert!(r.cpu.is_none(), "no metrics: no usage");
    }

    #[test]
    fn usage_against_request_and_limit() {
        let u = usage(
            &json!({"currentUsage": 0.25, "requestTotal": 0.5, "limitTotal": 1}),
            cpu_text,
        )
        .expect("usage");
        assert_eq!(
            (u.used.as_str(), u.of_request, u.of_limit, u.bounds.as_str()),
            (
                "250 mCPU",
                Some(50),
                Some(25),
                "request 500 mCPU, limit 1 core"
            )
        );
        assert_eq!(cpu_text(2.5), "2.5 cores");
        assert_eq!(mem_text(1536.0 * 1048576.0), "1.5 GiB");
        assert_eq!(mem_text(232.0 * 1048576.0), "232 MiB");
        assert_eq!(usage(&Value::Null, mem_text), None);
    }
}
