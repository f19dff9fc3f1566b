//! The Kubernetes tab's view: Backstage's `ObjectsByEntityResponse` turned into workloads with
//! their pods (Deployments through their ReplicaSets, CronJobs through their Jobs; standalone
//! Jobs and bare Pods too — Backstage hides those), services, ingresses, config maps, custom
//! resources, usage against requests and limits, detected errors, and cluster problems in plain
//! words. Pure: the same response always gives the same view.

use std::collections::HashMap;
use std::time::SystemTime;

use app::wire::kubernetes::{
    ClusterProblem, ClusterView, ConfigMapView, ContainerChip, CustomResourceView, DetectedError,
    HpaView, IngressView, KubernetesView, PodRow, ServiceView, Usage, Workload,
};
use serde_json::Value;

use super::dashboard;
use super::error_detection;
use super::types::{ClusterObjects, FetchError, ObjectsByEntityResponse, PodStatus};

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str().unwrap_or("")
}

fn uid(v: &Value) -> &str {
    s(v, &["metadata", "uid"])
}

fn owned_by(v: &Value, owner_uid: &str) -> bool {
    !owner_uid.is_empty()
        && v["metadata"]["ownerReferences"]
            .as_array()
            .is_some_and(|r| r.iter().any(|o| o["uid"] == owner_uid))
}

fn age(v: &Value, now: SystemTime) -> i64 {
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    time::OffsetDateTime::parse(
        s(v, &["metadata", "creationTimestamp"]),
        &time::format_description::well_known::Rfc3339,
    )
    .map(|t| (now - t.unix_timestamp()).max(0))
    .unwrap_or(0)
}

/// "410m" / "1.5" cores.
pub fn cpu_text(cores: f64) -> String {
    if cores < 1.0 {
        format!("{}m", (cores * 1000.0).round() as i64)
    } else {
        format!("{:.2}", cores)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// "232Mi" / "1.5Gi".
pub fn mem_text(bytes: f64) -> String {
    const MI: f64 = 1048576.0;
    if bytes >= 1024.0 * MI {
        format!("{:.1}Gi", bytes / (1024.0 * MI))
    } else {
        format!("{}Mi", (bytes / MI).round() as i64)
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
pub fn chips(pod: &Value) -> Vec<ContainerChip> {
    let statuses = pod["status"]["containerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if statuses.is_empty() {
        let reason = pod["status"]["conditions"]
            .as_array()
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c["type"] == "PodScheduled" && c["status"] == "False")
            })
            .and_then(|c| c["reason"].as_str())
            .unwrap_or("Pending");
        return pod["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| ContainerChip {
                name: s(c, &["name"]).into(),
                label: reason.to_string(),
                severity: "warning".into(),
            })
            .collect();
    }
    statuses
        .iter()
        .map(|c| {
            let name = s(c, &["name"]).to_string();
            let (label, severity) = if let Some(r) = c["state"]["waiting"]["reason"].as_str() {
                (
                    r.to_string(),
                    if matches!(r, "ContainerCreating" | "PodInitializing") {
                        "warning"
                    } else {
                        "error"
                    },
                )
            } else if let Some(r) = c["state"]["terminated"]["reason"].as_str() {
                let code = c["state"]["terminated"]["exitCode"].as_i64().unwrap_or(0);
                (
                    if code == 0 {
                        r.to_string()
                    } else {
                        format!("{r} (exit {code})")
                    },
                    if code == 0 { "ok" } else { "error" },
                )
            } else if c["state"]["running"].is_object() {
                if c["ready"] == true {
                    ("Running".to_string(), "ok")
                } else {
                    ("Running, not ready".to_string(), "warning")
                }
            } else {
                ("Unknown".to_string(), "warning")
            };
            ContainerChip {
                name,
                label,
                severity: severity.to_string(),
            }
        })
        .collect()
}

