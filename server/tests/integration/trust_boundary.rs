//! The Kubernetes side of the trust boundary, tried as an attacker would, against the demo
//! cluster over verified TLS: crafted request values and annotations never reach an API-server
//! path, Secret values never leave the portal (cached, uncached and custom-resource paths, the
//! tab's view, live frames), static tokens guard `/api/kubernetes/*`, the pod panel and the log
//! download refuse what is not the entity's, and work per request is bounded.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use server::kubernetes::live::Live;
use server::permission::{KubernetesAccess, Permissions};
use std::collections::HashMap;
use std::sync::Arc;

use crate::support::*;
use axum::body::Body;
use serde_json::{json, Value};
use tower::ServiceExt as _;

/// The demo Secret's values, base64 and plain (catalog/clusters/greenroom-demo/checkout-service.yaml).
const SECRET_VALUES: &[&str] = &[
    "Y2hlY2tvdXQtc2VydmljZQ==",
    "bm90LWEtcmVhbC1wYXNzd29yZA==",
    "ZGVtby1vcmRlci1zaWduaW5nLWtleS1kby1ub3QtdXNl",
    "not-a-real-password",
    "demo-order-signing-key-do-not-use",
];

fn assert_no_secret(what: &str, text: &str) {
    for v in SECRET_VALUES {
        assert!(
            !text.contains(v),
            "{what} leaks the secret value {v}: {text}"
        );
    }
}

const ATTACK_ENTITIES: &str = r#"apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ns-attack
  annotations:
    backstage.io/kubernetes-id: checkout-service
    backstage.io/kubernetes-namespace: "payments/secrets?labelSelector="
spec: {type: service, lifecycle: production, owner: payments}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: selector-attack
  annotations:
    backstage.io/kubernetes-label-selector: "backstage.io/kubernetes-id=checkout-service&fieldSelector=metadata.name%3Dx"
spec: {type: service, lifecycle: production, owner: payments}
"#;

fn config(demo: &demo_cluster::Running, extra_kubernetes: &str) -> String {
    let c = demo.cluster("greenroom-demo").unwrap();
    format!(
        "kubernetes:\n  serviceLocatorMethod:\n    type: multiTenant\n  fetchTimeoutMs: 3000\n{extra_kubernetes}  clusterLocatorMethods:\n    - type: config\n      clusters:\n{}",
        verified(c, "greenroom-demo", "")
    )
}

