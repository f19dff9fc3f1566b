//! The controllers a real control plane runs, reduced to what the demo needs: apply a manifest
//! the way `kubectl apply` + the API server would (defaulting, namespace checks), then let the
//! workload controllers create what they own (ReplicaSets, Pods, Jobs), the scheduler place pods,
//! the kubelet report status, and garbage collection delete what an owner leaves behind.

pub mod batch;
pub mod cron;
pub mod defaults;
pub mod events;
pub mod life;
pub mod pods;
pub mod scaling;
pub mod sets;
pub mod workloads;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use crate::cluster::Cluster;
use crate::resources::{self, gvk_of};
use crate::store::str_at;

/// A manifest the cluster cannot take.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The document has no apiVersion/kind.
    #[error("object has no apiVersion or kind")]
    NoKind,
    /// No served resource type has this kind.
    #[error("no matches for kind \"{kind}\" in version \"{api_version}\"")]
    UnknownKind {
        /// The kind.
        kind: String,
        /// The apiVersion.
        api_version: String,
    },
    /// metadata.name is missing or invalid.
    #[error("{kind}: metadata.name is required")]
    NoName {
        /// The kind.
        kind: String,
    },
    /// The namespace does not exist.
    #[error("namespaces \"{0}\" not found")]
    NoNamespace(String),
    /// A seed file could not be read or parsed.
    #[error("{file}: {message}")]
    File {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
}

/// Who owns an object: the `ownerReferences` entry for it.
pub fn owner_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// Whether `object` is controlled by the object with this uid.
pub fn owned_by(object: &Value, uid: &str) -> bool {
    object["metadata"]["ownerReferences"]
        .as_array()
        .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid))
}

const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A name suffix like the API server's generateName: `n` characters of its alphabet.
pub fn suffix(seed: &str, n: usize) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(seed.as_bytes());
    d.iter()
        .take(n)
        .map(|b| NAME_ALPHABET[*b as usize % NAME_ALPHABET.len()] as char)
        .collect()
}

impl Cluster {
    /// Applies one object: create or replace, then reconcile what it controls.
    pub fn apply(&self, object: Value) -> Result<Arc<Value>, ApplyError> {
        self.apply_at(object, None)
    }

    /// Applies with a creation time (seeding puts objects in the past).
    pub(crate) fn apply_at(
        &self,
        mut object: Value,
        created: Option<SystemTime>,
    ) -> Result<Arc<Value>, ApplyError> {
        let (group, _version, kind) = gvk_of(&object).ok_or(ApplyError::NoKind)?;
        let ty = self
            .type_by_kind(&group, &kind)
            .ok_or_else(|| ApplyError::UnknownKind {
                kind: kind.clone(),
                api_version: str_at(&object, &["apiVersion"]).to_string(),
            })?;
        let name = str_at(&object, &["metadata", "name"]).to_string();
        if name.is_empty() {
            return Err(ApplyError::NoName { kind });
        }
        // Objects are stored in the served version (they are written that way in the seed).
        object["apiVersion"] = json!(ty.api_version());
        if ty.namespaced {
            let ns = str_at(&object, &["metadata", "namespace"]).to_string();
            let ns = if ns.is_empty() {
                "default".to_string()
            } else {
                ns
            };
            if self.store.get("namespaces", "", &ns).is_none() {
                return Err(ApplyError::NoNamespace(ns));
            }
            object["metadata"]["namespace"] = json!(ns);
        } else if let Some(m) = object["metadata"].as_object_mut() {
            m.remove("namespace");
        }
        // Controllers own status; manifests do not set it (Nodes and custom resources may).
        const BUILTIN_GROUPS: &[&str] = &[
            "",
            "apps",
            "batch",
            "autoscaling",
            "networking.k8s.io",
            "apiextensions.k8s.io",
        ];
        let keep_status = kind == "Node" || !BUILTIN_GROUPS.contains(&ty.group.as_str());
        if !keep_status {
            if let Some(o) = object.as_object_mut() {
                o.remove("status");
            }
        }
        if let Some(t) = created {
            if object["metadata"].get("creationTimestamp").is_none() {
                object["metadata"]["creationTimestamp"] = json!(crate::clock::rfc3339(t));
            }
        }
        let existing = self
            .store
            .get(&ty.id(), str_at(&object, &["metadata", "namespace"]), &name);
        if let Some(prev) = &existing {
            // An apply keeps what controllers wrote.
            if let Some(st) = prev.get("status") {
                if object.get("status").is_none() {
                    object["status"] = st.clone();
                }
            }
        }
        let stored = self.store.put(&ty.id(), object);
        self.reconcile(&kind, &stored);
        Ok(self
            .store
            .get(&ty.id(), str_at(&stored, &["metadata", "namespace"]), &name)
            .unwrap_or(stored))
    }

