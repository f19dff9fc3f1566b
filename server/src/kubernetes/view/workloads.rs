//! Workloads with their pods: Deployments through their ReplicaSets (with the HPA that scales
//! them), StatefulSets, DaemonSets, CronJobs through their Jobs, standalone Jobs, and bare Pods
//! that no listed workload owns (Backstage hides the last two).

use std::collections::{HashMap, HashSet};

use app::wire::kubernetes::{HpaView, PodRow, Workload};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::pods::Rows;
use super::Objects;
use crate::kubernetes::dashboard;
use crate::kubernetes::objects::{self, failing, holds, name, namespace, owned_by, uid};
use crate::kubernetes::objects::{Deployment, Hpa, Job};
use crate::kubernetes::types::ClusterAttributes;

/// Every workload of one cluster, in the tab's order.
pub fn workloads(cluster: &ClusterAttributes, o: &Objects, rows: &Rows) -> Vec<Workload> {
    let mut b = Builder {
        cluster,
        o,
        rows,
        pods_by_owner: by_owner(o.pods.iter().map(|p| &p.metadata)),
        claimed: HashSet::new(),
    };
    let replicasets_by_owner = by_owner(o.replicasets.iter().map(|r| &r.metadata));
    let mut out = Vec::new();
    for d in &o.deployments {
        let rs: Vec<&str> = replicasets_by_owner
            .get(uid(&d.metadata))
            .into_iter()
            .flatten()
            .map(|&i| uid(&o.replicasets[i].metadata))
            .collect();
        let status = format!(
            "{}/{} ready",
            d.status.ready_replicas.unwrap_or(0),
            d.spec.replicas.unwrap_or(1)
        );
        let mut w = b.base("Deployment", &d.metadata, status);
        w.failing_conditions = failing(d.status.conditions.as_ref());
        w.pods = b.pods_of(&rs);
        w.hpa = o.hpas.iter().find(|h| scales(h, d)).map(hpa_view);
        out.push(w);
    }
    for st in &o.statefulsets {
        let status = format!(
            "{}/{} ready",
            st.status.ready_replicas.unwrap_or(0),
            st.spec.replicas.unwrap_or(1)
        );
        let mut w = b.base("StatefulSet", &st.metadata, status);
        w.failing_conditions = failing(st.status.conditions.as_ref());
        w.pods = b.pods_of(&[uid(&st.metadata)]);
        out.push(w);
    }
    for ds in &o.daemonsets {
        let status = format!(
            "{}/{} ready",
            ds.status.number_ready, ds.status.desired_number_scheduled
        );
        let mut w = b.base("DaemonSet", &ds.metadata, status);
        w.failing_conditions = failing(ds.status.conditions.as_ref());
        w.pods = b.pods_of(&[uid(&ds.metadata)]);
        out.push(w);
    }
    for cj in &o.cronjobs {
        let last = cj
            .status
            .last_schedule_time
            .as_ref()
            .map(|t| format!(", last run {}", objects::timestamp(t)))
            .unwrap_or_default();
        let status = format!("schedule {}{last}", cj.spec.schedule);
        let mut w = b.base("CronJob", &cj.metadata, status);
        for j in o
            .jobs
            .iter()
            .filter(|j| owned_by(&j.metadata, uid(&cj.metadata)))
        {
            let job = b.job(j);
            w.jobs.push(job);
        }
        w.jobs.sort_by(|a, b| b.name.cmp(&a.name));
        out.push(w);
    }
    for j in o.jobs.iter().filter(|j| {
        !o.cronjobs
            .iter()
            .any(|cj| owned_by(&j.metadata, uid(&cj.metadata)))
    }) {
        out.push(b.job(j));
    }
    // Pods no listed workload claims: bare pods.
    for p in &o.pods {
        if b.claimed.contains(uid(&p.metadata)) {
            continue;
        }
        let phase = p.status.phase.clone().unwrap_or_default();
        let mut w = b.base("Pod", &p.metadata, phase);
        w.pods = vec![rows.row(p)];
        out.push(w);
    }
    out
}

