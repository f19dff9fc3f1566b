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
//!   ([`confine`]: no absolute paths, no `..` out, no symbolic links out, no `/proc`, `/sys`,
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
//! Not handled here: entity validation, relations, fetching URLs (the [`UrlReader`], normally
//! [`crate::catalog::url_reader::UrlFetcher`]).

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use serde_json::{json, Value};

use crate::catalog::confine;
use crate::catalog::placeholders::{self, Base};
use crate::catalog::redact::redact_text;
use crate::catalog::rules::{self, Rule};
use crate::catalog::yaml::{self, YamlError};
use crate::catalog::{Problem, SourcedEntity};

pub use crate::catalog::url_reader::{HttpUrlReader, UrlFetcher};

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
    /// dir) or the URL.
    pub target: String,
    /// Per-location `rules`, additive to the global rules, applying to everything reached from it.
    pub rules: Vec<Rule>,
    /// `presence: optional` (a missing target is then not an error).
    pub optional: bool,
}

/// Fetches `url:` targets. Implemented by the server (plain HTTP GET); tests use a fake.
///
/// An error message starting with `HTTP 404` or `HTTP 410` means "not found": an optional
/// location is then silently empty.
pub trait UrlReader: Send + Sync {
    /// The body of `url` as text, or why it could not be read.
    fn read_url(&self, url: &str) -> Result<String, String>;
}

/// What [`ingest`] reads, and how.
pub struct IngestOptions<'a> {
    /// The root locations, in config order.
    pub locations: &'a [LocationSpec],
    /// The global `catalog.rules` (or [`rules::default_rules`]).
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

/// Why a target could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// Nothing at that path (or no file matches the pattern).
    #[error("file {0} does not exist")]
    NotFound(String),
    /// The path is a directory.
    #[error(
        "file {0} is a directory, not a YAML file (list the files, or use a glob like {0}/*.yaml)"
    )]
    Directory(String),
    /// The file is bigger than [`IngestOptions::max_file_bytes`].
    #[error("{0} is {1} bytes, more than the {2}-byte limit; it was not read")]
    TooLarge(String, u64, u64),
    /// The content is not UTF-8 text.
    #[error(
        "{0} is not UTF-8 text (invalid byte at offset {1}); catalog files must be UTF-8 YAML"
    )]
    NotUtf8(String, usize),
    /// The operating system refused the read.
    #[error("file {0} could not be read, {1}")]
    Io(String, String),
    /// The URL reader failed.
    #[error("Unable to read url {0}, {1}")]
    Url(String, String),
    /// A catalog file named a file it may not read ([`confine`]); the whole message.
    #[error("{0}")]
    Refused(String),
}

impl ReadError {
    /// Whether the target does not exist (a missing file, HTTP 404 or 410).
    pub(crate) fn is_not_found(&self) -> bool {
        match self {
            ReadError::NotFound(_) => true,
            ReadError::Url(_, message) => {
                message.starts_with("HTTP 404") || message.starts_with("HTTP 410")
            }
            _ => false,
        }
    }

    /// Whether the problem lies in the reference (then reported where the target is named).
    fn is_bad_reference(&self) -> bool {
        self.is_not_found() || matches!(self, ReadError::Directory(_) | ReadError::Refused(_))
    }

