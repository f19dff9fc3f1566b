//! Backstage's catalog REST API under `/api/catalog`, with Backstage's paths, parameters, JSON
//! shapes and error format, so `@backstage/catalog-client`, scripts and the Terraform provider
//! work unchanged. Handlers parse and shape only; the queries are `catalog::service` functions,
//! the same ones the UI's server functions use.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{OriginalUri, Path, RawQuery, State},
    http::{Method, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};

pub use super::error::ApiError;
use crate::catalog::query::{parse_fields, parse_filters, parse_order, QueryError};
use crate::catalog::service::{self, Cursor, DEFAULT_QUERY_LIMIT};
use crate::catalog::store::CatalogStore;
use crate::permission::conditions::Resource;
use crate::permission::{
    Access, Decision, Permissions, CATALOG_ENTITY_READ, CATALOG_LOCATION_READ,
};

/// A 200 response whose body is already JSON text.
/// `value` as a JSON response; stored entities ([`service::Item`]) are written as they are.
fn json_response<T: serde::Serialize + ?Sized>(value: &T) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(value).unwrap_or_default(),
    )
        .into_response()
}

/// `/entities/by-query`'s body.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct QueryResponse<'a> {
    items: &'a [service::Item<'a>],
    total_items: usize,
    page_info: Value,
}

/// `/entities/by-refs`' body.
#[derive(serde::Serialize)]
struct ItemsResponse<'a> {
    items: &'a [service::Item<'a>],
}

/// Query parameters in order, repeated keys kept.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: Option<String>) -> Self {
        Params(
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }
    fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }
    fn one(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }
}

/// Per-request context for error responses.
struct Req {
    method: Method,
    uri: OriginalUri,
}

impl Req {
    fn input(&self, message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "InputError",
            message,
            &self.method,
            &self.uri,
        )
    }
    fn not_found(&self, message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NotFoundError",
            message,
            &self.method,
            &self.uri,
        )
    }
    fn query(&self, e: QueryError) -> ApiError {
        self.input(e.to_string())
    }
}

fn number(req: &Req, params: &Params, key: &str) -> Result<Option<usize>, ApiError> {
    match params.one(key) {
        None => Ok(None),
        Some(v) => v.trim().parse::<usize>().map(Some).map_err(|_| {
            req.input(format!(
                "Invalid {key} query, must be a non-negative integer"
            ))
        }),
    }
}

/// The `/api/catalog` routes (mergeable into a router of any state).
pub fn routes<S: Clone + Send + Sync + 'static>(
    store: Arc<CatalogStore>,
    tokens: Arc<Vec<crate::settings::StaticToken>>,
    permissions: Arc<Permissions>,
) -> Router<S> {
    Router::new()
        .route("/api/catalog/entities", get(list_entities))
        .route(
            "/api/catalog/entities/by-query",
            get(query_get).post(query_post),
        )
        .route("/api/catalog/entities/by-refs", post(by_refs))
        .route(
            "/api/catalog/entities/by-name/{kind}/{namespace}/{name}",
            get(by_name),
        )
        .route(
            "/api/catalog/entities/by-name/{kind}/{namespace}/{name}/ancestry",
            get(ancestry),
        )
        .route("/api/catalog/entities/by-uid/{uid}", get(by_uid))
        .route("/api/catalog/entity-facets", get(entity_facets))
        .route("/api/catalog/locations", get(locations))
        .route("/api/catalog/locations/{id}", get(location))
        .route("/api/catalog/validate-entity", post(validate_entity))
        .route_layer(axum::middleware::from_fn_with_state(
            tokens,
            super::auth::require_static_token,
        ))
        .layer(axum::Extension(permissions))
        .with_state(store)
}

async fn list_entities(
    State(store): State<Arc<CatalogStore>>,
    access: Access,
    method: Method,
    uri: OriginalUri,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let req = Req { method, uri };
    let params = Params::parse(q);
    let filter = parse_filters(&params.all("filter")).map_err(|e| req.query(e))?;
    let fields = parse_fields(&params.all("fields")).map_err(|e| req.query(e))?;
    let order = parse_order(&params.all("order")).map_err(|e| req.query(e))?;
    let offset = number(&req, &params, "offset")?.unwrap_or(0);
    let limit = number(&req, &params, "limit")?;
    let snapshot = store.snapshot();
    let scope = access.decide(&CATALOG_ENTITY_READ);
    let items = service::list_entities(
        &snapshot,
        &scope,
        filter.as_ref(),
        &order,
        &fields,
        offset,
        limit,
    );
    Ok(json_response(&items))
}