/// Positions of the objects each owner uid owns (so grouping is linear in the objects).
fn by_owner<'a>(metas: impl Iterator<Item = &'a ObjectMeta>) -> HashMap<&'a str, Vec<usize>> {
    let mut out: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, m) in metas.enumerate() {
        for o in m.owner_references.iter().flatten() {
            if !o.uid.is_empty() {
                out.entry(o.uid.as_str()).or_default().push(i);
            }
        }
    }
    out
}

struct Builder<'a> {
    cluster: &'a ClusterAttributes,
    o: &'a Objects,
    rows: &'a Rows<'a>,
    /// Pod positions by owner uid.
    pods_by_owner: HashMap<&'a str, Vec<usize>>,
    /// Uids of the pods shown under a workload.
    claimed: HashSet<&'a str>,
}

impl<'a> Builder<'a> {
    fn base(&self, kind: &str, m: &ObjectMeta, status: String) -> Workload {
        Workload {
            kind: kind.to_string(),
            name: name(m).to_string(),
            namespace: namespace(m).to_string(),
            status,
            dashboard_link: dashboard::object_link(
                self.cluster,
                &kind.to_lowercase(),
                namespace(m),
                name(m),
            ),
            ..Workload::default()
        }
    }

    /// The rows of the pods owned by any of these uids, by name.
    fn pods_of(&mut self, owners: &[&str]) -> Vec<PodRow> {
        let o: &'a Objects = self.o;
        let mut owned: Vec<usize> = owners
            .iter()
            .flat_map(|u| self.pods_by_owner.get(u).into_iter().flatten().copied())
            .collect();
        owned.sort_unstable();
        owned.dedup();
        let mut rows: Vec<PodRow> = Vec::with_capacity(owned.len());
        for i in owned {
            let p = &o.pods[i];
            self.claimed.insert(uid(&p.metadata));
            rows.push(self.rows.row(p));
        }
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        rows
    }

    fn job(&mut self, j: &Job) -> Workload {
        let conditions = j.status.conditions.as_ref();
        let state = if holds(conditions, "Complete") {
            "Complete"
        } else if holds(conditions, "Failed") {
            "Failed"
        } else {
            "Running"
        };
        let done = j.status.succeeded.unwrap_or(0);
        let want = j.spec.completions.unwrap_or(1);
        let mut w = self.base("Job", &j.metadata, format!("{state} ({done}/{want})"));
        w.failing_conditions = failing(conditions);
        w.pods = self.pods_of(&[uid(&j.metadata)]);
        w
    }
}

/// Whether an HPA scales this Deployment.
fn scales(h: &Hpa, d: &Deployment) -> bool {
    let target = &h.spec.scale_target_ref;
    target.kind == "Deployment"
        && Some(&target.name) == d.metadata.name.as_ref()
        && h.metadata.namespace == d.metadata.namespace
}

fn hpa_view(h: &Hpa) -> HpaView {
    let cpu = |name: &str| name == "cpu";
    HpaView {
        name: name(&h.metadata).to_string(),
        min: i64::from(h.spec.min_replicas.unwrap_or(1)),
        max: i64::from(h.spec.max_replicas),
        current: i64::from(h.status.current_replicas.unwrap_or(0)),
        cpu_target: h
            .spec
            .metrics
            .iter()
            .flatten()
            .filter_map(|m| m.resource.as_ref())
            .find(|r| cpu(&r.name))
            .and_then(|r| r.target.average_utilization)
            .map(i64::from),
        cpu_current: h
            .status
            .current_metrics
            .iter()
            .flatten()
            .filter_map(|m| m.resource.as_ref())
            .find(|r| cpu(&r.name))
            .and_then(|r| r.current.average_utilization)
            .map(i64::from),
    }
}
