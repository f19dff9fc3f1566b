//! The catalog REST API through the real router, on the bundled example catalog: Backstage's
//! paths, parameters, JSON shapes and error format.

use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

use super::{app, block_on};

async fn call(method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value, String) {
    let mut req = Request::builder().method(method).uri(path);
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let res = app()
        .oneshot(req.body(body).expect("request"))
        .await
        .expect("infallible");
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 50 << 20)
        .await
        .expect("body");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    )
}

/// A GET, with the response headers.
async fn call_with_headers(method: &str, path: &str) -> (StatusCode, Value, axum::http::HeaderMap) {
    let req = Request::builder().method(method).uri(path);
    let res = app()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 50 << 20).await.expect("body");
    (
        parts.status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        parts.headers,
    )
}

fn names(items: &Value) -> Vec<String> {
    let mut v: Vec<String> = items
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["metadata"]["name"].as_str().expect("name").to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn entities_is_a_bare_array_of_stitched_entities() {
    block_on(async {
        let (status, body, _) = call("GET", "/api/catalog/entities", None).await;
        assert_eq!(status, StatusCode::OK);
        let all = body.as_array().expect("bare array");
        assert_eq!(
            all.len(),
            53,
            "52 bundled entities + the generated root Location"
        );
        for e in all {
            let m = &e["metadata"];
            assert!(m["uid"].is_string() && m["etag"].is_string(), "{e}");
            assert_eq!(m["namespace"], "default");
            assert!(m["annotations"]["backstage.io/managed-by-location"]
                .as_str()
                .expect("annotation")
                .starts_with("file:/"));
            assert!(e["relations"].is_array());
        }
        let checkout = all
            .iter()
            .find(|e| e["metadata"]["name"] == "checkout-service")
            .expect("checkout-service");
        let rels = checkout["relations"].as_array().expect("relations");
        assert!(
            rels.contains(&json!({"type": "ownedBy", "targetRef": "group:default/payments"})),
            "{rels:?}"
        );
        let generated = all
            .iter()
            .filter(|e| {
                e["kind"] == "Location"
                    && e["metadata"]["name"]
                        .as_str()
                        .unwrap_or("")
                        .starts_with("generated-")
            })
            .count();
        assert_eq!(generated, 1);
    })
}

#[test]
fn filters_and_within_a_param_or_across_params_case_insensitively() {
    block_on(async {
        let (_, body, _) = call(
            "GET",
            "/api/catalog/entities?filter=KIND=component,spec.type=JOB",
            None,
        )
        .await;
        assert_eq!(names(&body), ["order-events-etl", "warehouse-backfill"]);
        let (_, body, _) = call(
            "GET",
            "/api/catalog/entities?filter=kind=domain&filter=kind=system",
            None,
        )
        .await;
        assert_eq!(body.as_array().map(Vec::len), Some(3 + 5));
        let (_, body, _) = call(
            "GET",
            "/api/catalog/entities?filter=metadata.annotations.backstage.io/kubernetes-id=checkout-service",
            None,
        )
        .await;
        assert_eq!(names(&body), ["checkout-service"]);
        let (_, body, _) = call("GET", "/api/catalog/entities?filter=kind=component,metadata.annotations.backstage.io/kubernetes-label-selector", None).await;
        assert_eq!(
            names(&body),
            ["cart-service"],
            "a key without value means 'exists'"
        );
    })
}

#[test]
fn fields_offset_limit_and_order() {
    block_on(async {
        let (_, body, _) = call(
            "GET",
            "/api/catalog/entities?filter=kind=api&fields=metadata.name,kind&order=desc:metadata.name&offset=1&limit=2",
            None,
        )
        .await;
        let items = body.as_array().expect("array");
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0],
            json!({"kind": "API", "metadata": {"name": "payments-grpc"}})
        );
        assert_eq!(items[1]["metadata"]["name"], "order-events");
    })
}

