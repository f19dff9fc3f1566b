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
            let creating = pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
                == "ContainerCreating";
            let scenario = Scenario::of(
                &pod,
                if pod["metadata"]["labels"].get("job-name").is_some() {
                    Scenario::Completed
                } else {
                    Scenario::Healthy
                },
            );
            let created = parse(str_at(&pod, &["metadata", "creationTimestamp"])).unwrap_or(now);
            if creating && created + Duration::from_secs(3) <= now {
                self.start_containers(&pod, scenario);
                touched.insert(ns.clone());
                continue;
            }
            if scenario.restarts() {
                let finished = pod["status"]["containerStatuses"][0]["lastState"]["terminated"]
                    ["finishedAt"]
                    .as_str()
                    .and_then(parse);
                if finished.is_some_and(|f| f + self.life.restart_every <= now) {
                    self.restart(&pod);
                    touched.insert(ns.clone());
                }
            }
            if matches!(scenario, Scenario::Completed | Scenario::Failed)
                && pods::phase(&pod) == "Running"
                && created + Duration::from_secs(25) <= now
            {
                let mut p = (*pod).clone();
                let place = placement_of(&p);
                p["status"] = pods::status(
                    &p,
                    scenario,
                    &place,
                    0,
                    created + Duration::from_secs(4),
                    false,
                );
                self.store.put("pods", p);
                touched.insert(ns);
            }
        }
        for cj in self.store.all("cronjobs.batch") {
            self.reconcile_cronjob(&cj);
        }
        for d in self.store.all("deployments.apps") {
            let every = d["metadata"]["annotations"][ROLLOUT_EVERY]
                .as_str()
                .and_then(|s| s.parse::<u64>().ok());
            let last = d["spec"]["template"]["metadata"]["annotations"]
                ["kubectl.kubernetes.io/restartedAt"]
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
        d2["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] =
            json!(rfc3339(crate::clock::now()));
        if let Some(stored) = self.store.get(
            "deployments.apps",
            str_at(d, &["metadata", "namespace"]),
            str_at(d, &["metadata", "name"]),
        ) {
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
        let restarts = pod["status"]["containerStatuses"][0]["restartCount"]
            .as_i64()
            .unwrap_or(0)
            + 1;
        let place = placement_of(pod);
        let mut p = pod.clone();
        let sc = if scenario.restarts() {
            scenario
        } else {
            Scenario::CrashLoop
        };
        p["status"] = pods::status(pod, sc, &place, restarts, crate::clock::now(), false);
        let stored = self.store.put("pods", p);
        let c = pod["spec"]["containers"][0]["name"].as_str().unwrap_or("");
        let fp = format!("spec.containers{{{c}}}");
        let node = place.node.clone().unwrap_or_default();
        self.record_event(
            &stored,
            "Warning",
            "BackOff",
            &format!(
                "Back-off restarting failed container {c} in pod {}_{}({})",
                str_at(pod, &["metadata", "name"]),
                str_at(pod, &["metadata", "namespace"]),
                str_at(pod, &["metadata", "uid"])
            ),
            ("kubelet", &node),
            crate::clock::now(),
            1,
            Some(&fp),
        );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Life;

    fn live_demo() -> Arc<Cluster> {
        let life = Life {
            enabled: true,
            tick: Duration::from_millis(10),
            restart_every: Duration::ZERO,
        };
        let c = Cluster::new("greenroom-demo", life, 100_000);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../catalog/clusters/greenroom-demo");
        c.seed_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
        c
    }

    fn restarts(c: &Cluster, id: &str) -> Vec<i64> {
        c.store
            .all("pods")
            .iter()
            .filter(|p| p["metadata"]["labels"]["backstage.io/kubernetes-id"] == id)
            .map(|p| {
                p["status"]["containerStatuses"][0]["restartCount"]
                    .as_i64()
                    .unwrap_or(-1)
            })
            .collect()
    }

    #[test]
    fn crashing_containers_restart_as_time_passes() {
        let c = live_demo();
        let before = restarts(&c, "checkout-service");
        let (_, mut rx) = c
            .store
            .watch_from(c.store.resource_version())
            .unwrap_or_else(|e| panic!("{e}"));
        c.tick();
        let after = restarts(&c, "checkout-service");
        assert_eq!(after.len(), before.len());
        assert!(
            after.iter().zip(&before).all(|(a, b)| a == &(b + 1)),
            "{before:?} → {after:?}"
        );
        // Each change went out to watchers.
        let mut modified_pods = 0;
        while let Ok(e) = rx.try_recv() {
            if e.resource == "pods" && e.kind == crate::store::EventType::Modified {
                modified_pods += 1;
            }
        }
        assert!(modified_pods >= before.len());
        // Healthy pods do not restart.
        assert!(restarts(&c, "storefront-web").iter().all(|r| *r == 0));
    }

    #[test]
    fn a_rollout_replaces_the_pods_through_a_new_replicaset() {
        let c = live_demo();
        let d = c
            .store
            .get("deployments.apps", "storefront", "storefront-web")
            .unwrap_or_else(|| panic!("deployment"));
        let old: Vec<String> = c
            .store
            .all("pods")
            .iter()
            .filter(|p| {
                p["metadata"]["labels"]["backstage.io/kubernetes-id"] == "storefront-web"
                    && p["metadata"]["namespace"] == "storefront"
            })
            .map(|p| str_at(p, &["metadata", "name"]).to_string())
            .collect();
        c.rollout_restart(&d);
        let now: Vec<Arc<Value>> = c
            .store
            .all("pods")
            .into_iter()
            .filter(|p| {
                p["metadata"]["labels"]["backstage.io/kubernetes-id"] == "storefront-web"
                    && p["metadata"]["namespace"] == "storefront"
            })
            .collect();
        assert_eq!(now.len(), 3);
        assert!(now
            .iter()
            .all(|p| !old.contains(&str_at(p, &["metadata", "name"]).to_string())));
        // New pods start as ContainerCreating in a live cluster.
        assert!(now
            .iter()
            .all(
                |p| p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
                    == "ContainerCreating"
            ));
        let sets = c
            .store
            .all("replicasets.apps")
            .into_iter()
            .filter(|r| {
                str_at(r, &["metadata", "name"]).starts_with("storefront-web-")
                    && r["metadata"]["namespace"] == "storefront"
            })
            .count();
        assert_eq!(
            sets, 2,
            "old ReplicaSet kept at 0 replicas, as Deployments keep history"
        );
    }
}
