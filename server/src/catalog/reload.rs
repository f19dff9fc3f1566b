//! Loading the catalog and keeping it current: a full ingestion builds a new snapshot, and a
//! background task re-ingests when any file the catalog was read from changes (polling file
//! metadata once a second: cheap, portable, and it also notices files that appear where a
//! Location pointed at a missing one). The store swaps snapshots atomically.
//!
//! URL locations are re-read only when a file change triggers a reload (not on a timer yet).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::catalog::config::CatalogConfig;
use crate::catalog::location::{ingest, location_ref, IngestOptions, LocationType, UrlReader};
use crate::catalog::store::{self, CatalogStore, LocationEntry, Snapshot};

/// Files larger than this are refused (with a problem naming the file).
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// How often file metadata is checked for changes.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Reads every location and builds a snapshot.
pub fn load(config: &CatalogConfig, url_reader: &dyn UrlReader) -> Snapshot {
    let started = std::time::Instant::now();
    let result = ingest(&IngestOptions {
        locations: &config.locations,
        rules: &config.rules,
        url_reader,
        max_file_bytes: MAX_FILE_BYTES,
    });
    let locations = config
        .locations
        .iter()
        .map(|l| {
            let location_type = match l.kind {
                LocationType::File => "file",
                LocationType::Url => "url",
            };
            LocationEntry {
                id: store::uuid_from(&location_ref(l.kind, &l.target)),
                location_type: location_type.into(),
                target: l.target.clone(),
            }
        })
        .collect();
    let snapshot = store::build(result, locations);
    tracing::info!(
        entities = snapshot.entities.len(),
        errors = snapshot.errors.len(),
        warnings = snapshot.warnings.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "catalog loaded"
    );
    snapshot
}

/// Modification time and size of each file (None when missing), to detect changes.
pub fn fingerprint(files: &[PathBuf]) -> Vec<Option<(SystemTime, u64)>> {
    files
        .iter()
        .map(|f| {
            std::fs::metadata(f)
                .ok()
                .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()))
        })
        .collect()
}

/// Re-ingests whenever a catalog file changes, until the runtime shuts down.
pub async fn watch(
    store: Arc<CatalogStore>,
    config: Arc<CatalogConfig>,
    url_reader: Arc<dyn UrlReader>,
) {
    let mut files = store.snapshot().files.clone();
    let mut seen = fingerprint(&files);
    let mut ticker = tokio::time::interval(POLL_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let before = fingerprint(&files);
        if before == seen {
            continue;
        }
        tracing::info!("catalog files changed; reloading");
        let (config, reader) = (Arc::clone(&config), Arc::clone(&url_reader));
        match tokio::task::spawn_blocking(move || load(&config, reader.as_ref())).await {
            Ok(snapshot) => {
                // `before` was taken before reading, so a change made while reading is still
                // seen as a change next time. If the set of files changed, compare against
                // nothing once more: the next tick re-reads and settles.
                seen = if snapshot.files == files {
                    before
                } else {
                    Vec::new()
                };
                files = snapshot.files.clone();
                store.replace(snapshot);
            }
            Err(e) => {
                tracing::error!(error = %e, "catalog reload failed; keeping the previous catalog");
                seen = before;
            }
        }
    }
}