    /// The same error naming `shown` where it named `real` (a file read through its resolved
    /// path is reported under the path as written).
    pub(crate) fn renamed(self, real: &Path, shown: &Path) -> ReadError {
        if real == shown {
            return self;
        }
        let (real, shown) = (real.to_string_lossy(), shown.to_string_lossy());
        let swap = |s: String| s.replace(real.as_ref(), shown.as_ref());
        match self {
            ReadError::NotFound(p) => ReadError::NotFound(swap(p)),
            ReadError::Directory(p) => ReadError::Directory(swap(p)),
            ReadError::TooLarge(p, a, b) => ReadError::TooLarge(swap(p), a, b),
            ReadError::NotUtf8(p, n) => ReadError::NotUtf8(swap(p), n),
            ReadError::Io(p, m) => ReadError::Io(swap(p), m),
            other => other,
        }
    }
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

/// The entity Backstage's `ConfigLocationEntityProvider` makes for a root location:
/// `generated-<sha1 of "type:target">`, both managed-by annotations set to the location itself.
fn generated_location_entity(spec: &LocationSpec) -> Value {
    let location = location_ref(spec.kind, &spec.target);
    let name = format!("generated-{}", sha1_smol::Sha1::from(&location).digest());
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

/// The root location everything being read was reached from.
struct Root<'a> {
    index: usize,
    origin: String,
    rules: &'a [Rule],
}

/// Where a target was named: the file, the Location entity and its field.
struct Declared {
    location: String,
    entity_ref: Option<String>,
    field: Option<String>,
    /// The catalog file that named the target, whose directory tree file reads must stay in
    /// (`None` for root locations: trusted configuration).
    confine_to: Option<PathBuf>,
}

impl Declared {
    fn problem(&self, reason: String) -> Problem {
        Problem {
            location: self.location.clone(),
            entity_ref: self.entity_ref.clone(),
            field: self.field.clone(),
            reason,
        }
    }
}

/// A file or URL being read.
#[derive(Clone, Debug)]
enum Source {
    File(PathBuf),
    Url(String),
}

impl Source {
    fn kind(&self) -> LocationType {
        match self {
            Source::File(_) => LocationType::File,
            Source::Url(_) => LocationType::Url,
        }
    }

    fn location_ref(&self) -> String {
        match self {
            Source::File(path) => location_ref(LocationType::File, &path.to_string_lossy()),
            Source::Url(url) => location_ref(LocationType::Url, url),
        }
    }

    /// Identity for "read once" and cycles: the real path (symlinks resolved) or the URL
    /// without its fragment.
    fn key(&self) -> String {
        match self {
            Source::File(path) => {
                let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
                format!("file:{}", real.to_string_lossy())
            }
            Source::Url(url) => format!("url:{}", url.split('#').next().unwrap_or(url)),
        }
    }
}

fn source_of(spec: &LocationSpec) -> Source {
    match spec.kind {
        LocationType::File => Source::File(PathBuf::from(&spec.target)),
        LocationType::Url => Source::Url(spec.target.clone()),
    }
}

/// Nesting deeper than this is surely a mistake (a generated chain); it is reported.
const MAX_DEPTH: usize = 64;

struct Walker<'a> {
    opts: &'a IngestOptions<'a>,
    out: IngestResult,
    visited: HashSet<String>,
    owners: HashMap<String, usize>,
    seen_files: HashSet<PathBuf>,
}

