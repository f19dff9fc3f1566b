//! Loading the catalog and keeping it current: a full ingestion builds a new snapshot, and a
//! background task re-ingests when any file the catalog was read from changes (polling file
//! metadata once a second: cheap, portable, and it also notices files that appear where a
//! Location pointed at a missing one), and, when URLs were read, every
//! `catalog.processingInterval` (Backstage's key and default: a random 100-150 s). The store
//! swaps snapshots atomically.
//!
//! A `url` source that fails on a reload (connection refused, 5xx, deadline, a document that
//! does not parse, a URL placeholder that fails) keeps the entities it and the locations it
//! listed gave last time, with a problem saying so; only a 404/410 removes them (Backstage
//! likewise keeps an entity's last good state when processing fails). Local files are always
//! taken as they are now.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::catalog::config::{CatalogConfig, ProcessingInterval};
use crate::catalog::location::{
    ingest, location_ref, IngestOptions, IngestResult, LocationSpec, LocationType, SourceOutcome,
    SourceRecord, UrlReader,
};
use crate::catalog::redact::redact_text;
use crate::catalog::registry::{Extra, Registry};
use crate::catalog::shared_reader::DocumentReader;
use crate::catalog::store::{self, CatalogStore, LocationEntry, Snapshot};
use crate::catalog::SourcedEntity;

/// Files larger than this are refused (with a problem naming the file).
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// How often file metadata is checked for changes.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// What one load remembers for the next: the sources read and the entities that came from
/// URLs, so a URL that fails next time can keep them.
#[derive(Debug, Default)]
pub struct Previous {
    sources: Vec<SourceRecord>,
    entities: Vec<SourcedEntity>,
}

impl Previous {
    /// The canonical refs of the entities read from URLs, in read order.
    pub fn url_read_order(&self) -> Vec<String> {
        self.entities
            .iter()
            .filter_map(|e| crate::catalog::refs::entity_ref_of(&e.entity))
            .map(|r| r.canonical())
            .collect()
    }

    /// Whether any URL was read (then URLs are re-read on `catalog.processingInterval`).
    pub fn read_urls(&self) -> bool {
        self.sources.iter().any(|s| s.location.starts_with("url:"))
    }
}

/// Reads every location and builds a snapshot.
pub fn load(config: &CatalogConfig, url_reader: &dyn UrlReader) -> Snapshot {
    load_keeping(config, url_reader, None).0
}

/// Like [`load`], keeping the last good entities of URL sources that fail now, from `previous`.
pub fn load_keeping(
    config: &CatalogConfig,
    url_reader: &dyn UrlReader,
    previous: Option<&Previous>,
) -> (Snapshot, Previous) {
    load_with(config, &Extra::default(), url_reader, previous)
}

/// Like [`load_keeping`], also reading the registered locations of `extra` (after
/// `catalog.locations`, as further roots with the global rules) and leaving out its hidden
/// entities.
pub fn load_with(
    config: &CatalogConfig,
    extra: &Extra,
    url_reader: &dyn UrlReader,
    previous: Option<&Previous>,
) -> (Snapshot, Previous) {
    let started = std::time::Instant::now();
    let mut roots = config.locations.clone();
    roots.extend(extra.locations.iter().map(|l| LocationSpec {
        kind: if l.location_type == "file" {
            LocationType::File
        } else {
            LocationType::Url
        },
        target: l.target.clone(),
        rules: Vec::new(),
        optional: false,
    }));
    let mut result = ingest(&IngestOptions {
        locations: &roots,
        rules: &config.rules,
        url_reader,
        max_file_bytes: MAX_FILE_BYTES,
    });
    if let Some(previous) = previous {
        keep_last_good(&mut result, previous);
    }
    if !extra.hidden_uids.is_empty() {
        result.entities.retain(|e| {
            store::uid_of(&e.entity).is_none_or(|uid| !extra.hidden_uids.contains(&uid))
        });
    }
    let remembered = Previous {
        sources: result.sources.clone(),
        entities: result
            .entities
            .iter()
            .filter(|e| e.location.starts_with("url:"))
            .cloned()
            .collect(),
    };
    let locations = config
        .locations
        .iter()
        .map(|l| LocationEntry {
            id: store::uuid_from(&location_ref(l.kind, &l.target)),
            location_type: l.kind.as_str().into(),
            target: redact_text(&l.target),
            registered: false,
        })
        .chain(extra.locations.iter().map(|l| LocationEntry {
            id: l.id.clone(),
            location_type: l.location_type.clone(),
            target: l.target.clone(),
            registered: true,
        }))
        .collect();
    let snapshot = store::build(result, locations);
    tracing::info!(
        entities = snapshot.entities.len(),
        errors = snapshot.errors.len(),
        warnings = snapshot.warnings.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "catalog loaded"
    );
    (snapshot, remembered)
}

