//! The catalog's in-memory state: an immutable [`Snapshot`] built from one ingestion run, and
//! the [`CatalogStore`] that swaps snapshots atomically, so a reader never sees a half-updated
//! catalog.
//!
//! Building a snapshot is where Backstage's stitching happens: validation, default namespace,
//! `managed-by-location` annotations, uid/etag, duplicate detection (first location wins),
//! relations in both directions, and the search keys used by queries. Link annotations with
//! non-http(s) URLs are rewritten here ([`script_urls`]) and credentials in location URLs are
//! redacted in stored entities and problems ([`crate::catalog::redact`]).

use std::any::Any;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use serde_json::{json, Map, Value};

use crate::catalog::location::{generated_location_ref, IngestResult};
use crate::catalog::query::search::SearchKeys;
use crate::catalog::redact::redact_text;
use crate::catalog::refs::{entity_ref_of, EntityRef};
use crate::catalog::relations::derive_all;
use crate::catalog::validate::validate_entity;
use crate::catalog::{script_urls, Problem};

/// Annotation naming the location an entity was read from.
pub const MANAGED_BY_LOCATION: &str = "backstage.io/managed-by-location";
/// Annotation naming the root location an entity was reached from.
pub const MANAGED_BY_ORIGIN_LOCATION: &str = "backstage.io/managed-by-origin-location";

/// One entity as served.
#[derive(Debug)]
pub struct StoredEntity {
    /// The entity as the REST API returns it (with uid, etag, relations), as JSON text: about
    /// a fifth of the memory of a parsed tree, and written into responses as it is (serde's
    /// `RawValue`), without re-encoding.
    pub json: Box<serde_json::value::RawValue>,
    /// `metadata.title`, for links from other entities.
    pub title: Option<String>,
    /// Canonical ref, lower-case `kind:namespace/name`.
    pub entity_ref: String,
    /// The ref as written (original casing).
    pub parts: EntityRef,
    /// Flattened, lower-cased keys for filtering and ordering.
    pub keys: SearchKeys,
}

/// A configured root location, as `GET /api/catalog/locations` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocationEntry {
    /// Stable id (a UUID derived from type and target).
    pub id: String,
    /// `file` or `url`.
    pub location_type: String,
    /// Absolute path or URL.
    pub target: String,
    /// Registered through the API (Backstage's `locations` table), as opposed to a
    /// `catalog.locations` entry of app-config, which Backstage's locations API does not list.
    pub registered: bool,
}

/// An immutable view of the whole catalog.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Entities sorted by canonical ref.
    pub entities: Vec<StoredEntity>,
    by_ref: HashMap<String, usize>,
    by_uid: HashMap<String, usize>,
    /// Errors: files or entities that could not be loaded.
    pub errors: Vec<Problem>,
    /// Warnings: loaded, but something is off (e.g. a relation to a missing entity).
    pub warnings: Vec<Problem>,
    /// The configured root locations.
    pub locations: Vec<LocationEntry>,
    /// Every local file the catalog was read from (watched for changes).
    pub files: Vec<PathBuf>,
    /// Results of recent queries on this snapshot (dropped with it, so never stale).
    pub query_cache: QueryCache,
    /// Inverted indexes of the filter keys used so far.
    pub filter_index: crate::catalog::index::FilterIndex,
    /// The entity that produced each entity (the Location entity whose target it was read
    /// from, or a root's generated Location), by canonical ref; generated root Locations have
    /// none. What the ancestry endpoint walks.
    pub parents: HashMap<String, String>,
    /// Per entity, the lower-case text the portal's search looks in (built on the first search,
    /// see [`crate::catalog::search`]).
    pub search_text: std::sync::OnceLock<Vec<Box<str>>>,
}

