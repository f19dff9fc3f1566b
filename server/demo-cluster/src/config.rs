//! The simulator's own configuration file (`catalog/clusters/demo-clusters.yaml`): which clusters
//! to serve, from which manifest directories, who may call them, and the fake AWS account.
//! This is not a Kubernetes manifest and not Greenroom's app-config.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The YAML does not have the expected shape.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        source: serde_yaml::Error,
    },
    /// Two clusters share a name.
    #[error("{path}: cluster '{name}' is defined twice")]
    Duplicate {
        /// The file.
        path: String,
        /// The name.
        name: String,
    },
    /// A cluster uses EKS auth but there is no `aws:` block.
    #[error("{path}: cluster '{name}' has eks auth but the file has no aws: block")]
    NoAws {
        /// The file.
        path: String,
        /// The cluster.
        name: String,
    },
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimConfig {
    /// The clusters.
    pub clusters: Vec<ClusterConfig>,
    /// The fake AWS account behind the STS endpoint and EKS tokens.
    #[serde(default)]
    pub aws: Option<crate::aws::AwsConfig>,
    /// Where relative paths are resolved from (the file's directory); set by [`SimConfig::load`].
    #[serde(skip)]
    pub base: PathBuf,
}

/// One cluster.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterConfig {
    /// Cluster name (as Greenroom's config will call it).
    pub name: String,
    /// Directory of manifests, relative to the config file.
    #[serde(default)]
    pub manifests: Option<PathBuf>,
    /// Fixed port; 0 or absent = the next free one from the command line's base port.
    #[serde(default)]
    pub port: Option<u16>,
    /// Service accounts whose bearer tokens the cluster accepts.
    #[serde(default)]
    pub service_accounts: Vec<ServiceAccount>,
    /// Accept requests without credentials (like `kubectl proxy`).
    #[serde(default)]
    pub anonymous: bool,
    /// Accept EKS tokens (`k8s-aws-v1.`) for this cluster id.
    #[serde(default)]
    pub eks: Option<EksAuth>,
}

/// A service account and what it may not do.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceAccount {
    /// Account name (`system:serviceaccount:<namespace>:<name>`).
    pub name: String,
    /// Its namespace.
    #[serde(default = "default_ns")]
    pub namespace: String,
    /// A fixed token; generated at start when absent.
    #[serde(default)]
    pub token: Option<String>,
    /// Resources it is denied (`secrets`, `pods/log`, `deployments`): every verb answers 403.
    #[serde(default)]
    pub forbid: Vec<String>,
}

fn default_ns() -> String {
    "default".to_string()
}

/// EKS (aws-iam-authenticator) authentication.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EksAuth {
    /// The cluster id tokens must be signed for (`x-k8s-aws-id`); default: the cluster name.
    #[serde(default)]
    pub cluster_id: Option<String>,
    /// Canonical ARNs mapped to a Kubernetes user (aws-auth mapUsers/mapRoles); others get 401.
    pub map_arns: Vec<String>,
    /// Resources denied to every mapped ARN.
    #[serde(default)]
    pub forbid: Vec<String>,
}

impl SimConfig {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        let mut cfg: SimConfig =
            serde_yaml::from_str(&text).map_err(|source| ConfigError::Parse {
                path: shown.clone(),
                source,
            })?;
        cfg.base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut seen = std::collections::HashSet::new();
        for c in &cfg.clusters {
            if !seen.insert(c.name.clone()) {
                return Err(ConfigError::Duplicate {
                    path: shown,
                    name: c.name.clone(),
                });
            }
            if c.eks.is_some() && cfg.aws.is_none() {
                return Err(ConfigError::NoAws {
                    path: shown,
                    name: c.name.clone(),
                });
            }
        }
        Ok(cfg)
    }

    /// A cluster's manifest directory, resolved.
    pub fn manifests(&self, c: &ClusterConfig) -> Option<PathBuf> {
        c.manifests.as_ref().map(|m| {
            if m.is_absolute() {
                m.clone()
            } else {
                self.base.join(m)
            }
        })
    }
}
