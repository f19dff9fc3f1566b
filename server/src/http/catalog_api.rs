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
    routing::{any, get, post},
    Json, Router,
};
use serde_json::{json, Value};

use super::catalog_params::{self as declared, Params};
pub(super) use super::catalog_request::{json_body, json_response, Req};
pub use super::error::ApiError;
use crate::catalog::query::{parse_fields, parse_filters, parse_order};
use crate::catalog::service::{self, Cursor, DEFAULT_QUERY_LIMIT};
use crate::catalog::store::CatalogStore;
use crate::permission::conditions::Resource;
use crate::permission::{
    Access, Decision, Permissions, CATALOG_ENTITY_READ, CATALOG_LOCATION_READ,
};

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

/// The `/api/catalog` routes (mergeable into a router of any state), read-only.
pub fn routes<S: Clone + Send + Sync + 'static>(
    store: Arc<CatalogStore>,
    tokens: Arc<Vec<crate::settings::StaticToken>>,
    permissions: Arc<Permissions>,
) -> Router<S> {
    routes_with(store, None, tokens, permissions)
}

/// The `/api/catalog` routes, with the writes ([`super::catalog_write`]) when `writes` is given.
pub fn routes_with<S: Clone + Send + Sync + 'static>(
    store: Arc<CatalogStore>,
    writes: Option<super::catalog_write::CatalogWrites>,
    tokens: Arc<Vec<crate::settings::StaticToken>>,
    permissions: Arc<Permissions>,
) -> Router<S> {
    let writes = writes.map_or_else(Router::new, super::catalog_write::routes);
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
        .route(
            "/api/catalog/locations/by-entity/{kind}/{namespace}/{name}",
            get(location_by_entity),
        )
        .route("/api/catalog/validate-entity", post(validate_entity))
        .with_state(store)
        .merge(writes)
        // Backstage answers any other path under the plugin, and a method a route does not
        // have, with a bare 404 (no body, no content type: `res.status(404).end()`).
        .route("/api/catalog", any(not_found))
        .route("/api/catalog/", any(not_found))
        .route("/api/catalog/{*rest}", any(not_found))
        .method_not_allowed_fallback(not_found)
        .route_layer(axum::middleware::from_fn_with_state(
            tokens,
            super::auth::require_static_token,
        ))
        .layer(axum::Extension(permissions))
}

async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}

async fn list_entities(
    State(store): State<Arc<CatalogStore>>,
    access: Access,
    method: Method,
    uri: OriginalUri,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let req = Req { method, uri };
    let params = req.params(q.as_deref(), declared::ENTITIES)?;
    let filter = parse_filters(&params.all("filter")).map_err(|e| req.query(e))?;
    let fields = parse_fields(&params.all("fields")).map_err(|e| req.query(e))?;
    let order = parse_order(&params.all("order")).map_err(|e| req.query(e))?;
    let offset = params.integer("offset").map_err(|m| req.input(m))?;
    let limit = params.integer("limit").map_err(|m| req.input(m))?;
    let after = params.one("after");
    // Backstage's parseEntityPaginationParams and parsePagination
    // (`dist/request/parseEntityPaginationParams.cjs.js`, `DefaultEntitiesCatalog.cjs.js` 17-45).
    let paging = if offset.is_none() && limit.is_none() && after.is_none() {
        service::ListPaging::Unpaged
    } else {
        if limit == Some(0) {
            return Err(req.input("Invalid limit, must be greater than zero"));
        }
        let (mut offset, mut limit) = (offset, limit);
        if let Some(after) = &after {
            let cursor = service::decode_after(after).map_err(|m| req.input(m))?;
            offset = cursor.offset.or(offset);
            limit = cursor.limit.or(limit);
            // Backstage answers `[]` and links to the same page again, forever.
            if limit == Some(0) {
                return Err(req.input("Invalid limit, must be greater than zero"));
            }
        }
        service::ListPaging::Paged {
            offset: offset.unwrap_or(0),
            limit,
        }
    };
    let snapshot = store.snapshot();
    let scope = access.decide(&CATALOG_ENTITY_READ);
    let (items, more) =
        service::list_entities(&snapshot, &scope, filter.as_ref(), &order, &fields, paging);
    let mut response = json_response(&items);
    if let (
        true,
        service::ListPaging::Paged {
            offset,
            limit: Some(limit),
        },
    ) = (more, paging)
    {
        let link = next_link(&req, &params, &service::encode_after(limit, offset + limit));
        if let Ok(value) = axum::http::HeaderValue::from_str(&link) {
            response
                .headers_mut()
                .insert(axum::http::header::LINK, value);
        }
    }
    Ok(response)
}