/// A small most-recently-used cache of query results (for the REST API, entity indexes in
/// result order; for the catalog list page, its matches and facet counts), so that paging through
/// a result — every page after the first — and repeated queries skip filtering and sorting. It
/// lives in a snapshot, so a reload starts with an empty one. Each caller's keys start with its
/// own prefix; a value of another type under a key is recomputed, never misread.
#[derive(Default)]
pub struct QueryCache {
    entries: std::sync::Mutex<std::collections::VecDeque<(String, Arc<dyn Any + Send + Sync>)>>,
}

impl std::fmt::Debug for QueryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.entries.lock().map(|e| e.len()).unwrap_or(0);
        f.debug_struct("QueryCache").field("entries", &n).finish()
    }
}

impl QueryCache {
    /// How many distinct queries are kept.
    pub const CAPACITY: usize = 64;

    /// The cached result for `key`, or `compute()`'s, which is then cached.
    pub fn get_or_compute<T: Any + Send + Sync>(
        &self,
        key: &str,
        compute: impl FnOnce() -> T,
    ) -> Arc<T> {
        // Keys built from a client's query can be long: they are held by their SHA-256, so the
        // cache's memory and the comparisons under its lock stay small.
        let hashed;
        let key = if key.len() > 64 {
            use sha2::Digest as _;
            hashed = format!("#{:x}", sha2::Sha256::digest(key.as_bytes()));
            hashed.as_str()
        } else {
            key
        };
        if let Ok(mut entries) = self.entries.lock() {
            if let Some(pos) = entries.iter().position(|(k, _)| k == key) {
                if let Some(hit) = entries.remove(pos) {
                    let found = Arc::clone(&hit.1).downcast::<T>();
                    entries.push_front(hit);
                    if let Ok(result) = found {
                        return result;
                    }
                }
            }
        }
        // Computed without holding the lock: other queries are not blocked meanwhile.
        let result = Arc::new(compute());
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|(k, _)| k != key);
            let erased: Arc<dyn Any + Send + Sync> = Arc::clone(&result) as _;
            entries.push_front((key.to_string(), erased));
            entries.truncate(Self::CAPACITY);
        }
        result
    }
}

impl crate::catalog::index::Keyed for StoredEntity {
    fn search_keys(&self) -> &SearchKeys {
        &self.keys
    }
}

impl StoredEntity {
    /// The entity parsed (for projections and pages that read fields).
    pub fn value(&self) -> Value {
        serde_json::from_str(self.json.get()).unwrap_or(Value::Null)
    }
}

impl Snapshot {
    /// The entity with canonical ref `entity_ref` (case-insensitive).
    pub fn get(&self, entity_ref: &str) -> Option<&StoredEntity> {
        self.by_ref
            .get(&entity_ref.to_lowercase())
            .map(|&i| &self.entities[i])
    }

    /// The entity with `metadata.uid` = `uid`.
    pub fn get_by_uid(&self, uid: &str) -> Option<&StoredEntity> {
        self.by_uid.get(uid).map(|&i| &self.entities[i])
    }

    /// Whether an entity with this canonical ref exists.
    pub fn contains(&self, entity_ref: &str) -> bool {
        self.by_ref.contains_key(&entity_ref.to_lowercase())
    }
}

/// A snapshot of `entities`, as if all were read from one file (for unit tests).
#[cfg(test)]
pub(crate) fn snapshot_of(entities: Vec<Value>) -> Snapshot {
    let entities = entities
        .into_iter()
        .map(|entity| crate::catalog::SourcedEntity {
            entity,
            location: "file:/x.yaml".into(),
            origin_location: "file:/x.yaml".into(),
        })
        .collect();
    build(
        IngestResult {
            entities,
            problems: Vec::new(),
            files: Vec::new(),
            sources: Vec::new(),
        },
        Vec::new(),
    )
}

