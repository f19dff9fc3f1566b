//! Pods as the kubelet reports them: a pod built from a template, and its status for the
//! scenario its `demo.greenroom.dev/*` annotations ask for (see `catalog/clusters/README.md`).

use std::time::{Duration, SystemTime};

use serde_json::{json, Map, Value};

use crate::clock::rfc3339;
use crate::store::str_at;

/// Annotation prefix of the simulator's hints.
pub const HINT: &str = "demo.greenroom.dev/";

/// What a pod's containers do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Running and ready.
    Healthy,
    /// Exits at start; CrashLoopBackOff with restarts.
    CrashLoop,
    /// Image cannot be pulled.
    ImagePullError,
    /// Killed for exceeding its memory limit, then back-off.
    OomKilled,
    /// Running, readiness probe failing.
    NeverReady,
    /// Runs to completion (Job pods).
    Completed,
    /// Runs and fails (Job pods).
    Failed,
}

impl Scenario {
    /// Reads the scenario hint; `default` when absent or unknown.
    pub fn of(pod: &Value, default: Scenario) -> Scenario {
        match hint(pod, "scenario") {
            Some("healthy") => Scenario::Healthy,
            Some("crash-loop") => Scenario::CrashLoop,
            Some("image-pull-error") => Scenario::ImagePullError,
            Some("oom-killed") => Scenario::OomKilled,
            Some("never-ready") => Scenario::NeverReady,
            Some("completed") => Scenario::Completed,
            Some("failed") => Scenario::Failed,
            _ => default,
        }
    }

    /// Whether the containers keep restarting.
    pub fn restarts(self) -> bool {
        matches!(self, Scenario::CrashLoop | Scenario::OomKilled)
    }
}

/// A `demo.greenroom.dev/<key>` annotation of a pod.
pub fn hint<'a>(pod: &'a Value, key: &str) -> Option<&'a str> {
    pod.get("metadata")?
        .get("annotations")?
        .get(format!("{HINT}{key}"))?
        .as_str()
}

/// Where and when a pod runs; decided by the controller.
#[derive(Debug, Clone)]
pub struct Placement {
    /// Node name, None when unschedulable.
    pub node: Option<String>,
    /// Node's InternalIP.
    pub host_ip: String,
    /// Pod IP.
    pub pod_ip: String,
    /// Scheduling failure message, when unschedulable.
    pub unschedulable: Option<String>,
}

/// Builds a pod from a template: metadata, spec defaults, node.
pub fn from_template(
    template: &Value,
    name: &str,
    namespace: &str,
    owner: Option<Value>,
    extra_labels: &[(&str, String)],
    created: SystemTime,
    node: Option<&str>,
) -> Value {
    let mut labels = template["metadata"]["labels"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (k, v) in extra_labels {
        labels.insert((*k).to_string(), json!(v));
    }
    let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    default_spec(&mut spec);
    if let Some(n) = node {
        spec["nodeName"] = json!(n);
    }
    let mut metadata = json!({
        "name": name,
        "namespace": namespace,
        "labels": labels,
        "creationTimestamp": rfc3339(created),
    });
    if let Some(a) = template["metadata"].get("annotations") {
        metadata["annotations"] = a.clone();
    }
    if let Some(o) = owner {
        metadata["ownerReferences"] = json!([o]);
        if let Some((prefix, _)) = name.rsplit_once('-') {
            metadata["generateName"] = json!(format!("{prefix}-"));
        }
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec})
}

