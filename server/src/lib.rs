//! The server side of Greenroom, as a library so the `greenroom` binary, its integration tests
//! and the benchmarks share one implementation.
//!
//! - [`auth`]: sign-in (OIDC, oauth2-proxy, guest), sessions and the gate before every route.
//! - [`catalog`]: the software catalog (ingestion, validation, relations, queries).
//! - [`cli`]: command-line definitions.
//! - [`config`]: Backstage app-config loading (files, includes, substitution, env overrides).
//! - [`settings`]: the typed keys Greenroom reads from that config.
//! - [`kubernetes`]: clusters, credentials and the entity → workload lookup.
//! - [`http`]: the axum router and serve loop.
//! - [`permission`]: who may see what (RHDH's RBAC policy files, evaluated with Casbin).
//! - [`metrics`]: the Prometheus registry behind `/metrics`.
//! - [`backend`]: what server functions can reach ([`app::backend::Backend`]).
//! - [`site`]: where the built wasm/JS/CSS assets are.
//! - [`telemetry`]: logging.

pub mod auth;
pub mod backend;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod db;
pub mod files;
pub mod http;
pub mod kubernetes;
pub mod metrics;
pub mod net;
pub mod permission;
pub mod settings;
pub mod site;
pub mod telemetry;