fn pod_row(
    cluster: &str,
    pod: &Value,
    metrics: &HashMap<(String, String), &PodStatus>,
    errors: usize,
    now: SystemTime,
) -> PodRow {
    let statuses = pod["status"]["containerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let total = pod["spec"]["containers"].as_array().map_or(0, Vec::len);
    let key = (
        s(pod, &["metadata", "namespace"]).to_string(),
        s(pod, &["metadata", "name"]).to_string(),
    );
    // A pod without container metrics (not running) shows no usage rather than zero.
    let m = metrics.get(&key).filter(|m| !m.containers.is_empty());
    PodRow {
        cluster: cluster.to_string(),
        name: key.1.clone(),
        namespace: key.0.clone(),
        phase: s(pod, &["status", "phase"]).to_string(),
        containers: chips(pod),
        ready: statuses.iter().filter(|c| c["ready"] == true).count(),
        total,
        restarts: statuses
            .iter()
            .filter_map(|c| c["restartCount"].as_i64())
            .sum(),
        cpu: m.and_then(|m| usage(&m.cpu, cpu_text)),
        memory: m.and_then(|m| usage(&m.memory, mem_text)),
        age_seconds: age(pod, now),
        node: s(pod, &["spec", "nodeName"]).to_string(),
        error_count: errors,
    }
}

/// Plain words for a cluster's errors; identical ones are merged.
pub fn problems(cluster: &str, errors: &[FetchError]) -> Vec<ClusterProblem> {
    let mut out: Vec<ClusterProblem> = Vec::new();
    for e in errors {
        let p = match e {
            FetchError::Fetch { message, .. } => ClusterProblem {
                message: format!(
                    "Cluster {cluster} could not be read: {}",
                    short_transport(message)
                ),
                detail: message.clone(),
            },
            FetchError::Status {
                status_code,
                resource_path,
                ..
            } => {
                let resource = resource_path.rsplit('/').next().unwrap_or("");
                let message = match status_code {
                    401 => format!("Cluster {cluster} rejected Greenroom's credentials (401 Unauthorized): check the token or the AWS identity configured for it"),
                    403 => format!("Greenroom's service account lacks permission to list {resource} on cluster {cluster} (403 Forbidden)"),
                    404 if resource_path.contains("metrics.k8s.io") => format!("Cluster {cluster} has no metrics API (metrics.k8s.io, 404): CPU and memory are not shown"),
                    404 => format!("Cluster {cluster} does not serve {resource} (404 Not Found)"),
                    code => format!("Cluster {cluster} failed to list {resource} ({code})"),
                };
                ClusterProblem {
                    message,
                    detail: format!("{status_code} on {resource_path}"),
                }
            }
        };
        match out.iter_mut().find(|x| x.message == p.message) {
            Some(x) => {
                if !x.detail.contains(&p.detail) {
                    x.detail = format!("{}; {}", x.detail, p.detail);
                }
            }
            None => out.push(p),
        }
    }
    out
}

fn short_transport(m: &str) -> &str {
    for w in [
        "TLS verification failed",
        "connection refused",
        "the connection was closed",
        "the host name does not resolve",
        "the answer is not valid JSON",
        "not supported by Greenroom yet",
        "no AWS credentials",
        "AWS authentication failed",
        "no service-account token",
        "too many distinct watches",
        "its connection settings are not usable",
    ] {
        if m.contains(w) {
            return w;
        }
    }
    if let Some(i) = m.find("timed out after") {
        return &m[i..];
    }
    "unreachable"
}

fn by_type(c: &ClusterObjects) -> HashMap<&str, Vec<&Value>> {
    let mut m: HashMap<&str, Vec<&Value>> = HashMap::new();
    for r in &c.resources {
        m.entry(r.object_type.as_str())
            .or_default()
            .extend(r.resources.iter().map(|o| &**o));
    }
    m
}

fn of<'a>(t: &HashMap<&'a str, Vec<&'a Value>>, k: &str) -> Vec<&'a Value> {
    t.get(k).cloned().unwrap_or_default()
}

fn condition_messages(v: &Value) -> Vec<String> {
    v["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["status"] == "False")
        .map(|c| {
            format!(
                "{}: {}",
                s(c, &["type"]),
                c["message"]
                    .as_str()
                    .or(c["reason"].as_str())
                    .unwrap_or("False")
            )
        })
        .collect()
}

/// One cluster's section and its detected errors.
pub fn cluster_view(c: &ClusterObjects, now: SystemTime) -> (ClusterView, Vec<DetectedError>) {
    let name = c.cluster.name.as_str();
    let t = by_type(c);
    let metrics: HashMap<(String, String), &PodStatus> = c
        .pod_metrics
        .iter()
        .map(|m| {
            (
                (
                    s(&m.pod, &["metadata", "namespace"]).to_string(),
                    s(&m.pod, &["metadata", "name"]).to_string(),
                ),
                m,
            )
        })
        .collect();
    let mut errors = Vec::new();
    let mut pod_error_counts: HashMap<String, usize> = HashMap::new();
    for p in of(&t, "pods") {
        let e = error_detection::pod_errors(name, p, now);
        pod_error_counts.insert(uid(p).to_string(), e.len());
        errors.extend(e);
    }
    for d in of(&t, "deployments") {
        errors.extend(error_detection::deployment_errors(name, d));
    }
    for h in of(&t, "horizontalpodautoscalers") {
        errors.extend(error_detection::hpa_errors(name, h));
    }
    let pods = of(&t, "pods");
    let mut claimed: Vec<String> = Vec::new();
    let mut pods_of = |owner_uids: &[&str], claimed: &mut Vec<String>| -> Vec<PodRow> {
        let mut rows: Vec<PodRow> = pods
            .iter()
            .filter(|p| owner_uids.iter().any(|u| owned_by(p, u)))
            .map(|p| {
                claimed.push(uid(p).to_string());
                pod_row(
                    name,
                    p,
                    &metrics,
                    pod_error_counts.get(uid(p)).copied().unwrap_or(0),
                    now,
                )
            })
            .collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        rows
    };
    let link = |kind: &str, v: &Value| {
        dashboard::object_link(
            &c.cluster,
            kind,
            s(v, &["metadata", "namespace"]),
            s(v, &["metadata", "name"]),
        )
    };
    let base = |kind: &str, v: &Value, status: String| Workload {
        kind: kind.to_string(),
        name: s(v, &["metadata", "name"]).to_string(),
        namespace: s(v, &["metadata", "namespace"]).to_string(),
        status,
        failing_conditions: condition_messages(v),
        dashboard_link: link(&kind.to_lowercase(), v),
        ..Workload::default()
    };
    let mut workloads = Vec::new();
    let replicasets = of(&t, "replicasets");
    let hpas = of(&t, "horizontalpodautoscalers");
    for d in of(&t, "deployments") {
        let rs_uids: Vec<&str> = replicasets
            .iter()
            .filter(|r| owned_by(r, uid(d)))
            .map(|r| uid(r))
            .collect();
        let mut w = base(
            "Deployment",
            d,
            format!(
                "{}/{} ready",
                d["status"]["readyReplicas"].as_i64().unwrap_or(0),
                d["spec"]["replicas"].as_i64().unwrap_or(1)
            ),
        );
        w.pods = pods_of(&rs_uids, &mut claimed);
        w.hpa = hpas
            .iter()
            .find(|h| {
                h["spec"]["scaleTargetRef"]["kind"] == "Deployment"
                    && h["spec"]["scaleTargetRef"]["name"] == d["metadata"]["name"]
                    && h["metadata"]["namespace"] == d["metadata"]["namespace"]
            })
            .map(|h| HpaView {
                name: s(h, &["metadata", "name"]).to_string(),
                min: h["spec"]["minReplicas"].as_i64().unwrap_or(1),
                max: h["spec"]["maxReplicas"].as_i64().unwrap_or(0),
                current: h["status"]["currentReplicas"].as_i64().unwrap_or(0),
                cpu_target: h["spec"]["metrics"]
                    .as_array()
                    .and_then(|ms| ms.iter().find(|m| m["resource"]["name"] == "cpu"))
                    .and_then(|m| m["resource"]["target"]["averageUtilization"].as_i64()),
                cpu_current: h["status"]["currentMetrics"]
                    .as_array()
                    .and_then(|ms| ms.iter().find(|m| m["resource"]["name"] == "cpu"))
                    .and_then(|m| m["resource"]["current"]["averageUtilization"].as_i64()),
            });
        workloads.push(w);
    }
    for st in of(&t, "statefulsets") {
        let mut w = base(
            "StatefulSet",
            st,
            format!(
                "{}/{} ready",
                st["status"]["readyReplicas"].as_i64().unwrap_or(0),
                st["spec"]["replicas"].as_i64().unwrap_or(1)
            ),
        );
        w.pods = pods_of(&[uid(st)], &mut claimed);
        workloads.push(w);
    }
    for ds in of(&t, "daemonsets") {
        let mut w = base(
            "DaemonSet",
            ds,
            format!(
                "{}/{} ready",
                ds["status"]["numberReady"].as_i64().unwrap_or(0),
                ds["status"]["desiredNumberScheduled"].as_i64().unwrap_or(0)
            ),
        );
        w.pods = pods_of(&[uid(ds)], &mut claimed);
        workloads.push(w);
    }
    let jobs = of(&t, "jobs");
    let job_view =
        |j: &Value,
         claimed: &mut Vec<String>,
         pods_of: &mut dyn FnMut(&[&str], &mut Vec<String>) -> Vec<PodRow>| {
            let complete = j["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Complete" && c["status"] == "True")
            });
            let failed = j["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Failed" && c["status"] == "True")
            });
            let done = j["status"]["succeeded"].as_i64().unwrap_or(0);
            let want = j["spec"]["completions"].as_i64().unwrap_or(1);
            let state = if complete {
                "Complete"
            } else if failed {
                "Failed"
            } else {
                "Running"
            };
            let mut w = base("Job", j, format!("{state} ({done}/{want})"));
            w.pods = pods_of(&[uid(j)], claimed);
            w
        };
    for cj in of(&t, "cronjobs") {
        let mut w = base(
            "CronJob",
            cj,
            format!(
                "schedule {}{}",
                s(cj, &["spec", "schedule"]),
                cj["status"]["lastScheduleTime"]
                    .as_str()
                    .map(|t| format!(", last run {t}"))
                    .unwrap_or_default()
            ),
        );
        for j in jobs.iter().filter(|j| owned_by(j, uid(cj))) {
            w.jobs.push(job_view(j, &mut claimed, &mut pods_of));
        }
        w.jobs.sort_by(|a, b| b.name.cmp(&a.name));
        workloads.push(w);
    }
    let cron_uids: Vec<&str> = of(&t, "cronjobs").iter().map(|c| uid(c)).collect();
    for j in jobs
        .iter()
        .filter(|j| !cron_uids.iter().any(|u| owned_by(j, u)))
    {
        workloads.push(job_view(j, &mut claimed, &mut pods_of));
    }
    // Pods no fetched workload claims: bare pods (Backstage does not show them).
    for p in pods.iter().filter(|p| !claimed.iter().any(|c| c == uid(p))) {
        let mut w = base("Pod", p, s(p, &["status", "phase"]).to_string());
        w.failing_conditions.clear();
        w.pods = vec![pod_row(
            name,
            p,
            &metrics,
            pod_error_counts.get(uid(p)).copied().unwrap_or(0),
            now,
        )];
        workloads.push(w);
    }
    let services = of(&t, "services")
        .iter()
        .map(|v| ServiceView {
            name: s(v, &["metadata", "name"]).into(),
            namespace: s(v, &["metadata", "namespace"]).into(),
            service_type: s(v, &["spec", "type"]).into(),
            cluster_ip: s(v, &["spec", "clusterIP"]).into(),
            ports: v["spec"]["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    let node = p["nodePort"]
                        .as_i64()
                        .map(|n| format!(":{n}"))
                        .unwrap_or_default();
                    let target = match &p["targetPort"] {
                        Value::Null => String::new(),
                        t => format!(
                            " → {}",
                            t.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| t.to_string())
                        ),
                    };
                    format!(
                        "{}{node}/{}{target}",
                        p["port"],
                        p["protocol"].as_str().unwrap_or("TCP")
                    )
                })
                .collect(),
        })
        .collect();
    let ingresses = of(&t, "ingresses")
        .iter()
        .map(|v| {
            let tls_hosts: Vec<&str> = v["spec"]["tls"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|t| {
                    t["hosts"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                })
                .collect();
            let mut routes = Vec::new();
            for r in v["spec"]["rules"].as_array().into_iter().flatten() {
                let host = s(r, &["host"]);
                let scheme = if tls_hosts.contains(&host) {
                    "https"
                } else {
                    "http"
                };
                for p in r["http"]["paths"].as_array().into_iter().flatten() {
                    let b = &p["backend"]["service"];
                    let port = b["port"]["number"]
                        .as_i64()
                        .map(|n| n.to_string())
                        .or_else(|| b["port"]["name"].as_str().map(str::to_string))
                        .unwrap_or_default();
                    routes.push((
                        format!("{scheme}://{host}{}", p["path"].as_str().unwrap_or("/")),
                        format!("{}:{port}", s(b, &["name"])),
                    ));
                }
            }
            IngressView {
                name: s(v, &["metadata", "name"]).into(),
                namespace: s(v, &["metadata", "namespace"]).into(),
                routes,
            }
        })
        .collect();
    let config_maps = of(&t, "configmaps")
        .iter()
        .map(|v| {
            let mut keys: Vec<String> = v["data"]
                .as_object()
                .into_iter()
                .flatten()
                .chain(v["binaryData"].as_object().into_iter().flatten())
                .map(|(k, _)| k.clone())
                .collect();
            keys.sort();
            ConfigMapView {
                name: s(v, &["metadata", "name"]).into(),
                namespace: s(v, &["metadata", "namespace"]).into(),
                keys,
            }
        })
        .collect();
    let custom_resources = of(&t, "customresources")
        .iter()
        .map(|v| CustomResourceView {
            kind: s(v, &["kind"]).into(),
            api_version: s(v, &["apiVersion"]).into(),
            name: s(v, &["metadata", "name"]).into(),
            namespace: s(v, &["metadata", "namespace"]).into(),
            status: v["status"]["phase"]
                .as_str()
                .map(str::to_string)
                .or_else(|| {
                    v["status"]["conditions"]
                        .as_array()
                        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
                        .map(|c| format!("Ready={}", s(c, &["status"])))
                }),
        })
        .collect();
    let view = ClusterView {
        name: name.to_string(),
        title: c.cluster.title.clone(),
        dashboard_url: dashboard::cluster_link(&c.cluster),
        pods: pods.len(),
        pods_with_errors: pod_error_counts.values().filter(|n| **n > 0).count(),
        problems: problems(name, &c.errors),
        workloads,
        services,
        ingresses,
        config_maps,
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