/// The defaults the API server fills into a pod spec.
pub fn default_spec(spec: &mut Value) {
    let defaults = [
        ("restartPolicy", json!("Always")),
        ("dnsPolicy", json!("ClusterFirst")),
        ("schedulerName", json!("default-scheduler")),
        ("serviceAccountName", json!("default")),
        ("serviceAccount", json!("default")),
        ("terminationGracePeriodSeconds", json!(30)),
        ("securityContext", json!({})),
        ("enableServiceLinks", json!(true)),
        ("preemptionPolicy", json!("PreemptLowerPriority")),
        ("priority", json!(0)),
    ];
    if let Some(obj) = spec.as_object_mut() {
        for (k, v) in defaults {
            obj.entry(k).or_insert(v);
        }
        if let Some(cs) = obj.get_mut("containers").and_then(Value::as_array_mut) {
            for c in cs {
                if let Some(c) = c.as_object_mut() {
                    c.entry("imagePullPolicy").or_insert(json!("IfNotPresent"));
                    c.entry("terminationMessagePath")
                        .or_insert(json!("/dev/termination-log"));
                    c.entry("terminationMessagePolicy").or_insert(json!("File"));
                    c.entry("resources").or_insert(json!({}));
                }
            }
        }
    }
}

/// Container names of a pod.
pub fn containers(pod: &Value) -> Vec<String> {
    pod["spec"]["containers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| str_at(c, &["name"]).to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn container_id(pod_uid: &str, container: &str, restart: i64) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(format!("{pod_uid}/{container}/{restart}").as_bytes());
    format!("containerd://{}", hex::encode(d))
}

fn image_id(image: &str) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(image.as_bytes());
    let repo = image.split(':').next().unwrap_or(image);
    let repo = if repo.contains('/') {
        repo.to_string()
    } else {
        format!("docker.io/library/{repo}")
    };
    format!("{repo}@sha256:{}", hex::encode(d))
}