/// Backstage's `Link: <…>; rel="next"` for a paged `GET /entities` (`createRouter.cjs.js`
/// 103-107): the request's relative URL without `offset`, with `after` set in place (or
/// appended), serialised as `URLSearchParams` does.
fn next_link(req: &Req, params: &Params, after: &str) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    let mut set = false;
    for (key, value) in params.pairs() {
        match key.as_str() {
            "offset" => {}
            "after" if set => {}
            "after" => {
                out.append_pair("after", after);
                set = true;
            }
            _ => {
                out.append_pair(key, value);
            }
        }
    }
    if !set {
        out.append_pair("after", after);
    }
    let path = req.url();
    let path = path.split('?').next().unwrap_or_default();
    format!("<{path}?{}>; rel=\"next\"", out.finish())
}

/// A GET by-query's cursor (`request/parseQueryEntitiesParams.cjs.js`): with `cursor`, only it
/// (and `fields`, `limit`) count; otherwise the filter, order and full-text parameters.
fn cursor_from_params(req: &Req, params: &Params) -> Result<Cursor, ApiError> {
    if let Some(c) = params.one("cursor") {
        return Cursor::decode(&c).map_err(|e| req.input(e.to_string()));
    }
    let text_fields = params.all("fullTextFilterFields");
    Ok(Cursor {
        filter: params.all("filter"),
        order_fields: params.all("orderField"),
        full_text_term: params.one("fullTextFilterTerm"),
        full_text_fields: (!text_fields.is_empty()).then(|| split_fields(&text_fields)),
        offset: params
            .integer("offset")
            .map_err(|m| req.input(m))?
            .unwrap_or(0),
        initial: true,
        ..Cursor::default()
    })
}

/// `a,b` parameters as one list, trimmed, empties dropped.
fn split_fields(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|f| f.split(','))
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
        .collect()
}

/// A POST by-query's body (`request/parseEntityQuery.cjs.js`; schema in
/// `schema/openapi/generated/router.cjs.js`): `{cursor?, limit?, offset?, orderBy?: [{field,
/// order}], fullTextFilter?: {term?, fields?}, fields?, totalItems?, query?}`; other keys are
/// ignored, as Backstage ignores them.
struct QueryBody {
    cursor: Cursor,
    limit: Option<usize>,
    fields: Vec<String>,
}

/// A body member that must be an array of strings, refused as Backstage's validator words it.
fn body_strings(req: &Req, key: &str, value: &Value) -> Result<Vec<String>, ApiError> {
    let Value::Array(items) = value else {
        return Err(req.input(format!("request/body/{key} must be array")));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| req.input(format!("request/body/{key}/{i} must be string")))
        })
        .collect()
}

