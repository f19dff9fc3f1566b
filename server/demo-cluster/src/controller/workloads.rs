//! Workload controllers: Deployment → ReplicaSet → Pods and the status each writes back, and what
//! every controller shares (children of an owner, creating a pod, writing status). The others:
//! [`super::sets`] (StatefulSet, DaemonSet), [`super::batch`] (Job, CronJob, bare Pods),
//! [`super::scaling`] (HorizontalPodAutoscaler), [`super::defaults`] (owners' status after pod
//! changes, Namespace, Node and Service).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use super::pods::{self, Scenario};
use super::{owned_by, owner_ref};
use crate::clock::{parse, rfc3339};
use crate::cluster::Cluster;
use crate::store::str_at;

pub(super) const DEPLOYMENTS: &str = "deployments.apps";
pub(super) const REPLICASETS: &str = "replicasets.apps";
pub(super) const STATEFULSETS: &str = "statefulsets.apps";
pub(super) const DAEMONSETS: &str = "daemonsets.apps";
pub(super) const JOBS: &str = "jobs.batch";
pub(super) const CRONJOBS: &str = "cronjobs.batch";
pub(super) const HPAS: &str = "horizontalpodautoscalers.autoscaling";

pub(super) fn ns_of(v: &Value) -> &str {
    str_at(v, &["metadata", "namespace"])
}

pub(super) fn name_of(v: &Value) -> &str {
    str_at(v, &["metadata", "name"])
}

pub(super) fn uid_of(v: &Value) -> &str {
    str_at(v, &["metadata", "uid"])
}

pub(super) fn created_of(v: &Value) -> Option<SystemTime> {
    parse(str_at(v, &["metadata", "creationTimestamp"]))
}

/// The pod-template-hash the Deployment controller derives from a template.
pub fn template_hash(template: &Value) -> String {
    super::suffix(&template.to_string(), 10)
}