fn cursor_from(req: &Req, params: &Params, body: &Value) -> Result<Cursor, ApiError> {
    let body_str = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(c) = params.one("cursor").or_else(|| body_str("cursor")) {
        return Cursor::decode(&c).map_err(|e| req.input(e.to_string()));
    }
    let list = |k: &str| -> Vec<String> {
        let mut v = params.all(k);
        match body.get(k) {
            Some(Value::String(s)) => v.push(s.clone()),
            Some(Value::Array(a)) => {
                v.extend(a.iter().filter_map(Value::as_str).map(str::to_string))
            }
            _ => {}
        }
        v
    };
    let text_fields = list("fullTextFilterFields");
    Ok(Cursor {
        filter: list("filter"),
        order_fields: list("orderField"),
        full_text_term: params
            .one("fullTextFilterTerm")
            .or_else(|| body_str("fullTextFilterTerm")),
        full_text_fields: (!text_fields.is_empty()).then(|| {
            text_fields
                .iter()
                .flat_map(|f| f.split(','))
                .map(|f| f.trim().to_string())
                .filter(|f| !f.is_empty())
                .collect()
        }),
        offset: params
            .one("offset")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0),
    })
}

/// `fields` from the query string and, for POST bodies, a `fields` array.
fn fields_from(req: &Req, params: &Params, body: &Value) -> Result<Vec<String>, ApiError> {
    let mut field_params = params.all("fields");
    if let Some(Value::Array(a)) = body.get("fields") {
        field_params.extend(a.iter().filter_map(Value::as_str).map(str::to_string));
    }
    parse_fields(&field_params).map_err(|e| req.query(e))
}

fn run_query(
    store: &CatalogStore,
    access: &Access,
    req: &Req,
    params: &Params,
    body: &Value,
) -> Result<Response, ApiError> {
    let cursor = cursor_from(req, params, body)?;
    let limit = match number(req, params, "limit")? {
        Some(l) => l,
        None => body
            .get("limit")
            .and_then(Value::as_u64)
            .map_or(DEFAULT_QUERY_LIMIT, |l| l as usize),
    };
    let fields = fields_from(req, params, body)?;
    let snapshot = store.snapshot();
    let page = service::query_entities(
        &snapshot,
        &access.decide(&CATALOG_ENTITY_READ),
        &cursor,
        limit,
        &fields,
    )
    .map_err(|e| req.query(e))?;
    let mut page_info = serde_json::Map::new();
    if let Some(c) = page.next_cursor {
        page_info.insert("nextCursor".into(), json!(c));
    }
    if let Some(c) = page.prev_cursor {
        page_info.insert("prevCursor".into(), json!(c));
    }
    Ok(json_response(&QueryResponse {
        items: &page.items,
        total_items: page.total_items,
        page_info: Value::Object(page_info),
    }))
}

async fn query_get(
    State(store): State<Arc<CatalogStore>>,
    access: Access,
    method: Method,
    uri: OriginalUri,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let req = Req { method, uri };
    run_query(&store, &access, &req, &Params::parse(q), &Value::Null)
}

fn json_body(req: &Req, body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| req.input(format!("Malformed JSON request body: {e}")))
}

async fn query_post(
    State(store): State<Arc<CatalogStore>>,
    access: Access,
    method: Method,
    uri: OriginalUri,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req = Req { method, uri };
    let body = json_body(&req, &body)?;
    run_query(&store, &access, &req, &Params::parse(q), &body)
}

