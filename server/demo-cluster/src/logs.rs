//! Container logs as the kubelet serves them. Lines are derived from the pod (its
//! `demo.greenroom.dev/log` hint and scenario) and the clock, so nothing is stored per pod:
//! start-up lines at the container's start, then a request-log line every few seconds while it
//! runs (up to "now" in a live cluster, up to the simulator's start in a frozen one), plus lines
//! added through the control API.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::cluster::Cluster;
use crate::controller::pods::{self, hint, Scenario};
use crate::store::str_at;

/// Seconds between generated request-log lines.
pub const LINE_EVERY: u64 = 5;
const MAX_GENERATED: u64 = 5000;

/// A log request the kubelet would refuse (400 with this message).
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct LogError(pub String);

fn default_lines(pod: &Value, container: &str) -> Vec<String> {
    let image = pod["spec"]["containers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == container))
        .and_then(|c| c["image"].as_str())
        .unwrap_or("");
    vec![
        format!("starting {container} ({image})"),
        "listening on :8080".to_string(),
    ]
}

fn request_line(pod: &str, i: u64, scenario: Scenario) -> String {
    const PATHS: &[&str] = &[
        "/healthz",
        "/api/v1/items",
        "/api/v1/items/42",
        "/metrics",
        "/api/v1/search?q=tent",
    ];
    let path = PATHS[(i % PATHS.len() as u64) as usize];
    let ms = 1 + (i * 7 + pod.len() as u64) % 40;
    if scenario == Scenario::NeverReady {
        if i % 2 == 0 {
            return "GET /ready 503 dependency check failed: redis cart-cache:6379: connection refused".to_string();
        }
        return format!("GET {path} 200 {ms}ms");
    }
    format!("GET {path} 200 {ms}ms")
}

/// The lines of one container (`previous` = the run before the current one), oldest first.
pub fn lines(
    cluster: &Cluster,
    pod: &Value,
    container: &str,
    previous: bool,
) -> Result<Vec<(SystemTime, String)>, LogError> {
    let name = str_at(pod, &["metadata", "name"]);
    let ns = str_at(pod, &["metadata", "namespace"]);
    let status = pod["status"]["containerStatuses"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == container))
        .cloned()
        .unwrap_or(Value::Null);
    let default = if pod["metadata"]["labels"].get("job-name").is_some() {
        Scenario::Completed
    } else {
        Scenario::Healthy
    };
    let scenario = Scenario::of(pod, default);
    let waiting = status["state"]["waiting"]["reason"].as_str();
    let restarts = status["restartCount"].as_i64().unwrap_or(0);
    if previous {
        if restarts == 0 {
            return Err(LogError(format!(
                "previous terminated container \"{container}\" in pod \"{name}\" not found"
            )));
        }
    } else if let Some(reason) = waiting {
        if reason != "CrashLoopBackOff" {
            let why = if reason.contains("ImagePull") || reason == "ErrImagePull" {
                "trying and failing to pull image".to_string()
            } else {
                reason.to_string()
            };
            return Err(LogError(format!(
                "container \"{container}\" in pod \"{name}\" is waiting to start: {why}"
            )));
        }
    }
    if status.is_null() {
        return Err(LogError(format!(
            "container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating"
        )));
    }
    let script: Vec<String> = hint(pod, "log")
        .map(|l| l.lines().map(str::to_string).collect())
        .unwrap_or_else(|| default_lines(pod, container));
    let mut out = Vec::new();
    let stamp = |start: SystemTime, i: usize| start + Duration::from_millis(50 * i as u64);
    if scenario.restarts() || previous {
        // A crash-looping container prints its script and dies; the current "log" is the last
        // run's, the previous one the run before (a back-off earlier).
        let last_start = status["lastState"]["terminated"]["startedAt"]
            .as_str()
            .and_then(crate::clock::parse)
            .unwrap_or(cluster.started);
        let start = if previous {
            last_start - Duration::from_secs(60)
        } else {
            last_start
        };
        for (i, l) in script.iter().enumerate() {
            out.push((stamp(start, i), l.clone()));
        }
        if scenario == Scenario::OomKilled {
            out.push((
                stamp(start, script.len()),
                "allocating buffers for settlement batch".to_string(),
            ));
        }
    } else {
        let start = status["state"]["running"]["startedAt"]
            .as_str()
            .or_else(|| status["state"]["terminated"]["startedAt"].as_str())
            .and_then(crate::clock::parse)
            .unwrap_or(cluster.started);
        for (i, l) in script.iter().enumerate() {
            out.push((stamp(start, i), l.clone()));
        }
        let running = status["state"]["running"].is_object();
        if running
            && !matches!(scenario, Scenario::Completed | Scenario::Failed)
            && hint(pod, "log").is_none_or(|_| true)
        {
            let end = cluster.now();
            let first = start + Duration::from_secs(LINE_EVERY);
            if end > first {
                let n = end
                    .duration_since(first)
                    .map(|d| d.as_secs() / LINE_EVERY)
                    .unwrap_or(0);
                for i in n.saturating_sub(MAX_GENERATED)..=n {
                    out.push((
                        first + Duration::from_secs(i * LINE_EVERY),
                        request_line(name, i, scenario),
                    ));
                }
            }
        }
    }
    if !previous {
        out.extend(cluster.logs.get(ns, name, container));
        out.sort_by_key(|(t, _)| *t);
    }
    Ok(out)
}

/// The container a log request means: the named one, or the only one.
pub fn pick_container(pod: &Value, requested: Option<&str>) -> Result<String, LogError> {
    let names = pods::containers(pod);
    let name = str_at(pod, &["metadata", "name"]);
    match requested {
        Some(c) if names.iter().any(|n| n == c) => Ok(c.to_string()),
        Some(c) => Err(LogError(format!(
            "container {c} is not valid for pod {name}"
        ))),
        None if names.len() == 1 => Ok(names[0].clone()),
        None => Err(LogError(format!(
            "a container name must be specified for pod {name}, choose one of: [{}]",
            names.join(" ")
        ))),
    }
}