/// Builds a snapshot from an ingestion result.
pub fn build(ingest: IngestResult, locations: Vec<LocationEntry>) -> Snapshot {
    let mut errors = ingest.problems;
    // Which entity produced each source (as Backstage's refresh_state_references record it),
    // and the source that entity must have been read from: a Location a file declares under a
    // ref it does not get (a conflict, an invalid entity) produces nothing.
    let producers: HashMap<&str, (String, &str)> = ingest
        .sources
        .iter()
        .map(|r| {
            let producer = match (&r.parent, &r.parent_entity) {
                (Some(parent), Some(entity)) => (entity.to_lowercase(), parent.as_str()),
                (None, Some(entity)) => (entity.to_lowercase(), r.location.as_str()),
                (Some(parent), None) => (generated_location_ref(parent), parent.as_str()),
                (None, None) => (generated_location_ref(&r.location), r.location.as_str()),
            };
            (r.location.as_str(), producer)
        })
        .collect();
    // Canonical ref → the source it was accepted from; child → (producer, producer's source).
    let mut accepted_from: HashMap<String, String> = HashMap::new();
    let mut claimed: Vec<(String, String, String)> = Vec::new();
    let mut accepted: Vec<(String, EntityRef, Value)> = Vec::with_capacity(ingest.entities.len());
    let mut index: HashMap<String, usize> = HashMap::with_capacity(ingest.entities.len());
    for sourced in ingest.entities {
        let mut entity = sourced.entity;
        let field_errors = validate_entity(&entity);
        let parsed = entity_ref_of(&entity);
        if !field_errors.is_empty() {
            let entity_ref = parsed.as_ref().map(EntityRef::canonical);
            errors.extend(field_errors.into_iter().map(|fe| Problem {
                location: sourced.location.clone(),
                entity_ref: entity_ref.clone(),
                field: (!fe.field.is_empty()).then_some(fe.field),
                reason: fe.reason,
            }));
            continue;
        }
        let Some(parts) = parsed else {
            errors.push(Problem {
                location: sourced.location.clone(),
                entity_ref: None,
                field: None,
                reason: "entity has no kind or metadata.name".into(),
            });
            continue;
        };
        let canonical = parts.canonical();
        if let Some(&first) = index.get(&canonical) {
            let first_location = accepted[first]
                .2
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(MANAGED_BY_LOCATION))
                .and_then(Value::as_str)
                .unwrap_or("another location")
                .to_string();
            errors.push(Problem {
                location: sourced.location.clone(),
                entity_ref: Some(canonical),
                field: None,
                reason: format!("conflicting entity ref: already provided by {first_location}; the first one is kept"),
            });
            continue;
        }
        accepted_from.insert(canonical.clone(), sourced.location.clone());
        if canonical != generated_location_ref(&sourced.location) {
            if let Some((producer, from)) = producers.get(sourced.location.as_str()) {
                if *producer != canonical {
                    claimed.push((canonical.clone(), producer.clone(), from.to_string()));
                }
            }
        }
        for key in script_urls::sanitize(&mut entity) {
            tracing::warn!(entity = %canonical, annotation = key, "link annotation with a non-http(s) URL rejected");
        }
        sort_relation_fields(&mut entity);
        stamp(
            &mut entity,
            &parts,
            &sourced.location,
            &sourced.origin_location,
        );
        index.insert(canonical.clone(), accepted.len());
        accepted.push((canonical, parts, entity));
    }

    let parents: HashMap<String, String> = claimed
        .into_iter()
        .filter(|(_, producer, from)| accepted_from.get(producer) == Some(from))
        .map(|(child, producer, _)| (child, producer))
        .collect();
    accepted.sort_by(|a, b| a.0.cmp(&b.0));
    let relations = {
        let refs: Vec<&Value> = accepted.iter().map(|(_, _, e)| e).collect();
        derive_all(&refs)
    };
    let by_ref: HashMap<String, usize> = accepted
        .iter()
        .enumerate()
        .map(|(i, (r, _, _))| (r.clone(), i))
        .collect();
    let mut warnings = Vec::new();
    let mut entities = Vec::with_capacity(accepted.len());
    let mut by_uid = HashMap::with_capacity(accepted.len());
    for ((canonical, parts, mut entity), rels) in accepted.into_iter().zip(relations) {
        for rel in &rels {
            if !by_ref.contains_key(&rel.target_ref) {
                warnings.push(Problem {
                    location: managed_by(&entity),
                    entity_ref: Some(canonical.clone()),
                    field: None,
                    reason: format!(
                        "relation {} points at {}, which is not in the catalog",
                        rel.relation_type, rel.target_ref
                    ),
                });
            }
        }
        if let Some(obj) = entity.as_object_mut() {
            obj.insert(
                "relations".into(),
                serde_json::to_value(&rels).unwrap_or(Value::Array(Vec::new())),
            );
        }
        set_etag(&mut entity);
        let keys = SearchKeys::new(&entity);
        if let Some(uid) = entity.pointer("/metadata/uid").and_then(Value::as_str) {
            by_uid.insert(uid.to_string(), entities.len());
        }
        entities.push(StoredEntity {
            json: serde_json::value::to_raw_value(&entity)
                .unwrap_or_else(|_| serde_json::value::RawValue::NULL.to_owned()),
            title: entity
                .pointer("/metadata/title")
                .and_then(Value::as_str)
                .map(str::to_string),
            entity_ref: canonical,
            parts,
            keys,
        });
    }
    for problem in errors.iter_mut().chain(warnings.iter_mut()) {
        problem.location = redact_text(&problem.location);
        problem.reason = redact_text(&problem.reason);
    }
    Snapshot {
        entities,
        by_ref,
        by_uid,
        errors,
        warnings,
        locations,
        files: ingest.files,
        query_cache: QueryCache::default(),
        filter_index: Default::default(),
        parents,
        search_text: Default::default(),
    }
}