async fn by_refs(
    State(store): State<Arc<CatalogStore>>,
    access: Access,
    method: Method,
    uri: OriginalUri,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req = Req { method, uri };
    let params = Params::parse(q);
    let body = json_body(&req, &body)?;
    let Some(refs) = body.get("entityRefs").and_then(Value::as_array) else {
        return Err(req.input("Malformed request body: entityRefs must be an array of strings"));
    };
    let refs: Vec<String> = refs
        .iter()
        .map(|r| r.as_str().unwrap_or_default().to_string())
        .collect();
    let filter = parse_filters(&params.all("filter")).map_err(|e| req.query(e))?;
    let fields = fields_from(&req, &params, &body)?;
    let snapshot = store.snapshot();
    let scope = access.decide(&CATALOG_ENTITY_READ);
    let items = service::entities_by_refs(&snapshot, &scope, &refs, filter.as_ref(), &fields);
    Ok(json_response(&ItemsResponse { items: &items }))
}

/// The entity with this ref, if the reader may see it.
fn readable<'a>(
    snapshot: &'a crate::catalog::store::Snapshot,
    scope: &crate::permission::Decision,
    entity_ref: &str,
) -> Option<&'a crate::catalog::store::StoredEntity> {
    snapshot
        .get(entity_ref)
        .filter(|e| scope.permits(Resource::Entity(&e.keys)))
}

async fn by_name(
    State(store): State<Arc<CatalogStore>>,
    access: Access,
    method: Method,
    uri: OriginalUri,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let req = Req { method, uri };
    let snapshot = store.snapshot();
    let scope = access.decide(&CATALOG_ENTITY_READ);
    // An entity the reader may not see is not found, as in Backstage.
    match readable(&snapshot, &scope, &format!("{kind}:{namespace}/{name}")) {
        Some(e) => Ok(json_response(&e.json)),
        None => Err(req.not_found(format!(
            "No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'"
        ))),
    }
}

/// `GET /entities/by-name/:kind/:namespace/:name/ancestry`: the entity and the chain of
/// entities that produced it (the Location entities whose targets it was read from, up to the
/// generated root Location), as Backstage answers it (catalog-backend 4.0.5,
/// `dist/service/DefaultEntitiesCatalog.cjs.js` 481-520 and `AuthorizedEntitiesCatalog.cjs.js`
/// 160-205): `{rootEntityRef, items: [{entity, parentEntityRefs}]}`, the entity first; 404
/// `No such entity <ref>`, also when the entity may not be read (Backstage: 403); ancestors the
/// reader may not read are left out.
async fn ancestry(
    State(store): State<Arc<CatalogStore>>,
    access: Access,
    method: Method,
    uri: OriginalUri,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let req = Req { method, uri };
    let snapshot = store.snapshot();
    let scope = access.decide(&CATALOG_ENTITY_READ);
    let root_ref = format!("{kind}:{namespace}/{name}").to_lowercase();
    // An entity the reader may not see is not found (as by-name answers it; Backstage answers
    // 403 here, which tells that the entity exists).
    let Some(root) = readable(&snapshot, &scope, &root_ref) else {
        return Err(req.not_found(format!("No such entity {root_ref}")));
    };
    let mut items: Vec<Value> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut current = Some(root);
    while let Some(e) = current.take() {
        seen.insert(e.entity_ref.as_str());
        let parent = snapshot
            .parents
            .get(&e.entity_ref)
            .and_then(|p| snapshot.get(p));
        let parent_refs: Vec<&str> = parent.iter().map(|p| p.entity_ref.as_str()).collect();
        items.push(json!({ "entity": &*e.json, "parentEntityRefs": parent_refs }));
        current = parent.filter(|p| {
            !seen.contains(p.entity_ref.as_str()) && scope.permits(Resource::Entity(&p.keys))
        });
    }
    Ok(json_response(
        &json!({ "rootEntityRef": root_ref, "items": items }),
    ))
}

async fn by_uid(
    State(store): State<Arc<CatalogStore>>,
    access: Access,
    method: Method,
    uri: OriginalUri,
    Path(uid): Path<String>,
) -> Result<Response, ApiError> {
    let req = Req { method, uri };
    let snapshot = store.snapshot();
    let scope = access.decide(&CATALOG_ENTITY_READ);
    match snapshot
        .get_by_uid(&uid)
        .filter(|e| scope.permits(Resource::Entity(&e.keys)))
    {
        Some(e) => Ok(json_response(&e.json)),
        None => Err(req.not_found(format!("No entity with uid {uid}"))),
    }
}