    /// Runs the controller for one kind of object.
    pub(crate) fn reconcile(&self, kind: &str, object: &Arc<Value>) {
        match kind {
            "CustomResourceDefinition" => {
                if let Some(t) = resources::from_crd(object) {
                    self.add_type(t);
                }
            }
            "Namespace" => self.namespace_status(object),
            "Node" => self.node_status(object),
            "Deployment" => self.reconcile_deployment(object),
            "ReplicaSet" => self.reconcile_replicaset(object),
            "StatefulSet" => self.reconcile_statefulset(object),
            "DaemonSet" => self.reconcile_daemonset(object),
            "Job" => self.reconcile_job(object),
            "CronJob" => self.reconcile_cronjob(object),
            "Pod" => self.reconcile_bare_pod(object),
            "HorizontalPodAutoscaler" => self.reconcile_hpa(object),
            "Service" => self.service_defaults(object),
            _ => {}
        }
    }

    /// Deletes an object and, like the garbage collector, everything it owns.
    pub fn delete(&self, resource: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        let gone = self.store.delete(resource, ns, name)?;
        let uid = str_at(&gone, &["metadata", "uid"]).to_string();
        for t in self.types() {
            if t.list_only {
                continue;
            }
            for child in self.store.all(&t.id()) {
                if owned_by(&child, &uid) {
                    self.delete(
                        &t.id(),
                        str_at(&child, &["metadata", "namespace"]),
                        str_at(&child, &["metadata", "name"]),
                    );
                }
            }
        }
        if resource == "pods" {
            self.refresh_owners(ns);
        }
        Some(gone)
    }

