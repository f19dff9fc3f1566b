//! The catalog API's writes, with Backstage's paths, bodies, status codes and errors
//! (`@backstage/plugin-catalog-backend` 4.0.5, `dist/service/createRouter.cjs.js`,
//! `DefaultLocationService.cjs.js`, `DefaultLocationStore.cjs.js`):
//!
//! - `POST /locations` (`?dryRun=true`): register a `url` location (201
//!   `{location, entities: []}`), or read it without registering (201 `{exists, location,
//!   entities}`), 409 when registered already;
//! - `DELETE /locations/:id` (204): unregister; its entities go with it;
//! - `POST /refresh` (`{entityRef}`, 200): process again;
//! - `DELETE /entities/by-uid/:uid` (204): remove an entity until it is read again;
//! - `POST /analyze-location`: what registering a URL would bring.
//!
//! Who may call: the permissions Backstage checks (`catalog.location.create`,
//! `catalog.location.delete`, `catalog.entity.refresh`, `catalog.entity.delete`), behind the
//! same sign-in gate and static tokens as the reads. What they can make the server read: only
//! `http(s)` URLs, through the catalog's URL reader (`backend.reading.allow`, address rules,
//! size and time limits), never a local file; URLs with credentials in them are refused (they
//! would be listed back to every reader of `/locations`). How much work: one reload per burst
//! of changes (reload requests coalesce), at most [`MAX_REGISTERED`] locations.
//!
//! Greenroom answers a write once the catalog shows it (Backstage answers first and processes
//! within seconds); the JSON is the same.

use std::sync::Arc;
use std::time::Duration;

use axum::{
    body::Bytes,
    extract::{OriginalUri, Path, RawQuery, State},
    http::{header, HeaderMap, Method, StatusCode},
    response::{IntoResponse, Response},
    routing::{delete, post},
    Router,
};
use serde_json::{json, Map, Value};

use super::catalog_params as declared;
use super::catalog_request::{json_body, json_response, Req};
pub use super::error::ApiError;
use crate::catalog::config::CatalogConfig;
use crate::catalog::location::{generated_location_ref, UrlReader};
use crate::catalog::registry::{RegisterError, Registry, MAX_REGISTERED};
use crate::catalog::store::{CatalogStore, Snapshot};
use crate::db::DbError;
use crate::permission::conditions::Resource;
use crate::permission::{
    Access, Decision, CATALOG_ENTITY_DELETE, CATALOG_ENTITY_REFRESH, CATALOG_LOCATION_ANALYZE,
    CATALOG_LOCATION_CREATE, CATALOG_LOCATION_DELETE,
};

/// How long a write waits for the catalog to show it before answering anyway.
const RELOAD_WAIT: Duration = Duration::from_secs(30);

/// What the writes need.
#[derive(Clone)]
pub struct CatalogWrites {
    /// The catalog being served.
    pub store: Arc<CatalogStore>,
    /// Registered locations and reload requests.
    pub registry: Arc<Registry>,
    /// Reads `url` targets (for dry runs and analysis).
    pub url_reader: Arc<dyn UrlReader>,
    /// `catalog.rules` (a dry run applies them as registration would).
    pub config: Arc<CatalogConfig>,
}

/// The write routes (merged into the catalog API's router, which adds the gate and the
/// permission service).
pub fn routes<S: Clone + Send + Sync + 'static>(writes: CatalogWrites) -> Router<S> {
    Router::new()
        .route("/api/catalog/locations", post(create_location))
        .route("/api/catalog/locations/{id}", delete(delete_location))
        .route("/api/catalog/refresh", post(refresh))
        .route("/api/catalog/entities/by-uid/{uid}", delete(delete_entity))
        .route("/api/catalog/analyze-location", post(analyze_location))
        .with_state(writes)
}

/// Backstage's answer to a denied write: 403 with an empty message.
fn forbidden(req: &Req) -> ApiError {
    req.error(StatusCode::FORBIDDEN, "NotAllowedError", "")
}

fn server_error(req: &Req, e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "catalog write failed");
    req.error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Error",
        "The catalog's database could not be updated; see the server log",
    )
}