fn query_body(req: &Req, body: &Value) -> Result<QueryBody, ApiError> {
    let Value::Object(body) = body else {
        return Err(req.input("request/body must be object"));
    };
    let string_list = |key: &str, value: &Value| body_strings(req, key, value);
    let number = |key: &str| -> Result<Option<usize>, ApiError> {
        match body.get(key) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(n) if n >= 0.0 => Ok(Some(n as usize)),
                Some(_) => Err(req.input(format!("request/body/{key} must be >= 0"))),
                None => Err(req.input(format!("request/body/{key} must be number"))),
            },
        }
    };
    let limit = number("limit")?;
    let offset = number("offset")?;
    let fields = match body.get("fields") {
        None => Vec::new(),
        Some(v) => string_list("fields", v)?,
    };
    let fields = parse_fields(&fields).map_err(|e| req.query(e))?;
    if let Some(c) = body.get("cursor") {
        let Some(c) = c.as_str() else {
            return Err(req.input("request/body/cursor must be string"));
        };
        if c.is_empty() {
            return Err(req.input("Cursor cannot be empty"));
        }
        let cursor = Cursor::decode(c).map_err(|e| req.input(e.to_string()))?;
        return Ok(QueryBody {
            cursor,
            limit,
            fields,
        });
    }
    let mut order_fields = Vec::new();
    if let Some(order_by) = body.get("orderBy") {
        let Value::Array(items) = order_by else {
            return Err(req.input("request/body/orderBy must be array"));
        };
        for (i, item) in items.iter().enumerate() {
            let at = format!("request/body/orderBy/{i}");
            let Value::Object(o) = item else {
                return Err(req.input(format!("{at} must be object")));
            };
            let Some(field) = o.get("field") else {
                return Err(req.input(format!("{at} must have required property 'field'")));
            };
            let Some(order) = o.get("order") else {
                return Err(req.input(format!("{at} must have required property 'order'")));
            };
            let (Some(field), Some(order @ ("asc" | "desc"))) = (field.as_str(), order.as_str())
            else {
                return Err(req.input(format!(
                    "{at}/order must be equal to one of the allowed values: asc, desc"
                )));
            };
            order_fields.push(format!("{field},{order}"));
        }
    }
    let (mut term, mut text_fields) = (None, None);
    if let Some(full_text) = body.get("fullTextFilter") {
        let Value::Object(f) = full_text else {
            return Err(req.input("request/body/fullTextFilter must be object"));
        };
        term = match f.get("term") {
            None => None,
            Some(Value::String(t)) => Some(t.clone()),
            Some(_) => return Err(req.input("request/body/fullTextFilter/term must be string")),
        };
        if let Some(v) = f.get("fields") {
            text_fields = Some(split_fields(&string_list("fullTextFilter/fields", v)?));
        }
    }
    let query = match body.get("query") {
        None => None,
        Some(q @ Value::Object(_)) => {
            crate::catalog::query::parse_predicate(q).map_err(|m| req.input(m))?;
            Some(q.clone())
        }
        Some(_) => return Err(req.input("request/body/query must be object")),
    };
    Ok(QueryBody {
        cursor: Cursor {
            order_fields,
            full_text_term: term,
            full_text_fields: text_fields,
            query,
            offset: offset.unwrap_or(0),
            initial: true,
            ..Cursor::default()
        },
        limit,
        fields,
    })
}

