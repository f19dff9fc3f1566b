//! Logging setup: `tracing` to stderr, levels from `RUST_LOG`, text or JSON lines.

use tracing_subscriber::{fmt, EnvFilter};

use crate::cli::LogFormat;

/// Default filter when `RUST_LOG` is unset: our crates at info, HTTP access logs at info,
/// everything else at warn.
const DEFAULT_FILTER: &str = "warn,greenroom=info,server=info,app=info,tower_http=info";

/// Installs the global subscriber. Call once, first thing in `main`.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}
