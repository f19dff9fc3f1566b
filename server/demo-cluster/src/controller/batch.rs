//! Job, CronJob and bare-Pod controllers.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::owner_ref;
use super::pods::{self, Scenario};
use super::workloads::*;
use crate::clock::{parse, rfc3339};
use crate::cluster::Cluster;
use crate::store::str_at;

impl Cluster {
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
}