async fn call(
    router: &axum::Router,
    method: &str,
    uri: &str,
    body: Value,
    auth: Option<&str>,
) -> (u16, String) {
    let mut req = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let body = if body.is_null() {
        Body::empty()
    } else {
        Body::from(body.to_string())
    };
    let res = router
        .clone()
        .oneshot(req.body(body).unwrap())
        .await
        .unwrap();
    let status = res.status().as_u16();
    let bytes = axum::body::to_bytes(res.into_body(), 64 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn routes(
    svc: Arc<server::kubernetes::KubernetesService>,
    tokens: Vec<server::settings::StaticToken>,
) -> axum::Router {
    routes_with(Arc::new(Live::new(svc)), tokens)
}

/// The routes with the live feeds `live` (shared with a test's own subscribers).
fn routes_with(live: Arc<Live>, tokens: Vec<server::settings::StaticToken>) -> axum::Router {
    server::http::kubernetes_api::routes::<()>(
        Arc::clone(live.service()),
        Arc::new(tokens),
        Arc::new(Permissions::disabled()),
    )
    .merge(server::http::kubernetes_api::ui_routes(
        live,
        Arc::new(Permissions::disabled()),
    ))
}

#[tokio::test]
async fn crafted_names_and_annotations_are_refused_on_both_paths() {
    let demo = demo().await;
    for cache in ["true", "false"] {
        let svc = Arc::new(service_with_catalog(
            &config(&demo, &format!("  cache:\n    enabled: {cache}\n")),
            HashMap::new(),
            Some(ATTACK_ENTITIES),
        ));
        let r = routes(Arc::clone(&svc), Vec::new());
        let custom = |group: &str, version: &str, plural: &str| {
            json!({"entityRef": "component:default/checkout-service",
                   "customResources": [{"group": group, "apiVersion": version, "plural": plural}]})
        };
        for (body, field) in [
            (
                custom("", "v1", "secrets?labelSelector="),
                "customResources[0].plural",
            ),
            (custom("", "v1", "secrets#"), "customResources[0].plural"),
            (
                custom("", "v1/../../api/v1", "secrets"),
                "customResources[0].apiVersion",
            ),
            (
                custom("apps/../../api", "v1", "secrets"),
                "customResources[0].group",
            ),
            (custom("", "v1", "secrets"), "secrets are not readable"),
        ] {
            let (status, text) = call(
                &r,
                "POST",
                "/api/kubernetes/resources/custom/query",
                body.clone(),
                None,
            )
            .await;
            assert_eq!(status, 400, "cache {cache}, {body}: {text}");
            assert!(
                text.contains("InputError") && text.contains(field),
                "cache {cache}, {body}: {text}"
            );
            assert_no_secret("custom/query", &text);
        }
        for (entity, annotation) in [
            ("ns-attack", "backstage.io/kubernetes-namespace"),
            ("selector-attack", "backstage.io/kubernetes-label-selector"),
        ] {
            let (status, text) = call(
                &r,
                "POST",
                "/api/kubernetes/resources/workloads/query",
                json!({"entityRef": format!("component:default/{entity}")}),
                None,
            )
            .await;
            assert_eq!(status, 400, "cache {cache}, {entity}: {text}");
            assert!(text.contains(annotation), "{text}");
            assert_no_secret(entity, &text);
            // The deprecated route and the tab's view refuse it the same way.
            let (status, text) = call(
                &r,
                "POST",
                &format!("/api/kubernetes/services/{entity}"),
                json!({"entity": {"kind": "Component", "metadata": {"name": entity, "namespace": "default"}}}),
                None,
            )
            .await;
            assert_eq!(status, 400, "{text}");
            let view = svc
                .view(
                    &format!("component:default/{entity}"),
                    &KubernetesAccess::all(),
                )
                .await
                .unwrap_err();
            assert!(view.to_string().contains(annotation), "{view}");
        }
        // Past the per-request cap of custom resources.
        let many: Vec<Value> = (0..21).map(|i| json!({"group": "argoproj.io", "apiVersion": "v1alpha1", "plural": format!("r{i}")})).collect();
        let (status, text) = call(
            &r,
            "POST",
            "/api/kubernetes/resources/custom/query",
            json!({"entityRef": "component:default/checkout-service", "customResources": many}),
            None,
        )
        .await;
        assert_eq!(status, 400, "{text}");
        assert!(text.contains("at most 20 customResources"), "{text}");
    }
}

/// Every object of type `secrets` in a response, as JSON text.
fn secrets_in(response: &Value) -> Vec<Value> {
    response["items"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|i| i["resources"].as_array().cloned().unwrap_or_default())
        .filter(|r| r["type"] == "secrets" || r["type"] == "customresources")
        .flat_map(|r| r["resources"].as_array().cloned().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn secret_values_never_leave_the_portal() {
    let demo = demo().await;
    // A Secret applied with kubectl carries its values a second time, in last-applied.
    let (status, text) = control(
        &demo.control_url,
        "POST",
        "/clusters/greenroom-demo/apply",
        &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "checkout-applied", "namespace": "payments",
            "labels": {"backstage.io/kubernetes-id": "checkout-service"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration":
                json!({"apiVersion": "v1", "kind": "Secret", "data": {"KAFKA_SASL_PASSWORD": "bm90LWEtcmVhbC1wYXNzd29yZA=="},
                       "stringData": {"ORDER_SIGNING_KEY": "demo-order-signing-key-do-not-use"}}).to_string()}},
            "data": {"KAFKA_SASL_PASSWORD": "bm90LWEtcmVhbC1wYXNzd29yZA=="}})
        .to_string(),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    for cache in ["true", "false"] {
        let svc = Arc::new(service(
            &config(
                &demo,
                &format!(
                    "  objectTypes: [pods, secrets, deployments]\n  cache:\n    enabled: {cache}\n"
                ),
            ),
            HashMap::new(),
        ));
        let r = routes(Arc::clone(&svc), Vec::new());
        let (status, text) = call(
            &r,
            "POST",
            "/api/kubernetes/resources/workloads/query",
            json!({"entityRef": "component:default/checkout-service"}),
            None,
        )
        .await;
        assert_eq!(status, 200, "{text}");
        assert_no_secret("workloads/query", &text);
        let v: Value = serde_json::from_str(&text).unwrap();
        let secrets = secrets_in(&v);
        assert_eq!(secrets.len(), 2, "cache {cache}: {text}");
        for s in &secrets {
            for (_, value) in s["data"].as_object().unwrap() {
                assert_eq!(value, "***");
            }
        }
        let applied = secrets
            .iter()
            .find(|s| s["metadata"]["name"] == "checkout-applied")
            .unwrap();
        let last: Value = serde_json::from_str(
            applied["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(last["data"]["KAFKA_SASL_PASSWORD"], "***");
        assert_eq!(last["stringData"]["ORDER_SIGNING_KEY"], "***");
        // Asked for as a custom resource (allowed: secrets are in objectTypes): masked too.
        let (status, text) = call(
            &r,
            "POST",
            "/api/kubernetes/resources/custom/query",
            json!({"entityRef": "component:default/checkout-service",
                   "customResources": [{"group": "", "apiVersion": "v1", "plural": "secrets"}]}),
            None,
        )
        .await;
        assert_eq!(status, 200, "{text}");
        assert_no_secret("custom/query secrets", &text);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(secrets_in(&v).len(), 2, "{text}");
        // The deprecated route, the tab's view and (with the cache) the live frame.
        let (_, text) = call(
            &r,
            "POST",
            "/api/kubernetes/services/checkout-service",
            json!({"entity": {"kind": "Component", "metadata": {"name": "checkout-service"}}}),
            None,
        )
        .await;
        assert_no_secret("services", &text);
        let view = svc
            .view(
                "component:default/checkout-service",
                &KubernetesAccess::all(),
            )
            .await
            .unwrap();
        assert_no_secret("view", &serde_json::to_string(&view).unwrap());
        if cache == "true" {
            let live = Live::new(Arc::clone(&svc));
            let mut sub = live
                .subscribe(
                    "component:default/checkout-service",
                    &KubernetesAccess::all(),
                )
                .unwrap();
            let frame = sub
                .rx
                .wait_for(Option::is_some)
                .await
                .unwrap()
                .clone()
                .unwrap();
            assert_eq!(frame.event, "view");
            assert_no_secret("live frame", &frame.data);
        }
    }
}

#[tokio::test]
async fn static_tokens_guard_the_kubernetes_api() {
    let demo = demo().await;
    let svc = Arc::new(service(&config(&demo, ""), HashMap::new()));
    let tokens = vec![server::settings::StaticToken {
        token: "k8s-api-token-123".into(),
        subject: "ci".into(),
    }];
    let r = routes(svc, tokens);
    let body = json!({"entityRef": "component:default/checkout-service"});
    for (method, uri) in [
        ("GET", "/api/kubernetes/clusters"),
        ("POST", "/api/kubernetes/resources/workloads/query"),
        ("POST", "/api/kubernetes/resources/custom/query"),
        ("POST", "/api/kubernetes/services/checkout-service"),
    ] {
        let (status, text) = call(&r, method, uri, body.clone(), None).await;
        assert_eq!(status, 401, "{uri}: {text}");
        assert!(text.contains("AuthenticationError"), "{text}");
        let (status, _) = call(
            &r,
            method,
            uri,
            body.clone(),
            Some("Bearer wrong-token-xyz"),
        )
        .await;
        assert_eq!(status, 401, "{uri}");
    }
    let (status, text) = call(
        &r,
        "POST",
        "/api/kubernetes/resources/workloads/query",
        body,
        Some("Bearer k8s-api-token-123"),
    )
    .await;
    assert_eq!(status, 200, "{text}");
}

fn pod_of(demo: &demo_cluster::Running, ns: &str, id: &str) -> String {
    demo.cluster("greenroom-demo")
        .unwrap()
        .cluster
        .store
        .all("pods")
        .iter()
        .find(|p| {
            p["metadata"]["namespace"] == ns
                && p["metadata"]["labels"]["backstage.io/kubernetes-id"] == id
        })
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .unwrap()
}

#[tokio::test]
async fn the_pod_panel_and_log_download_refuse_what_is_not_the_entitys() {
    let demo = demo().await;
    let svc = Arc::new(service(
        &config(&demo, "  podLogs:\n    maxBytes: 1024\n"),
        HashMap::new(),
    ));
    let pod = pod_of(&demo, "payments", "checkout-service");
    use app::wire::kubernetes::PodRef;
    // A cluster that is not one of the entity's (here: not configured at all).
    let err = svc
        .pod_detail(
            "component:default/checkout-service",
            &PodRef {
                cluster: "other-cluster".into(),
                namespace: "payments".into(),
                name: pod.clone(),
            },
            &KubernetesAccess::all(),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cluster 'other-cluster' is not one of this entity's clusters"),
        "{err}"
    );
    // Names that are not Kubernetes names never reach a path.
    for (ns, name, want) in [
        ("payments/../kube-system", pod.as_str(), "namespace"),
        ("payments", "../secrets", "pod"),
        ("payments", "x?watch=true", "pod"),
    ] {
        let err = svc
            .pod_detail(
                "component:default/checkout-service",
                &PodRef {
                    cluster: "greenroom-demo".into(),
                    namespace: ns.into(),
                    name: name.into(),
                },
                &KubernetesAccess::all(),
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(want) && err.contains("is not valid"),
            "{err}"
        );
    }
    let r = routes(Arc::clone(&svc), Vec::new());
    let logs = |entity: &str, pod: &str, extra: &str| {
        format!("/api/greenroom/kubernetes/logs?entity={entity}&cluster=greenroom-demo&namespace=payments&pod={pod}{extra}")
    };
    let (status, text) = call(
        &r,
        "GET",
        &logs("component:default/checkout-service", &pod, "&previous=true"),
        Value::Null,
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("PAYMENTS_GRPC_ADDR not set"), "{text}");
    // Another entity's pod: refused, and nothing of the log is sent.
    let (status, text) = call(
        &r,
        "GET",
        &logs("component:default/fraud-scoring", &pod, "&previous=true"),
        Value::Null,
        None,
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert!(!text.contains("PAYMENTS_GRPC_ADDR"), "{text}");
    let (status, text) = call(
        &r,
        "GET",
        &logs(
            "component:default/checkout-service",
            &pod,
            "&container=x%26follow%3Dtrue",
        ),
        Value::Null,
        None,
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("container"), "{text}");
    // A log longer than podLogs.maxBytes is cut, and says so.
    let (status, _) = control(
        &demo.control_url,
        "POST",
        &format!("/clusters/greenroom-demo/pods/payments/{pod}/log"),
        &json!({"line": "x".repeat(3000)}).to_string(),
    )
    .await;
    assert_eq!(status, 204);
    let (status, text) = call(
        &r,
        "GET",
        &logs("component:default/checkout-service", &pod, "&tail=50"),
        Value::Null,
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("[truncated: Greenroom reads at most 1024 bytes"),
        "{text}"
    );
    assert!(text.len() < 1024 + 200, "{}", text.len());
}

#[tokio::test]
async fn a_cluster_whose_ca_does_not_match_is_refused() {
    let demo = demo().await;
    let c = demo.cluster("greenroom-demo").unwrap();
    // A CA of our own making: the demo cluster's certificate is not signed by it.
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let other_ca = params.self_signed(&key).unwrap().pem();
    use base64::Engine as _;
    let other = base64::engine::general_purpose::STANDARD.encode(other_ca);
    for cache in ["true", "false"] {
        let yaml = format!(
            "kubernetes:\n  serviceLocatorMethod:\n    type: multiTenant\n  fetchTimeoutMs: 3000\n  cache:\n    enabled: {cache}\n  clusterLocatorMethods:\n    - type: config\n      clusters:\n        - url: {}\n          name: greenroom-demo\n          authProvider: serviceAccount\n          serviceAccountToken: {}\n          caData: {other}\n",
            c.url,
            c.token("greenroom-reader").unwrap()
        );
        let svc = service(&yaml, HashMap::new());
        let r = serde_json::to_value(
            svc.objects_for_ref(
                "component:default/checkout-service",
                None,
                &KubernetesAccess::all(),
            )
            .await
            .unwrap(),
        )
        .unwrap();
        let errors = &r["items"][0]["errors"];
        assert_eq!(
            errors.as_array().map(Vec::len),
            Some(1),
            "cache {cache}: {r}"
        );
        assert_eq!(errors[0]["errorType"], "FETCH_ERROR");
        assert_eq!(
            errors[0]["message"], "cluster 'greenroom-demo': TLS verification failed",
            "{r}"
        );
        assert!(pod_names(&r["items"][0]).is_empty());
        // The error names neither the internal address nor the low-level detail.
        assert!(!r.to_string().contains("127.0.0.1"), "{r}");
    }
}

#[tokio::test]
async fn live_subscribers_are_capped() {
    let demo = demo().await;
    let svc = Arc::new(service(
        &config(&demo, "  live:\n    maxSubscribers: 2\n"),
        HashMap::new(),
    ));
    let live = Arc::new(Live::new(Arc::clone(&svc)));
    let a = live
        .subscribe(
            "component:default/checkout-service",
            &KubernetesAccess::all(),
        )
        .unwrap();
    let b = live
        .subscribe("component:default/storefront-web", &KubernetesAccess::all())
        .unwrap();
    let err = live
        .subscribe(
            "component:default/checkout-service",
            &KubernetesAccess::all(),
        )
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("kubernetes.live.maxSubscribers"),
        "{err}"
    );
    let r = routes_with(Arc::clone(&live), Vec::new());
    let (status, text) = call(
        &r,
        "GET",
        "/api/greenroom/kubernetes/live?entity=component:default/checkout-service",
        Value::Null,
        None,
    )
    .await;
    assert_eq!(status, 503, "{text}");
    drop(a);
    // A place is free again.
    let c = live.subscribe(
        "component:default/checkout-service",
        &KubernetesAccess::all(),
    );
    assert!(c.is_ok());
    drop((b, c));
}

/// The Kubernetes routes answer each viewer with what the policy files grant: the tab's data
/// (403 without `kubernetes.resources.read`), the clusters a conditional policy names, pod logs
/// only for owners (`kubernetes.proxy` with `IS_ENTITY_OWNER`). The viewer is put where the
/// sign-in gate puts it.
#[tokio::test]
async fn permissions_decide_what_each_kubernetes_route_returns() {
    let demo = demo().await;
    let svc = Arc::new(service_with_catalog(
        &two_clusters(&demo, ""),
        HashMap::new(),
        None,
    ));
    let d = dir("rbac");
    let csv = d.0.join("rbac.csv");
    std::fs::write(
        &csv,
        "p, role:default/dev, kubernetes.clusters.read, read, allow\n\
         p, role:default/dev, kubernetes.resources.read, read, allow\n\
         p, role:default/dev, kubernetes.proxy, use, allow\n\
         p, role:default/dev, catalog-entity, read, allow\n\
         g, group:default/storefront, role:default/dev\n\
         g, group:default/payments, role:default/dev\n\
         g, group:default/payments, role:default/one-cluster\n\
         p, role:default/data, catalog-entity, read, allow\n\
         g, user:default/hana-sato, role:default/data\n",
    )
    .unwrap();
    let conditions = d.0.join("conditions.yaml");
    std::fs::write(
        &conditions,
        "result: CONDITIONAL\nroleEntityRef: role:default/dev\npluginId: kubernetes\nresourceType: catalog-entity\npermissionMapping: [use]\nconditions: { rule: IS_ENTITY_OWNER, resourceType: catalog-entity, params: { claims: [$ownerRefs] } }\n---\nresult: CONDITIONAL\nroleEntityRef: role:default/one-cluster\npluginId: kubernetes\nresourceType: kubernetes-cluster\npermissionMapping: [read]\nconditions: { rule: IS_CLUSTER, resourceType: kubernetes-cluster, params: { clusterNames: [greenroom-demo] } }\n",
    )
    .unwrap();
    let config = server::permission::config::PermissionConfig {
        enabled: true,
        policies_file: Some(csv),
        conditional_file: Some(conditions),
        ..Default::default()
    };
    // hana-sato (data) reads the catalog but has no Kubernetes access at all.
    let permissions = Arc::new(
        Permissions::load(config, svc.catalog_store())
            .await
            .unwrap(),
    );
    let snapshot = svc.catalog_store().snapshot();
    let viewer_of = |user: &str| signed_in(&snapshot, user);
    let as_viewer = |user: &str| {
        let viewer = viewer_of(user);
        server::http::kubernetes_api::routes::<()>(
            Arc::clone(&svc),
            Arc::new(Vec::new()),
            Arc::clone(&permissions),
        )
        .merge(server::http::kubernetes_api::ui_routes(
            Arc::new(Live::new(Arc::clone(&svc))),
            Arc::clone(&permissions),
        ))
        .layer(axum::Extension(viewer))
    };
    let diego = as_viewer("user:default/diego-ramirez");
    let farah = as_viewer("user:default/farah-haddad");
    let hana = as_viewer("user:default/hana-sato");
    let workloads = |e: &str| json!({ "entityRef": format!("component:default/{e}") });
    let clusters_of = |body: &str| -> Vec<String> {
        let v: Value = serde_json::from_str(body).unwrap();
        let mut n: Vec<String> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                i["cluster"]["name"]
                    .as_str()
                    .or(i["name"].as_str())
                    .unwrap()
                    .to_string()
            })
            .collect();
        n.sort();
        n
    };

    // /clusters: storefront sees both, payments one, data none (403).
    let (s, b) = call(&farah, "GET", "/api/kubernetes/clusters", Value::Null, None).await;
    assert_eq!(
        (s, clusters_of(&b)),
        (
            200,
            vec!["demo-us".to_string(), "greenroom-demo".to_string()]
        )
    );
    let (s, b) = call(&diego, "GET", "/api/kubernetes/clusters", Value::Null, None).await;
    assert_eq!(
        (s, clusters_of(&b)),
        (200, vec!["greenroom-demo".to_string()])
    );
    let (s, b) = call(&hana, "GET", "/api/kubernetes/clusters", Value::Null, None).await;
    assert_eq!(s, 403, "{b}");
    assert!(b.contains("NotAllowedError"), "{b}");

    // The tab's data: storefront-web runs on both clusters; payments sees only one of them.
    let (s, b) = call(
        &farah,
        "POST",
        "/api/kubernetes/resources/workloads/query",
        workloads("storefront-web"),
        None,
    )
    .await;
    assert_eq!(
        (s, clusters_of(&b)),
        (
            200,
            vec!["demo-us".to_string(), "greenroom-demo".to_string()]
        )
    );
    let (s, b) = call(
        &diego,
        "POST",
        "/api/kubernetes/resources/workloads/query",
        workloads("storefront-web"),
        None,
    )
    .await;
    assert_eq!(
        (s, clusters_of(&b)),
        (200, vec!["greenroom-demo".to_string()])
    );
    let (s, b) = call(
        &hana,
        "POST",
        "/api/kubernetes/resources/workloads/query",
        workloads("storefront-web"),
        None,
    )
    .await;
    assert_eq!(s, 403, "{b}");
    assert!(b.contains("kubernetes.resources.read"), "{b}");
    let (s, _) = call(
        &hana,
        "GET",
        "/api/greenroom/kubernetes/live?entity=component:default/storefront-web",
        Value::Null,
        None,
    )
    .await;
    assert_eq!(s, 403);
    // The tab (server function path): the same decision, as a view that says why.
    let access = server::permission::KubernetesAccess::of(
        &permissions,
        Some(&app::wire::Viewer {
            entity_ref: "user:default/hana-sato".into(),
            ownership_refs: vec!["user:default/hana-sato".into()],
            ..Default::default()
        }),
    );
    let view = svc
        .view("component:default/storefront-web", &access)
        .await
        .unwrap();
    assert!(view.clusters.is_empty());
    assert!(view
        .access_denied
        .unwrap()
        .contains("kubernetes.resources.read"));

    // Logs: only the owners (storefront) of storefront-web.
    let (_, b) = call(
        &farah,
        "POST",
        "/api/kubernetes/resources/workloads/query",
        workloads("storefront-web"),
        None,
    )
    .await;
    let v: Value = serde_json::from_str(&b).unwrap();
    let item = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["cluster"]["name"] == "greenroom-demo")
        .unwrap();
    let pod = pod_names(item)[0].clone();
    let logs = format!("/api/greenroom/kubernetes/logs?entity=component:default/storefront-web&cluster=greenroom-demo&namespace=storefront&pod={pod}&tail=5");
    let (s, b) = call(&farah, "GET", &logs, Value::Null, None).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = call(&diego, "GET", &logs, Value::Null, None).await;
    assert_eq!(s, 403, "{b}");
    assert!(b.contains("kubernetes.proxy"), "{b}");
    // A cluster the viewer may not see is refused even to an owner of the entity.
    let (s, b) = call(
        &diego,
        "GET",
        &logs
            .replace("storefront-web", "checkout-service")
            .replace("namespace=storefront", "namespace=payments")
            .replace("cluster=greenroom-demo", "cluster=demo-us"),
        Value::Null,
        None,
    )
    .await;
    assert_eq!(s, 403, "{b}");
    assert!(b.contains("cluster 'demo-us'"), "{b}");

    // The server functions of the Clusters page and of the catalog's health column decide the
    // same way (they call these with the request's viewer).
    let access =
        |user: &str| server::permission::KubernetesAccess::of(&permissions, Some(&viewer_of(user)));
    let shown = |o: &app::wire::clusters::ClustersOverview| {
        let mut n: Vec<String> = o.clusters.iter().map(|c| c.name.clone()).collect();
        n.sort();
        (n, o.hidden_clusters)
    };
    let overview = |user: &'static str| {
        let access = access(user);
        let svc = Arc::clone(&svc);
        async move { server::kubernetes::coverage::overview(&svc, &access).await }
    };
    assert_eq!(
        shown(&overview("user:default/farah-haddad").await),
        (vec!["demo-us".to_string(), "greenroom-demo".to_string()], 0)
    );
    assert_eq!(
        shown(&overview("user:default/diego-ramirez").await),
        (vec!["greenroom-demo".to_string()], 1)
    );
    assert_eq!(
        shown(&overview("user:default/hana-sato").await),
        (Vec::new(), 2)
    );
    // A viewer who may not read the entity gets the answer an unknown entity gets.
    let refs = [
        "component:default/storefront-web".to_string(),
        "component:default/no-such-component".to_string(),
    ];
    let rows = server::kubernetes::fleet::row_health(&svc, &refs, &access("user:default/visitor"))
        .await
        .expect("the watch cache is on");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0], rows[1]);
    // One who reads it but no cluster: unknown, and no pod counts.
    let rows =
        server::kubernetes::fleet::row_health(&svc, &refs, &access("user:default/hana-sato"))
            .await
            .expect("the watch cache is on");
    assert_eq!(
        rows[0].state,
        app::wire::kubernetes::HealthState::Unknown,
        "{:?}",
        rows[0]
    );
    assert!(!rows[0].reason.contains("pods ready"), "{:?}", rows[0]);
    // Storefront's team reads it; its cell is not that answer.
    let rows =
        server::kubernetes::fleet::row_health(&svc, &refs, &access("user:default/farah-haddad"))
            .await
            .expect("the watch cache is on");
    assert_ne!(rows[0], rows[1]);
}

