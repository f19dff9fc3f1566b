//! Wire types of the Kubernetes tab: what the server derives from the clusters' objects for one
//! entity (workloads with their pods, detected errors, cluster problems in plain words) and for
//! one pod (details, events, YAML, logs). Computed on the server, rendered by the browser; no
//! credential is ever part of them.

use serde::{Deserialize, Serialize};

/// The tab's data for one entity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KubernetesView {
    /// False when the portal has no `kubernetes:` configuration.
    pub configured: bool,
    /// How often the tab refreshes (Backstage's `refreshIntervalMs`).
    pub refresh_interval_ms: u64,
    /// One entry per cluster with objects or errors.
    pub clusters: Vec<ClusterView>,
    /// Detected problems across clusters, most severe first (the "Error reporting" table).
    pub errors: Vec<DetectedError>,
    /// Set when the viewer may not see this entity's Kubernetes resources: why, in words
    /// (the tab then shows this instead of clusters).
    #[serde(default)]
    pub access_denied: Option<String>,
    /// Clusters left out because the viewer may not see them (`kubernetes.clusters.read`).
    #[serde(default)]
    pub hidden_clusters: usize,
}

/// One cluster's section.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterView {
    /// Name.
    pub name: String,
    /// Title, when configured.
    pub title: Option<String>,
    /// Link to the cluster's dashboard.
    pub dashboard_url: Option<String>,
    /// Pods found.
    pub pods: usize,
    /// Pods with at least one detected error.
    pub pods_with_errors: usize,
    /// Why (part of) the cluster could not be read, in plain words.
    pub problems: Vec<ClusterProblem>,
    /// Deployments, StatefulSets, DaemonSets, CronJobs, standalone Jobs and bare Pods.
    pub workloads: Vec<Workload>,
    /// Services.
    pub services: Vec<ServiceView>,
    /// Ingresses.
    pub ingresses: Vec<IngressView>,
    /// ConfigMaps (keys only).
    pub config_maps: Vec<ConfigMapView>,
    /// Custom resources.
    pub custom_resources: Vec<CustomResourceView>,
}

/// A banner: what went wrong with a cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterProblem {
    /// Plain words, e.g. "The cluster rejected Greenroom's token (401 Unauthorized)".
    pub message: String,
    /// The technical detail (status, path or transport error).
    pub detail: String,
}

/// A workload and its pods.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `CronJob`, `Job` or `Pod` (bare).
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// One-line state, e.g. "3/3 ready", "Complete (3/3)", "schedule */2 * * * *".
    pub status: String,
    /// Messages of conditions that are False.
    pub failing_conditions: Vec<String>,
    /// The autoscaler targeting it.
    pub hpa: Option<HpaView>,
    /// A CronJob's Jobs (each with its pods).
    pub jobs: Vec<Workload>,
    /// Its pods.
    pub pods: Vec<PodRow>,
    /// Link into the cluster dashboard.
    pub dashboard_link: Option<String>,
}

/// A HorizontalPodAutoscaler's numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HpaView {
    /// Name.
    pub name: String,
    /// minReplicas.
    pub min: i64,
    /// maxReplicas.
    pub max: i64,
    /// currentReplicas.
    pub current: i64,
    /// CPU target utilisation (%).
    pub cpu_target: Option<i64>,
    /// Current CPU utilisation (%).
    pub cpu_current: Option<i64>,
}

/// One row of a pods table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PodRow {
    /// Cluster name.
    pub cluster: String,
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Phase.
    pub phase: String,
    /// One chip per container.
    pub containers: Vec<ContainerChip>,
    /// Ready containers.
    pub ready: usize,
    /// All containers.
    pub total: usize,
    /// Restarts, summed over containers.
    pub restarts: i64,
    /// CPU use.
    pub cpu: Option<Usage>,
    /// Memory use.
    pub memory: Option<Usage>,
    /// Seconds since creation.
    pub age_seconds: i64,
    /// Node name.
    pub node: String,
    /// Detected errors on this pod.
    pub error_count: usize,
}

/// A container's state, as text (colour is only a second signal).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerChip {
    /// Container name.
    pub name: String,
    /// "Running", "Ready", "CrashLoopBackOff", "Completed", ...
    pub label: String,
    /// `ok`, `warning` or `error`.
    pub severity: String,
}

/// Resource use against request and limit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// e.g. "410m" or "232Mi".
    pub used: String,
    /// Percent of the request.
    pub of_request: Option<u32>,
    /// Percent of the limit.
    pub of_limit: Option<u32>,
    /// e.g. "request 100m, limit 500m".
    pub bounds: String,
}

/// One row of the Error reporting table (Backstage's `DetectedError`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DetectedError {
    /// 4 (pod), 6 (deployment condition), 8 (HPA at max): higher is worse.
    pub severity: u8,
    /// Cluster.
    pub cluster: String,
    /// `Pod`, `Deployment`, `HorizontalPodAutoscaler`.
    pub kind: String,
    /// Object name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Backstage's error type, e.g. `container-waiting`.
    pub error_type: String,
    /// What is wrong.
    pub message: String,
    /// How many times.
    pub occurrence_count: i64,
    /// Explanation and fix, when known.
    pub fix: Option<ProposedFix>,
}

/// An explanation with actions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedFix {
    /// The root cause in words.
    pub root_cause: String,
    /// What to do.
    pub actions: Vec<String>,
    /// Further reading.
    pub docs_url: Option<String>,
    /// Where to look: `logs`, `events` or `docs`.
    pub look_at: String,
    /// The container the fix is about.
    pub container: Option<String>,
}

