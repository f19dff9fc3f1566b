//! Time moving in a live cluster: containers that crash restart, freshly created pods start,
//! CronJobs fire and their pods complete, Deployments marked for it roll out now and then. One
//! tick looks at the clock and changes what is due; every change goes through the store, so
//! watchers see it. Frozen clusters (tests) never tick; they change only through the control API.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::pods::{self, Scenario};
use crate::clock::{parse, rfc3339};
use crate::cluster::Cluster;
use crate::store::str_at;

/// Annotation on a Deployment: roll it out again every so many seconds.
pub const ROLLOUT_EVERY: &str = "demo.greenroom.dev/rollout-every-seconds";

impl Cluster {
    /// One tick of life.
    pub fn tick(&self) {
        let now = self.now();
        let mut touched = std::collections::BTreeSet::new();
        for pod in self.store.all("pods") {
            let ns = str_at(&pod, &["metadata", "namespace"]).to_string();
            let creating = pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating";
            let scenario = Scenario::of(&pod, if pod["metadata"]["labels"].get("job-name").is_some() { Scenario::Completed } else { Scenario::Healthy });
            let created = parse(str_at(&pod, &["metadata", "creationTimestamp"])).unwrap_or(now);
            if creating && created + Duration::from_secs(3) <= now {
                self.start_containers(&pod, scenario);
                touched.insert(ns.clone());
                continue;
            }
            if scenario.restarts() {
                let finished = pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["finishedAt"].as_str().and_then(parse);
                if finished.is_some_and(|f| f + self.life.restart_every <= now) {
                    self.restart(&pod);
                    touched.insert(ns.clone());
                }
            }
            if matches!(scenario, Scenario::Completed | Scenario::Failed) && pods::phase(&pod) == "Running" && created + Duration::from_secs(25) <= now {
                let mut p = (*pod).clone();
                let place = placement_of(&p);
                p["status"] = pods::status(&p, scenario, &place, 0, created + Duration::from_secs(4), false);
                self.store.put("pods", p);
                touched.insert(ns);
            }
        }
        for cj in self.store.all("cronjobs.batch") {
            self.reconcile_cronjob(&cj);
        }
        for d in self.store.all("deployments.apps") {
            let every = d["metadata"]["annotations"][ROLLOUT_EVERY].as_str().and_then(|s| s.parse::<u64>().ok());
            let last = d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
                .as_str()
                .and_then(parse)
                .or_else(|| self.children_created(&d));
            if let (Some(every), Some(last)) = (every, last) {
                if last + Duration::from_secs(every) <= now {
                    self.rollout_restart(&d);
                }
            }
        }
        for ns in touched {
            self.refresh_owners(&ns);
        }
        for hpa in self.store.all("horizontalpodautoscalers.autoscaling") {
            self.reconcile_hpa(&hpa);
        }
    }

    fn children_created(&self, d: &Value) -> Option<std::time::SystemTime> {
        let uid = str_at(d, &["metadata", "uid"]);
        self.store
            .all("replicasets.apps")
            .iter()
            .filter(|rs| super::owned_by(rs, uid) && rs["spec"]["replicas"].as_i64() != Some(0))
            .filter_map(|rs| parse(str_at(rs, &["metadata", "creationTimestamp"])))
            .max()
    }

    /// `kubectl rollout restart`: stamps the template, which makes a new ReplicaSet.
    pub fn rollout_restart(&self, d: &Value) {
        let mut d2 = d.clone();
        d2["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] = json!(rfc3339(crate::clock::now()));
        if let Some(stored) = self.store.get("deployments.apps", str_at(d, &["metadata", "namespace"]), str_at(d, &["metadata", "name"])) {
            if stored["metadata"]["uid"] == d["metadata"]["uid"] {
                let put = self.store.put("deployments.apps", d2);
                self.reconcile_deployment(&put);
            }
        }
    }

    fn start_containers(&self, pod: &Arc<Value>, scenario: Scenario) {
        let place = placement_of(pod);
        self.set_pod_status(pod, scenario, &place, false);
    }

    /// A crash-looping container runs again and fails again: restartCount + 1.
    pub fn restart(&self, pod: &Value) {
        let scenario = Scenario::of(pod, Scenario::Healthy);
        let restarts = pod["status"]["containerStatuses"][0]["restartCount"].as_i64().unwrap_or(0) + 1;
        let place = placement_of(pod);
        let mut p = pod.clone();
        let sc = if scenario.restarts() { scenario } else { Scenario::CrashLoop };
        p["status"] = pods::status(pod, sc, &place, restarts, crate::clock::now(), false);
        let stored = self.store.put("pods", p);
        let c = pod["spec"]["containers"][0]["name"].as_str().unwrap_or("");
        let fp = format!("spec.containers{{{c}}}");
        let node = place.node.clone().unwrap_or_default();
        self.record_event(&stored, "Warning", "BackOff", &format!("Back-off restarting failed container {c} in pod {}_{}({})", str_at(pod, &["metadata", "name"]), str_at(pod, &["metadata", "namespace"]), str_at(pod, &["metadata", "uid"])), ("kubelet", &node), crate::clock::now(), 1, Some(&fp));
    }
}

/// The placement recorded in a pod's spec and status.
pub fn placement_of(pod: &Value) -> pods::Placement {
    pods::Placement {
        node: pod["spec"]["nodeName"].as_str().map(str::to_string),
        host_ip: str_at(pod, &["status", "hostIP"]).to_string(),
        pod_ip: str_at(pod, &["status", "podIP"]).to_string(),
        unschedulable: None,
    }
}