/// Open streams stay within what their viewer may do: a followed log ends with the reason, and a
/// live view closes (the browser reconnects and is answered anew), when reloaded policy files
/// take the viewer's access away; both end when the viewer's session does; one user holds at
/// most `kubernetes.live.maxSubscribersPerUser` of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_streams_end_when_access_is_withdrawn_or_the_session_ends() {
    use axum::http::Request;
    use server::auth::SessionDeadline;
    let demo = demo().await;
    let svc = Arc::new(service_with_catalog(
        &format!(
            "{}  live:\n    maxSubscribersPerUser: 2\n",
            two_clusters(&demo, "")
        ),
        HashMap::new(),
        None,
    ));
    svc.warm_up(std::time::Duration::from_secs(20)).await;
    let d = dir("rbac-reload");
    let csv = d.0.join("rbac.csv");
    let grants = "p, role:default/dev, kubernetes.clusters.read, read, allow\n\
                  p, role:default/dev, catalog-entity, read, allow\n\
                  g, group:default/storefront, role:default/dev\n";
    let with_access = format!(
        "{grants}p, role:default/dev, kubernetes.resources.read, read, allow\n\
         p, role:default/dev, kubernetes.proxy, use, allow\n"
    );
    std::fs::write(&csv, &with_access).unwrap();
    let permissions = Arc::new(
        Permissions::load(
            server::permission::config::PermissionConfig {
                enabled: true,
                policies_file: Some(csv.clone()),
                reload: true,
                ..Default::default()
            },
            svc.catalog_store(),
        )
        .await
        .unwrap(),
    );
    tokio::spawn(Arc::clone(&permissions).watch());
    let snapshot = svc.catalog_store().snapshot();
    let farah = signed_in(&snapshot, "user:default/farah-haddad");
    let app = server::http::kubernetes_api::ui_routes::<()>(
        Arc::new(Live::new(Arc::clone(&svc))),
        Arc::clone(&permissions),
    )
    .layer(axum::Extension(farah.clone()));
    let open = |uri: String, app: axum::Router| async move {
        let resp = app
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.into_body().into_data_stream())
    };
    let live =
        "/api/greenroom/kubernetes/live?entity=component%3Adefault%2Fstorefront-web".to_string();
    let (status, mut view) = open(live.clone(), app.clone()).await;
    assert_eq!(status, 200);
    let mut view_buf = String::new();
    assert_eq!(next_frame(&mut view, &mut view_buf).await.1, "view");
    let pod = pod_of(&demo, "storefront", "storefront-web");
    let follow = format!("/api/greenroom/kubernetes/logs/follow?entity=component%3Adefault%2Fstorefront-web&cluster=greenroom-demo&namespace=storefront&pod={pod}&tail=3");
    let (status, mut log) = open(follow.clone(), app.clone()).await;
    assert_eq!(status, 200);
    let mut log_buf = String::new();
    assert_eq!(next_frame(&mut log, &mut log_buf).await.1, "lines");

    // Two streams are Farah's share; a third is refused with the reason (another user is not).
    let (status, _) = open(live.clone(), app.clone()).await;
    assert_eq!(status, 429);
    let other = server::http::kubernetes_api::ui_routes::<()>(
        Arc::new(Live::new(Arc::clone(&svc))),
        Arc::clone(&permissions),
    )
    .layer(axum::Extension(signed_in(
        &snapshot,
        "user:default/gustav-lindqvist",
    )));
    assert_eq!(open(live.clone(), other).await.0, 200);

    // The policy loses kubernetes.resources.read and kubernetes.proxy for Farah's role.
    std::fs::write(&csv, grants).unwrap();
    let (_, event, data) = loop {
        let frame = next_frame(&mut log, &mut log_buf).await;
        if frame.1 != "lines" {
            break frame;
        }
    };
    assert_eq!(event, "ended", "{data}");
    assert!(
        data["message"]
            .as_str()
            .unwrap()
            .contains("kubernetes.proxy"),
        "{data}"
    );
    assert!(
        ended(&mut view).await,
        "the live view stays open after its access was withdrawn"
    );
    // Reconnecting is answered with today's decision.
    assert_eq!(open(live.clone(), app.clone()).await.0, 403);

    // Access back: a stream opened in a session that ends in a second ends then.
    std::fs::write(&csv, &with_access).unwrap();
    let session = app.layer(axum::Extension(SessionDeadline(
        server::auth::session::now() + 1,
    )));
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut view = loop {
        let (status, body) = open(live.clone(), session.clone()).await;
        if status == 200 {
            break body;
        }
        assert!(
            std::time::Instant::now() < give_up,
            "access never came back: {status}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert!(ended(&mut view).await, "the live view outlived its session");
}

/// A member who leaves the owning group loses the owners' access on the streams they hold open:
/// the viewer's groups are read again from the catalog when it changes (the role here is the
/// user's own, so only the ownership claim changes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_followed_log_ends_when_its_viewer_leaves_the_owning_group() {
    use axum::http::Request;
    use server::catalog::{config::CatalogConfig, location, rules::Rule};
    let demo = demo().await;
    let member = |groups: &str| {
        format!("apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: lee-member\nspec:\n  memberOf: [{groups}]\n")
    };
    let svc = Arc::new(service_with_catalog(
        &two_clusters(&demo, ""),
        HashMap::new(),
        Some(&member("storefront")),
    ));
    svc.warm_up(std::time::Duration::from_secs(20)).await;
    let d = dir("rbac-members");
    let csv = d.0.join("rbac.csv");
    std::fs::write(
        &csv,
        "p, role:default/dev, kubernetes.clusters.read, read, allow\n\
         p, role:default/dev, kubernetes.resources.read, read, allow\n\
         p, role:default/dev, kubernetes.proxy, use, allow\n\
         p, role:default/dev, catalog-entity, read, allow\n\
         g, user:default/lee-member, role:default/dev\n",
    )
    .unwrap();
    // Lee's role is Lee's own; the logs are for the entity's owners (Lee's groups, as the
    // catalog says now).
    let conditions = d.0.join("conditions.yaml");
    std::fs::write(
        &conditions,
        "result: CONDITIONAL\nroleEntityRef: role:default/dev\npluginId: kubernetes\nresourceType: catalog-entity\npermissionMapping: [use]\nconditions: { rule: IS_ENTITY_OWNER, resourceType: catalog-entity, params: { claims: [$ownerRefs] } }\n",
    )
    .unwrap();
    let permissions = Arc::new(
        Permissions::load(
            server::permission::config::PermissionConfig {
                enabled: true,
                policies_file: Some(csv),
                conditional_file: Some(conditions),
                ..Default::default()
            },
            svc.catalog_store(),
        )
        .await
        .unwrap(),
    );
    tokio::spawn(Arc::clone(&permissions).watch());
    let lee = signed_in(&svc.catalog_store().snapshot(), "user:default/lee-member");
    assert!(
        lee.ownership_refs
            .contains(&"group:default/storefront".to_string()),
        "{lee:?}"
    );
    let app = server::http::kubernetes_api::ui_routes::<()>(
        Arc::new(Live::new(Arc::clone(&svc))),
        Arc::clone(&permissions),
    )
    .layer(axum::Extension(lee));
    let pod = pod_of(&demo, "storefront", "storefront-web");
    let resp = app
        .oneshot(
            Request::get(format!("/api/greenroom/kubernetes/logs/follow?entity=component%3Adefault%2Fstorefront-web&cluster=greenroom-demo&namespace=storefront&pod={pod}&tail=3"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut log = resp.into_body().into_data_stream();
    let mut buf = String::new();
    assert_eq!(next_frame(&mut log, &mut buf).await.1, "lines");

    // The catalog now has Lee in no group.
    let moved = d.0.join("lee.yaml");
    std::fs::write(&moved, member("")).unwrap();
    let file = |target: std::path::PathBuf| location::LocationSpec {
        kind: location::LocationType::File,
        target: target.display().to_string(),
        rules: Vec::new(),
        optional: false,
    };
    let config = CatalogConfig {
        locations: vec![file(repo().join("catalog/all.yaml")), file(moved)],
        rules: vec![Rule::allowing(&[
            "Component",
            "System",
            "API",
            "Resource",
            "Location",
            "Domain",
            "Group",
            "User",
        ])],
    };
    svc.catalog_store().replace(server::catalog::reload::load(
        &config,
        &location::HttpUrlReader,
    ));
    let (_, event, data) = loop {
        let frame = next_frame(&mut log, &mut buf).await;
        if frame.1 != "lines" {
            break frame;
        }
    };
    assert_eq!(event, "ended", "{data}");
    let message = data["message"].as_str().unwrap();
    assert!(message.contains("kubernetes.proxy"), "{data}");
}

/// `user` as the sign-in gate puts them in a request after an OIDC sign-in: with the groups the
/// catalog gives them.
fn signed_in(catalog: &server::catalog::store::Snapshot, user: &str) -> app::wire::Viewer {
    app::wire::Viewer {
        entity_ref: user.into(),
        ownership_refs: server::auth::resolve::user_facts(catalog, user).ownership_refs,
        provider: "oidc".into(),
        sign_in_required: true,
        ..Default::default()
    }
}

/// Whether an SSE body ends within 10 s (frames before the end are skipped).
async fn ended(body: &mut axum::body::BodyDataStream) -> bool {
    use futures_util::StreamExt;
    let give_up = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(give_up, body.next()).await {
            Ok(None) => return true,
            Ok(Some(_)) => continue,
            Err(_) => return false,
        }
    }
}
