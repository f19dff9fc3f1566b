//! What the API server and the other controllers fill in: workloads' status after their pods
//! change, Namespace and Node status, Service defaults.

use std::sync::Arc;

use serde_json::{json, Value};

use super::workloads::*;
use crate::clock::rfc3339;
use crate::cluster::Cluster;

impl Cluster {
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
