//! Workload controllers: Deployment → ReplicaSet → Pods, StatefulSet, DaemonSet, Job, CronJob,
//! HorizontalPodAutoscaler, bare Pods, and the status each writes back.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use super::pods::{self, Scenario};
use super::{owned_by, owner_ref};
use crate::clock::{parse, rfc3339};
use crate::cluster::Cluster;
use crate::store::str_at;

const DEPLOYMENTS: &str = "deployments.apps";
const REPLICASETS: &str = "replicasets.apps";
const STATEFULSETS: &str = "statefulsets.apps";
const DAEMONSETS: &str = "daemonsets.apps";
const JOBS: &str = "jobs.batch";
const CRONJOBS: &str = "cronjobs.batch";
const HPAS: &str = "horizontalpodautoscalers.autoscaling";

fn ns_of(v: &Value) -> &str {
    str_at(v, &["metadata", "namespace"])
}

fn name_of(v: &Value) -> &str {
    str_at(v, &["metadata", "name"])
}

fn uid_of(v: &Value) -> &str {
    str_at(v, &["metadata", "uid"])
}

fn created_of(v: &Value) -> Option<SystemTime> {
    parse(str_at(v, &["metadata", "creationTimestamp"]))
}

/// The pod-template-hash the Deployment controller derives from a template.
pub fn template_hash(template: &Value) -> String {
    super::suffix(&template.to_string(), 10)
}

