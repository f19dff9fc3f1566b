//! core/v1 Events, as the scheduler and kubelet record them for a pod: Scheduled, Pulling,
//! Pulled, Created, Started, and the warnings of each failing scenario (BackOff, Failed,
//! Unhealthy, FailedScheduling). Repeats of one event bump its `count`.

use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use super::pods::{Placement, Scenario};
use crate::clock::rfc3339;
use crate::cluster::Cluster;
use crate::store::str_at;

impl Cluster {
    /// Records (or repeats) one event about an object.
    pub fn record_event(
        &self,
        object: &Value,
        kind: &str,
        reason: &str,
        message: &str,
        source: (&str, &str),
        first: SystemTime,
        count: i64,
        field_path: Option<&str>,
    ) {
        let ns = str_at(object, &["metadata", "namespace"]);
        let name = str_at(object, &["metadata", "name"]);
        let ev_name = format!(
            "{name}.{}",
            &super::suffix(
                &format!(
                    "{}/{reason}/{message}",
                    str_at(object, &["metadata", "uid"])
                ),
                16
            )
        );
        let mut involved = json!({
            "kind": object["kind"], "namespace": ns, "name": name, "uid": object["metadata"]["uid"],
            "apiVersion": object["apiVersion"], "resourceVersion": object["metadata"]["resourceVersion"],
        });
        if let Some(fp) = field_path {
            involved["fieldPath"] = json!(fp);
        }
        let existing = self.store.get("events", ns, &ev_name);
        let (count, first) = match &existing {
            Some(e) => (
                e["count"].as_i64().unwrap_or(1) + count.max(1),
                e["firstTimestamp"].clone(),
            ),
            None => (count.max(1), json!(rfc3339(first))),
        };
        let ev = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": ev_name, "namespace": ns, "creationTimestamp": first},
            "involvedObject": involved,
            "reason": reason, "message": message, "type": kind,
            "source": {"component": source.0, "host": source.1},
            "firstTimestamp": first, "lastTimestamp": rfc3339(self.now()),
            "count": count, "eventTime": null,
            "reportingComponent": source.0, "reportingInstance": source.1,
        });
        self.store.put("events", ev);
    }

    /// The events a pod's start-up produces, for its scenario.
    pub(crate) fn pod_events(&self, pod: &Value, scenario: Scenario, place: &Placement) {
        let now = self.now();
        let created =
            crate::clock::parse(str_at(pod, &["metadata", "creationTimestamp"])).unwrap_or(now);
        let ns = str_at(pod, &["metadata", "namespace"]);
        let name = str_at(pod, &["metadata", "name"]);
        if let Some(msg) = &place.unschedulable {
            self.record_event(
                pod,
                "Warning",
                "FailedScheduling",
                msg,
                ("default-scheduler", ""),
                created,
                1,
                None,
            );
            return;
        }
        let node = place.node.clone().unwrap_or_default();
        let kubelet = ("kubelet", node.as_str());
        self.record_event(
            pod,
            "Normal",
            "Scheduled",
            &format!("Successfully assigned {ns}/{name} to {node}"),
            ("default-scheduler", ""),
            created,
            1,
            None,
        );
        let restarts = if scenario.restarts() {
            super::pods::hint(pod, "restarts")
                .and_then(|r| r.parse().ok())
                .unwrap_or(6)
        } else {
            0
        };
        for c in pod["spec"]["containers"].as_array().into_iter().flatten() {
            let cname = c["name"].as_str().unwrap_or("");
            let image = c["image"].as_str().unwrap_or("");
            let fp = format!("spec.containers{{{cname}}}");
            let fp = Some(fp.as_str());
            let at = created + Duration::from_secs(1);
            self.record_event(
                pod,
                "Normal",
                "Pulling",
                &format!("Pulling image \"{image}\""),
                kubelet,
                at,
                1,
                fp,
            );
            if scenario == Scenario::ImagePullError {
                self.record_event(pod, "Warning", "Failed", &format!("Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found"), kubelet, at, 4, fp);
                self.record_event(
                    pod,
                    "Warning",
                    "Failed",
                    "Error: ErrImagePull",
                    kubelet,
                    at,
                    4,
                    fp,
                );
                self.record_event(
                    pod,
                    "Normal",
                    "BackOff",
                    &format!("Back-off pulling image \"{image}\""),
                    kubelet,
                    at,
                    30,
                    fp,
                );
                self.record_event(
                    pod,
                    "Warning",
                    "Failed",
                    "Error: ImagePullBackOff",
                    kubelet,
                    at,
                    30,
                    fp,
                );
                continue;
            }
            self.record_event(pod, "Normal", "Pulled", &format!("Successfully pulled image \"{image}\" in 2.481s (2.481s including waiting). Image size: 48211364 bytes."), kubelet, at, 1, fp);
            self.record_event(
                pod,
                "Normal",
                "Created",
                &format!("Created container: {cname}"),
                kubelet,
                at,
                1 + restarts,
                fp,
            );
            self.record_event(
                pod,
                "Normal",
                "Started",
                &format!("Started container {cname}"),
                kubelet,
                at,
                1 + restarts,
                fp,
            );
            match scenario {
                Scenario::CrashLoop | Scenario::OomKilled => {
                    self.record_event(
                        pod,
                        "Warning",
                        "BackOff",
                        &format!(
                            "Back-off restarting failed container {cname} in pod {name}_{ns}({})",
                            str_at(pod, &["metadata", "uid"])
                        ),
                        kubelet,
                        at,
                        restarts * 5,
                        fp,
                    );
                }
                Scenario::NeverReady => {
                    let probe = &c["readinessProbe"]["httpGet"];
                    let path = probe["path"].as_str().unwrap_or("/ready");
                    let port = probe["port"].to_string().trim_matches('"').to_string();
                    let ip = &place.pod_ip;
                    self.record_event(pod, "Warning", "Unhealthy", &format!("Readiness probe failed: HTTP probe failed with statuscode: 503 (GET http://{ip}:{port}{path})"), kubelet, at, 700, fp);
                }
                _ => {}
            }
        }
    }
}
