//! Kubernetes: the heart of the seed article. The backend holds cluster credentials and finds
//! the objects of a catalog entity by its labels, on every cluster that may run it.
//!
//! Roles, named as in Backstage's kubernetes-backend: [`config`] (the `kubernetes:` block) and
//! [`aws_config`] (the `aws:` block); [`cluster_locator`] (where clusters come from);
//! [`service_locator`] (which of them an entity lives on); [`auth`] (credentials per provider);
//! [`lookup`] (selector, namespaces, object types — pure); [`names`] and [`selector`] (every
//! name and selector that reaches an API-server request, validated into a type at the edge); [`fetcher`] (one cluster, by lists);
//! [`cache`] (the shared informers); [`service`] (the fan-out over clusters); [`live`] (live
//! views pushed to browsers); [`log_follow`] (followed logs, one upstream per container); [`pod_metrics`] and [`quantity`] (resource amounts); [`types`] and [`errors`]
//! (Backstage's response and error shapes); [`objects`] (typed objects for the code that reads
//! them); for the tab, [`view`] (workloads and pods),
//! [`error_detection`] (Backstage's rules), [`dashboard`] (links) and [`pod_detail`] (the pod
//! panel and logs); for health views, [`fleet`] (per component) and [`coverage`] (per cluster,
//! and the workloads no entity claims). Not here: HTTP routes (`crate::http`) and UI.

pub mod auth;
pub mod aws_config;
pub mod cache;
pub mod cluster_locator;
pub mod cluster_objects;
pub mod config;
pub mod coverage;
pub mod dashboard;
pub mod error_detection;
pub mod errors;
pub mod fetcher;
pub mod fleet;
pub mod live;
pub mod log_follow;
pub mod lookup;
pub mod names;
pub mod objects;
pub mod pod_detail;
pub mod pod_metrics;
pub mod quantity;
pub mod selector;
pub mod service;
pub mod service_locator;
pub mod tls;
pub mod types;
pub mod view;

pub use service::{KubernetesService, LookupError};