impl Cluster {
    /// The objects of a type in a namespace controlled by `owner`.
    fn children(&self, resource: &str, owner: &Value) -> Vec<Arc<Value>> {
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
    fn create_pod(
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

    fn pod_counts(&self, owner: &Value) -> (i64, i64) {
        let pods = self.children("pods", owner);
        let ready = pods.iter().filter(|p| pods::is_ready(p)).count() as i64;
        (pods.len() as i64, ready)
    }

    fn replicaset_status(&self, rs: &Value) {
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
    fn put_status(&self, resource: &str, object: &Arc<Value>, status: Value) {
        if object.get("status") == Some(&status) {
            return;
        }
        let mut o = (**object).clone();
        o["status"] = status;
        self.store.put(resource, o);
    }

    fn deployment_status(&self, d: &Value) {
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

    fn statefulset_status(&self, s: &Value, revision: &str) {
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

    fn daemonset_status(&self, ds: &Value, desired: i64) {
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

    /// Job: `completions` pods, one after another, each run to its scenario's end.
    pub(crate) fn reconcile_job(&self, job: &Arc<Value>) {
        let completions = job["spec"]["completions"].as_i64().unwrap_or(1).max(1) as usize;
        let have = self.children("pods", job);
        if have.is_empty() {
            let uid = uid_of(job).to_string();
            let mut template = job["spec"]["template"].clone();
            template["spec"]["restartPolicy"] = template["spec"]["restartPolicy"]
                .as_str()
                .map(|p| json!(p))
                .unwrap_or(json!("Never"));
            let labels = [
                ("batch.kubernetes.io/controller-uid", uid.clone()),
                ("batch.kubernetes.io/job-name", name_of(job).to_string()),
                ("controller-uid", uid),
                ("job-name", name_of(job).to_string()),
            ];
            let failing = Scenario::of(
                &json!({"metadata": template["metadata"]}),
                Scenario::Completed,
            ) == Scenario::Failed;
            // A failing job retries up to its backoffLimit; two attempts are enough to show it.
            let runs = if failing { 2 } else { completions };
            for i in 0..runs {
                let name = format!("{}-{}", name_of(job), self.fresh_suffix(name_of(job)));
                self.create_pod(job, &template, &name, &labels, i, Scenario::Completed, None);
            }
        }
        self.job_status(job);
    }

    pub(crate) fn job_status(&self, job: &Value) {
        let Some(job) = self.store.get(JOBS, ns_of(job), name_of(job)) else {
            return;
        };
        let pods = self.children("pods", &job);
        let succeeded = pods
            .iter()
            .filter(|p| pods::phase(p) == "Succeeded")
            .count() as i64;
        let failed = pods.iter().filter(|p| pods::phase(p) == "Failed").count() as i64;
        let active = pods.len() as i64 - succeeded - failed;
        let completions = job["spec"]["completions"].as_i64().unwrap_or(1);
        let start = created_of(&job).unwrap_or_else(|| self.now()) + Duration::from_secs(1);
        let end = pods
            .iter()
            .filter_map(|p| {
                p["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"]
                    .as_str()
                    .and_then(parse)
            })
            .max()
            .unwrap_or(start);
        let mut status = json!({"startTime": rfc3339(start), "active": active, "succeeded": succeeded, "failed": failed, "ready": 0, "terminating": 0, "uncountedTerminatedPods": {}});
        if succeeded >= completions {
            status["completionTime"] = json!(rfc3339(end));
            status["conditions"] = json!([
                {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods", "lastProbeTime": rfc3339(end), "lastTransitionTime": rfc3339(end)},
                {"type": "Complete", "status": "True", "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods", "lastProbeTime": rfc3339(end), "lastTransitionTime": rfc3339(end)},
            ]);
        } else if failed > 0 && active == 0 {
            status["conditions"] = json!([
                {"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit", "lastProbeTime": rfc3339(end), "lastTransitionTime": rfc3339(end)},
                {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit", "lastProbeTime": rfc3339(end), "lastTransitionTime": rfc3339(end)},
            ]);
        }
        if let Some(o) = status.as_object_mut() {
            if active == 0 {
                o.remove("active");
            }
            if failed == 0 {
                o.remove("failed");
            }
        }
        self.put_status(JOBS, &job, status);
    }

    /// CronJob: the Jobs of its most recent schedule times, within the history limits.
    pub(crate) fn reconcile_cronjob(&self, cj: &Arc<Value>) {
        let Some(schedule) = super::cron::Schedule::parse(str_at(cj, &["spec", "schedule"])) else {
            return;
        };
        let keep = cj["spec"]["successfulJobsHistoryLimit"]
            .as_u64()
            .unwrap_or(3) as usize;
        let now = self.now();
        let times = schedule.last(now, keep.max(1));
        let existing = self.children(JOBS, cj);
        for t in times.iter().rev() {
            let minutes = crate::clock::unix(*t) / 60;
            let name = format!("{}-{minutes}", name_of(cj));
            if existing.iter().any(|j| name_of(j) == name)
                || self.store.get(JOBS, ns_of(cj), &name).is_some()
            {
                continue;
            }
            let tmpl = &cj["spec"]["jobTemplate"];
            let mut annotations = tmpl["metadata"]["annotations"].clone();
            annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"] = json!(rfc3339(*t));
            let job = json!({
                "apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": name, "namespace": ns_of(cj), "labels": tmpl["metadata"]["labels"], "annotations": annotations,
                    "ownerReferences": [owner_ref(cj)], "creationTimestamp": rfc3339(*t)},
                "spec": tmpl["spec"],
            });
            let job = self.store.put(JOBS, job);
            self.reconcile_job(&job);
        }
        // History limit: the oldest successful jobs go.
        let mut jobs = self.children(JOBS, cj);
        jobs.sort_by_key(|j| created_of(j));
        while jobs.len() > keep {
            let j = jobs.remove(0);
            self.delete(JOBS, ns_of(&j), name_of(&j));
        }
        let last = times.first().copied();
        let mut status = json!({});
        if let Some(t) = last {
            status["lastScheduleTime"] = json!(rfc3339(t));
            status["lastSuccessfulTime"] = json!(rfc3339(t + Duration::from_secs(25)));
        }
        if let Some(cj) = self.store.get(CRONJOBS, ns_of(cj), name_of(cj)) {
            self.put_status(CRONJOBS, &cj, status);
        }
    }

    /// A bare pod: scheduled and reported by the "kubelet" like any other.
    pub(crate) fn reconcile_bare_pod(&self, pod: &Arc<Value>) {
        if pod.get("status").is_some() {
            return;
        }
        let mut p = (**pod).clone();
        pods::default_spec(&mut p["spec"]);
        let place = self.schedule(&p["spec"], 0);
        if let Some(n) = &place.node {
            p["spec"]["nodeName"] = json!(n);
        }
        let stored = self.store.put("pods", p);
        self.set_pod_status(&stored, Scenario::Healthy, &place, false);
    }

    /// HPA: desired = ceil(current × utilisation / target), clamped to [min, max].
    pub(crate) fn reconcile_hpa(&self, hpa: &Value) {
        let Some(hpa) = self.store.get(HPAS, ns_of(hpa), name_of(hpa)) else {
            return;
        };
        let target = &hpa["spec"]["scaleTargetRef"];
        if target["kind"] != "Deployment" {
            return;
        }
        let Some(d) = self.store.get(
            DEPLOYMENTS,
            ns_of(&hpa),
            target["name"].as_str().unwrap_or(""),
        ) else {
            return;
        };
        let min = hpa["spec"]["minReplicas"].as_i64().unwrap_or(1);
        let max = hpa["spec"]["maxReplicas"].as_i64().unwrap_or(1);
        let target_util = hpa["spec"]["metrics"]
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["resource"]["name"] == "cpu"))
            .and_then(|m| m["resource"]["target"]["averageUtilization"].as_i64())
            .unwrap_or(80);
        let pods: Vec<_> = self
            .store
            .all("pods")
            .into_iter()
            .filter(|p| {
                ns_of(p) == ns_of(&d)
                    && pods::is_ready(p)
                    && crate::selector_matches(&d["spec"]["selector"], p)
            })
            .collect();
        let now = self.now();
        let utils: Vec<f64> = pods
            .iter()
            .filter_map(|p| crate::metrics::cpu_utilisation(p, now))
            .collect();
        let current = d["spec"]["replicas"].as_i64().unwrap_or(1);
        let util = if utils.is_empty() {
            None
        } else {
            Some(utils.iter().sum::<f64>() / utils.len() as f64)
        };
        let raw = util
            .map(|u| (current as f64 * u / target_util as f64).ceil() as i64)
            .unwrap_or(current);
        let desired = raw.clamp(min, max);
        if desired != current {
            let mut d2 = (*d).clone();
            d2["spec"]["replicas"] = json!(desired);
            let d2 = self.store.put(DEPLOYMENTS, d2);
            self.reconcile_deployment(&d2);
        }
        let at = rfc3339(now);
        let limited = raw > max || raw < min;
        let mut status = json!({
            "currentReplicas": current.max(desired).min(desired.max(current)),
            "desiredReplicas": desired,
            "conditions": [
                {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale", "message": "recommended size matches current size", "lastTransitionTime": at},
                {"type": "ScalingActive", "status": if util.is_some() { "True" } else { "False" }, "reason": if util.is_some() { "ValidMetricFound" } else { "FailedGetResourceMetric" },
                 "message": if util.is_some() { "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)" } else { "the HPA was unable to compute the replica count: no metrics returned from resource metrics API" }, "lastTransitionTime": at},
                if limited {
                    json!({"type": "ScalingLimited", "status": "True", "reason": if raw > max { "TooManyReplicas" } else { "TooFewReplicas" },
                        "message": if raw > max { "the desired replica count is more than the maximum replica count" } else { "the desired replica count is less than the minimum replica count" }, "lastTransitionTime": at})
                } else {
                    json!({"type": "ScalingLimited", "status": "False", "reason": "DesiredWithinRange", "message": "the desired count is within the acceptable range", "lastTransitionTime": at})
                },
            ],
        });
        status["currentReplicas"] = json!(desired);
        if let Some(u) = util {
            status["currentMetrics"] = json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": u.round() as i64, "averageValue": format!("{}m", crate::metrics::avg_cpu_millis(&pods, now).round() as i64)}}}]);
        }
        if desired != min {
            status["lastScaleTime"] = json!(rfc3339(
                created_of(&d)
                    .map(|c| c.max(now - Duration::from_secs(3000)))
                    .unwrap_or(now)
            ));
        }
        let strip = |s: &Value| {
            let mut s = s.clone();
            for c in s["conditions"].as_array_mut().into_iter().flatten() {
                if let Some(o) = c.as_object_mut() {
                    o.remove("lastTransitionTime");
                }
            }
            if let Some(o) = s.as_object_mut() {
                o.remove("lastScaleTime");
            }
            s
        };
        if strip(&hpa["status"]) != strip(&status) {
            self.put_status(HPAS, &hpa, status);
        }
    }

    /// Recomputes the status of every workload in a namespace (after pods changed).
    pub(crate) fn refresh_owners(&self, ns: &str) {
        let in_ns = |r: &str| -> Vec<Arc<Value>> {
            self.store
                .all(r)
                .into_iter()
                .filter(|o| ns_of(o) == ns)
                .collect()
        };
        for rs in in_ns(REPLICASETS) {
            self.replicaset_status(&rs);
        }
        for d in in_ns(DEPLOYMENTS) {
            self.deployment_status(&d);
        }
        for s in in_ns(STATEFULSETS) {
            let revision = format!("{}-{}", name_of(&s), template_hash(&s["spec"]["template"]));
            self.statefulset_status(&s, &revision);
        }
        let nodes = self.store.all("nodes");
        for ds in in_ns(DAEMONSETS) {
            let desired = nodes
                .iter()
                .filter(|n| super::tolerates(&ds["spec"]["template"]["spec"], n))
                .count() as i64;
            self.daemonset_status(&ds, desired);
        }
        for j in in_ns(JOBS) {
            self.job_status(&j);
        }
    }

    /// Namespace status: Active.
    pub(crate) fn namespace_status(&self, ns: &Arc<Value>) {
        let mut labels = ns["metadata"]["labels"].clone();
        if !labels.is_object() {
            labels = json!({});
        }
        labels["kubernetes.io/metadata.name"] = ns["metadata"]["name"].clone();
        let mut o = (**ns).clone();
        o["metadata"]["labels"] = labels;
        o["spec"] = json!({"finalizers": ["kubernetes"]});
        o["status"] = json!({"phase": "Active"});
        if *ns != Arc::new(o.clone()) {
            self.store.put("namespaces", o);
        }
    }

    /// Node status: capacity, addresses, Ready.
    pub(crate) fn node_status(&self, node: &Arc<Value>) {
        if node["status"]["conditions"].is_array() {
            return;
        }
        let idx = self.store.all("nodes").len();
        let mut o = (**node).clone();
        let mut status = o["status"].take();
        if !status.is_object() {
            status = json!({});
        }
        if !status["allocatable"].is_object() {
            status["allocatable"] =
                json!({"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "95Gi"});
        }
        if !status["capacity"].is_object() {
            status["capacity"] = status["allocatable"].clone();
        }
        status["addresses"] = json!([{"type": "InternalIP", "address": format!("172.18.0.{}", idx + 1)}, {"type": "Hostname", "address": o["metadata"]["name"]}]);
        let at = rfc3339(created_of(node).unwrap_or_else(|| self.now()));
        status["conditions"] = json!([
            {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory", "message": "kubelet has sufficient memory available", "lastHeartbeatTime": at, "lastTransitionTime": at},
            {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure", "message": "kubelet has no disk pressure", "lastHeartbeatTime": at, "lastTransitionTime": at},
            {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID", "message": "kubelet has sufficient PID available", "lastHeartbeatTime": at, "lastTransitionTime": at},
            {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status", "lastHeartbeatTime": at, "lastTransitionTime": at},
        ]);
        status["nodeInfo"] = json!({"kubeletVersion": crate::api::discovery::GIT_VERSION, "kubeProxyVersion": crate::api::discovery::GIT_VERSION, "containerRuntimeVersion": "containerd://2.0.4", "operatingSystem": "linux", "architecture": "amd64", "osImage": "Debian GNU/Linux 12 (bookworm)", "kernelVersion": "6.1.0-28-amd64"});
        o["status"] = status;
        self.store.put("nodes", o);
    }

    /// Service defaults: a cluster IP and the type.
    pub(crate) fn service_defaults(&self, svc: &Arc<Value>) {
        let mut o = (**svc).clone();
        let mut changed = false;
        if o["spec"]["type"].is_null() {
            o["spec"]["type"] = json!("ClusterIP");
            changed = true;
        }
        if o["spec"]["clusterIP"].is_null() {
            let ip = format!(
                "10.96.{}.{}",
                (crate::controller::suffix(name_of(svc), 1).as_bytes()[0] % 200) + 1,
                self.store.all("services").len() % 250 + 2
            );
            o["spec"]["clusterIP"] = json!(ip.clone());
            o["spec"]["clusterIPs"] = json!([ip]);
            changed = true;
        }
        if o["spec"]["type"] == "NodePort" || o["spec"]["type"] == "LoadBalancer" {
            for (i, p) in o["spec"]["ports"]
                .as_array_mut()
                .into_iter()
                .flatten()
                .enumerate()
            {
                if p["nodePort"].is_null() {
                    p["nodePort"] =
                        json!(30000 + (self.store.all("services").len() * 7 + i) % 2767);
                    changed = true;
                }
            }
        }
        for p in o["spec"]["ports"].as_array_mut().into_iter().flatten() {
            if p["protocol"].is_null() {
                p["protocol"] = json!("TCP");
                changed = true;
            }
            if p["targetPort"].is_null() {
                p["targetPort"] = p["port"].clone();
                changed = true;
            }
        }
        if o["status"].is_null() {
            o["status"] = json!({"loadBalancer": {}});
            changed = true;
        }
        if changed {
            self.store.put("services", o);
        }
    }
}