/// Credentials in URLs never reach a stored entity: the managed-by annotations and a Location's
/// `spec.target` / `spec.targets` are shown redacted (the reader already used the real URLs).
fn redact_location_urls(entity: &mut Value) {
    let redact = |v: &mut Value| {
        if let Value::String(s) = v {
            *s = redact_text(s);
        }
    };
    if let Some(a) = entity
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        for key in [
            MANAGED_BY_LOCATION,
            MANAGED_BY_ORIGIN_LOCATION,
            crate::catalog::scm::VIEW_URL,
            crate::catalog::scm::EDIT_URL,
            crate::catalog::scm::SOURCE_LOCATION,
        ] {
            if let Some(v) = a.get_mut(key) {
                redact(v);
            }
        }
    }
    if entity.get("kind").and_then(Value::as_str) == Some("Location") {
        if let Some(spec) = entity.get_mut("spec").and_then(Value::as_object_mut) {
            if let Some(v) = spec.get_mut("target") {
                redact(v);
            }
            if let Some(Value::Array(items)) = spec.get_mut("targets") {
                items.iter_mut().for_each(redact);
            }
        }
    }
}

fn managed_by(entity: &Value) -> String {
    entity
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(MANAGED_BY_LOCATION))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Adds what Backstage's stored entities carry: default namespace, managed-by annotations,
/// and a stable uid (derived from the ref, so it survives restarts); the etag is set once the
/// relations are in ([`set_etag`]).
fn stamp(entity: &mut Value, parts: &EntityRef, location: &str, origin: &str) {
    let Some(metadata) = entity.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    metadata
        .entry("namespace")
        .or_insert_with(|| json!(parts.namespace));
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(a) = annotations.as_object_mut() {
        a.entry(MANAGED_BY_LOCATION)
            .or_insert_with(|| json!(location));
        a.entry(MANAGED_BY_ORIGIN_LOCATION)
            .or_insert_with(|| json!(origin));
        if let Some(file_url) = location.strip_prefix("url:") {
            for (key, value) in crate::catalog::scm::location_annotations(file_url) {
                a.entry(key).or_insert_with(|| json!(value));
            }
        }
    }
    redact_location_urls(entity);
    let Some(metadata) = entity.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    metadata.remove("etag");
    metadata.insert("uid".into(), json!(uuid_from(&parts.canonical())));
}