/// A body the route requires, as Backstage's OpenAPI validator takes it: JSON only (400
/// `unsupported media type …` otherwise), an object.
fn required_json(req: &Req, headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let essence = content_type.as_deref().map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    match essence.as_deref() {
        Some("application/json") => {}
        Some(e) if e.ends_with("+json") => {}
        _ => {
            return Err(req.input(format!(
                "unsupported media type {}",
                content_type
                    .as_deref()
                    .map_or_else(|| "undefined".to_string(), media_type)
            )))
        }
    }
    let value = json_body(req, body)?;
    if !value.is_object() {
        return Err(req.input("request/body must be object"));
    }
    Ok(value)
}

/// The JSON object body of a route that declares no query parameters.
fn object_body(
    req: &Req,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Map<String, Value>, ApiError> {
    req.params(query, declared::NONE)?;
    let body = required_json(req, headers, body)?;
    Ok(body.as_object().cloned().unwrap_or_default())
}

/// A Content-Type as Backstage's validator prints it: the type lower-cased, each parameter
/// after `"; "`, a charset lower-cased (`text/plain;charset=UTF-8` → `text/plain; charset=utf-8`).
fn media_type(header: &str) -> String {
    let mut parts = header.split(';').map(str::trim).filter(|p| !p.is_empty());
    let mut out = parts.next().unwrap_or_default().to_ascii_lowercase();
    for param in parts {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        let name = name.trim().to_ascii_lowercase();
        let value = if name == "charset" {
            value.trim().to_ascii_lowercase()
        } else {
            value.trim().to_string()
        };
        out.push_str(&format!("; {name}={value}"));
    }
    out
}

/// A `LocationInput` object at `at`: `target` then `type` required, strings (the OpenAPI
/// checks, in its order), then zod's `strict()` check of the keys when `strict`.
fn location_fields(
    req: &Req,
    object: &Map<String, Value>,
    at: &str,
) -> Result<(String, String), ApiError> {
    for field in ["target", "type"] {
        match object.get(field) {
            None => return Err(req.input(format!("{at} must have required property '{field}'"))),
            Some(Value::String(_)) => {}
            Some(_) => return Err(req.input(format!("{at}/{field} must be string"))),
        }
    }
    let text = |f: &str| {
        object
            .get(f)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Ok((text("type"), text("target")))
}

/// zod's message for keys `locationInput` does not know (`.strict()`).
fn unrecognized_keys(keys: &[&String]) -> String {
    let listed = keys
        .iter()
        .map(|k| format!("      {}", Value::String((*k).clone())))
        .collect::<Vec<_>>()
        .join(",\n");
    let quoted = keys
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "Malformed request: [\n  {{\n    \"code\": \"unrecognized_keys\",\n    \"keys\": [\n{listed}\n    ],\n    \"path\": [],\n    \"message\": \"Unrecognized key(s) in object: {quoted}\"\n  }}\n]"
    )
}

/// Greenroom's checks on a URL it is asked to read or register (Backstage accepts any string
/// and fails later, when reading it): an absolute http(s) URL, without credentials (it is
/// listed back to every reader of `/locations`), of sane length.
pub fn check_target(target: &str) -> Result<(), String> {
    if target.len() > 2048 {
        return Err("Location target is longer than 2048 characters".into());
    }
    let shown = crate::catalog::redact::redact_text(target);
    let url = url::Url::parse(target)
        .map_err(|e| format!("Location target '{shown}' is not an absolute URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "Location target '{shown}' must be an http or https URL"
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "Location target must not carry credentials; give the host's token in the integration config instead"
                .into(),
        );
    }
    Ok(())
}

fn location_json(id: &str, location_type: &str, target: &str) -> Value {
    let spec = format!("{location_type}:{target}");
    json!({ "id": id, "type": location_type, "target": target, "entityRef": generated_location_ref(&spec) })
}

/// Waits for a reload that sees the change just made.
pub async fn reload(registry: &Registry) {
    let generation = registry.request_reload();
    if !registry.reloaded(generation, RELOAD_WAIT).await {
        tracing::warn!("the catalog reload after a write is taking long; answering before it");
    }
}

/// `yn` (Backstage's parser of `dryRun`): yes/true/1/on/y, any case, is true; anything else
/// false.
fn yn(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "y" | "yes" | "true" | "1" | "on"
    )
}

