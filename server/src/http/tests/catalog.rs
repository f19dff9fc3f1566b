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
            let (status, page, text) = call(
                "POST",
                "/api/catalog/entities/by-query?limit=4&fields=metadata.name",
                Some(json!({ "cursor": cursor })),
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
            json!({"method": "GET", "url": "/api/catalog/entities/by-name/component/default/nope"})
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

        let (_, locations, _) = call("GET", "/api/catalog/locations", None).await;
        let l = &locations[0]["data"];
        assert_eq!(l["type"], "file");
        assert!(l["target"]
            .as_str()
            .expect("target")
            .ends_with("/catalog/all.yaml"));
        let (status, one, _) = call(
            "GET",
            &format!("/api/catalog/locations/{}", l["id"].as_str().expect("id")),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&one, l);

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
                .contains("metadata.name"),
            "{body}"
        );
    })
}

#[test]
fn malformed_input_is_a_400_in_backstage_shape() {
    block_on(async {
        let (status, body, _) = call("GET", "/api/catalog/entities?filter==x", None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["name"], "InputError");
        assert_eq!(body["request"]["url"], "/api/catalog/entities?filter==x");
        let (status, body, _) = call(
            "POST",
            "/api/catalog/entities/by-query",
            Some(json!({"cursor": "garbage"})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, _, _) = call("GET", "/api/catalog/entities?limit=-1", None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
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
