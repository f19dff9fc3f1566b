//! One cluster's result (Backstage's `ClusterObjects`), built the same way from plain lists
//! ([`super::fetcher::fetch`]) and from the watch cache (the service's cached path): objects
//! grouped per object type in the configured order, every non-fatal error kept, a transport
//! failure ending the cluster with its one `FETCH_ERROR` (as Backstage does), and pods joined
//! with their metrics.k8s.io `PodMetrics`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use serde_json::Value;

use super::config::ClusterDetails;
use super::lookup::ObjectType;
use super::names::Namespace;
use super::pod_metrics::pod_status;
use super::types::{ClusterAttributes, ClusterObjects, FetchError, FetchResponse, Object};

/// The `PodMetrics` items of one namespace, by pod name.
pub type PodMetrics = Arc<HashMap<String, Value>>;

/// The cluster's attributes as the response shows them.
pub fn attributes(d: &ClusterDetails) -> ClusterAttributes {
    ClusterAttributes {
        name: d.name.clone(),
        title: d.title.clone(),
        dashboard_url: d.dashboard_url.clone(),
        dashboard_app: d.dashboard_app.clone(),
        dashboard_parameters: d.dashboard_parameters.clone(),
    }
}

/// A cluster that could not be talked to: one FETCH_ERROR, nothing else (as Backstage).
pub fn transport_failure(details: &ClusterDetails, error: FetchError) -> ClusterObjects {
    ClusterObjects {
        cluster: attributes(details),
        pod_metrics: Vec::new(),
        resources: Vec::new(),
        errors: vec![error],
    }
}

/// A cluster's result being assembled.
pub struct ClusterBuilder<'a> {
    details: &'a ClusterDetails,
    resources: Vec<Option<FetchResponse>>,
    types: &'a [ObjectType],
    errors: Vec<FetchError>,
}

impl<'a> ClusterBuilder<'a> {
    /// An empty result for `details`, with slots for `types` (in their order).
    pub fn new(details: &'a ClusterDetails, types: &'a [ObjectType]) -> Self {
        Self {
            details,
            resources: vec![None; types.len()],
            types,
            errors: Vec::new(),
        }
    }

    /// Adds one read of object type `i` (one namespace of it). A transport failure is handed
    /// back: the caller ends the cluster with [`ClusterBuilder::failed`].
    pub fn read(
        &mut self,
        i: usize,
        result: Result<impl IntoIterator<Item = Object>, FetchError>,
    ) -> Result<(), FetchError> {
        match result {
            Ok(objects) => {
                let Some(t) = self.types.get(i) else {
                    return Ok(());
                };
                self.resources[i]
                    .get_or_insert_with(|| FetchResponse {
                        object_type: t.object_type.clone(),
                        resources: Vec::new(),
                    })
                    .resources
                    .extend(objects);
                Ok(())
            }
            Err(e) => self.error(e),
        }
    }

    /// Keeps a non-fatal error; hands a transport failure back.
    pub fn error(&mut self, e: FetchError) -> Result<(), FetchError> {
        match e {
            f @ FetchError::Fetch { .. } => Err(f),
            other => {
                self.errors.push(other);
                Ok(())
            }
        }
    }

    /// The result of a cluster that failed with `error`: that error alone.
    pub fn failed(&self, error: FetchError) -> ClusterObjects {
        transport_failure(self.details, error)
    }

    fn pods(&self) -> impl Iterator<Item = &Object> {
        self.resources
            .iter()
            .flatten()
            .filter(|r| r.object_type == "pods")
            .flat_map(|r| r.resources.iter())
    }

    /// The distinct, valid namespaces of the pods read so far (a cluster's answer is untrusted
    /// too: a namespace that is not a valid name never reaches a request path). Empty when the
    /// cluster skips the metrics lookup.
    pub fn metrics_namespaces(&self) -> Vec<Namespace> {
        if self.details.skip_metrics_lookup {
            return Vec::new();
        }
        let mut out: Vec<Namespace> = self
            .pods()
            .filter_map(|p| p["metadata"]["namespace"].as_str())
            .filter_map(|ns| Namespace::parse("metadata.namespace", ns).ok())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Reads the `PodMetrics` of `namespaces` (concurrently, with `fetch`) and finishes. A
    /// transport failure ends the cluster; other errors are kept.
    pub async fn with_metrics<F, Fut>(
        mut self,
        namespaces: Vec<Namespace>,
        fetch: F,
    ) -> ClusterObjects
    where
        F: FnMut(Namespace) -> Fut,
        Fut: Future<Output = Result<PodMetrics, FetchError>>,
    {
        let results = futures_util::future::join_all(namespaces.iter().cloned().map(fetch)).await;
        let mut metrics = HashMap::new();
        for (ns, r) in namespaces.iter().zip(results) {
            match r {
                Ok(by_name) => {
                    metrics.insert(ns.to_string(), by_name);
                }
                Err(e) => {
                    if let Err(f) = self.error(e) {
                        return self.failed(f);
                    }
                }
            }
        }
        self.finish(Some(&metrics))
    }

    /// The finished result; `metrics` are the `PodMetrics` by namespace (none when the lookup
    /// was skipped: then no pod metrics are reported).
    pub fn finish(self, metrics: Option<&HashMap<String, PodMetrics>>) -> ClusterObjects {
        let pod_metrics = match metrics {
            Some(by_namespace) => self
                .pods()
                .map(|p| {
                    let m = p["metadata"]["namespace"]
                        .as_str()
                        .and_then(|ns| by_namespace.get(ns))
                        .zip(p["metadata"]["name"].as_str())
                        .and_then(|(by_name, name)| by_name.get(name));
                    pod_status(p, m.map(std::slice::from_ref).unwrap_or(&[]))
                })
                .collect(),
            None => Vec::new(),
        };
        ClusterObjects {
            cluster: attributes(self.details),
            pod_metrics,
            resources: self.resources.into_iter().flatten().collect(),
            errors: self.errors,
        }
    }
}