impl Walker<'_> {
    fn note_file(&mut self, path: &Path) {
        if self.seen_files.insert(path.to_path_buf()) {
            self.out.files.push(path.to_path_buf());
        }
    }

    /// Reads a (resolved, absolute) target: a file, a glob of files or a URL.
    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(location = %crate::catalog::redact::redact_url(target), kind = kind.as_str())
    )]
    fn read_target(
        &mut self,
        root: &Root<'_>,
        kind: LocationType,
        target: &str,
        optional: bool,
        from: &Declared,
        stack: &mut Vec<(String, String)>,
    ) {
        if kind == LocationType::Url {
            return self.read_source(root, Source::Url(target.to_string()), optional, from, stack);
        }
        if !has_glob(target) {
            let source = Source::File(PathBuf::from(target));
            return self.read_source(root, source, optional, from, stack);
        }
        let (base, matches) = expand_glob(Path::new(target));
        self.note_file(&base);
        if matches.is_empty() && !optional {
            self.out.problems.push(from.problem(format!(
                "file {target} does not exist (no file matches the pattern)"
            )));
        }
        for path in matches {
            self.read_source(root, Source::File(path), optional, from, stack);
        }
    }

    fn read_source(
        &mut self,
        root: &Root<'_>,
        source: Source,
        optional: bool,
        from: &Declared,
        stack: &mut Vec<(String, String)>,
    ) {
        let key = source.key();
        let here = source.location_ref();
        if let Some(start) = stack.iter().position(|(k, _)| *k == key) {
            let chain: Vec<&str> = stack[start..].iter().map(|(_, r)| r.as_str()).collect();
            let reason = if chain.len() == 1 {
                format!("Location cycle: {here} refers to itself; it is not read again")
            } else {
                format!(
                    "Location cycle: {} -> {here}; {here} is not read again",
                    chain.join(" -> ")
                )
            };
            self.out.problems.push(from.problem(reason));
            return;
        }
        if self
            .owners
            .get(&key)
            .is_some_and(|&owner| owner != root.index)
        {
            tracing::debug!(location = %redact_text(&here), "left to the root location that lists it");
            return;
        }
        if !self.visited.insert(key.clone()) {
            tracing::debug!(location = %redact_text(&here), "already read through another Location");
            return;
        }
        if stack.len() >= MAX_DEPTH {
            self.out.problems.push(from.problem(format!(
                "Locations nest more than {MAX_DEPTH} levels deep; {here} was not read"
            )));
            return;
        }
        let text = match &source {
            Source::File(path) => {
                self.note_file(path);
                match &from.confine_to {
                    Some(declaring) => match confine::check_real(declaring, path) {
                        Ok(real) => read_local_text(&real, self.opts.max_file_bytes)
                            .map_err(|e| e.renamed(&real, path)),
                        Err(e) => Err(ReadError::Refused(format!(
                            "file target '{}' {e}",
                            path.display()
                        ))),
                    },
                    None => read_local_text(path, self.opts.max_file_bytes),
                }
            }
            Source::Url(url) => read_url_text(self.opts.url_reader, url, self.opts.max_file_bytes),
        };
        let parent = (from.location != here).then(|| from.location.clone());
        let text = match text {
            Ok(text) => text,
            Err(e) => {
                let outcome = if e.is_not_found() {
                    SourceOutcome::NotFound
                } else {
                    SourceOutcome::Failed
                };
                self.out.sources.push(SourceRecord {
                    location: here.clone(),
                    parent,
                    outcome,
                });
                if optional && e.is_not_found() {
                    return;
                }
                if e.is_bad_reference() {
                    return self.out.problems.push(from.problem(e.to_string()));
                }
                return self
                    .out
                    .problems
                    .push(problem(&here, None, None, e.to_string()));
            }
        };
        let record = self.out.sources.len();
        self.out.sources.push(SourceRecord {
            location: here.clone(),
            parent,
            outcome: SourceOutcome::Read,
        });
        let (locations, partial) = self.read_documents(root, &source, &text);
        if partial {
            self.out.sources[record].outcome = SourceOutcome::Partial;
        }
        stack.push((key, here));
        for (entity, entity_ref) in locations {
            self.follow(root, &source, &entity, entity_ref, stack);
        }
        stack.pop();
    }

    /// Turns each document into an entity; returns the Location entities to follow, and
    /// whether something went wrong that a later read may not repeat (a document that does not
    /// parse, a URL placeholder that failed other than with 404/410).
    fn read_documents(
        &mut self,
        root: &Root<'_>,
        source: &Source,
        text: &str,
    ) -> (Vec<(Value, Option<String>)>, bool) {
        let here = source.location_ref();
        let mut locations = Vec::new();
        let mut partial = false;
        for document in yaml::parse_documents(text) {
            let n = document.number;
            let mut entity = match document.value {
                Ok(Value::Null) => continue,
                Ok(value @ Value::Object(_)) => value,
                Ok(other) => {
                    let reason = format!(
                        "document {n} is not an object (found {})",
                        json_type(&other)
                    );
                    self.out.problems.push(problem(&here, None, None, reason));
                    continue;
                }
                Err(e) => {
                    partial = true;
                    self.out
                        .problems
                        .push(problem(&here, None, None, yaml_reason(n, &e)));
                    continue;
                }
            };
            let entity_ref = entity_ref(&entity);
            if let Some(kind) = entity.get("kind").and_then(Value::as_str) {
                if !rules::is_allowed(kind, self.opts.rules, root.rules) {
                    let reason = format!(
                        "kind '{kind}' is not allowed by catalog.rules for entities from {} \
                         (global rules allow: {}; this location's rules add: {}); entity dropped",
                        root.origin,
                        rules::describe(self.opts.rules),
                        rules::describe(root.rules),
                    );
                    let field = Some("kind".to_string());
                    self.out
                        .problems
                        .push(problem(&here, entity_ref, field, reason));
                    continue;
                }
            }
            let base = match source {
                Source::File(path) => Base::File(path),
                Source::Url(url) => Base::Url(url),
            };
            let resolved = placeholders::resolve(
                &mut entity,
                &base,
                self.opts.url_reader,
                self.opts.max_file_bytes,
            );
            for path in &resolved.files {
                self.note_file(path);
            }
            partial |= resolved.transient_failure;
            for failure in resolved.problems {
                let field = Some(failure.field);
                self.out
                    .problems
                    .push(problem(&here, entity_ref.clone(), field, failure.reason));
            }
            if entity.get("kind").and_then(Value::as_str) == Some("Location") {
                locations.push((entity.clone(), entity_ref.clone()));
            }
            self.out.entities.push(SourcedEntity {
                entity,
                location: here.clone(),
                origin_location: root.origin.clone(),
            });
        }
        (locations, partial)
    }

    /// Reads the targets of a `kind: Location` entity found in `source`.
    fn follow(
        &mut self,
        root: &Root<'_>,
        source: &Source,
        entity: &Value,
        entity_ref: Option<String>,
        stack: &mut Vec<(String, String)>,
    ) {
        let here = source.location_ref();
        let Some(spec) = entity.get("spec").and_then(Value::as_object) else {
            return; // validation reports a Location without a spec
        };
        let mut declared = Declared {
            location: here.clone(),
            entity_ref,
            field: Some("spec.type".into()),
            confine_to: match source {
                Source::File(path) => Some(path.clone()),
                Source::Url(_) => None,
            },
        };
        let kind = match spec.get("type") {
            None => source.kind(),
            Some(Value::String(t)) if t == "file" => LocationType::File,
            Some(Value::String(t)) if t == "url" => LocationType::Url,
            Some(other) => {
                let reason = format!("No processor was able to handle reading of location type {other} (expected \"file\" or \"url\")");
                return self.out.problems.push(declared.problem(reason));
            }
        };
        let optional = spec.get("presence").and_then(Value::as_str) == Some("optional");
        let mut targets = Vec::new();
        match spec.get("target") {
            None | Some(Value::Null) => {}
            Some(value) => targets.push(("spec.target".to_string(), value)),
        }
        match spec.get("targets") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                targets.extend(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (format!("spec.targets[{i}]"), v)),
                );
            }
            Some(other) => targets.push(("spec.targets".to_string(), other)),
        }
        for (field, value) in targets {
            declared.field = Some(field);
            let Some(target) = value.as_str() else {
                let reason = format!(
                    "a Location target must be a string, found {}",
                    json_type(value)
                );
                self.out.problems.push(declared.problem(reason));
                continue;
            };
            match resolve_target(source, kind, target) {
                Ok(resolved) => self.read_target(root, kind, &resolved, optional, &declared, stack),
                Err(reason) => self.out.problems.push(declared.problem(reason)),
            }
        }
    }
}

