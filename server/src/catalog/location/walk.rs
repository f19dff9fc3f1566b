//! The walk itself: reading one source, turning its documents into entities under the root's
//! rules, and following the `kind: Location` entities found (cycles, read-once, depth).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{
    location_ref, IngestOptions, IngestResult, LocationSpec, LocationType, SourceOutcome,
    SourceRecord,
};
use crate::catalog::confine;
use crate::catalog::glob::{expand_glob, has_glob};
use crate::catalog::placeholders::{self, Base};
use crate::catalog::read::{read_local_text, read_url_text, ReadError};
use crate::catalog::redact::redact_text;
use crate::catalog::rules::{self, Rule};
use crate::catalog::urls::join_url;
use crate::catalog::yaml::{self, YamlError};
use crate::catalog::{Problem, SourcedEntity};

/// The root location everything being read was reached from.
pub(super) struct Root<'a> {
    pub(super) index: usize,
    pub(super) origin: String,
    pub(super) rules: &'a [Rule],
}

/// Where a target was named: the file, the Location entity and its field.
pub(super) struct Declared {
    pub(super) location: String,
    pub(super) entity_ref: Option<String>,
    pub(super) field: Option<String>,
    /// The catalog file that named the target, whose directory tree file reads must stay in
    /// (`None` for root locations: trusted configuration).
    pub(super) confine_to: Option<PathBuf>,
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
pub(super) enum Source {
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
    pub(super) fn key(&self) -> String {
        match self {
            Source::File(path) => {
                let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
                format!("file:{}", real.to_string_lossy())
            }
            Source::Url(url) => format!("url:{}", url.split('#').next().unwrap_or(url)),
        }
    }
}

pub(super) fn source_of(spec: &LocationSpec) -> Source {
    match spec.kind {
        LocationType::File => Source::File(PathBuf::from(&spec.target)),
        LocationType::Url => Source::Url(spec.target.clone()),
    }
}

/// Nesting deeper than this is surely a mistake (a generated chain); it is reported.
const MAX_DEPTH: usize = 64;

pub(super) struct Walker<'a> {
    pub(super) opts: &'a IngestOptions<'a>,
    pub(super) out: IngestResult,
    pub(super) visited: HashSet<String>,
    pub(super) owners: HashMap<String, usize>,
    pub(super) seen_files: HashSet<PathBuf>,
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
    pub(super) fn read_target(
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
                    parent_entity: from.entity_ref.clone(),
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
            parent_entity: from.entity_ref.clone(),
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
                Err(reason) => self.out.problems.push(declared.problem(reason.to_string())),
            }
        }
    }
}

/// Why a Location's target cannot be followed (reported on the Location's entry).
#[derive(Debug, thiserror::Error)]
enum TargetError {
    #[error("LocationEntityProcessor cannot handle file type location with target {0} that ends with a path separator")]
    EndsWithSeparator(String),
    #[error("file target '{0}' {1}")]
    Confined(String, confine::ConfineError),
    #[error("cannot form a URL out of {0} and {1}")]
    NoUrl(String, String),
    #[error("url target {0} is not an absolute http(s) URL")]
    NotAbsolute(String),
    #[error("a Location read from {0} may not point at local files (target {1})")]
    FileFromUrl(String, String),
}

/// Where a Location's target points, given the file or URL that declares it.
fn resolve_target(
    source: &Source,
    kind: LocationType,
    target: &str,
) -> Result<String, TargetError> {
    if kind == LocationType::File && target.ends_with('/') {
        return Err(TargetError::EndsWithSeparator(target.into()));
    }
    match (source, kind) {
        (Source::File(path), LocationType::File) => confine::lexical(path, target)
            .map(|p| p.to_string_lossy().into_owned())
            .map_err(|e| TargetError::Confined(target.into(), e)),
        (Source::Url(base), LocationType::Url) => join_url(base, target)
            .ok_or_else(|| TargetError::NoUrl(base.to_string(), target.into())),
        (Source::File(_), LocationType::Url) => match join_url(target, "") {
            Some(_) => Ok(target.to_string()),
            None => Err(TargetError::NotAbsolute(target.into())),
        },
        (Source::Url(base), LocationType::File) => {
            Err(TargetError::FileFromUrl(base.to_string(), target.into()))
        }
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
