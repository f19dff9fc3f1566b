//! Reading `catalog.locations` the way Backstage's catalog backend does: each root location gets
//! a generated `Location` entity (`ConfigLocationEntityProvider`), its target is read
//! (`FileReaderProcessor` / `UrlReaderProcessor`), every YAML document becomes an entity
//! (`parseEntityYaml`), `kind: Location` entities are followed through `spec.target` /
//! `spec.targets` (`DefaultCatalogProcessingOrchestrator`), `catalog.rules` are enforced against
//! the root ("origin") location and `$text`/`$json`/`$yaml` placeholders are resolved.
//!
//! Choices where Backstage is unclear or differs:
//! - A file is read once per ingestion. Reached again by another path (two Locations listing it,
//!   a diamond), it is skipped silently; its entities keep the origin of the first root that
//!   reached it. A file that is itself a root location always belongs to that root (so its
//!   per-location rules apply), even if another root's Location also lists it. Reached again
//!   from one of its own descendants, it is a cycle: one problem, nothing re-read.
//! - Relative file targets resolve against the declaring file's directory whether or not they
//!   start with `.` (Backstage resolves only `./`/`../` targets that way; others go to the
//!   backend's working directory). URL targets join per RFC 3986, keeping the base's query
//!   string when the target has none (as Backstage's `defaultScmResolveUrl` does).
//! - A Location read over `url` may not point at `type: file` targets (Backstage allows it;
//!   remote content choosing local files to read is refused here).
//! - A Location in a catalog file may point only at files inside that file's directory tree
//!   ([`crate::catalog::confine`]: no absolute paths, no `..` out, no symbolic links out, no `/proc`, `/sys`,
//!   devices); glob matches are checked one by one. Root `catalog.locations` are trusted
//!   configuration and may point anywhere.
//! - Every source read is recorded with the source that named it ([`SourceRecord`]), so a
//!   reload can keep the last good entities of a `url` location that failed transiently.
//! - Glob file targets (`*`, `?`, `[...]`, `**`) are expanded like Backstage's `glob` call, but
//!   only regular files are returned, sorted; dot-files match only a pattern starting with `.`.
//! - An entity of a denied kind is dropped alone (Backstage fails the whole batch emitted by
//!   the same Location). Entities whose `kind` is not a string are passed on for validation to
//!   reject. Generated root Location entities are not subject to rules (as in Backstage).
//! - A root `presence: optional` adds `presence: optional` to the generated entity's spec
//!   (Backstage's config has no `presence`; everything else is as Backstage generates it).
//!
//! Not handled here: entity validation, relations, reading one target ([`crate::catalog::read`]),
//! joining URLs ([`crate::catalog::urls`]), expanding globs ([`crate::catalog::glob`]), fetching
//! URLs (the [`UrlReader`], normally [`crate::catalog::url_reader::UrlFetcher`]).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::catalog::glob::has_glob;
use crate::catalog::redact::redact_text;
use crate::catalog::rules::Rule;
use crate::catalog::{Problem, SourcedEntity};
use crate::files::normalize;

mod walk;

use walk::{source_of, Declared, Root, Walker};

pub use crate::catalog::read::{
    read_local_text, read_url_text, ReadError, UrlReadError, UrlReader,
};
pub use crate::catalog::url_reader::{HttpUrlReader, UrlFetcher};
pub use crate::catalog::urls::join_url;

/// The two location types Backstage ships readers for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocationType {
    /// A local file (or glob pattern of files).
    File,
    /// A URL read through a [`UrlReader`].
    Url,
}

impl LocationType {
    /// The config spelling: `file` or `url`.
    pub fn as_str(self) -> &'static str {
        match self {
            LocationType::File => "file",
            LocationType::Url => "url",
        }
    }
}

/// One `catalog.locations` entry, already resolved by the config reader.
#[derive(Clone, Debug)]
pub struct LocationSpec {
    /// File or URL.
    pub kind: LocationType,
    /// Absolute file path (relative targets were resolved against the declaring config file's
    /// dir, or its `packages/backend` in a Backstage monorepo; see
    /// [`crate::catalog::config::file_target_base`]) or the URL.
    pub target: String,
    /// Per-location `rules`, additive to the global rules, applying to everything reached from it.
    pub rules: Vec<Rule>,
    /// `presence: optional` (a missing target is then not an error).
    pub optional: bool,
}

/// What [`ingest`] reads, and how.
pub struct IngestOptions<'a> {
    /// The root locations, in config order.
    pub locations: &'a [LocationSpec],
    /// The global `catalog.rules` (or [`crate::catalog::rules::default_rules`]).
    pub rules: &'a [Rule],
    /// Reads `url` locations and remote placeholders.
    pub url_reader: &'a dyn UrlReader,
    /// Files bigger than this are refused with a problem.
    pub max_file_bytes: u64,
}