    /// Applies every `*.yaml` in a directory, in file-name order, multi-document, then makes
    /// default nodes if none were given and lets autoscalers act.
    pub fn seed_dir(&self, dir: &Path) -> Result<usize, ApplyError> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| ApplyError::File {
                file: dir.display().to_string(),
                message: e.to_string(),
            })?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        files.sort();
        let mut docs = Vec::new();
        for f in &files {
            let text = std::fs::read_to_string(f).map_err(|e| ApplyError::File {
                file: f.display().to_string(),
                message: e.to_string(),
            })?;
            for (i, doc) in serde_yaml::Deserializer::from_str(&text).enumerate() {
                let v: Value =
                    serde::Deserialize::deserialize(doc).map_err(|e| ApplyError::File {
                        file: f.display().to_string(),
                        message: format!("document {}: {e}", i + 1),
                    })?;
                if v.is_null() {
                    continue;
                }
                if v["kind"] == "List" {
                    docs.extend(
                        v["items"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default()
                            .into_iter()
                            .map(|d| (f.clone(), d)),
                    );
                } else {
                    docs.push((f.clone(), v));
                }
            }
        }
        self.seed(docs)
    }

    /// Applies seed objects: cluster-level kinds first (as kubectl/helm order them).
    pub fn seed(&self, mut docs: Vec<(std::path::PathBuf, Value)>) -> Result<usize, ApplyError> {
        let rank = |v: &Value| match v["kind"].as_str().unwrap_or("") {
            "Namespace" => 0,
            "Node" => 1,
            "CustomResourceDefinition" => 2,
            "HorizontalPodAutoscaler" => 9,
            _ => 5,
        };
        docs.sort_by_key(|(_, v)| rank(v));
        self.seeding
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let result = self.seed_sorted(docs);
        self.seeding
            .store(false, std::sync::atomic::Ordering::SeqCst);
        result
    }

    fn seed_sorted(&self, docs: Vec<(std::path::PathBuf, Value)>) -> Result<usize, ApplyError> {
        let rank = |v: &Value| match v["kind"].as_str().unwrap_or("") {
            "Namespace" => 0,
            "Node" => 1,
            "CustomResourceDefinition" => 2,
            _ => 5,
        };
        let long_ago = self.now() - Duration::from_secs(7 * 24 * 3600);
        let mut n = 0;
        let mut nodes_checked = false;
        for (file, doc) in docs {
            if rank(&doc) >= 2 && !nodes_checked {
                nodes_checked = true;
                self.ensure_nodes(long_ago);
            }
            self.apply_at(doc, Some(long_ago))
                .map_err(|e| ApplyError::File {
                    file: file.display().to_string(),
                    message: e.to_string(),
                })?;
            n += 1;
        }
        if !nodes_checked {
            self.ensure_nodes(long_ago);
        }
        // Autoscalers read metrics and scale once more now that every pod exists.
        for hpa in self.store.all("horizontalpodautoscalers.autoscaling") {
            self.reconcile_hpa(&hpa);
        }
        Ok(n)
    }

    /// Three nodes (one control-plane) when the seed defines none; the system namespaces.
    fn ensure_nodes(&self, at: SystemTime) {
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            if self.store.get("namespaces", "", ns).is_none() {
                let _ = self.apply_at(
                    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
                    Some(at),
                );
            }
        }
        if !self.store.all("nodes").is_empty() {
            return;
        }
        for i in 1..=3 {
            let mut labels = json!({"kubernetes.io/hostname": format!("demo-node-{i}"), "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"});
            let mut spec = json!({});
            if i == 1 {
                labels["node-role.kubernetes.io/control-plane"] = json!("");
                spec["taints"] = json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]);
            }
            let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": format!("demo-node-{i}"), "labels": labels}, "spec": spec});
            let _ = self.apply_at(node, Some(at));
        }
    }

    /// A fresh, unique name suffix for an object created under `parent`.
    pub(crate) fn fresh_suffix(&self, parent: &str) -> String {
        let mut ctl = self.ctl.lock().unwrap_or_else(|p| p.into_inner());
        ctl.names += 1;
        suffix(&format!("{}/{parent}/{}", self.name, ctl.names), 5)
    }

    /// Schedules a pod spec: the node, its IPs and a fresh pod IP, or why it cannot run.
    pub(crate) fn schedule(&self, spec: &Value, index: usize) -> pods::Placement {
        let nodes = self.store.all("nodes");
        let (cpu, mem) = pods::requests(spec);
        let mut tainted = 0;
        let mut no_cpu = 0;
        let mut no_mem = 0;
        let mut fit = Vec::new();
        for node in &nodes {
            if !tolerates(spec, node) {
                tainted += 1;
                continue;
            }
            let alloc = &node["status"]["allocatable"];
            let acpu = alloc["cpu"]
                .as_str()
                .and_then(crate::quantity::millicores)
                .unwrap_or(4000.0);
            let amem = alloc["memory"]
                .as_str()
                .and_then(crate::quantity::bytes)
                .unwrap_or(16.0 * 1024.0 * 1024.0 * 1024.0);
            if cpu > acpu {
                no_cpu += 1;
            } else if mem > amem {
                no_mem += 1;
            } else {
                fit.push(node.clone());
            }
        }
        if let Some(wanted) = spec["nodeName"].as_str() {
            fit.retain(|n| n["metadata"]["name"] == wanted);
        }
        if fit.is_empty() {
            let mut why = Vec::new();
            if no_cpu > 0 {
                why.push(format!("{no_cpu} Insufficient cpu"));
            }
            if no_mem > 0 {
                why.push(format!("{no_mem} Insufficient memory"));
            }
            if tainted > 0 {
                why.push(format!("{tainted} node(s) had untolerated taint {{node-role.kubernetes.io/control-plane: }}"));
            }
            why.sort();
            let total = nodes.len();
            return pods::Placement {
                node: None,
                host_ip: String::new(),
                pod_ip: String::new(),
                unschedulable: Some(format!(
                    "0/{total} nodes are available: {}. preemption: 0/{total} nodes are available: {total} Preemption is not helpful for scheduling.",
                    why.join(", ")
                )),
            };
        }
        let node = &fit[index % fit.len()];
        self.place_on(node)
    }

    /// Placement on a given node.
    pub(crate) fn place_on(&self, node: &Value) -> pods::Placement {
        let name = str_at(node, &["metadata", "name"]).to_string();
        let idx = self
            .store
            .all("nodes")
            .iter()
            .position(|n| n["metadata"]["name"] == name.as_str())
            .unwrap_or(0)
            + 1;
        let mut ctl = self.ctl.lock().unwrap_or_else(|p| p.into_inner());
        let n = ctl.pod_ips.entry(name.clone()).or_insert(1);
        *n += 1;
        let ip = format!("10.244.{}.{}", idx, *n % 250 + 2);
        pods::Placement {
            node: Some(name),
            host_ip: format!("172.18.0.{}", idx + 1),
            pod_ip: ip,
            unschedulable: None,
        }
    }
}

/// Whether a pod spec tolerates every NoSchedule/NoExecute taint of a node.
pub fn tolerates(spec: &Value, node: &Value) -> bool {
    let tolerations = spec["tolerations"].as_array().cloned().unwrap_or_default();
    node["spec"]["taints"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|taint| {
            let effect = taint["effect"].as_str().unwrap_or("");
            if effect == "PreferNoSchedule" {
                return true;
            }
            tolerations.iter().any(|t| {
                let key_ok = t["key"].as_str().is_none_or(str::is_empty)
                    && t["operator"] == "Exists"
                    || t["key"] == taint["key"];
                let op_ok = t["operator"] == "Exists"
                    || t["value"].as_str().unwrap_or("") == taint["value"].as_str().unwrap_or("");
                let effect_ok = t["effect"]
                    .as_str()
                    .is_none_or(|e| e.is_empty() || e == effect);
                key_ok && op_ok && effect_ok
            })
        })
}