/// Where a Location's target points, given the file or URL that declares it.
fn resolve_target(source: &Source, kind: LocationType, target: &str) -> Result<String, String> {
    if kind == LocationType::File && target.ends_with('/') {
        return Err(format!(
            "LocationEntityProcessor cannot handle file type location with target {target} that ends with a path separator"
        ));
    }
    match (source, kind) {
        (Source::File(path), LocationType::File) => confine::lexical(path, target)
            .map(|p| p.to_string_lossy().into_owned())
            .map_err(|e| format!("file target '{target}' {e}")),
        (Source::Url(base), LocationType::Url) => join_url(base, target)
            .ok_or_else(|| format!("cannot form a URL out of {base} and {target}")),
        (Source::File(_), LocationType::Url) => match join_url(target, "") {
            Some(_) => Ok(target.to_string()),
            None => Err(format!(
                "url target {target} is not an absolute http(s) URL"
            )),
        },
        (Source::Url(base), LocationType::File) => Err(format!(
            "a Location read from {base} may not point at local files (target {target})"
        )),
    }
}

fn problem(
    location: &str,
    entity_ref: Option<String>,
    field: Option<String>,
    reason: String,
) -> Problem {
    Problem {
        location: location.to_string(),
        entity_ref,
        field,
        reason,
    }
}