/// The uid an entity read from a file gets once stored (derived from its ref), if it has one.
pub fn uid_of(entity: &Value) -> Option<String> {
    entity_ref_of(entity).map(|parts| uuid_from(&parts.canonical()))
}

/// Sets `metadata.etag` as Backstage's stitcher does (catalog-backend 4.0.5,
/// `dist/database/operations/stitcher/performStitching.cjs.js` 112-121): the SHA-1 of the final
/// entity (relations and `metadata.uid` included, which Backstage's processed entity carries)
/// without `etag`, serialised with sorted keys (`fast-json-stable-stringify`). Backstage's uids
/// are random, so the values differ between the two; the differential harness checks the formula.
fn set_etag(entity: &mut Value) {
    let Some(metadata) = entity.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    metadata.remove("etag");
    let mut text = String::new();
    stable_stringify(entity, &mut text);
    if let Some(metadata) = entity.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.insert("etag".into(), json!(sha1_hex(text.as_bytes())));
    }
}

/// JSON text with every object's keys in JavaScript's default sort order (UTF-16 code units),
/// no whitespace: `fast-json-stable-stringify` for values parsed from JSON or YAML. Strings and
/// numbers are written by serde_json, which escapes as `JSON.stringify` does.
pub fn stable_stringify(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                stable_stringify(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                stable_stringify(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn sha1_hex(bytes: &[u8]) -> String {
    sha1_smol::Sha1::from(bytes).digest().to_string()
}

/// A UUID-formatted (version 5 style) id derived from `seed`.
pub fn uuid_from(seed: &str) -> String {
    let d = sha1_smol::Sha1::from(seed.as_bytes()).digest().bytes();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The current snapshot, swapped atomically on reload.
#[derive(Debug, Default)]
pub struct CatalogStore {
    current: RwLock<Arc<Snapshot>>,
}

impl CatalogStore {
    /// A store serving `snapshot`.
    pub fn new(snapshot: Snapshot) -> Self {
        Self {
            current: RwLock::new(Arc::new(snapshot)),
        }
    }

    /// The current snapshot; holding it keeps it alive even if a reload replaces it.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.current.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Replaces the snapshot.
    pub fn replace(&self, snapshot: Snapshot) {
        let new = Arc::new(snapshot);
        match self.current.write() {
            Ok(mut guard) => *guard = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
    }
}

/// The `spec` fields Backstage sorts before storing an entity, whatever its kind.
const SORTED_SPEC_FIELDS: [&str; 7] = [
    "providesApis",
    "consumesApis",
    "dependsOn",
    "dependencyOf",
    "memberOf",
    "children",
    "members",
];

/// Sorts the relation fields of `spec` as Backstage stores them: catalog-backend 4.0.5
/// (`dist/processors/BuiltinKindsEntityProcessor.cjs.js` 30-45, `preProcessEntity`) sorts each
/// of [`SORTED_SPEC_FIELDS`] that is an array of strings only, with JavaScript's default sort
/// (UTF-16 code units), keeping duplicates; other arrays keep the file's order.
pub fn sort_relation_fields(entity: &mut Value) {
    let Some(spec) = entity.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    for field in SORTED_SPEC_FIELDS {
        if let Some(Value::Array(items)) = spec.get_mut(field) {
            if items.iter().all(Value::is_string) {
                items.sort_by(|a, b| {
                    let (a, b) = (
                        a.as_str().unwrap_or_default(),
                        b.as_str().unwrap_or_default(),
                    );
                    a.encode_utf16().cmp(b.encode_utf16())
                });
            }
        }
    }
}

#[cfg(test)]
mod tests;