async fn entity_facets(
    State(store): State<Arc<CatalogStore>>,
    access: Access,
    method: Method,
    uri: OriginalUri,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let req = Req { method, uri };
    let params = Params::parse(q);
    let facets = params.all("facet");
    if facets.is_empty() {
        return Err(req.input("Missing facet parameter"));
    }
    let filter = parse_filters(&params.all("filter")).map_err(|e| req.query(e))?;
    let snapshot = store.snapshot();
    let scope = access.decide(&CATALOG_ENTITY_READ);
    Ok(Json(service::facets(
        &snapshot,
        &scope,
        &facets,
        filter.as_ref(),
    )))
}

fn location_json(l: &crate::catalog::store::LocationEntry) -> Value {
    json!({ "id": l.id, "type": l.location_type, "target": l.target })
}

/// 403 unless the viewer may read locations (`catalog.location.read`).
fn locations_allowed(access: &Access, req: &Req) -> Result<(), ApiError> {
    if access.decide(&CATALOG_LOCATION_READ) == Decision::Deny {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "NotAllowedError",
            "You don't have access to the catalog's locations (permission catalog.location.read)",
            &req.method,
            &req.uri,
        ));
    }
    Ok(())
}

async fn locations(
    State(store): State<Arc<CatalogStore>>,
    access: Access,
    method: Method,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    locations_allowed(&access, &Req { method, uri })?;
    let snapshot = store.snapshot();
    Ok(Json(Value::Array(
        snapshot
            .locations
            .iter()
            .map(|l| json!({ "data": location_json(l) }))
            .collect(),
    )))
}

async fn location(
    State(store): State<Arc<CatalogStore>>,
    access: Access,
    method: Method,
    uri: OriginalUri,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let req = Req { method, uri };
    locations_allowed(&access, &req)?;
    let snapshot = store.snapshot();
    match snapshot.locations.iter().find(|l| l.id == id) {
        Some(l) => Ok(Json(location_json(l))),
        None => Err(req.not_found(format!("Found no location with ID {id}"))),
    }
}

async fn validate_entity(
    method: Method,
    uri: OriginalUri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req = Req { method, uri };
    let body = json_body(&req, &body)?;
    let (Some(entity), Some(location)) = (
        body.get("entity"),
        body.get("location").and_then(Value::as_str),
    ) else {
        return Err(
            req.input("Malformed request body: expected {entity: object, location: string}")
        );
    };
    // Backstage (catalog-backend 4.0.5, dist/service/createRouter.cjs.js 676-744): the
    // envelope, then the location ref, which must be `url:` (a TypeError), then processing,
    // where an entity no processor recognises (an unknown kind) is an InputError. Every failure
    // is a 400 with `{errors: [{name, message}]}`.
    let invalid = |name: &str, messages: Vec<String>| {
        let errors: Vec<Value> = messages
            .into_iter()
            .map(|m| json!({ "name": name, "message": m }))
            .collect();
        Ok((StatusCode::BAD_REQUEST, Json(json!({ "errors": errors }))).into_response())
    };
    let errors = service::validate(entity);
    let envelope_ok = errors.iter().all(|e| e.starts_with("spec"));
    if envelope_ok {
        match crate::catalog::script_urls::parse_location_ref(location) {
            Err(message) => return invalid("TypeError", vec![message]),
            Ok((kind, _)) if kind != "url" => {
                return invalid(
                    "TypeError",
                    vec![format!("Invalid location ref {location}, only 'url:<target>' is supported, e.g. url:https://host/path")],
                )
            }
            Ok(_) => {}
        }
        let kind = entity["kind"].as_str().unwrap_or_default();
        if !crate::catalog::validate::is_modelled_kind(kind) {
            let namespace = entity["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default");
            let name = entity["metadata"]["name"].as_str().unwrap_or_default();
            return invalid(
                "InputError",
                vec![format!(
                    "No processor recognized the entity {}:{}/{} as valid, possibly caused by a foreign kind or apiVersion",
                    kind.to_lowercase(),
                    namespace.to_lowercase(),
                    name.to_lowercase()
                )],
            );
        }
    }
    if errors.is_empty() {
        Ok(StatusCode::OK.into_response())
    } else {
        invalid("InputError", errors)
    }
}