fn run_query(
    store: &CatalogStore,
    access: &Access,
    req: &Req,
    cursor: &Cursor,
    limit: Option<usize>,
    fields: &[String],
) -> Result<Response, ApiError> {
    let snapshot = store.snapshot();
    let page = service::query_entities(
        &snapshot,
        &access.decide(&CATALOG_ENTITY_READ),
        cursor,
        limit.unwrap_or(DEFAULT_QUERY_LIMIT),
        fields,
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
    let params = req.params(q.as_deref(), declared::BY_QUERY)?;
    let cursor = cursor_from_params(&req, &params)?;
    let limit = params.integer("limit").map_err(|m| req.input(m))?;
    let fields = parse_fields(&params.all("fields")).map_err(|e| req.query(e))?;
    run_query(&store, &access, &req, &cursor, limit, &fields)
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
    req.params(q.as_deref(), declared::NONE)?;
    let body = query_body(&req, &json_body(&req, &body)?)?;
    run_query(
        &store,
        &access,
        &req,
        &body.cursor,
        body.limit,
        &body.fields,
    )
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
    let params = req.params(q.as_deref(), declared::BY_REFS)?;
    let body = json_body(&req, &body)?;
    // The request schema (`{entityRefs: string[], fields?: string[], query?: object}`), checked
    // as Backstage's validator reports it: the first problem only.
    let Value::Object(body) = body else {
        return Err(req.input("request/body must be object"));
    };
    let Some(refs) = body.get("entityRefs") else {
        return Err(req.input("request/body must have required property 'entityRefs'"));
    };
    let refs = body_strings(&req, "entityRefs", refs)?;
    let field_params = match body.get("fields") {
        None => Vec::new(),
        Some(v) => body_strings(&req, "fields", v)?,
    };
    let predicate = match body.get("query") {
        None => None,
        Some(q @ Value::Object(_)) => {
            Some(crate::catalog::query::parse_predicate(q).map_err(|m| req.input(m))?)
        }
        Some(_) => return Err(req.input("request/body/query must be object")),
    };
    let filter = parse_filters(&params.all("filter")).map_err(|e| req.query(e))?;
    let fields = parse_fields(&field_params).map_err(|e| req.query(e))?;
    let snapshot = store.snapshot();
    let scope = access.decide(&CATALOG_ENTITY_READ);
    let items = service::entities_by_refs(
        &snapshot,
        &scope,
        &refs,
        filter.as_ref(),
        predicate.as_ref(),
        &fields,
    );
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
    RawQuery(q): RawQuery,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let req = Req { method, uri };
    req.params(q.as_deref(), declared::NONE)?;
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
    RawQuery(q): RawQuery,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let req = Req { method, uri };
    req.params(q.as_deref(), declared::NONE)?;
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
        // A parent the reader may not read is not named (Backstage names it).
        let parent = parent.filter(|p| scope.permits(Resource::Entity(&p.keys)));
        let parent_refs: Vec<&str> = parent.iter().map(|p| p.entity_ref.as_str()).collect();
        items.push(json!({ "entity": &*e.json, "parentEntityRefs": parent_refs }));
        current = parent.filter(|p| !seen.contains(p.entity_ref.as_str()));
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
    RawQuery(q): RawQuery,
    Path(uid): Path<String>,
) -> Result<Response, ApiError> {
    let req = Req { method, uri };
    req.params(q.as_deref(), declared::NONE)?;
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
    let params = req.params(q.as_deref(), declared::FACETS)?;
    if !params.has("facet") {
        return Err(req.input("request/query must have required property 'facet'"));
    }
    // Facets as given (each answered under its own spelling, once), empties dropped.
    let mut facets: Vec<String> = Vec::new();
    for f in params.all("facet") {
        if !f.is_empty() && !facets.contains(&f) {
            facets.push(f);
        }
    }
    if facets.is_empty() {
        return Err(req.input("Missing facet parameter"));
    }
    // Greenroom limits (each facet is counted over every matching entity).
    let max = crate::catalog::query::MAX_FILTERS;
    if facets.len() > max {
        return Err(req.input(format!(
            "Invalid facet, {} facets were given; at most {max} are allowed",
            facets.len()
        )));
    }
    for facet in &facets {
        crate::catalog::query::check_field_name("facet", facet).map_err(|e| req.query(e))?;
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
    let entity_ref = crate::catalog::location::generated_location_ref(&format!(
        "{}:{}",
        l.location_type, l.target
    ));
    json!({ "id": l.id, "type": l.location_type, "target": l.target, "entityRef": entity_ref })
}

/// 403 unless the viewer may read locations (`catalog.location.read`).
fn locations_allowed(access: &Access, req: &Req) -> Result<(), ApiError> {
    if access.decide(&CATALOG_LOCATION_READ) == Decision::Deny {
        return Err(req.error(
            StatusCode::FORBIDDEN,
            "NotAllowedError",
            "You don't have access to the catalog's locations (permission catalog.location.read)",
        ));
    }
    Ok(())
}

/// `GET /locations`: the registered locations, as Backstage lists its `locations` table
/// (`dist/providers/DefaultLocationStore.cjs.js` 76-85): `catalog.locations` of app-config are
/// not among them (observed: a config-only Backstage catalog answers `[]`).
async fn locations(
    State(store): State<Arc<CatalogStore>>,
    access: Access,
    method: Method,
    uri: OriginalUri,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let req = Req { method, uri };
    req.params(q.as_deref(), declared::NONE)?;
    locations_allowed(&access, &req)?;
    let snapshot = store.snapshot();
    Ok(Json(Value::Array(
        snapshot
            .locations
            .iter()
            .filter(|l| l.registered)
            .map(|l| json!({ "data": location_json(l) }))
            .collect(),
    )))
}

async fn location(
    State(store): State<Arc<CatalogStore>>,
    access: Access,
    method: Method,
    uri: OriginalUri,
    RawQuery(q): RawQuery,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let req = Req { method, uri };
    req.params(q.as_deref(), declared::NONE)?;
    locations_allowed(&access, &req)?;
    let snapshot = store.snapshot();
    match snapshot
        .locations
        .iter()
        .find(|l| l.registered && l.id == id)
    {
        Some(l) => Ok(Json(location_json(l))),
        None => Err(req.not_found(format!("Found no location with ID {id}"))),
    }
}

/// `GET /locations/by-entity/:kind/:namespace/:name`: the registered location an entity came
/// from (`DefaultLocationStore.cjs.js` 197-223), with Backstage's three 404s: no such entity, no
/// origin annotation, no registered location with that origin (always the case for entities
/// read through app-config's `catalog.locations`).
async fn location_by_entity(
    State(store): State<Arc<CatalogStore>>,
    access: Access,
    method: Method,
    uri: OriginalUri,
    RawQuery(q): RawQuery,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let req = Req { method, uri };
    req.params(q.as_deref(), declared::NONE)?;
    locations_allowed(&access, &req)?;
    let snapshot = store.snapshot();
    let entity_ref = format!("{kind}:{namespace}/{name}").to_lowercase();
    let scope = access.decide(&CATALOG_ENTITY_READ);
    let Some(entity) = readable(&snapshot, &scope, &entity_ref) else {
        return Err(req.not_found(format!("found no entity for ref {entity_ref}")));
    };
    let origin = entity
        .value()
        .pointer("/metadata/annotations/backstage.io~1managed-by-origin-location")
        .and_then(Value::as_str)
        .map(str::to_string);
    let Some(origin) = origin else {
        return Err(req.not_found(format!("found no origin annotation for ref {entity_ref}")));
    };
    let (location_type, target) = origin.split_once(':').unwrap_or(("", origin.as_str()));
    match snapshot
        .locations
        .iter()
        .find(|l| l.registered && l.location_type == location_type && l.target == target)
    {
        Some(l) => Ok(Json(location_json(l))),
        None => Err(req.not_found(format!(
            "Found no location with type {location_type} and target {target}"
        ))),
    }
}

async fn validate_entity(
    method: Method,
    uri: OriginalUri,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req = Req { method, uri };
    req.params(q.as_deref(), declared::NONE)?;
    let body = json_body(&req, &body)?;
    // The request schema (`{entity: object, location: string}`, both required, `location`
    // first), as Backstage's validator reports it: the first problem, in the error envelope.
    let Value::Object(body) = body else {
        return Err(req.input("request/body must be object"));
    };
    let Some(location) = body.get("location") else {
        return Err(req.input("request/body must have required property 'location'"));
    };
    let Some(entity) = body.get("entity") else {
        return Err(req.input("request/body must have required property 'entity'"));
    };
    let Value::Object(_) = entity else {
        return Err(req.input("request/body/entity must be object"));
    };
    let Some(location) = location.as_str() else {
        return Err(req.input("request/body/location must be string"));
    };
    // Backstage's stages and messages (catalog::validate::verdict); a valid entity is a 200
    // with an empty body. A Location's targets are not read (Backstage fetches them here: an
    // outbound request on behalf of any caller; see the README's deliberate deviations).
    match crate::catalog::validate::validate_for_api(entity, location) {
        None => Ok(StatusCode::OK.into_response()),
        Some(errors) => {
            Ok((StatusCode::BAD_REQUEST, Json(json!({ "errors": errors }))).into_response())
        }
    }
}