/// A Service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceView {
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// ClusterIP, NodePort, LoadBalancer, ExternalName.
    pub service_type: String,
    /// Cluster IP ("None" for headless).
    pub cluster_ip: String,
    /// "80/TCP → 8080", "7007:30080/TCP".
    pub ports: Vec<String>,
}

/// An Ingress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngressView {
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// (URL, backend) per host and path.
    pub routes: Vec<(String, String)>,
}

/// A ConfigMap: keys only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigMapView {
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Keys of data and binaryData.
    pub keys: Vec<String>,
}

/// A custom resource, generically.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomResourceView {
    /// Kind.
    pub kind: String,
    /// apiVersion.
    pub api_version: String,
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// `status.phase` or the Ready condition, when present.
    pub status: Option<String>,
}

/// Which pod the panel shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodRef {
    /// Cluster.
    pub cluster: String,
    /// Namespace.
    pub namespace: String,
    /// Pod name.
    pub name: String,
}

impl PodRef {
    /// `cluster/namespace/name`, as in the `?pod=` query parameter.
    pub fn to_param(&self) -> String {
        format!("{}/{}/{}", self.cluster, self.namespace, self.name)
    }

    /// Parses `cluster/namespace/name`.
    pub fn from_param(s: &str) -> Option<Self> {
        let mut it = s.splitn(3, '/');
        let (c, n, p) = (it.next()?, it.next()?, it.next()?);
        (!c.is_empty() && !n.is_empty() && !p.is_empty()).then(|| Self {
            cluster: c.into(),
            namespace: n.into(),
            name: p.into(),
        })
    }
}

/// The pod panel's data.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PodDetail {
    /// Phase.
    pub phase: String,
    /// Pod IP.
    pub pod_ip: String,
    /// Node.
    pub node: String,
    /// Owner, e.g. "ReplicaSet storefront-web-7d9".
    pub owner: Option<String>,
    /// Conditions.
    pub conditions: Vec<ConditionView>,
    /// Containers.
    pub containers: Vec<ContainerDetail>,
    /// Events of the pod and of its workload, newest first.
    pub events: Vec<EventView>,
    /// The pod as YAML (managedFields removed).
    pub yaml: String,
    /// Set when the viewer may not read this pod's details, events, YAML and logs
    /// (`kubernetes.proxy`): why, in words; everything else is then empty.
    #[serde(default)]
    pub access_denied: Option<String>,
}

/// A condition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionView {
    /// Type.
    pub condition_type: String,
    /// "True"/"False"/"Unknown".
    pub status: String,
    /// Reason.
    pub reason: Option<String>,
    /// Message.
    pub message: Option<String>,
}

/// A container in the panel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContainerDetail {
    /// Name.
    pub name: String,
    /// Image.
    pub image: String,
    /// "Running since …", "Waiting: CrashLoopBackOff", "Terminated: Completed".
    pub state: String,
    /// The waiting/terminated message.
    pub message: Option<String>,
    /// Restarts.
    pub restarts: i64,
    /// "OOMKilled, exit code 137, at …".
    pub last_termination: Option<String>,
    /// Probes configured: "readiness", "liveness", "startup".
    pub probes: Vec<String>,
    /// CPU.
    pub cpu: Option<Usage>,
    /// Memory.
    pub memory: Option<Usage>,
}

/// An event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    /// The object, e.g. "Pod checkout-…" or "Deployment checkout-service".
    pub object: String,
    /// Normal or Warning.
    pub event_type: String,
    /// Reason.
    pub reason: String,
    /// Message.
    pub message: String,
    /// Count.
    pub count: i64,
    /// Last seen (RFC 3339).
    pub last_seen: String,
}

/// What the logs request asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRequest {
    /// The pod.
    pub pod: PodRef,
    /// Container (None = the only one).
    pub container: Option<String>,
    /// The previous container's log.
    pub previous: bool,
    /// Last N lines.
    pub tail_lines: u32,
}

/// Log text, with each line's timestamp split off.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodLogs {
    /// (RFC 3339 timestamp, text) per line.
    pub lines: Vec<(String, String)>,
    /// The log was longer than the portal reads at once (`kubernetes.podLogs.maxBytes`): these
    /// are its first bytes up to that limit.
    #[serde(default)]
    pub truncated: Option<u64>,
}

/// A component's health, as the fleet views show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HealthState {
    /// Every pod ready, nothing detected.
    Healthy,
    /// Some pods not ready, or a problem detected, or a cluster not read in full.
    Degraded,
    /// No pod ready, or a high-severity problem.
    Failing,
    /// No pods found, or not visible to the viewer.
    Unknown,
}

impl HealthState {
    /// The word shown (never colour alone).
    pub fn label(self) -> &'static str {
        match self {
            HealthState::Healthy => "Healthy",
            HealthState::Degraded => "Degraded",
            HealthState::Failing => "Failing",
            HealthState::Unknown => "Unknown",
        }
    }
}

/// One component of a fleet view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentHealth {
    /// The component.
    pub link: crate::wire::EntityLink,
    /// Its Kubernetes tab.
    pub tab_href: String,
    /// How healthy.
    pub state: HealthState,
    /// Why, in words (the tooltip and the screen-reader text).
    pub reason: String,
    /// Pods with every container ready.
    pub pods_ready: usize,
    /// Pods found.
    pub pods_total: usize,
    /// Container restarts, summed.
    pub restarts: i64,
    /// The most severe detected problem, if any.
    pub worst_error: Option<String>,
}

/// The Kubernetes tab of a Group, System or Domain: its components' health.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetHealth {
    /// How often the tab refreshes.
    pub refresh_interval_ms: u64,
    /// The components with Kubernetes annotations, by ref.
    pub components: Vec<ComponentHealth>,
}