async fn create_location(
    State(w): State<CatalogWrites>,
    access: Access,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req = Req { method, uri };
    let params = req.params(q.as_deref(), declared::CREATE_LOCATION)?;
    let on_conflict = params.one("onConflict");
    if let Some(v) = &on_conflict {
        if v != "refresh" && v != "reject" {
            return Err(req.input(
                "request/query/onConflict must be equal to one of the allowed values: refresh, reject",
            ));
        }
    }
    let body = required_json(&req, &headers, &body)?;
    let object = body.as_object().cloned().unwrap_or_default();
    let (location_type, target) = location_fields(&req, &object, "request/body")?;
    let unknown: Vec<&String> = object
        .keys()
        .filter(|k| !matches!(k.as_str(), "type" | "target" | "presence"))
        .collect();
    if !unknown.is_empty() {
        return Err(req.input(unrecognized_keys(&unknown)));
    }
    let presence = match object.get("presence") {
        None => None,
        Some(Value::String(p)) if p == "required" || p == "optional" => Some(p.clone()),
        Some(_) => {
            return Err(req.input("Malformed request: presence must be 'required' or 'optional'"))
        }
    };
    if access.decide(&CATALOG_LOCATION_CREATE) != Decision::Allow {
        return Err(forbidden(&req));
    }
    if location_type != "url" {
        return Err(req.input(r#"Registered locations must be of an allowed type ["url"]"#));
    }
    check_target(&target).map_err(|why| req.input(why))?;
    if params.one("dryRun").is_some_and(|v| yn(&v)) {
        let entities = preview(&w, &target).await.map_err(|m| req.input(m))?;
        let exists = w
            .registry
            .locations()
            .iter()
            .any(|l| l.location_type == location_type && l.target == target);
        let spec = format!("{location_type}:{target}");
        let mut location = Map::new();
        location.insert("type".into(), json!(location_type));
        location.insert("target".into(), json!(target));
        if let Some(p) = presence {
            location.insert("presence".into(), json!(p));
        }
        location.insert("id".into(), json!(spec));
        location.insert("entityRef".into(), json!(generated_location_ref(&spec)));
        return Ok((
            StatusCode::CREATED,
            json_response(&json!({
                "exists": exists,
                "location": location,
                "entities": entities,
            })),
        )
            .into_response());
    }
    let location = match w.registry.register(&target).await {
        Ok(l) => l,
        Err(RegisterError::Db(DbError::Conflict(t, target))) => {
            let existing = (on_conflict.as_deref() == Some("refresh"))
                .then(|| {
                    w.registry
                        .locations()
                        .into_iter()
                        .find(|l| l.location_type == t && l.target == target)
                })
                .flatten();
            match existing {
                Some(l) => l,
                None => {
                    return Err(req.error(
                        StatusCode::CONFLICT,
                        "ConflictError",
                        format!("Location {t}:{target} already exists"),
                    ))
                }
            }
        }
        Err(RegisterError::Full) => {
            return Err(req.input(format!(
                "{MAX_REGISTERED} locations are registered already; unregister some first"
            )))
        }
        Err(RegisterError::Db(e)) => return Err(server_error(&req, e)),
    };
    reload(&w.registry).await;
    Ok((
        StatusCode::CREATED,
        json_response(&json!({
            "location": location_json(&location.id, &location.location_type, &location.target),
            "entities": [],
        })),
    )
        .into_response())
}

/// The entities registering `target` would bring, as Backstage's dry run lists them:
/// processed (namespace and location annotations set; no uid, etag or relations), the
/// generated Location first and then depth-first with the last-read child first (Backstage
/// works through a stack). The first problem met is the error, in Backstage's form
/// (`<ErrorName>: <message>`).
async fn preview(w: &CatalogWrites, target: &str) -> Result<Vec<Value>, String> {
    let root = generated_location_ref(&format!("url:{target}"));
    let (snapshot, order) = read_location_in_order(w, target)
        .await
        .map_err(|e| format!("Error: {e}"))?;
    let position: std::collections::HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, r)| (r.as_str(), i))
        .collect();
    if let Some(problem) = snapshot.errors.first() {
        return Err(backstage_error(&problem.reason));
    }
    // Depth-first from the generated Location, children pushed in read order, popped last first.
    let mut children: std::collections::HashMap<&str, Vec<usize>> = Default::default();
    for (i, e) in snapshot.entities.iter().enumerate() {
        if let Some(parent) = snapshot.parents.get(&e.entity_ref) {
            children.entry(parent.as_str()).or_default().push(i);
        }
    }
    for list in children.values_mut() {
        list.sort_by_key(|&i| {
            position
                .get(snapshot.entities[i].entity_ref.as_str())
                .copied()
                .unwrap_or(usize::MAX)
        });
    }
    let mut out = Vec::with_capacity(snapshot.entities.len());
    let mut stack: Vec<usize> = snapshot
        .entities
        .iter()
        .position(|e| e.entity_ref == root)
        .into_iter()
        .collect();
    while let Some(i) = stack.pop() {
        let e = &snapshot.entities[i];
        let mut v = e.value();
        if let Some(o) = v.as_object_mut() {
            o.remove("relations");
            if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("uid");
                m.remove("etag");
            }
        }
        out.push(v);
        if out.len() > snapshot.entities.len() {
            break;
        }
        stack.extend(children.get(e.entity_ref.as_str()).into_iter().flatten());
    }
    Ok(out)
}

