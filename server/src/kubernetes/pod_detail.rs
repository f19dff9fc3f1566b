//! One pod of an entity, for the tab's pod panel: details, containers, events of the pod and of
//! its workload, YAML, metrics, and logs. Every call first checks that the pod belongs to the
//! entity (on a cluster its locator picks, in its namespaces, matching its selector): the panel
//! cannot be used to read arbitrary pods.

use app::wire::kubernetes::{
    ConditionView, ContainerDetail, EventView, LogRequest, PodDetail, PodLogs, PodRef, Usage,
};
use k8s_openapi::api::core::v1::Event;
use serde::Deserialize as _;
use serde_json::Value;

use super::config::ClusterDetails;
use super::lookup::{self, URI_COMPONENT};
use super::names::{ContainerName, Namespace, ObjectName};
use super::objects::{self, Pod, ReplicaSet};
use super::service::{KubernetesService, LookupError, Needs};
use super::{errors, fetcher, service_locator, view};
use crate::permission::KubernetesAccess;

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, URI_COMPONENT).to_string()
}

/// Why the pod panel or a log download could not be served. Every message is for the user:
/// it names the pod, namespace, cluster or permission and why.
#[derive(Debug, thiserror::Error)]
pub enum PodError {
    /// The viewer may not read this pod (the message names the permission).
    #[error("{0}")]
    Forbidden(String),
    /// The entity is unknown or unreadable.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// A pod, namespace or container name that is not a valid Kubernetes name.
    #[error(transparent)]
    Name(#[from] super::names::NameError),
    /// The entity's Kubernetes annotations cannot be used as they are.
    #[error(transparent)]
    Annotation(#[from] lookup::AnnotationError),
    /// The cluster is not one the entity's locator picks.
    #[error("cluster '{0}' is not one of this entity's clusters")]
    NotEntityCluster(String),
    /// The namespace is outside the entity's `kubernetes-namespace`.
    #[error("namespace '{0}' is not one of this entity's namespaces")]
    NotEntityNamespace(String),
    /// The pod does not carry the entity's labels.
    #[error("pod '{0}' does not carry this entity's labels")]
    NotEntityPod(String),
    /// The cluster could not be reached or refused the request (see [`api_error`]).
    #[error("{0}")]
    Cluster(String),
}

impl PodError {
    /// The HTTP status a log download answers with.
    pub fn status(&self) -> u16 {
        match self {
            PodError::Forbidden(_) => 403,
            PodError::Lookup(LookupError::Forbidden(_)) => 403,
            PodError::Cluster(_) => 502,
            _ => 400,
        }
    }
}

/// What the user is told of a failed call: the status (the API server's message may name the
/// portal's identity, e.g. an assumed-role ARN) or the kind of transport failure; the rest goes
/// to the log.
fn api_error(cluster: &ClusterDetails, e: &kube::Error) -> PodError {
    PodError::Cluster(api_error_message(cluster, e))
}

fn api_error_message(cluster: &ClusterDetails, e: &kube::Error) -> String {
    match e {
        kube::Error::Api(st) => {
            tracing::warn!(cluster = %cluster.name, status = st.code, message = %st.message, "pod panel request refused");
            let reason = match st.code {
                // The kubelet's own words about the request (no previous container, …).
                400 => st.message.chars().take(300).collect(),
                401 => "the cluster rejected the portal's credentials".to_string(),
                403 => "the portal's credentials may not read this".to_string(),
                404 => "not found (the pod may be gone)".to_string(),
                _ => "the cluster refused the request".to_string(),
            };
            format!("{reason} (HTTP {})", st.code)
        }
        other => errors::describe_transport(&cluster.name, &cluster.url, &errors::chain(other)),
    }
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn cut_at(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl KubernetesService {
    /// Why `access` does not let its viewer read the pods of `entity_ref` in `cluster`
    /// (`kubernetes.proxy` on the entity, `kubernetes.clusters.read` on the cluster), if so.
    pub fn pod_access_denied(
        &self,
        entity_ref: &str,
        cluster: &str,
        access: &KubernetesAccess,
    ) -> Option<String> {
        match self.readable_entity(entity_ref, access, Needs::Proxy) {
            Err(LookupError::Forbidden(m)) => Some(m),
            _ if !access.cluster(cluster) => Some(format!(
                "You don't have access to cluster '{cluster}' (permission kubernetes.clusters.read)."
            )),
            _ => None,
        }
    }

    /// The cluster, client and pod object (as sent, and typed), if the pod belongs to the
    /// entity and `access` lets the viewer read it.
    async fn entity_pod(
        &self,
        entity_ref: &str,
        pod: &PodRef,
        access: &KubernetesAccess,
    ) -> Result<(ClusterDetails, kube::Client, Value, Pod), PodError> {
        if let Some(denied) = self.pod_access_denied(entity_ref, &pod.cluster, access) {
            return Err(PodError::Forbidden(denied));
        }
        let entity = self.readable_entity(entity_ref, access, Needs::Proxy)?;
        let namespace = Namespace::parse("namespace", &pod.namespace)?;
        let name = ObjectName::parse("pod", &pod.name)?;
        let selector = lookup::label_selector(&entity)?;
        let clusters = service_locator::select(
            self.config().service_locator,
            &entity,
            self.clusters().await,
        );
        let cluster = clusters
            .into_iter()
            .find(|c| c.name == pod.cluster)
            .ok_or_else(|| PodError::NotEntityCluster(pod.cluster.clone()))?;
        if let Some(ns) = lookup::namespaces(&entity)? {
            if !ns.contains(&namespace) {
                return Err(PodError::NotEntityNamespace(pod.namespace.clone()));
            }
        }
        let client = self
            .connection(&cluster)
            .await
            .map_err(|e| PodError::Cluster(e.message()))?;
        let object = match self.cached(&cluster, "pods", &namespace, &name).await {
            Some(o) => o,
            None => {
                let path = format!("/api/v1/namespaces/{namespace}/pods/{name}");
                fetcher::get_json(&client, &path)
                    .await
                    .map_err(|e| api_error(&cluster, &e))?
            }
        };
        let typed = Pod::deserialize(&object).map_err(|e| {
            PodError::Cluster(format!(
                "Cluster {} returned pod {namespace}/{name} in a form that could not be read: {e}",
                cluster.name
            ))
        })?;
        if !selector.matches(
            typed
                .metadata
                .labels
                .as_ref()
                .unwrap_or(&Default::default()),
        ) {
            return Err(PodError::NotEntityPod(pod.name.clone()));
        }
        Ok((cluster, client, object, typed))
    }

    /// One object of a watched type (`plural` among the configured object types) from the
    /// cache, as the API server's GET returns it (`kind` and `apiVersion` first); `None` when
    /// the cache is off, the type is not watched, or the object is not (yet) there: the caller
    /// then asks the API server.
    async fn cached(
        &self,
        c: &ClusterDetails,
        plural: &str,
        ns: &Namespace,
        name: &str,
    ) -> Option<Value> {
        let cache = self.cache()?;
        let t = self
            .config()
            .object_types
            .iter()
            .find(|t| t.object_type == plural)?;
        let stored = cache.get(c, t, ns, name).await.ok()??;
        let mut v = stored.value();
        let kind = match plural {
            "pods" => "Pod",
            "replicasets" => "ReplicaSet",
            _ => return Some(v),
        };
        if let Some(m) = v.as_object_mut() {
            m.insert("apiVersion".into(), Value::from(t.group_version()));
            m.insert("kind".into(), Value::from(kind));
        }
        Some(v)
    }

    /// The events of a namespace: from the shared events watch when the cache is on (one watch
    /// however many panels are open), else one list with a field selector.
    async fn namespace_events(
        &self,
        c: &ClusterDetails,
        client: &kube::Client,
        ns: &str,
        name: &str,
    ) -> Vec<Value> {
        if let (Some(cache), Ok(namespace)) = (self.cache(), Namespace::parse("namespace", ns)) {
            let everything = super::selector::LabelSelector::parse("").ok();
            let held = std::sync::Mutex::default();
            if let Some(all) = everything {
                let read = cache
                    .read(
                        c,
                        &lookup::events_type(),
                        Some(&namespace),
                        &all,
                        &held,
                        true,
                    )
                    .await;
                if let Ok(events) = read {
                    // Most events are about other objects: only those naming `name` are parsed.
                    let needle = format!("\"name\":{}", Value::from(name));
                    return events
                        .iter()
                        .filter(|e| e.json.get().contains(&needle))
                        .map(|e| e.value())
                        .collect();
                }
            }
        }
        let path = format!(
            "/api/v1/namespaces/{}/events?fieldSelector={}",
            enc(ns),
            enc(&format!("involvedObject.name={name}"))
        );
        match fetcher::get_json(client, &path).await {
            Ok(mut list) => match list["items"].take() {
                Value::Array(items) => items,
                _ => Vec::new(),
            },
            Err(_) => Vec::new(),
        }
    }

    async fn events_of(
        &self,
        c: &ClusterDetails,
        client: &kube::Client,
        ns: &str,
        kind: &str,
        name: &str,
    ) -> Vec<EventView> {
        // The owner's name comes from the cluster: only a valid name goes into the selector.
        if ObjectName::parse("involvedObject.name", name).is_err() {
            return Vec::new();
        }
        // An event that does not read as one is left out (the panel shows the others).
        self.namespace_events(c, client, ns, name)
            .await
            .iter()
            .filter_map(|e| Event::deserialize(e).ok())
            .filter(|e| e.involved_object.name.as_deref() == Some(name))
            .filter(|e| e.involved_object.kind.as_deref() == Some(kind))
            .map(|e| EventView {
                object: format!("{kind} {name}"),
                event_type: e.type_.unwrap_or_default(),
                reason: e.reason.unwrap_or_default(),
                message: e.message.unwrap_or_default(),
                count: e.count.map_or(1, i64::from),
                last_seen: e
                    .last_timestamp
                    .as_ref()
                    .map(objects::timestamp)
                    .or(e.event_time.map(|t| t.0.to_string()))
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// The pod panel's data; when `access` does not allow it, a panel that says why.
    pub async fn pod_detail(
        &self,
        entity_ref: &str,
        pod: &PodRef,
        access: &KubernetesAccess,
    ) -> Result<PodDetail, PodError> {
        if let Some(denied) = self.pod_access_denied(entity_ref, &pod.cluster, access) {
            return Ok(PodDetail {
                access_denied: Some(denied),
                ..PodDetail::default()
            });
        }
        let (cluster, client, mut p, typed) = self.entity_pod(entity_ref, pod, access).await?;
        let ns = pod.namespace.as_str();
        // Events: the pod, its owner, and the owner's owner (Pod → ReplicaSet → Deployment).
        let mut events = self
            .events_of(&cluster, &client, ns, "Pod", &pod.name)
            .await;
        let mut owner_line = None;
        if let Some(o) = typed.metadata.owner_references.iter().flatten().next() {
            let (kind, name) = (o.kind.as_str(), o.name.as_str());
            owner_line = Some(format!("{kind} {name}"));
            events.extend(self.events_of(&cluster, &client, ns, kind, name).await);
            // The owner's name comes from the cluster: used in a path only if it is a valid name.
            if kind == "ReplicaSet" && ObjectName::parse("ownerReferences[0].name", name).is_ok() {
                let namespace = Namespace::parse("namespace", ns)?;
                let rs = match self.cached(&cluster, "replicasets", &namespace, name).await {
                    Some(rs) => rs,
                    None => {
                        let path = format!(
                            "/apis/apps/v1/namespaces/{}/replicasets/{}",
                            enc(ns),
                            enc(name)
                        );
                        fetcher::get_json(&client, &path)
                            .await
                            .unwrap_or(Value::Null)
                    }
                };
                let rs = ReplicaSet::deserialize(&rs).unwrap_or_default();
                if let Some(d) = rs.metadata.owner_references.iter().flatten().next() {
                    events.extend(
                        self.events_of(&cluster, &client, ns, &d.kind, &d.name)
                            .await,
                    );
                }
            }
        }
        events.sort_by(|a, b| b.last_seen.cmp(&a.last_seen));
        let metrics = if cluster.skip_metrics_lookup {
            Value::Null
        } else {
            let path = format!(
                "/apis/metrics.k8s.io/v1beta1/namespaces/{}/pods/{}",
                enc(ns),
                enc(&pod.name)
            );
            fetcher::get_json(&client, &path)
                .await
                .unwrap_or(Value::Null)
        };
        let containers = typed
            .spec
            .containers
            .iter()
            .map(|c| container_detail(&typed, c, &metrics))
            .collect();
        let conditions = typed
            .status
            .conditions
            .iter()
            .flatten()
            .map(|c| ConditionView {
                condition_type: c.type_.clone(),
                status: c.status.clone(),
                reason: c.reason.clone(),
                message: c.message.clone(),
            })
            .collect();
        if let Some(m) = p["metadata"].as_object_mut() {
            m.remove("managedFields");
        }
        Ok(PodDetail {
            phase: typed.status.phase.clone().unwrap_or_default(),
            pod_ip: typed.status.pod_ip.clone().unwrap_or_default(),
            node: typed.spec.node_name.clone().unwrap_or_default(),
            owner: owner_line,
            conditions,
            containers,
            events,
            yaml: serde_yaml::to_string(&p).unwrap_or_default(),
            access_denied: None,
        })
    }

    /// Where to follow a container's log from, if the pod belongs to the entity and `access`
    /// lets the viewer read it (the checks of [`Self::pod_logs`]).
    pub async fn follow_target(
        &self,
        entity_ref: &str,
        req: &LogRequest,
        access: &KubernetesAccess,
    ) -> Result<super::log_follow::Target, PodError> {
        let container = match &req.container {
            Some(c) => Some(ContainerName::parse("container", c)?.to_string()),
            None => None,
        };
        let (cluster, _, _, typed) = self.entity_pod(entity_ref, &req.pod, access).await?;
        Ok(super::log_follow::Target {
            cluster,
            namespace: req.pod.namespace.clone(),
            pod: req.pod.name.clone(),
            container,
            uid: typed.metadata.uid,
        })
    }

    /// A container's log, each line split into (timestamp, text).
    pub async fn pod_logs(
        &self,
        entity_ref: &str,
        req: &LogRequest,
        access: &KubernetesAccess,
    ) -> Result<PodLogs, PodError> {
        let (cluster, client, _, _) = self.entity_pod(entity_ref, &req.pod, access).await?;
        let max_bytes = self.config().limits.max_log_bytes;
        let mut q = format!(
            "timestamps=true&tailLines={}&limitBytes={max_bytes}",
            req.tail_lines.clamp(1, 10_000)
        );
        if let Some(c) = &req.container {
            let c = ContainerName::parse("container", c)?;
            q.push_str(&format!("&container={c}"));
        }
        if req.previous {
            q.push_str("&previous=true");
        }
        let path = format!(
            "/api/v1/namespaces/{}/pods/{}/log?{q}",
            enc(&req.pod.namespace),
            enc(&req.pod.name)
        );
        let text = fetcher::get_text(&client, &path)
            .await
            .map_err(|e| api_error(&cluster, &e))?;
        // The API server stops at limitBytes; a cluster that ignores it is cut here.
        let truncated = (text.len() as u64 >= max_bytes).then_some(max_bytes);
        let text = cut_at(&text, max_bytes as usize);
        Ok(PodLogs {
            truncated,
            lines: text
                .lines()
                .map(|l| match l.split_once(' ') {
                    Some((ts, rest)) if ts.len() >= 20 && ts.as_bytes().get(4) == Some(&b'-') => {
                        (ts.to_string(), rest.to_string())
                    }
                    _ => (String::new(), l.to_string()),
                })
                .collect(),
        })
    }
}

/// One container of the pod panel: state, last termination, probes, and usage against its
/// requests and limits (from the pod's metrics.k8s.io `PodMetrics`, as sent).
fn container_detail(
    pod: &Pod,
    c: &k8s_openapi::api::core::v1::Container,
    metrics: &Value,
) -> ContainerDetail {
    let name = c.name.as_str();
    let st = pod
        .status
        .container_statuses
        .iter()
        .flatten()
        .find(|s| s.name == name);
    let state = st.and_then(|s| s.state.as_ref());
    let at = |t: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>| {
        t.map_or_else(|| "?".to_string(), objects::timestamp)
    };
    let text = if let Some(r) = state.and_then(|s| s.running.as_ref()) {
        format!("Running since {}", at(r.started_at.as_ref()))
    } else if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
        format!("Waiting: {}", w.reason.as_deref().unwrap_or("?"))
    } else if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
        format!(
            "Terminated: {} (exit code {}), {} → {}",
            t.reason.as_deref().unwrap_or("?"),
            t.exit_code,
            at(t.started_at.as_ref()),
            at(t.finished_at.as_ref())
        )
    } else {
        "Not started".to_string()
    };
    let message = state.and_then(|s| {
        s.waiting
            .as_ref()
            .and_then(|w| w.message.clone())
            .or_else(|| s.terminated.as_ref().and_then(|t| t.message.clone()))
    });
    let last_termination = st
        .and_then(|s| s.last_state.as_ref()?.terminated.as_ref())
        .map(|t| {
            format!(
                "{}, exit code {}, at {}",
                t.reason.as_deref().unwrap_or(""),
                t.exit_code,
                at(t.finished_at.as_ref())
            )
        });
    let probes = [
        ("readiness", c.readiness_probe.is_some()),
        ("liveness", c.liveness_probe.is_some()),
        ("startup", c.startup_probe.is_some()),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(k, _)| k.to_string())
    .collect();
    let usage = metrics["containers"]
        .as_array()
        .and_then(|a| a.iter().find(|m| m["name"] == name))
        .map(|m| &m["usage"]);
    let triple = |res: &str, parse: fn(&str) -> Option<f64>| -> Option<Value> {
        let u = usage?[res].as_str().and_then(parse)?;
        let bound = |b: Option<&std::collections::BTreeMap<String, _>>| {
            b.and_then(|b| b.get(res))
                .and_then(|q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity| parse(&q.0))
                .unwrap_or(0.0)
        };
        let r = c.resources.as_ref();
        Some(serde_json::json!({
            "currentUsage": u,
            "requestTotal": bound(r.and_then(|r| r.requests.as_ref())),
            "limitTotal": bound(r.and_then(|r| r.limits.as_ref())),
        }))
    };
    let cpu: Option<Usage> =
        triple("cpu", super::quantity::cores).and_then(|t| view::usage(&t, view::cpu_text));
    let memory: Option<Usage> =
        triple("memory", super::quantity::bytes).and_then(|t| view::usage(&t, view::mem_text));
    ContainerDetail {
        name: name.into(),
        image: c.image.clone().unwrap_or_default(),
        state: text,
        message,
        restarts: st.map_or(0, |s| i64::from(s.restart_count)),
        last_termination,
        probes,
        cpu,
        memory,
    }
}

#[cfg(test)]
mod tests {
    use super::cut_at;

    #[test]
    fn logs_are_cut_on_a_character_boundary() {
        assert_eq!(cut_at("abc", 10), "abc");
        assert_eq!(cut_at("abcdef", 3), "abc");
        assert_eq!(cut_at("aé", 2), "a");
        assert_eq!(cut_at("", 0), "");
    }
}
