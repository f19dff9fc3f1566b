//! # demo-cluster
//!
//! A Kubernetes API server simulator that speaks the real wire protocol, so Greenroom's
//! Kubernetes code runs against it exactly as against EKS or minikube: HTTPS with a generated CA,
//! bearer tokens (service accounts, or EKS tokens verified the way aws-iam-authenticator does),
//! the real REST paths, JSON shapes, list pagination, watches and pod logs. It is its own crate so
//! the product cannot lean on its internals: the portal only ever sees URLs, CAs and tokens.
//!
//! State comes from plain Kubernetes manifests (`catalog/clusters/<name>/*.yaml`); controllers
//! (`controller/`) create ReplicaSets, Pods, Jobs and Events with realistic status; `life` makes
//! a cluster change over time; the control API (`control`) changes it on demand.
//!
//! Not here: admission, RBAC objects (permissions are per token in the config), writes through
//! the Kubernetes API, protobuf, aggregated discovery.

pub mod api;
pub mod auth;
pub mod aws;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod control;
pub mod controller;
pub mod logs;
pub mod metrics;
#[path = "../../src/kubernetes/quantity.rs"]
pub mod quantity;
pub mod resources;
pub mod selector;
pub mod server;
pub mod store;
pub mod tls;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde_json::json;

pub use cluster::{Cluster, Faults, Life};
pub use config::SimConfig;

pub(crate) fn selector_matches(selector: &serde_json::Value, object: &serde_json::Value) -> bool {
    selector::matches_object(selector, object)
}

/// How to run the simulator.
#[derive(Debug, Clone)]
pub struct Options {
    /// Address to listen on (loopback).
    pub host: IpAddr,
    /// First port for clusters without a fixed one; 0 = any free port.
    pub base_port: u16,
    /// Serve HTTPS (default) or plain HTTP.
    pub tls: bool,
    /// Life: frozen for tests, ticking for the demo.
    pub life: Life,
    /// Watch events kept per cluster for resumption.
    pub history: usize,
    /// BOOKMARK interval for watches that allow them.
    pub bookmark_every: Duration,
    /// Port of the control API; 0 = any free port.
    pub control_port: u16,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            base_port: 0,
            tls: true,
            life: Life::default(),
            history: 10_000,
            bookmark_every: Duration::from_secs(10),
            control_port: 0,
        }
    }
}

/// A running cluster: what a client needs to connect.
pub struct RunningCluster {
    /// Cluster name.
    pub name: String,
    /// `https://127.0.0.1:<port>`.
    pub url: String,
    /// The CA certificate (PEM) when serving TLS.
    pub ca_pem: Option<String>,
    /// Service-account tokens: (account name, token).
    pub tokens: Vec<(String, String)>,
    /// The EKS cluster id, when EKS tokens are accepted.
    pub eks_cluster_id: Option<String>,
    /// The cluster itself (for in-process tests and benchmarks).
    pub cluster: Arc<Cluster>,
}

impl RunningCluster {
    /// The CA as `caData` carries it (base64 of the PEM).
    pub fn ca_data(&self) -> Option<String> {
        self.ca_pem
            .as_ref()
            .map(|p| base64::engine::general_purpose::STANDARD.encode(p))
    }

    /// The token of a service account.
    pub fn token(&self, account: &str) -> Option<&str> {
        self.tokens
            .iter()
            .find(|(a, _)| a == account)
            .map(|(_, t)| t.as_str())
    }
}

/// Everything started.
pub struct Running {
    /// The clusters.
    pub clusters: Vec<RunningCluster>,
    /// The control API base URL.
    pub control_url: String,
    /// The fake STS endpoint URL, when an `aws:` block is configured.
    pub sts_url: Option<String>,
    /// The fake STS's CA (PEM) when serving TLS.
    pub sts_ca_pem: Option<String>,
    /// The fake STS (for counting calls in-process).
    pub sts: Option<Arc<aws::Sts>>,
}

impl Running {
    /// A cluster by name.
    pub fn cluster(&self, name: &str) -> Option<&RunningCluster> {
        self.clusters.iter().find(|c| c.name == name)
    }