fn yaml_reason(n: usize, e: &YamlError) -> String {
    // serde_yaml's messages already end with "at line L column C" when it knows where.
    format!("YAML error in document {n}: {e}")
}

/// `kind:namespace/name`, lower-case, when kind and name are strings.
fn entity_ref(entity: &Value) -> Option<String> {
    let kind = entity.get("kind")?.as_str()?;
    let metadata = entity.get("metadata")?;
    let name = metadata.get("name")?.as_str()?;
    let namespace = metadata
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    Some(format!("{kind}:{namespace}/{name}").to_lowercase())
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Reads a local file as UTF-8 text, refusing directories and files over `max_bytes` (checked
/// on the metadata before reading, and again while reading in case the file grows).
pub(crate) fn read_local_text(path: &Path, max_bytes: u64) -> Result<String, ReadError> {
    let shown = path.to_string_lossy().into_owned();
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ReadError::NotFound(shown))
        }
        Err(e) => return Err(ReadError::Io(shown, e.to_string())),
    };
    if metadata.is_dir() {
        return Err(ReadError::Directory(shown));
    }
    if !metadata.is_file() {
        // A FIFO or device could block or never end.
        return Err(ReadError::Io(shown, "not a regular file".into()));
    }
    if metadata.len() > max_bytes {
        return Err(ReadError::TooLarge(
            format!("file {shown}"),
            metadata.len(),
            max_bytes,
        ));
    }
    let mut bytes = Vec::new();
    let file =
        std::fs::File::open(path).map_err(|e| ReadError::Io(shown.clone(), e.to_string()))?;
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Io(shown.clone(), e.to_string()))?;
    if bytes.len() as u64 > max_bytes {
        return Err(ReadError::TooLarge(
            format!("file {shown}"),
            bytes.len() as u64,
            max_bytes,
        ));
    }
    String::from_utf8(bytes)
        .map_err(|e| ReadError::NotUtf8(format!("file {shown}"), e.utf8_error().valid_up_to()))
}

/// Reads a URL through the reader, applying the same size limit as for files.
pub(crate) fn read_url_text(
    reader: &dyn UrlReader,
    url: &str,
    max_bytes: u64,
) -> Result<String, ReadError> {
    let text = reader
        .read_url(url)
        .map_err(|message| ReadError::Url(url.to_string(), message))?;
    if text.len() as u64 > max_bytes {
        return Err(ReadError::TooLarge(
            format!("url {url}"),
            text.len() as u64,
            max_bytes,
        ));
    }
    Ok(text)
}

/// Removes `.` and `..` components without touching the file system (like `path.normalize`).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::RootDir | Component::Prefix(_)) => {}
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The URL scheme `s` starts with (`http`, `https`, `ftp`...), per RFC 3986; one-letter
/// "schemes" are not taken (they are Windows drive letters).
pub(crate) fn url_scheme(s: &str) -> Option<&str> {
    let (scheme, _) = s.split_once(':')?;
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (first_ok && rest_ok && scheme.len() > 1).then_some(scheme)
}

/// A URL reference split per RFC 3986 appendix B (fragment dropped).
struct UrlParts<'a> {
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
}

