//! The server's integration tests, as one test binary: each file is a module (one link and one
//! compile of the shared `support` module, instead of one per file). They run the real router,
//! the built `greenroom` binary, the demo cluster over TLS and the databases, as before.

mod support;

mod catalog_location;
mod catalog_trust;
mod cli;
mod database;
mod deploy;
mod https_location;
mod kubernetes;
mod kubernetes_cache;
mod sign_in;
mod trust_boundary;