impl Cluster {
    /// The objects of a type in a namespace controlled by `owner`.
    pub(super) fn children(&self, resource: &str, owner: &Value) -> Vec<Arc<Value>> {
        let uid = uid_of(owner);
        let ns = ns_of(owner);
        self.store
            .list(resource)
            .1
            .range((ns.to_string(), String::new())..)
            .take_while(|((n, _), _)| n == ns)
            .filter(|(_, v)| owned_by(v, uid))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Creates one pod for a controller and reports its status.
    pub(super) fn create_pod(
        &self,
        owner: &Value,
        template: &Value,
        name: &str,
        extra_labels: &[(&str, String)],
        index: usize,
        default: Scenario,
        node: Option<&Value>,
    ) {
        let ns = ns_of(owner).to_string();
        let now = self.now();
        let owner_created = created_of(owner).unwrap_or(now);
        let seeding = owner_created + Duration::from_secs(3600) < now;
        // Seeded pods started two hours ago; pods of an owner made in the recent past (a CronJob's
        // Job) a moment after it, one every half minute; pods created while the cluster runs, now.
        let created = if seeding {
            now - Duration::from_secs(2 * 3600 - 60 * index as u64)
        } else {
            (owner_created + Duration::from_secs(1 + 30 * index as u64)).min(now)
        };
        let seeding = seeding || created < now;
        let mut pod = pods::from_template(
            template,
            name,
            &ns,
            Some(owner_ref(owner)),
            extra_labels,
            created,
            None,
        );
        let place = match node {
            Some(n) => self.place_on(n),
            None => self.schedule(&pod["spec"], index),
        };
        if let Some(n) = &place.node {
            pod["spec"]["nodeName"] = json!(n);
        }
        let stored = self.store.put("pods", pod);
        self.set_pod_status(&stored, default, &place, !seeding && self.life.enabled);
    }

    /// Writes the kubelet's status for a pod (and the events a kubelet/scheduler would record).
    pub(crate) fn set_pod_status(
        &self,
        pod: &Arc<Value>,
        default: Scenario,
        place: &pods::Placement,
        creating: bool,
    ) {
        let scenario = Scenario::of(pod, default);
        let restarts: i64 = if scenario.restarts() {
            pods::hint(pod, "restarts")
                .and_then(|r| r.parse().ok())
                .unwrap_or(6)
        } else {
            0
        };
        let created = created_of(pod).unwrap_or_else(|| self.now());
        let started = match scenario {
            Scenario::CrashLoop | Scenario::OomKilled => self.now() - Duration::from_secs(40),
            _ => created + Duration::from_secs(4),
        };
        let mut p = (**pod).clone();
        p["status"] = pods::status(pod, scenario, place, restarts, started, creating);
        let stored = self.store.put("pods", p);
        self.pod_events(&stored, scenario, place);
    }

    /// Deployment: one ReplicaSet per template; the current one scaled to spec.replicas, the
    /// others to zero; then status.
    pub(crate) fn reconcile_deployment(&self, d: &Arc<Value>) {
        let replicas = d["spec"]["replicas"].as_i64().unwrap_or(1);
        let mut template = d["spec"]["template"].clone();
        let hash = template_hash(&template);
        template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
        let rs_name = format!("{}-{hash}", name_of(d));
        let existing = self.children(REPLICASETS, d);
        let revision = existing
            .iter()
            .filter_map(|rs| {
                rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                    .as_str()?
                    .parse::<i64>()
                    .ok()
            })
            .max()
            .unwrap_or(0);
        for rs in &existing {
            if name_of(rs) != rs_name && rs["spec"]["replicas"].as_i64() != Some(0) {
                let mut old = (**rs).clone();
                old["spec"]["replicas"] = json!(0);
                let old = self.store.put(REPLICASETS, old);
                self.reconcile_replicaset(&old);
            }
        }
        let current = existing.iter().find(|rs| name_of(rs) == rs_name);
        let this_revision = current
            .and_then(|rs| {
                rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                    .as_str()
                    .map(str::to_string)
            })
            .unwrap_or_else(|| (revision + 1).to_string());
        let mut selector = d["spec"]["selector"].clone();
        selector["matchLabels"]["pod-template-hash"] = json!(hash);
        let mut labels = template["metadata"]["labels"].clone();
        labels["pod-template-hash"] = json!(hash);
        let rs = json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": rs_name,
                "namespace": ns_of(d),
                "labels": labels,
                "annotations": {
                    "deployment.kubernetes.io/desired-replicas": replicas.to_string(),
                    "deployment.kubernetes.io/max-replicas": (replicas + (replicas as f64 * 0.25).ceil() as i64).to_string(),
                    "deployment.kubernetes.io/revision": this_revision,
                },
                "ownerReferences": [owner_ref(d)],
                "creationTimestamp": current.map(|c| c["metadata"]["creationTimestamp"].clone()).unwrap_or_else(|| {
                    if self.seeding.load(std::sync::atomic::Ordering::SeqCst) { d["metadata"]["creationTimestamp"].clone() } else { json!(rfc3339(self.now())) }
                }),
            },
            "spec": {"replicas": replicas, "selector": selector, "template": template},
            "status": current.map(|c| c["status"].clone()).unwrap_or_else(|| json!({"replicas": 0})),
        });
        let rs = self.store.put(REPLICASETS, rs);
        if current.is_none() {
            let at = created_of(&rs).unwrap_or_else(|| self.now());
            self.record_event(
                d,
                "Normal",
                "ScalingReplicaSet",
                &format!("Scaled up replica set {rs_name} from 0 to {replicas}"),
                ("deployment-controller", ""),
                at,
                1,
                None,
            );
        }
        self.reconcile_replicaset(&rs);
        self.deployment_status(d);
    }

    /// ReplicaSet: as many pods as spec.replicas, then status.
    pub(crate) fn reconcile_replicaset(&self, rs: &Arc<Value>) {
        let want = rs["spec"]["replicas"].as_i64().unwrap_or(1).max(0) as usize;
        let mut have = self.children("pods", rs);
        while have.len() > want {
            if let Some(p) = have.pop() {
                self.store.delete("pods", ns_of(&p), name_of(&p));
            }
        }
        for i in have.len()..want {
            let name = format!("{}-{}", name_of(rs), self.fresh_suffix(name_of(rs)));
            self.create_pod(
                rs,
                &rs["spec"]["template"],
                &name,
                &[],
                i,
                Scenario::Healthy,
                None,
            );
        }
        self.replicaset_status(rs);
    }

    pub(super) fn pod_counts(&self, owner: &Value) -> (i64, i64) {
        let pods = self.children("pods", owner);
        let ready = pods.iter().filter(|p| pods::is_ready(p)).count() as i64;
        (pods.len() as i64, ready)
    }

    pub(super) fn replicaset_status(&self, rs: &Value) {
        let Some(rs) = self.store.get(REPLICASETS, ns_of(rs), name_of(rs)) else {
            return;
        };
        let (n, ready) = self.pod_counts(&rs);
        let mut status = json!({"replicas": n, "fullyLabeledReplicas": n, "observedGeneration": rs["metadata"]["generation"]});
        if ready > 0 {
            status["readyReplicas"] = json!(ready);
            status["availableReplicas"] = json!(ready);
        }
        self.put_status(REPLICASETS, &rs, status);
    }

    /// Writes `status` if it changed.
    pub(super) fn put_status(&self, resource: &str, object: &Arc<Value>, status: Value) {
        if object.get("status") == Some(&status) {
            return;
        }
        let mut o = (**object).clone();
        o["status"] = status;
        self.store.put(resource, o);
    }

    pub(super) fn deployment_status(&self, d: &Value) {
        let Some(d) = self.store.get(DEPLOYMENTS, ns_of(d), name_of(d)) else {
            return;
        };
        let want = d["spec"]["replicas"].as_i64().unwrap_or(1);
        let sets = self.children(REPLICASETS, &d);
        let hash = template_hash(&d["spec"]["template"]);
        let new_rs = sets.iter().find(|rs| name_of(rs).ends_with(&hash));
        let (mut total, mut ready, mut updated) = (0, 0, 0);
        for rs in &sets {
            let (n, r) = self.pod_counts(rs);
            total += n;
            ready += r;
            if Some(rs) == new_rs {
                updated = n;
            }
        }
        let now = self.now();
        let rs_name = new_rs.map(|r| name_of(r).to_string()).unwrap_or_default();
        let max_unavailable = (want as f64 * 0.25).floor() as i64;
        let available = ready >= want - max_unavailable;
        let since = |cond: &str| -> Value {
            d["status"]["conditions"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["type"] == cond))
                .map(|c| c["lastTransitionTime"].clone())
                .unwrap_or_else(|| json!(rfc3339(now)))
        };
        let started = new_rs.and_then(|r| created_of(r)).unwrap_or(now);
        let deadline =
            Duration::from_secs(d["spec"]["progressDeadlineSeconds"].as_u64().unwrap_or(600));
        let complete = ready >= want && updated == want && total == want;
        let (prog_status, prog_reason, prog_msg) = if complete {
            (
                "True",
                "NewReplicaSetAvailable",
                format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
            )
        } else if started + deadline < now {
            (
                "False",
                "ProgressDeadlineExceeded",
                format!("ReplicaSet \"{rs_name}\" has timed out progressing."),
            )
        } else {
            (
                "True",
                "ReplicaSetUpdated",
                format!("ReplicaSet \"{rs_name}\" is progressing."),
            )
        };
        let avail = if available {
            json!({"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."})
        } else {
            json!({"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability."})
        };
        let mut conditions = vec![
            avail,
            json!({"type": "Progressing", "status": prog_status, "reason": prog_reason, "message": prog_msg}),
        ];
        for c in &mut conditions {
            let t = c["type"].as_str().unwrap_or("").to_string();
            let old_status = d["status"]["conditions"]
                .as_array()
                .and_then(|cs| cs.iter().find(|x| x["type"] == t.as_str()))
                .map(|x| x["status"].clone());
            let changed = old_status.as_ref() != Some(&c["status"]);
            c["lastUpdateTime"] = json!(rfc3339(now));
            c["lastTransitionTime"] = if changed {
                json!(rfc3339(started.max(now - Duration::from_secs(1))))
            } else {
                since(&t)
            };
        }
        let mut status = json!({
            "observedGeneration": d["metadata"]["generation"],
            "replicas": total,
            "updatedReplicas": updated,
            "conditions": conditions,
        });
        if ready > 0 {
            status["readyReplicas"] = json!(ready);
            status["availableReplicas"] = json!(ready);
        }
        if total - ready > 0 {
            status["unavailableReplicas"] = json!(total - ready);
        }
        // Timestamps alone do not make a new status.
        let strip = |s: &Value| {
            let mut s = s.clone();
            for c in s["conditions"].as_array_mut().into_iter().flatten() {
                if let Some(o) = c.as_object_mut() {
                    o.remove("lastUpdateTime");
                    o.remove("lastTransitionTime");
                }
            }
            s
        };
        if strip(&d["status"]) != strip(&status) {
            self.put_status(DEPLOYMENTS, &d, status);
        }
    }
}