/// The default for [`IngestOptions::max_file_bytes`]: 10 MiB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// Everything [`ingest`] read.
#[derive(Debug, Default)]
pub struct IngestResult {
    /// Every entity read (including Location entities found in files and the generated root
    /// Location entities), in read order; rule-denied entities are NOT included (they become
    /// problems).
    pub entities: Vec<SourcedEntity>,
    /// Every problem met; none of them stops the other entities.
    pub problems: Vec<Problem>,
    /// Every local file read or attempted (for file watching / live reload), including missing
    /// ones and `$text`/`$json`/`$yaml` targets; for a glob, the directory it searches.
    pub files: Vec<PathBuf>,
    /// Every file or URL read or attempted, with the source that named it, in read order.
    pub sources: Vec<SourceRecord>,
}

/// One file or URL [`ingest`] read (or tried to).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRecord {
    /// Its location ref (`url:https://...` or `file:/abs`).
    pub location: String,
    /// The location ref of the source whose Location entity named it; `None` for a root.
    pub parent: Option<String>,
    /// The ref of the Location entity that named it (`None` for a root, or a root's glob
    /// match, whose parent is the root's generated Location).
    pub parent_entity: Option<String>,
    /// How reading it went.
    pub outcome: SourceOutcome,
}

/// How reading one source went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceOutcome {
    /// Read, and every document parsed.
    Read,
    /// Read, but a document did not parse or a URL placeholder failed (not with 404/410).
    Partial,
    /// Could not be read (connection refused, 5xx, deadline, too large, ...).
    Failed,
    /// The server or file system said it does not exist (404/410, missing file).
    NotFound,
}

/// Backstage's location ref form: "file:/abs/path" or "url:https://...".
pub fn location_ref(kind: LocationType, target: &str) -> String {
    format!("{}:{target}", kind.as_str())
}

/// Reads every root location and everything reachable from it.
pub fn ingest(opts: &IngestOptions<'_>) -> IngestResult {
    let roots = merge_roots(opts.locations);
    let mut walker = Walker {
        opts,
        out: IngestResult::default(),
        visited: HashSet::new(),
        owners: HashMap::new(),
        seen_files: HashSet::new(),
    };
    for (index, root) in roots.iter().enumerate() {
        if !(root.kind == LocationType::File && has_glob(&root.target)) {
            walker.owners.entry(source_of(root).key()).or_insert(index);
        }
    }
    for (index, spec) in roots.iter().enumerate() {
        let origin = location_ref(spec.kind, &spec.target);
        walker.out.entities.push(SourcedEntity {
            entity: generated_location_entity(spec),
            location: origin.clone(),
            origin_location: origin.clone(),
        });
        let root = Root {
            index,
            origin: origin.clone(),
            rules: &spec.rules,
        };
        let from = Declared {
            location: origin,
            entity_ref: None,
            field: None,
            confine_to: None,
        };
        walker.read_target(
            &root,
            spec.kind,
            &spec.target,
            spec.optional,
            &from,
            &mut Vec::new(),
        );
    }
    tracing::debug!(
        entities = walker.out.entities.len(),
        problems = walker.out.problems.len(),
        "catalog locations read"
    );
    walker.out
}

/// The name Backstage gives the generated Location entity of a location ref
/// (`locationSpecToMetadataName`): `generated-<sha1 of "type:target">`.
pub fn generated_location_name(location: &str) -> String {
    format!("generated-{}", sha1_smol::Sha1::from(location).digest())
}

/// The entity ref of the generated Location entity of a location ref.
pub fn generated_location_ref(location: &str) -> String {
    format!("location:default/{}", generated_location_name(location))
}

/// The entity Backstage's `ConfigLocationEntityProvider` makes for a root location:
/// `generated-<sha1 of "type:target">`, both managed-by annotations set to the location itself.
fn generated_location_entity(spec: &LocationSpec) -> Value {
    let location = location_ref(spec.kind, &spec.target);
    let name = generated_location_name(&location);
    let mut entity = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Location",
        "metadata": {
            "name": name,
            "annotations": {
                "backstage.io/managed-by-location": location,
                "backstage.io/managed-by-origin-location": location,
            }
        },
        "spec": { "type": spec.kind.as_str(), "target": spec.target }
    });
    if spec.optional {
        entity["spec"]["presence"] = json!("optional");
    }
    entity
}

/// Normalizes root targets and merges repeated entries (their rules add up, as Backstage's
/// enforcer would apply both entries' rules to the same origin).
fn merge_roots(locations: &[LocationSpec]) -> Vec<LocationSpec> {
    let mut roots: Vec<LocationSpec> = Vec::new();
    for spec in locations {
        let mut spec = spec.clone();
        if spec.kind == LocationType::File {
            let path = Path::new(&spec.target);
            let absolute = if path.is_absolute() {
                path.to_path_buf()
            } else {
                std::env::current_dir().unwrap_or_default().join(path)
            };
            spec.target = normalize(&absolute).to_string_lossy().into_owned();
        }
        match roots
            .iter_mut()
            .find(|r| r.kind == spec.kind && r.target == spec.target)
        {
            Some(existing) => {
                tracing::warn!(target = %redact_text(&spec.target), "catalog.locations lists a target twice");
                existing.rules.extend(spec.rules);
                existing.optional &= spec.optional;
            }
            None => roots.push(spec),
        }
    }
    roots
}