fn condition(
    kind: &str,
    ok: bool,
    at: SystemTime,
    reason: Option<&str>,
    message: Option<String>,
) -> Value {
    let mut c = json!({"type": kind, "status": if ok { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": rfc3339(at)});
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    if let Some(m) = message {
        c["message"] = json!(m);
    }
    c
}

/// The phase a pod's status is in, for callers that only need that.
pub fn phase(pod: &Value) -> &str {
    str_at(pod, &["status", "phase"])
}

/// Whether a pod's Ready condition is True.
pub fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

/// Computes `status` for a pod. `restarts` is the restart count to report (for restarting
/// scenarios), `started` when the current container run began, `creating` = the kubelet has not
/// started the containers yet (a freshly created pod in a live cluster).
pub fn status(
    pod: &Value,
    scenario: Scenario,
    place: &Placement,
    restarts: i64,
    started: SystemTime,
    creating: bool,
) -> Value {
    let uid = str_at(pod, &["metadata", "uid"]);
    let name = str_at(pod, &["metadata", "name"]);
    let ns = str_at(pod, &["metadata", "namespace"]);
    let created =
        crate::clock::parse(str_at(pod, &["metadata", "creationTimestamp"])).unwrap_or(started);
    let qos = qos_class(pod);
    if let Some(msg) = &place.unschedulable {
        return json!({
            "phase": "Pending",
            "conditions": [condition("PodScheduled", false, created, Some("Unschedulable"), Some(msg.clone()))],
            "qosClass": qos,
        });
    }
    let names = containers(pod);
    let scheduled = created + Duration::from_secs(1);
    let exit_code: i64 = hint(pod, "exit-code")
        .and_then(|c| c.parse().ok())
        .unwrap_or(1);
    let mut statuses = Vec::new();
    let mut all_ready = true;
    let mut phase = "Running";
    for (i, c) in names.iter().enumerate() {
        let image = str_at(&pod["spec"]["containers"][i], &["image"]).to_string();
        let mut s = Map::new();
        s.insert("name".into(), json!(c));
        s.insert("image".into(), json!(image));
        s.insert("restartCount".into(), json!(0));
        s.insert("lastState".into(), json!({}));
        let started_at = rfc3339(started);
        let cid = container_id(uid, c, restarts);
        let (ready, state) = if creating {
            all_ready = false;
            phase = "Pending";
            s.insert("imageID".into(), json!(""));
            (false, json!({"waiting": {"reason": "ContainerCreating"}}))
        } else {
            match scenario {
                Scenario::Healthy | Scenario::NeverReady => {
                    s.insert("imageID".into(), json!(image_id(&image)));
                    s.insert("containerID".into(), json!(cid));
                    s.insert("started".into(), json!(true));
                    let ready = scenario == Scenario::Healthy;
                    (ready, json!({"running": {"startedAt": started_at}}))
                }
                Scenario::CrashLoop | Scenario::OomKilled => {
                    let (reason, code) = if scenario == Scenario::OomKilled {
                        ("OOMKilled", 137)
                    } else {
                        ("Error", exit_code)
                    };
                    s.insert("imageID".into(), json!(image_id(&image)));
                    s.insert("containerID".into(), json!(cid));
                    s.insert("started".into(), json!(false));
                    s.insert("restartCount".into(), json!(restarts));
                    let run = if scenario == Scenario::OomKilled {
                        25
                    } else {
                        2
                    };
                    s.insert(
                        "lastState".into(),
                        json!({"terminated": {"exitCode": code, "reason": reason, "startedAt": started_at, "finishedAt": rfc3339(started + Duration::from_secs(run)), "containerID": cid}}),
                    );
                    let backoff = backoff_text(restarts);
                    (
                        false,
                        json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off {backoff} restarting failed container={c} pod={name}_{ns}({uid})")}}),
                    )
                }
                Scenario::ImagePullError => {
                    phase = "Pending";
                    s.insert("imageID".into(), json!(""));
                    s.insert("started".into(), json!(false));
                    (
                        false,
                        json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{image}\": ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found")}}),
                    )
                }
                Scenario::Completed | Scenario::Failed => {
                    let ok = scenario == Scenario::Completed;
                    phase = if ok { "Succeeded" } else { "Failed" };
                    s.insert("imageID".into(), json!(image_id(&image)));
                    s.insert("containerID".into(), json!(cid));
                    s.insert("started".into(), json!(false));
                    let code = if ok { 0 } else { exit_code };
                    (
                        false,
                        json!({"terminated": {"exitCode": code, "reason": if ok { "Completed" } else { "Error" }, "startedAt": started_at, "finishedAt": rfc3339(started + Duration::from_secs(20)), "containerID": cid}}),
                    )
                }
            }
        };
        all_ready &= ready;
        s.insert("ready".into(), json!(ready));
        s.insert("state".into(), state);
        statuses.push(Value::Object(s));
    }
    let not_ready_msg = || {
        let bad: Vec<&str> = statuses
            .iter()
            .filter(|s| s["ready"] != true)
            .filter_map(|s| s["name"].as_str())
            .collect();
        format!("containers with unready status: [{}]", bad.join(" "))
    };
    let terminal = phase == "Succeeded" || phase == "Failed";
    let (ready_reason, ready_msg) = if all_ready {
        (None, None)
    } else if terminal {
        (Some("PodCompleted"), None)
    } else {
        (Some("ContainersNotReady"), Some(not_ready_msg()))
    };
    let conditions = vec![
        condition(
            "PodReadyToStartContainers",
            !creating && !terminal,
            scheduled,
            None,
            None,
        ),
        condition(
            "Initialized",
            true,
            scheduled,
            if terminal { Some("PodCompleted") } else { None },
            None,
        ),
        condition("Ready", all_ready, started, ready_reason, ready_msg.clone()),
        condition(
            "ContainersReady",
            all_ready,
            started,
            ready_reason,
            ready_msg,
        ),
        condition("PodScheduled", true, created, None, None),
    ];
    json!({
        "phase": phase,
        "conditions": conditions,
        "hostIP": place.host_ip,
        "hostIPs": [{"ip": place.host_ip}],
        "podIP": place.pod_ip,
        "podIPs": [{"ip": place.pod_ip}],
        "startTime": rfc3339(scheduled),
        "containerStatuses": statuses,
        "qosClass": qos,
    })
}