/// `root` and every source reached from it (through `parent` links), in `sources`.
fn subtree(sources: &[SourceRecord], root: &str) -> HashSet<String> {
    let mut found: HashSet<String> = HashSet::from([root.to_string()]);
    loop {
        let before = found.len();
        for s in sources {
            if s.parent.as_ref().is_some_and(|p| found.contains(p)) {
                found.insert(s.location.clone());
            }
        }
        if found.len() == before {
            return found;
        }
    }
}

/// For each URL source that failed (or read only partly) now but was read before: its entities
/// and those of everything it listed are taken from `previous` instead.
fn keep_last_good(result: &mut IngestResult, previous: &Previous) {
    let read_now: HashSet<String> = result
        .sources
        .iter()
        .filter(|s| matches!(s.outcome, SourceOutcome::Read | SourceOutcome::Partial))
        .map(|s| s.location.clone())
        .collect();
    let failed: Vec<String> = result
        .sources
        .iter()
        .filter(|s| s.location.starts_with("url:"))
        .filter(|s| matches!(s.outcome, SourceOutcome::Failed | SourceOutcome::Partial))
        .map(|s| s.location.clone())
        .collect();
    let mut carried: HashSet<String> = HashSet::new();
    for location in failed {
        if carried.contains(&location) {
            continue;
        }
        let known_before = previous
            .sources
            .iter()
            .any(|s| s.location == location && s.outcome != SourceOutcome::NotFound);
        if !known_before {
            continue;
        }
        let now = subtree(&result.sources, &location);
        let before = subtree(&previous.sources, &location);
        result.entities.retain(|e| !now.contains(&e.location));
        let kept: Vec<SourcedEntity> = previous
            .entities
            .iter()
            .filter(|e| before.contains(&e.location))
            .filter(|e| !read_now.contains(&e.location) || now.contains(&e.location))
            .cloned()
            .collect();
        let count = kept.len();
        result.entities.extend(kept);
        for record in &previous.sources {
            if before.contains(&record.location)
                && record.location != location
                && !result.sources.iter().any(|s| s.location == record.location)
            {
                result.sources.push(record.clone());
            }
        }
        let note = format!(
            "the {count} entities read from it (and the locations it lists) before are kept until it can be read again"
        );
        let mut noted = false;
        for problem in result
            .problems
            .iter_mut()
            .filter(|p| p.location == location)
        {
            if p_is_failure(&problem.reason) {
                problem.reason = format!("{}; {note}", problem.reason);
                noted = true;
                break;
            }
        }
        if !noted {
            result.problems.push(crate::catalog::Problem {
                location: location.clone(),
                entity_ref: None,
                field: None,
                reason: format!("{location} could not be read completely; {note}"),
            });
        }
        tracing::warn!(location = %redact_text(&location), kept = count, "url location failed; keeping its previous entities");
        carried.extend(before);
    }
}

/// Whether a problem reason is the read failure itself (not a per-entity problem).
fn p_is_failure(reason: &str) -> bool {
    reason.starts_with("Unable to read url ")
}