    /// A machine-readable description (written to the state directory by the binary).
    pub fn describe(&self) -> serde_json::Value {
        json!({
            "controlUrl": self.control_url,
            "stsUrl": self.sts_url,
            "stsCaData": self.sts_ca_pem.as_ref().map(|p| base64::engine::general_purpose::STANDARD.encode(p)),
            "clusters": self.clusters.iter().map(|c| json!({
                "name": c.name, "url": c.url, "caData": c.ca_data(), "eksClusterId": c.eks_cluster_id,
                "serviceAccounts": c.tokens.iter().map(|(a, t)| json!({"name": a, "token": t})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }
}

/// The simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A seed manifest was rejected.
    #[error("cluster '{cluster}': {source}")]
    Seed {
        /// The cluster.
        cluster: String,
        /// Why.
        source: controller::ApplyError,
    },
    /// Certificates.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// A port could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The aws block is invalid.
    #[error("aws: {0}")]
    Aws(#[from] aws::ConfigError),
}

fn random_token() -> String {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 24];
    // SystemRandom only fails if the OS has no entropy source; a zero token would then still be
    // unique per process and this is a demo cluster.
    let _ = ring::rand::SystemRandom::new().fill(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Seeds and starts every configured cluster, the STS endpoint and the control API.
pub async fn start(config: &SimConfig, opts: &Options) -> Result<Running, StartError> {
    let sts = match &config.aws {
        Some(a) => Some(Arc::new(aws::Sts::new(a.clone())?)),
        None => None,
    };
    let mut clusters = Vec::new();
    let mut next_port = opts.base_port;
    for cc in &config.clusters {
        let cluster = Cluster::new(&cc.name, opts.life.clone(), opts.history);
        if let Some(dir) = config.manifests(cc) {
            cluster.seed_dir(&dir).map_err(|source| StartError::Seed {
                cluster: cc.name.clone(),
                source,
            })?;
        } else {
            cluster
                .seed(Vec::new())
                .map_err(|source| StartError::Seed {
                    cluster: cc.name.clone(),
                    source,
                })?;
        }
        let mut tokens = Vec::new();
        let mut entries = Vec::new();
        for sa in &cc.service_accounts {
            let token = sa.token.clone().unwrap_or_else(random_token);
            tokens.push((sa.name.clone(), token.clone()));
            entries.push(auth::TokenEntry {
                token,
                user: auth::User {
                    name: format!("system:serviceaccount:{}:{}", sa.namespace, sa.name),
                    forbid: sa.forbid.clone(),
                },
            });
        }
        let eks = match (&cc.eks, &sts) {
            (Some(e), Some(s)) => Some(auth::Eks {
                cluster_id: e.cluster_id.clone().unwrap_or_else(|| cc.name.clone()),
                map_arns: e.map_arns.clone(),
                forbid: e.forbid.clone(),
                sts: s.clone(),
            }),
            _ => None,
        };
        let eks_cluster_id = eks.as_ref().map(|e| e.cluster_id.clone());
        let access = auth::Access {
            tokens: entries,
            anonymous: cc.anonymous,
            eks,
        };
        let state = Arc::new(api::ApiState {
            cluster: cluster.clone(),
            access,
            bookmark_every: opts.bookmark_every,
        });
        let tls = if opts.tls {
            Some(tls::generate(&cc.name)?)
        } else {
            None
        };
        let port = match cc.port {
            Some(p) if p != 0 => p,
            _ => {
                let p = next_port;
                if next_port != 0 {
                    next_port += 1;
                }
                p
            }
        };
        let addr = SocketAddr::new(opts.host, port);
        let bound = server::serve(
            cluster.clone(),
            addr,
            tls.as_ref().map(|t| t.server_config.clone()),
            api::router(state),
        )
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
        let scheme = if opts.tls { "https" } else { "http" };
        tracing::info!(cluster = %cc.name, url = %format!("{scheme}://{bound}"), objects = cluster.store.resource_version(), "cluster serving");
        if opts.life.enabled {
            let c = cluster.clone();
            let every = opts.life.tick;
            tokio::spawn(async move {
                let mut t = tokio::time::interval(every);
                loop {
                    t.tick().await;
                    c.tick();
                }
            });
        }
        clusters.push(RunningCluster {
            name: cc.name.clone(),
            url: format!("{scheme}://{bound}"),
            ca_pem: tls.map(|t| t.ca_pem),
            tokens,
            eks_cluster_id,
            cluster,
        });
    }
    let (sts_url, sts_ca_pem) = match &sts {
        Some(s) => {
            let tls = if opts.tls {
                Some(tls::generate("sts")?)
            } else {
                None
            };
            let holder = Cluster::new("sts", Life::default(), 1);
            let addr = SocketAddr::new(opts.host, if next_port == 0 { 0 } else { next_port });
            let bound = server::serve(
                holder,
                addr,
                tls.as_ref().map(|t| t.server_config.clone()),
                sts_router(s.clone()),
            )
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
            let scheme = if opts.tls { "https" } else { "http" };
            (Some(format!("{scheme}://{bound}")), tls.map(|t| t.ca_pem))
        }
        None => (None, None),
    };
    let control = Arc::new(control::Control {
        clusters: clusters
            .iter()
            .map(|c| (c.cluster.clone(), c.url.clone()))
            .collect(),
        sts: sts.clone(),
    });
    let addr = SocketAddr::new(opts.host, opts.control_port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let control_addr = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    let router = control::router(control);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "control API stopped");
        }
    });
    Ok(Running {
        clusters,
        control_url: format!("http://{control_addr}"),
        sts_url,
        sts_ca_pem,
        sts,
    })
}

/// The fake STS over HTTP: every request goes to [`aws::Sts::handle`].
fn sts_router(sts: Arc<aws::Sts>) -> axum::Router {
    let handler = move |req: axum::extract::Request| {
        let sts = sts.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            let mut headers: Vec<(String, String)> = parts
                .headers
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
                .collect();
            if !headers.iter().any(|(k, _)| k == "host") {
                if let Some(a) = parts.uri.authority() {
                    headers.push(("host".into(), a.to_string()));
                }
            }
            let pq = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into());
            let r = sts.handle(parts.method.as_str(), &pq, &headers, &body, clock::now());
            let code = http::StatusCode::from_u16(r.status)
                .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
            axum::response::IntoResponse::into_response((
                code,
                [(http::header::CONTENT_TYPE, r.content_type)],
                r.body,
            ))
        }
    };
    axum::Router::new().fallback(handler)
}