#[test]
fn by_query_pages_with_cursors_over_get_then_post() {
    block_on(async {
        let (status, first, _) = call("GET", "/api/catalog/entities/by-query?filter=kind=user&limit=4&orderField=metadata.name,asc&fields=metadata.name", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(first["totalItems"], 10);
        assert!(first["pageInfo"].get("prevCursor").is_none());
        let mut seen = names(&first["items"]);
        let mut cursor = first["pageInfo"]["nextCursor"]
            .as_str()
            .expect("next")
            .to_string();
        let mut pages = 1;
        loop {
            // POST takes everything in its body (Backstage declares no query parameter there).
            let (status, page, text) = call(
                "POST",
                "/api/catalog/entities/by-query",
                Some(json!({ "cursor": cursor, "limit": 4, "fields": ["metadata.name"] })),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{text}");
            assert_eq!(page["totalItems"], 10);
            assert!(page["pageInfo"]["prevCursor"].is_string());
            seen.extend(names(&page["items"]));
            pages += 1;
            match page["pageInfo"]["nextCursor"].as_str() {
                Some(c) => cursor = c.to_string(),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        seen.sort();
        let (_, all, _) = call("GET", "/api/catalog/entities?filter=kind=user", None).await;
        assert_eq!(seen, names(&all));
    })
}

#[test]
fn by_name_by_uid_and_by_refs() {
    block_on(async {
        let (status, e, _) = call(
            "GET",
            "/api/catalog/entities/by-name/Component/default/CHECKOUT-SERVICE",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let uid = e["metadata"]["uid"].as_str().expect("uid").to_string();
        let (status, by_uid, _) =
            call("GET", &format!("/api/catalog/entities/by-uid/{uid}"), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(by_uid, e);

        let (status, err, _) = call(
            "GET",
            "/api/catalog/entities/by-name/component/default/nope",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(err["error"]["name"], "NotFoundError");
        assert_eq!(err["response"]["statusCode"], 404);
        assert_eq!(
            err["request"],
            // Relative to the plugin's mount point, as Backstage reports it.
            json!({"method": "GET", "url": "/entities/by-name/component/default/nope"})
        );

        let (status, refs, _) = call(
            "POST",
            "/api/catalog/entities/by-refs",
            Some(json!({"entityRefs": ["component:default/checkout-service", "component:default/missing"], "fields": ["metadata.name"]})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            refs,
            json!({"items": [{"metadata": {"name": "checkout-service"}}, null]})
        );
    })
}

#[test]
fn facets_locations_and_validation() {
    block_on(async {
        let (_, f, _) = call(
            "GET",
            "/api/catalog/entity-facets?facet=kind&filter=metadata.namespace=default",
            None,
        )
        .await;
        let kinds = f["facets"]["kind"].as_array().expect("facet");
        assert!(
            kinds.contains(&json!({"value": "Component", "count": 14})),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&json!({"value": "User", "count": 10})),
            "{kinds:?}"
        );

        // Only registered locations are listed (Backstage's locations table); the bundled
        // catalog's come from app-config, which Backstage does not list either.
        let (status, locations, _) = call("GET", "/api/catalog/locations", None).await;
        assert_eq!((status, locations), (StatusCode::OK, json!([])));
        let (status, by_entity, _) = call(
            "GET",
            "/api/catalog/locations/by-entity/component/default/checkout-service",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let message = by_entity["error"]["message"].as_str().expect("message");
        assert!(
            message.starts_with("Found no location with type file and target /")
                && message.ends_with("/catalog/all.yaml"),
            "{message}"
        );

        let valid = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "ok"}, "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"}});
        let (status, _, text) = call(
            "POST",
            "/api/catalog/validate-entity",
            Some(json!({"entity": valid, "location": "url:https://example.com/x.yaml"})),
        )
        .await;
        assert_eq!((status, text.as_str()), (StatusCode::OK, ""));
        // As Backstage answers (catalog-backend 4.0.5 createRouter.cjs.js 676-744): only `url:`
        // locations, and no processor for an unknown kind.
        for (location, name, message) in [
            ("file:/x.yaml", "TypeError", "Invalid location ref file:/x.yaml, only 'url:<target>' is supported, e.g. url:https://host/path"),
            ("https://x", "TypeError", "Invalid location ref 'https://x', please prefix it with 'url:', e.g. 'url:https://x'"),
        ] {
            let (status, body, _) = call(
                "POST",
                "/api/catalog/validate-entity",
                Some(json!({"entity": valid, "location": location})),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(body, json!({"errors": [{"name": name, "message": message}]}));
        }
        let foreign = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "Gadget"}, "spec": {}});
        let (status, body, _) = call(
            "POST",
            "/api/catalog/validate-entity",
            Some(json!({"entity": foreign, "location": "url:https://example.com/x.yaml"})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({"errors": [{"name": "InputError", "message": "No processor recognized the entity widget:default/gadget as valid, possibly caused by a foreign kind or apiVersion"}]})
        );
        let invalid = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "not ok"}, "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"}});
        let (status, body, _) = call(
            "POST",
            "/api/catalog/validate-entity",
            Some(json!({"entity": invalid, "location": "url:x"})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .expect("message")
                .starts_with("Policy check failed for component:default/not ok; caused by Error: \"metadata.name\" is not valid"),
            "{body}"
        );
        // The request schema comes first, in the error envelope.
        let (status, body, _) = call(
            "POST",
            "/api/catalog/validate-entity",
            Some(json!({"entity": valid})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body["error"],
            json!({"name": "InputError", "message": "request/body must have required property 'location'"})
        );
    })
}

#[test]
fn malformed_input_is_a_400_in_backstage_shape() {
    block_on(async {
        let (status, body, _) = call("GET", "/api/catalog/entities?filter==x", None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["name"], "InputError");
        assert_eq!(body["request"]["url"], "/entities?filter==x");
        let (status, body, _) = call(
            "POST",
            "/api/catalog/entities/by-query",
            Some(json!({"cursor": "garbage"})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        // Backstage's OpenAPI validation, observed with catalog-backend 4.0.5 (end2end/compat).
        for (path, message) in [
            (
                "/api/catalog/entities?limit=-1",
                "request/query/limit must be >= 0",
            ),
            (
                "/api/catalog/entities?limit=abc",
                "request/query/limit must be integer",
            ),
            (
                "/api/catalog/entities?limit=0",
                "Invalid limit, must be greater than zero",
            ),
            (
                "/api/catalog/entities?unknown=1",
                "Unknown query parameter 'unknown'",
            ),
            (
                "/api/catalog/entities?fields=",
                "Empty value found for query parameter 'fields'",
            ),
            (
                "/api/catalog/entities?after=x",
                "Malformed after cursor, could not be parsed",
            ),
            (
                "/api/catalog/entity-facets",
                "request/query must have required property 'facet'",
            ),
        ] {
            let (status, body, _) = call("GET", path, None).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
            assert_eq!(body["error"]["message"], message, "{path}");
        }
        for (refs, message) in [
            (
                json!({}),
                "request/body must have required property 'entityRefs'",
            ),
            (
                json!({"entityRefs": "x"}),
                "request/body/entityRefs must be array",
            ),
            (
                json!({"entityRefs": ["x", 1]}),
                "request/body/entityRefs/1 must be string",
            ),
        ] {
            let (status, body, _) = call("POST", "/api/catalog/entities/by-refs", Some(refs)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(body["error"]["message"], message);
        }
        // Limits and guards from the attacker's read of this API (Greenroom's, not Backstage's).
        let many_facets: String = (0..51).map(|i| format!("facet=f{i}&")).collect();
        let long = "a".repeat(201);
        for path in [
            format!("/api/catalog/entity-facets?{many_facets}"),
            format!("/api/catalog/entity-facets?facet={long}"),
            format!("/api/catalog/entities/by-query?orderField={long}"),
            format!(
                "/api/catalog/entities/by-query?fullTextFilterTerm=x&fullTextFilterFields={long}"
            ),
            "/api/catalog/entities?after=eyJsaW1pdCI6MH0%3D".to_string(), // {"limit":0}
            "/api/catalog/entities?limit=1%C3%A9".to_string(),
        ] {
            let (status, body, _) = call("GET", &path, None).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        }
        // An absolute-form request target: the error names the path only.
        let (_, body, _) = call(
            "GET",
            "http://evil.example/api/catalog/entities?limit=x",
            None,
        )
        .await;
        assert_eq!(body["request"]["url"], "/entities?limit=x");
        // Any other path or method under the plugin: a bare 404.
        for (method, path) in [
            ("GET", "/api/catalog/nope"),
            ("DELETE", "/api/catalog/entities"),
        ] {
            let (status, _, text) = call(method, path, None).await;
            assert_eq!(
                (status, text.as_str()),
                (StatusCode::NOT_FOUND, ""),
                "{method} {path}"
            );
        }
    })
}

#[test]
fn paged_entities_link_to_the_next_page_as_backstage_does() {
    block_on(async {
        let (status, items, headers) = call_with_headers(
            "GET",
            "/api/catalog/entities?limit=2&offset=3&fields=kind,metadata.name",
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(items.as_array().map(Vec::len), Some(2));
        // Backstage (createRouter.cjs.js 103-107): offset dropped, after = {"limit":2,"offset":5}.
        assert_eq!(
            headers.get("link").and_then(|v| v.to_str().ok()),
            Some("</entities?limit=2&fields=kind%2Cmetadata.name&after=eyJsaW1pdCI6Miwib2Zmc2V0Ijo1fQ%3D%3D>; rel=\"next\"")
        );
        let (_, next, _) = call_with_headers(
            "GET",
            "/api/catalog/entities?limit=2&fields=kind%2Cmetadata.name&after=eyJsaW1pdCI6Miwib2Zmc2V0Ijo1fQ%3D%3D",
        )
        .await;
        let (_, all, _) = call_with_headers(
            "GET",
            "/api/catalog/entities?fields=kind,metadata.name&offset=0",
        )
        .await;
        assert_eq!(
            next.as_array().map(|a| a.to_vec()),
            all.as_array().map(|a| a[5..7].to_vec())
        );
    })
}

#[test]
fn ancestry_is_the_chain_of_locations_up_to_the_generated_root() {
    // Backstage's shape (catalog-backend 4.0.5 DefaultEntitiesCatalog.cjs.js 481-520): the
    // entity first, then what produced it, up to the root Location generated for the config
    // entry, whose parentEntityRefs is empty.
    block_on(async {
        let (status, body, _) = call(
            "GET",
            "/api/catalog/entities/by-name/Component/default/Checkout-Service/ancestry",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["rootEntityRef"], "component:default/checkout-service");
        let items = body["items"].as_array().expect("items");
        assert_eq!(items.len(), 3, "{body}");
        assert_eq!(items[0]["entity"]["metadata"]["name"], "checkout-service");
        assert_eq!(
            items[0]["parentEntityRefs"],
            json!(["location:default/acme-example"])
        );
        assert_eq!(items[1]["entity"]["metadata"]["name"], "acme-example");
        let root = items[1]["parentEntityRefs"][0].as_str().expect("root ref");
        let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../catalog/all.yaml")
            .canonicalize()
            .expect("all.yaml");
        assert_eq!(
            root,
            crate::catalog::location::generated_location_ref(&format!("file:{}", all.display()))
        );
        assert_eq!(items[2]["entity"]["kind"], "Location");
        assert_eq!(
            format!(
                "location:default/{}",
                items[2]["entity"]["metadata"]["name"]
                    .as_str()
                    .unwrap_or("")
            ),
            root
        );
        assert_eq!(items[2]["parentEntityRefs"], json!([]));
        let (status, body, _) = call(
            "GET",
            "/api/catalog/entities/by-name/component/default/nope/ancestry",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["name"], "NotFoundError");
        assert_eq!(
            body["error"]["message"],
            "No such entity component:default/nope"
        );
    })
}