/// A number in `[0, 1)` that differs between cycles, to spread the processing interval.
fn jitter() -> f64 {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    f64::from(nanos % 1000) / 1000.0
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

/// Re-ingests whenever a catalog file changes, every `interval` when URLs were read, and,
/// with a `registry`, when a reload is requested or the database announces a change (another
/// replica registered or removed a location), until the runtime shuts down. `previous` is
/// what the first load remembered.
pub async fn watch(
    store: Arc<CatalogStore>,
    config: Arc<CatalogConfig>,
    url_reader: Arc<dyn UrlReader>,
    interval: ProcessingInterval,
    previous: Previous,
    registry: Option<Arc<Registry>>,
) {
    let mut files = store.snapshot().files.clone();
    let mut seen = fingerprint(&files);
    let mut previous = Arc::new(previous);
    let next_due = |previous: &Previous, hidden: bool| {
        interval
            .next_wait(jitter())
            .filter(|_| previous.read_urls() || hidden)
            .map(|wait| Instant::now() + wait)
    };
    let hidden = |r: &Option<Arc<Registry>>| {
        r.as_ref()
            .is_some_and(|r| !r.extra().hidden_uids.is_empty())
    };
    let mut due = next_due(&previous, false);
    let mut ticker =
        tokio::time::interval(POLL_INTERVAL.min(interval.next_wait(0.0).unwrap_or(POLL_INTERVAL)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut requests = registry.as_ref().map(|r| r.requests());
    let mut db_changes = registry.as_ref().map(|r| r.database().changes());
    let mut served = 0u64;
    loop {
        let mut requested = false;
        let mut db_changed = false;
        tokio::select! {
            _ = ticker.tick() => {}
            Some(Ok(())) = async { match requests.as_mut() { Some(r) => Some(r.changed().await), None => None } } => requested = true,
            Some(Ok(())) = async { match db_changes.as_mut() { Some(r) => Some(r.changed().await), None => None } } => db_changed = true,
        }
        // A request that arrived after the wake-up (whatever woke it) is seen here, and served.
        let generation = requests.as_mut().map_or(0, |r| *r.borrow_and_update());
        requested |= generation > served;
        if db_changed {
            if let Some(registry) = &registry {
                db_changes.as_mut().map(|r| r.borrow_and_update());
                // Registered locations or the leader's stored reads changed: load again.
                if let Err(e) = registry.refresh_from_database().await {
                    tracing::error!(error = %e, "cannot read the registered locations; keeping the previous ones");
                }
                requested = true;
            }
        }
        let before = fingerprint(&files);
        let urls_due = due.is_some_and(|d| Instant::now() >= d);
        // Only the refresh leader re-reads URLs on the interval; the others load what it stored
        // when it announces it.
        let leader = registry.as_ref().is_none_or(|r| r.database().is_leader());
        if urls_due && !leader {
            due = next_due(&previous, hidden(&registry));
            if let Some(registry) = &registry {
                registry.unhide_all();
            }
        }
        let interval_load = urls_due && leader;
        if before == seen && !interval_load && !requested {
            continue;
        }
        if before != seen {
            tracing::info!("catalog files changed; reloading");
        } else if requested {
            tracing::debug!("catalog reload requested");
        } else {
            tracing::debug!("catalog.processingInterval elapsed; re-reading URL locations");
        }
        if urls_due {
            if let Some(registry) = &registry {
                registry.unhide_all();
            }
        }
        let extra = registry.as_ref().map(|r| r.extra()).unwrap_or_default();
        let fresh = interval_load || registry.as_ref().is_some_and(|r| r.take_fresh());
        let reader: Arc<dyn UrlReader> = match &registry {
            Some(r) => Arc::new(DocumentReader::new(
                Arc::clone(&url_reader),
                r.database().clone(),
                fresh,
            )),
            None => Arc::clone(&url_reader),
        };
        let (config, last) = (Arc::clone(&config), Arc::clone(&previous));
        let loaded = tokio::task::spawn_blocking(move || {
            load_with(&config, &extra, reader.as_ref(), Some(&last))
        })
        .await;
        match loaded {
            Ok((snapshot, remembered)) => {
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
                previous = Arc::new(remembered);
            }
            Err(e) => {
                tracing::error!(error = %e, "catalog reload failed; keeping the previous catalog");
                seen = before;
            }
        }
        if let Some(registry) = &registry {
            registry.completed(generation);
            if fresh && registry.database().is_shared() {
                if let Err(e) = registry.database().announce_documents().await {
                    tracing::warn!(error = %e, "cannot tell the other replicas about the new url reads");
                }
            }
        }
        served = generation;
        if interval_load || due.is_none() {
            due = next_due(&previous, hidden(&registry));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(location: &str, parent: Option<&str>, outcome: SourceOutcome) -> SourceRecord {
        SourceRecord {
            location: location.into(),
            parent: parent.map(str::to_string),
            parent_entity: None,
            outcome,
        }
    }

    fn entity(name: &str, location: &str) -> SourcedEntity {
        SourcedEntity {
            entity: serde_json::json!({"kind": "Component", "metadata": {"name": name}}),
            location: location.into(),
            origin_location: "url:http://h/all.yaml".into(),
        }
    }

    #[test]
    fn a_failed_url_keeps_its_subtree_and_a_404_does_not() {
        let previous = Previous {
            sources: vec![
                record("url:http://h/all.yaml", None, SourceOutcome::Read),
                record(
                    "url:http://h/a.yaml",
                    Some("url:http://h/all.yaml"),
                    SourceOutcome::Read,
                ),
                record(
                    "url:http://h/b.yaml",
                    Some("url:http://h/all.yaml"),
                    SourceOutcome::Read,
                ),
            ],
            entities: vec![
                entity("root", "url:http://h/all.yaml"),
                entity("a", "url:http://h/a.yaml"),
                entity("b", "url:http://h/b.yaml"),
            ],
        };
        let mut now = IngestResult {
            sources: vec![record("url:http://h/all.yaml", None, SourceOutcome::Failed)],
            problems: vec![crate::catalog::Problem {
                location: "url:http://h/all.yaml".into(),
                entity_ref: None,
                field: None,
                reason: "Unable to read url http://h/all.yaml, HTTP 503 Service Unavailable from http://h/all.yaml".into(),
            }],
            ..IngestResult::default()
        };
        keep_last_good(&mut now, &previous);
        let names: Vec<&str> = now
            .entities
            .iter()
            .filter_map(|e| e.entity["metadata"]["name"].as_str())
            .collect();
        assert_eq!(names, vec!["root", "a", "b"]);
        assert!(now.problems[0].reason.contains("HTTP 503"));
        assert!(
            now.problems[0]
                .reason
                .contains("the 3 entities read from it"),
            "{}",
            now.problems[0].reason
        );
        assert_eq!(
            now.sources.len(),
            3,
            "the subtree is remembered for next time"
        );

        let mut gone = IngestResult {
            sources: vec![record(
                "url:http://h/all.yaml",
                None,
                SourceOutcome::NotFound,
            )],
            ..IngestResult::default()
        };
        keep_last_good(&mut gone, &previous);
        assert!(gone.entities.is_empty());
    }
}