/// The catalog as registering `target` alone would make it (read now, through the catalog's URL
/// reader and rules; nothing is stored).
pub async fn read_location(w: &CatalogWrites, target: &str) -> Result<Snapshot, String> {
    read_location_in_order(w, target).await.map(|(s, _)| s)
}

/// [`read_location`], with the refs of the entities in the order they were read.
async fn read_location_in_order(
    w: &CatalogWrites,
    target: &str,
) -> Result<(Snapshot, Vec<String>), String> {
    let (config, reader, target) = (
        Arc::clone(&w.config),
        Arc::clone(&w.url_reader),
        target.to_string(),
    );
    tokio::task::spawn_blocking(move || {
        let config = CatalogConfig {
            locations: Vec::new(),
            rules: config.rules.clone(),
        };
        let extra = crate::catalog::registry::Extra {
            locations: vec![crate::db::StoredLocation {
                id: String::new(),
                location_type: "url".into(),
                target,
            }],
            hidden_uids: Default::default(),
        };
        let (snapshot, read) =
            crate::catalog::reload::load_with(&config, &extra, reader.as_ref(), None);
        (snapshot, read.url_read_order())
    })
    .await
    .map_err(|e| format!("reading the location failed: {e}"))
}

/// A read problem in the words Backstage's dry run uses.
fn backstage_error(reason: &str) -> String {
    if let Some(rest) = reason.strip_prefix("Unable to read url ") {
        let url = rest.split(", ").next().unwrap_or(rest);
        if reason.contains("HTTP 404") || reason.contains("HTTP 410") {
            return format!("NotFoundError: Unable to read url, no matching files found for {url}");
        }
        return format!("Error: Unable to read url, {rest}");
    }
    format!("Error: {reason}")
}

