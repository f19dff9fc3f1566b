//! StatefulSet (pods `<name>-0..n-1` in order) and DaemonSet (one pod per tolerating node) controllers.

use std::sync::Arc;

use serde_json::{json, Value};

use super::pods::Scenario;
use super::workloads::*;
use crate::cluster::Cluster;

impl Cluster {
    /// StatefulSet: pods `<name>-0..n-1` in order.
    pub(crate) fn reconcile_statefulset(&self, s: &Arc<Value>) {
        let want = s["spec"]["replicas"].as_i64().unwrap_or(1).max(0) as usize;
        let revision = format!("{}-{}", name_of(s), template_hash(&s["spec"]["template"]));
        let have = self.children("pods", s);
        for p in &have {
            let idx = name_of(p)
                .rsplit('-')
                .next()
                .and_then(|i| i.parse::<usize>().ok())
                .unwrap_or(usize::MAX);
            if idx >= want {
                self.store.delete("pods", ns_of(p), name_of(p));
            }
        }
        for i in 0..want {
            let name = format!("{}-{i}", name_of(s));
            if self.store.get("pods", ns_of(s), &name).is_none() {
                let labels = [
                    ("controller-revision-hash", revision.clone()),
                    ("statefulset.kubernetes.io/pod-name", name.clone()),
                    ("apps.kubernetes.io/pod-index", i.to_string()),
                ];
                self.create_pod(
                    s,
                    &s["spec"]["template"],
                    &name,
                    &labels,
                    i,
                    Scenario::Healthy,
                    None,
                );
            }
        }
        self.statefulset_status(s, &revision);
    }

    pub(super) fn statefulset_status(&self, s: &Value, revision: &str) {
        let Some(s) = self.store.get(STATEFULSETS, ns_of(s), name_of(s)) else {
            return;
        };
        let (n, ready) = self.pod_counts(&s);
        let status = json!({
            "observedGeneration": s["metadata"]["generation"],
            "replicas": n, "readyReplicas": ready, "currentReplicas": n, "updatedReplicas": n, "availableReplicas": ready,
            "currentRevision": revision, "updateRevision": revision, "collisionCount": 0,
        });
        self.put_status(STATEFULSETS, &s, status);
    }

    /// DaemonSet: one pod per node whose taints the template tolerates.
    pub(crate) fn reconcile_daemonset(&self, ds: &Arc<Value>) {
        let nodes: Vec<_> = self
            .store
            .all("nodes")
            .into_iter()
            .filter(|n| super::tolerates(&ds["spec"]["template"]["spec"], n))
            .collect();
        let have = self.children("pods", ds);
        let revision = template_hash(&ds["spec"]["template"]);
        for (i, node) in nodes.iter().enumerate() {
            let node_name = name_of(node);
            if have.iter().any(|p| p["spec"]["nodeName"] == node_name) {
                continue;
            }
            let name = format!("{}-{}", name_of(ds), self.fresh_suffix(name_of(ds)));
            let labels = [
                ("controller-revision-hash", revision.clone()),
                ("pod-template-generation", "1".to_string()),
            ];
            self.create_pod(
                ds,
                &ds["spec"]["template"],
                &name,
                &labels,
                i,
                Scenario::Healthy,
                Some(node),
            );
        }
        self.daemonset_status(ds, nodes.len() as i64);
    }

    pub(super) fn daemonset_status(&self, ds: &Value, desired: i64) {
        let Some(ds) = self.store.get(DAEMONSETS, ns_of(ds), name_of(ds)) else {
            return;
        };
        let (n, ready) = self.pod_counts(&ds);
        let mut status = json!({
            "observedGeneration": ds["metadata"]["generation"],
            "currentNumberScheduled": n, "desiredNumberScheduled": desired, "numberMisscheduled": 0,
            "numberReady": ready, "numberAvailable": ready, "updatedNumberScheduled": n,
        });
        if n - ready > 0 {
            status["numberUnavailable"] = json!(n - ready);
        }
        self.put_status(DAEMONSETS, &ds, status);
    }
}