fn split_url(s: &str) -> UrlParts<'_> {
    let s = s.split('#').next().unwrap_or_default();
    let scheme = url_scheme(s);
    let mut rest = scheme.map_or(s, |sc| &s[sc.len() + 1..]);
    let mut authority = None;
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?']).unwrap_or(after.len());
        authority = Some(&after[..end]);
        rest = &after[end..];
    }
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    UrlParts {
        scheme,
        authority,
        path,
        query,
    }
}

/// Resolves `reference` against the absolute `http(s)` URL `base` (RFC 3986 section 5.2; the
/// fragment is dropped). A relative reference without a query keeps the base's query, as
/// Backstage's `defaultScmResolveUrl` does (so `?ref=main` survives). `None` if `base` is not
/// an absolute http(s) URL with a host.
pub fn join_url(base: &str, reference: &str) -> Option<String> {
    join(base, reference, true)
}

/// Resolves `reference` against `base` exactly per RFC 3986 section 5.2 (as WHATWG's
/// `new URL(reference, base)` does for a redirect's `Location`); `None` unless both the base
/// and the result are absolute http(s) URLs.
pub fn resolve_reference(base: &str, reference: &str) -> Option<String> {
    let joined = join(base, reference, false)?;
    let scheme = url_scheme(&joined)?;
    (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")).then_some(joined)
}

fn join(base: &str, reference: &str, keep_query: bool) -> Option<String> {
    let b = split_url(base);
    let scheme = b.scheme?;
    let base_authority = b.authority.filter(|a| !a.is_empty())?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let r = split_url(reference);
    let (scheme, authority, path, query) = if let Some(ref_scheme) = r.scheme {
        (
            ref_scheme,
            r.authority,
            remove_dot_segments(r.path),
            r.query,
        )
    } else if r.authority.is_some() {
        (
            scheme,
            r.authority,
            remove_dot_segments(r.path),
            if keep_query {
                r.query.or(b.query)
            } else {
                r.query
            },
        )
    } else if r.path.is_empty() {
        (
            scheme,
            Some(base_authority),
            b.path.to_string(),
            r.query.or(b.query),
        )
    } else if r.path.starts_with('/') {
        (
            scheme,
            Some(base_authority),
            remove_dot_segments(r.path),
            if keep_query {
                r.query.or(b.query)
            } else {
                r.query
            },
        )
    } else {
        let merged = match b.path.rfind('/') {
            Some(i) => format!("{}{}", &b.path[..=i], r.path),
            None => format!("/{}", r.path),
        };
        (
            scheme,
            Some(base_authority),
            remove_dot_segments(&merged),
            if keep_query {
                r.query.or(b.query)
            } else {
                r.query
            },
        )
    };
    let mut out = format!("{scheme}:");
    if let Some(authority) = authority {
        out.push_str("//");
        out.push_str(authority);
        if path.is_empty() {
            out.push('/');
        }
    }
    out.push_str(&path);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    Some(out)
}

/// RFC 3986 section 5.2.4, step by step.
fn remove_dot_segments(path: &str) -> String {
    let mut input = path.to_string();
    let mut output = String::new();
    while !input.is_empty() {
        if let Some(rest) = input
            .strip_prefix("../")
            .or_else(|| input.strip_prefix("./"))
        {
            input = rest.to_string();
        } else if input.starts_with("/./") || input == "/." {
            input = format!("/{}", &input[input.len().min(3)..]);
        } else if input.starts_with("/../") || input == "/.." {
            input = format!("/{}", &input[input.len().min(4)..]);
            output.truncate(output.rfind('/').unwrap_or(0));
        } else if input == "." || input == ".." {
            input.clear();
        } else {
            let start = usize::from(input.starts_with('/'));
            let end = input[start..].find('/').map_or(input.len(), |i| i + start);
            output.push_str(&input[..end]);
            input = input[end..].to_string();
        }
    }
    output
}

fn has_glob(target: &str) -> bool {
    target.contains(['*', '?', '['])
}

/// Bounds the directory walk of one glob (a `**` over a huge tree).
const MAX_GLOB_ENTRIES: usize = 100_000;

/// Expands a glob: the directory the search starts in and the matching regular files, sorted.
fn expand_glob(pattern: &Path) -> (PathBuf, Vec<PathBuf>) {
    let pattern = normalize(pattern);
    let mut base = PathBuf::new();
    let mut parts = Vec::new();
    for component in pattern.components() {
        let text = component.as_os_str().to_string_lossy().into_owned();
        if parts.is_empty() && !has_glob(&text) {
            base.push(component.as_os_str());
        } else {
            parts.push(text);
        }
    }
    let mut found = Vec::new();
    let mut budget = MAX_GLOB_ENTRIES;
    glob_walk(&base, &parts, &mut found, &mut budget);
    found.sort();
    found.dedup();
    (base, found)
}

fn glob_walk(dir: &Path, parts: &[String], found: &mut Vec<PathBuf>, budget: &mut usize) {
    let Some((first, rest)) = parts.split_first() else {
        if dir.is_file() {
            found.push(dir.to_path_buf());
        }
        return;
    };
    if first == "**" {
        glob_walk(dir, rest, found, budget);
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && !first.starts_with('.') {
            continue;
        }
        let path = entry.path();
        // Never descend through a symbolic link: a link to `/` in a repository must not turn
        // a glob into a walk of the server's disk. (A matched file that is a link is still
        // resolved and checked by the confinement rule when it is read.)
        let link = entry.file_type().is_ok_and(|t| t.is_symlink());
        if first == "**" {
            if !link && path.is_dir() {
                glob_walk(&path, parts, found, budget);
            }
        } else if segment_matches(first.as_bytes(), name.as_bytes()) && !(link && !rest.is_empty()) {
            glob_walk(&path, rest, found, budget);
        }
    }
}

/// Matches one path segment against `*`, `?` and `[...]` (`!`/`^` negation, `a-z` ranges).
fn segment_matches(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        let step = match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
                continue;
            }
            Some(b'?') => Some(1),
            Some(b'[') => match class_matches(&pattern[p..], name[n]) {
                Some((true, len)) => Some(len),
                Some((false, _)) => None,
                None => (name[n] == b'[').then_some(1),
            },
            Some(&c) => (c == name[n]).then_some(1),
            None => None,
        };
        match (step, star) {
            (Some(len), _) => {
                p += len;
                n += 1;
            }
            (None, Some((sp, sn))) => {
                p = sp + 1;
                n = sn + 1;
                star = Some((sp, sn + 1));
            }
            (None, None) => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// For a pattern starting with `[`: whether `c` is in the class and the class's length, or
/// `None` if the class is not closed (then `[` is literal).
fn class_matches(pattern: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negated = matches!(pattern.get(i), Some(b'!' | b'^'));
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < pattern.len() {
        if pattern[i] == b']' && !first {
            return Some((matched != negated, i + 1));
        }
        first = false;
        if pattern.get(i + 1) == Some(&b'-') && pattern.get(i + 2).is_some_and(|&e| e != b']') {
            matched |= (pattern[i]..=pattern[i + 2]).contains(&c);
            i += 3;
        } else {
            matched |= pattern[i] == c;
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_paths_lexically() {
        let cases = [
            ("/a/b/../c/./d.yaml", "/a/c/d.yaml"),
            ("/a/../../b", "/b"),
            ("a/../../b", "../b"),
        ];
        for (path, expected) in cases {
            assert_eq!(
                normalize(Path::new(path)),
                PathBuf::from(expected),
                "{path}"
            );
        }
    }

    #[test]
    fn matches_glob_segments() {
        assert!(segment_matches(b"*.yaml", b"all.yaml"));
        assert!(!segment_matches(b"*.yaml", b"all.yml"));
        assert!(segment_matches(b"a?c*", b"abcdef"));
        assert!(segment_matches(b"team-[a-c].yaml", b"team-b.yaml"));
        assert!(!segment_matches(b"team-[!a-c].yaml", b"team-b.yaml"));
        assert!(segment_matches(b"*-*-*.yaml", b"a-b-c-d.yaml"));
        assert!(segment_matches(b"[x", b"[x"));
    }
}