fn backoff_text(restarts: i64) -> String {
    let secs = (10i64 << restarts.clamp(0, 5)).min(300);
    if secs >= 60 {
        format!("{}m{}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

fn qos_class(pod: &Value) -> &'static str {
    let cs = pod["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut guaranteed = !cs.is_empty();
    let mut any = false;
    for c in &cs {
        let r = &c["resources"];
        for res in ["cpu", "memory"] {
            let req = r["requests"].get(res).or_else(|| r["limits"].get(res));
            let lim = r["limits"].get(res);
            any |= req.is_some() || lim.is_some();
            guaranteed &= lim.is_some() && req == lim;
        }
    }
    if guaranteed {
        "Guaranteed"
    } else if any {
        "Burstable"
    } else {
        "BestEffort"
    }
}

/// Sum of the containers' requests: (millicores, bytes).
pub fn requests(pod_spec: &Value) -> (f64, f64) {
    let mut cpu = 0.0;
    let mut mem = 0.0;
    for c in pod_spec["containers"].as_array().into_iter().flatten() {
        let r = &c["resources"];
        let get = |res: &str| {
            r["requests"]
                .get(res)
                .or_else(|| r["limits"].get(res))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        cpu += get("cpu")
            .and_then(|q| crate::quantity::millicores(&q))
            .unwrap_or(0.0);
        mem += get("memory")
            .and_then(|q| crate::quantity::bytes(&q))
            .unwrap_or(0.0);
    }
    (cpu, mem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(scenario: &str) -> Value {
        json!({"metadata": {"name": "p", "namespace": "n", "uid": "u", "creationTimestamp": "2026-11-24T08:00:00Z",
            "annotations": {"demo.greenroom.dev/scenario": scenario}},
            "spec": {"containers": [{"name": "app", "image": "acme/app:1", "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "100m"}}}]}})
    }

    fn place() -> Placement {
        Placement {
            node: Some("n1".into()),
            host_ip: "10.0.0.1".into(),
            pod_ip: "10.244.1.5".into(),
            unschedulable: None,
        }
    }

    #[test]
    fn crash_loop_reports_waiting_and_last_termination() {
        let p = pod("crash-loop");
        let s = status(
            &p,
            Scenario::of(&p, Scenario::Healthy),
            &place(),
            7,
            crate::clock::now(),
            false,
        );
        let c = &s["containerStatuses"][0];
        assert_eq!(c["state"]["waiting"]["reason"], "CrashLoopBackOff");
        assert_eq!(c["lastState"]["terminated"]["reason"], "Error");
        assert_eq!(c["restartCount"], 7);
        assert_eq!(s["phase"], "Running");
        assert!(!is_ready(&json!({"status": s})));
    }

    #[test]
    fn each_scenario_has_its_kubelet_shape() {
        let now = crate::clock::now();
        let get = |sc: &str| {
            let p = pod(sc);
            status(
                &p,
                Scenario::of(&p, Scenario::Healthy),
                &place(),
                3,
                now,
                false,
            )
        };
        assert_eq!(
            get("oom-killed")["containerStatuses"][0]["lastState"]["terminated"]["exitCode"],
            137
        );
        assert_eq!(
            get("image-pull-error")["containerStatuses"][0]["state"]["waiting"]["reason"],
            "ImagePullBackOff"
        );
        assert_eq!(get("image-pull-error")["phase"], "Pending");
        assert_eq!(
            get("never-ready")["containerStatuses"][0]["state"]["running"].is_object(),
            true
        );
        assert_eq!(get("never-ready")["containerStatuses"][0]["ready"], false);
        assert_eq!(get("healthy")["containerStatuses"][0]["ready"], true);
        assert_eq!(get("completed")["phase"], "Succeeded");
        assert_eq!(get("failed")["phase"], "Failed");
        assert_eq!(get("healthy")["qosClass"], "Burstable");
        let mut unsched = place();
        unsched.unschedulable = Some("0/3 nodes are available".into());
        let s = status(&pod("healthy"), Scenario::Healthy, &unsched, 0, now, false);
        assert_eq!(s["phase"], "Pending");
        assert_eq!(s["conditions"][0]["reason"], "Unschedulable");
    }
}
