//! Wire types of the Clusters page (`/clusters`) and of the catalog list's health column: what
//! the server reads from its watch cache, in words. No credential is ever part of them.

use serde::{Deserialize, Serialize};

use super::kubernetes::HealthState;

/// The Clusters page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClustersOverview {
    /// False when the portal has no `kubernetes:` configuration.
    pub configured: bool,
    /// The clusters the viewer may see, in configuration order.
    pub clusters: Vec<ClusterHealth>,
    /// Clusters left out because the viewer may not see them.
    pub hidden_clusters: usize,
    /// Why no unclaimed workloads are listed for this viewer, if so.
    pub unclaimed_note: Option<String>,
}

/// One cluster: its health, namespaces and catalog coverage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterHealth {
    /// Name (as configured).
    pub name: String,
    /// Title, if configured.
    pub title: Option<String>,
    /// Its dashboard, if configured.
    pub dashboard_url: Option<String>,
    /// How healthy the portal's view of it is.
    pub state: HealthState,
    /// Why, in words.
    pub reason: String,
    /// Whether namespaces and workloads were counted for this viewer (else only the health is
    /// shown: see [`ClustersOverview::unclaimed_note`]).
    pub counted: bool,
    /// Namespaces with objects in the cache, by name (at most 500).
    pub namespaces: Vec<NamespaceCoverage>,
    /// Namespaces in all.
    pub namespaces_total: usize,
    /// Workloads (Deployments, StatefulSets, DaemonSets, CronJobs, Jobs nothing owns).
    pub workloads: usize,
    /// Distinct claims (selector and namespaces) of catalog entities on this cluster.
    pub claimed_by: usize,
    /// Workloads no catalog entity claims (at most 200; all are counted).
    pub unclaimed: Vec<UnclaimedWorkload>,
    /// Unclaimed workloads in all.
    pub unclaimed_total: usize,
    /// Why coverage cannot be shown for this cluster, if so.
    pub coverage_note: Option<String>,
}

impl Default for ClusterHealth {
    fn default() -> Self {
        ClusterHealth {
            name: String::new(),
            title: None,
            dashboard_url: None,
            state: HealthState::Unknown,
            reason: String::new(),
            counted: false,
            namespaces: Vec::new(),
            namespaces_total: 0,
            workloads: 0,
            claimed_by: 0,
            unclaimed: Vec::new(),
            unclaimed_total: 0,
            coverage_note: None,
        }
    }
}

/// One namespace of a cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceCoverage {
    /// Name.
    pub name: String,
    /// Pods.
    pub pods: usize,
    /// Workloads.
    pub workloads: usize,
    /// Workloads no entity claims.
    pub unclaimed: usize,
}

/// A workload no catalog entity claims, with what would claim it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnclaimedWorkload {
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `CronJob` or `Job`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Its labels as `key=value` (at most 12).
    pub labels: Vec<String>,
    /// The annotations to add to a catalog entity's `metadata.annotations` so it claims this
    /// workload (YAML lines).
    pub annotations: String,
    /// What else to do, when the workload has no label to select it by.
    pub hint: Option<String>,
}

/// The health column's cell for one catalog row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowHealth {
    /// How healthy.
    pub state: HealthState,
    /// Why, in words (tooltip and screen-reader text).
    pub reason: String,
}