async fn delete_location(
    State(w): State<CatalogWrites>,
    access: Access,
    method: Method,
    uri: OriginalUri,
    RawQuery(q): RawQuery,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let req = Req { method, uri };
    req.params(q.as_deref(), declared::NONE)?;
    if access.decide(&CATALOG_LOCATION_DELETE) != Decision::Allow {
        return Err(forbidden(&req));
    }
    match w.registry.unregister(&id).await {
        Ok(Some(_)) => {
            reload(&w.registry).await;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Ok(None) => Err(req.not_found(format!("Found no location with ID {id}"))),
        Err(e) => Err(server_error(&req, e)),
    }
}

async fn refresh(
    State(w): State<CatalogWrites>,
    access: Access,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req = Req { method, uri };
    let object = object_body(&req, q.as_deref(), &headers, &body)?;
    let entity_ref = match object.get("entityRef") {
        Some(Value::String(s)) => s.to_lowercase(),
        Some(_) => return Err(req.input("request/body/entityRef must be string")),
        None => return Err(req.input("request/body must have required property 'entityRef'")),
    };
    if object
        .keys()
        .any(|k| k != "entityRef" && k != "authorizationToken")
    {
        return Err(req.input("request/body must NOT have additional properties"));
    }
    // Backstage looks the ref up as sent, lowercased (not parsed: `nope` is "Entity nope not
    // found"). A conditional decision is evaluated on the entity (Backstage refuses it).
    let decision = access.decide(&CATALOG_ENTITY_REFRESH);
    if decision == Decision::Deny {
        return Err(forbidden(&req));
    }
    let snapshot = w.store.snapshot();
    let entity = snapshot
        .get(&entity_ref)
        .filter(|e| e.entity_ref == entity_ref);
    if let Decision::Conditional(_) = decision {
        if !entity.is_some_and(|e| decision.permits(Resource::Entity(&e.keys))) {
            return Err(forbidden(&req));
        }
    }
    if entity.is_none() {
        return Err(req.not_found(format!("Entity {entity_ref} not found")));
    }
    drop(snapshot);
    // Everything is read again, so entities deleted by uid come back if still listed (as
    // Backstage's refresh of their parent brings them back).
    w.registry.unhide_all();
    w.registry.want_fresh();
    reload(&w.registry).await;
    Ok(StatusCode::OK.into_response())
}

async fn delete_entity(
    State(w): State<CatalogWrites>,
    access: Access,
    method: Method,
    uri: OriginalUri,
    RawQuery(q): RawQuery,
    Path(uid): Path<String>,
) -> Result<Response, ApiError> {
    let req = Req { method, uri };
    req.params(q.as_deref(), declared::NONE)?;
    let decision = access.decide(&CATALOG_ENTITY_DELETE);
    if decision == Decision::Deny {
        return Err(forbidden(&req));
    }
    let snapshot = w.store.snapshot();
    let entity = snapshot.get_by_uid(&uid);
    if let Decision::Conditional(_) = decision {
        if !entity.is_some_and(|e| decision.permits(Resource::Entity(&e.keys))) {
            return Err(forbidden(&req));
        }
    }
    // Backstage answers 204 for a uid it does not know, too.
    let known = entity.is_some();
    drop(snapshot);
    if known {
        w.registry.hide(&uid);
        reload(&w.registry).await;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /analyze-location`, as the stock catalog backend answers it (no SCM analyzer module
/// installed): nothing is fetched; it proposes a Component named after the repository the URL
/// points into (`git-url-parse`'s name), with a `<host>/project-slug` annotation on GitHub,
/// GitLab and Azure DevOps. What a file would bring is the dry run's job (`POST
/// /locations?dryRun=true`), which the register page uses.
async fn analyze_location(
    access: Access,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req = Req { method, uri };
    let object = object_body(&req, q.as_deref(), &headers, &body)?;
    let location = match object.get("location") {
        None => return Err(req.input("request/body must have required property 'location'")),
        Some(Value::Object(o)) => o.clone(),
        Some(_) => return Err(req.input("request/body/location must be object")),
    };
    let (_, target) = location_fields(&req, &location, "request/body/location")?;
    if location.keys().any(|k| k != "type" && k != "target") {
        return Err(req.input("request/body/location must NOT have additional properties"));
    }
    if object
        .get("catalogFilename")
        .is_some_and(|v| !v.is_string())
    {
        return Err(req.input("Malformed request: catalogFilename must be a string"));
    }
    if access.decide(&CATALOG_LOCATION_ANALYZE) != Decision::Allow {
        return Err(forbidden(&req));
    }
    let Some((host, name, slug)) = repository_of(&target) else {
        return Err(req.input("The given location.target is not a URL"));
    };
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(name));
    if let Some(prefix) = match host.as_str() {
        "github.com" => Some("github.com"),
        "gitlab.com" => Some("gitlab.com"),
        "dev.azure.com" => Some("dev.azure.com"),
        _ => None,
    } {
        metadata.insert(
            "annotations".into(),
            json!({ format!("{prefix}/project-slug"): slug }),
        );
    }
    Ok(json_response(&json!({
        "existingEntityFiles": [],
        "generateEntities": [{
            "entity": {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Component",
                "metadata": metadata,
                "spec": { "type": "other", "lifecycle": "unknown" },
            },
            "fields": [],
        }],
    })))
}

/// Host, repository name and `owner/name` slug of a URL, as `git-url-parse` reads the common
/// forms (GitHub and Bitbucket `owner/repo/...`, GitLab groups up to `/-/`, Azure DevOps
/// `org/project/_git/repo`, anything else: the last path segment and the one before it).
fn repository_of(target: &str) -> Option<(String, String, String)> {
    let url = url::Url::parse(target).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let strip = |s: &str| s.strip_suffix(".git").unwrap_or(s).to_string();
    let (owner, name) = match host.as_str() {
        "github.com" | "bitbucket.org" => match segments.as_slice() {
            [] => (String::new(), String::new()),
            [one] => (String::new(), strip(one)),
            [owner, repo, ..] => (owner.to_string(), strip(repo)),
        },
        "gitlab.com" => {
            let end = segments
                .iter()
                .position(|s| *s == "-")
                .unwrap_or(segments.len());
            match &segments[..end] {
                [] => (String::new(), String::new()),
                [.., last] => (segments[..end - 1].join("/"), strip(last)),
            }
        }
        "dev.azure.com" => match segments.as_slice() {
            [_, project, "_git", repo, ..] => (project.to_string(), strip(repo)),
            _ => (
                String::new(),
                segments.last().map(|s| strip(s)).unwrap_or_default(),
            ),
        },
        _ => match segments.as_slice() {
            [] => (String::new(), String::new()),
            [one] => (String::new(), strip(one)),
            [.., owner, last] => (owner.to_string(), strip(last)),
        },
    };
    let slug = format!("{owner}/{name}");
    Some((host, name, slug))
}

/// The catalog file a URL names: the URL itself when it names a YAML file, else `filename` in
/// the folder it names (Backstage's catalog-import with `catalog.import.entityFilename`).
pub fn catalog_file_url(url: &str, filename: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    if path.ends_with(".yaml") || path.ends_with(".yml") {
        return url.to_string();
    }
    crate::catalog::location::join_url(&format!("{}/", url.trim_end_matches('/')), filename)
        .unwrap_or_else(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_follow_git_url_parse() {
        let name = |u: &str| repository_of(u).map(|(h, n, s)| (h, n, s));
        assert_eq!(
            name("https://github.com/acme/my-repo/blob/main/catalog-info.yaml"),
            Some(("github.com".into(), "my-repo".into(), "acme/my-repo".into()))
        );
        assert_eq!(
            name("https://gitlab.com/acme/sub/my-repo/-/blob/main/x.yaml").map(|t| t.2),
            Some("acme/sub/my-repo".into())
        );
        assert_eq!(
            name("https://dev.azure.com/org/proj/_git/repo").map(|t| t.2),
            Some("proj/repo".into())
        );
        assert_eq!(
            name("http://127.0.0.1:7219/repo/catalog-info.yaml").map(|t| t.1),
            Some("catalog-info.yaml".into())
        );
        assert_eq!(
            name("http://127.0.0.1:7219/").map(|t| t.1),
            Some(String::new())
        );
        assert_eq!(name("not a url"), None);
    }

    #[test]
    fn media_types_as_backstage_prints_them() {
        assert_eq!(
            media_type("text/plain;charset=UTF-8"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(media_type("Text/HTML"), "text/html");
    }

    #[test]
    fn dry_run_is_yn() {
        for t in ["true", "YES", " y ", "1", "on"] {
            assert!(yn(t), "{t}");
        }
        for f in ["false", "maybe", "", "0", "off"] {
            assert!(!yn(f), "{f}");
        }
    }

    #[test]
    fn unknown_keys_in_zods_words() {
        let extra = "extra".to_string();
        assert_eq!(
            unrecognized_keys(&[&extra]),
            "Malformed request: [\n  {\n    \"code\": \"unrecognized_keys\",\n    \"keys\": [\n      \"extra\"\n    ],\n    \"path\": [],\n    \"message\": \"Unrecognized key(s) in object: 'extra'\"\n  }\n]"
        );
    }

    #[test]
    fn targets_are_checked_and_folders_get_the_file_name() {
        assert!(check_target("https://git.example/a/catalog-info.yaml").is_ok());
        assert!(check_target("file:///etc/passwd").is_err());
        assert!(check_target("x").is_err());
        let with_credentials = check_target("https://user:token@git.example/a.yaml").unwrap_err();
        assert!(
            with_credentials.contains("credentials"),
            "{with_credentials}"
        );
        assert!(!with_credentials.contains("token@"), "{with_credentials}");
        assert_eq!(
            catalog_file_url("https://git.example/repo", "catalog-info.yaml"),
            "https://git.example/repo/catalog-info.yaml"
        );
        assert_eq!(
            catalog_file_url("https://git.example/repo/", "other.yaml"),
            "https://git.example/repo/other.yaml"
        );
        assert_eq!(
            catalog_file_url(
                "https://git.example/repo/c.yml?ref=main",
                "catalog-info.yaml"
            ),
            "https://git.example/repo/c.yml?ref=main"
        );
    }

    #[test]
    fn read_failures_in_backstages_words() {
        assert_eq!(
            backstage_error(
                "Unable to read url http://h/x.yaml, HTTP 404 Not Found from http://h/x.yaml"
            ),
            "NotFoundError: Unable to read url, no matching files found for http://h/x.yaml"
        );
        assert!(backstage_error(
            "Unable to read url http://h/x.yaml, cannot connect to h:80: refused"
        )
        .starts_with("Error: Unable to read url, "));
    }
}
