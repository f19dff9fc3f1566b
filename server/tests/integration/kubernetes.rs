//! The Kubernetes backend against the demo cluster over real TLS and real auth: the seed
//! article's config blocks verbatim, serviceAccount and aws (static keys, main-account role,
//! assumed role with ExternalId) providers, token caching, failing clusters beside healthy ones,
//! namespace lists, label-selector annotations, custom resources, and the REST API's JSON shapes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use server::permission::{KubernetesAccess, Permissions};
use std::collections::HashMap;
use std::sync::Arc;

use crate::support::*;
use axum::body::Body;
use http::Request;
use serde_json::{json, Value};
use server::kubernetes::KubernetesService;
use tower::ServiceExt;

const SEED_SERVICE_ACCOUNT: &str = r#"
kubernetes:
  serviceLocatorMethod:
    type: multiTenant
  clusterLocatorMethods:
    - type: config
      clusters:
        - url: ${MINIKUBE_ENDPOINT}
          name: backstage-tutorial-cluster # You can use any name you want
          authProvider: serviceAccount
          skipTLSVerify: true
          skipMetricsLookup: true
          serviceAccountToken: ${SECRET_TOKEN}
"#;

#[tokio::test]
async fn seed_service_account_block_finds_example1s_pods() {
    let demo = demo().await;
    let c = demo.cluster("greenroom-demo").unwrap();
    let svc = service(
        SEED_SERVICE_ACCOUNT,
        env(&[
            ("MINIKUBE_ENDPOINT", &c.url),
            ("SECRET_TOKEN", c.token("greenroom-reader").unwrap()),
        ]),
    );
    let r = serde_json::to_value(
        svc.objects_for_ref("component:default/example1", None, &KubernetesAccess::all())
            .await
            .unwrap(),
    )
    .unwrap();
    let items = r["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{r}");
    assert_eq!(
        items[0]["cluster"],
        json!({"name": "backstage-tutorial-cluster"})
    );
    assert_eq!(items[0]["errors"], json!([]));
    // Exactly the pods labelled backstage-app in namespace backstage, as kubectl sees them.
    let expected: Vec<String> = c
        .cluster
        .store
        .all("pods")
        .iter()
        .filter(|p| {
            p["metadata"]["namespace"] == "backstage"
                && p["metadata"]["labels"]["backstage.io/kubernetes-id"] == "backstage-app"
        })
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(pod_names(&items[0]), expected);
    assert_eq!(expected.len(), 1);
    let types: Vec<&str> = items[0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec![
            "pods",
            "services",
            "configmaps",
            "limitranges",
            "resourcequotas",
            "deployments",
            "replicasets",
            "horizontalpodautoscalers",
            "jobs",
            "cronjobs",
            "ingresses",
            "statefulsets",
            "daemonsets"
        ]
    );
    // skipMetricsLookup: no metrics calls, no podMetrics.
    assert_eq!(items[0]["podMetrics"], json!([]));
}

#[tokio::test]
async fn verified_tls_two_clusters_metrics_and_label_selectors() {
    let demo = demo().await;
    let svc = service(&two_clusters(&demo, ""), HashMap::new());
    let r = serde_json::to_value(
        svc.objects_for_ref(
            "component:default/storefront-web",
            None,
            &KubernetesAccess::all(),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    let items = r["items"].as_array().unwrap();
    assert_eq!(
        items
            .iter()
            .map(|i| i["cluster"]["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec!["greenroom-demo", "demo-us"]
    );
    assert_eq!(
        pod_names(&items[0]).len(),
        3,
        "storefront only, not storefront-staging"
    );
    assert_eq!(pod_names(&items[1]).len(), 2);
    let m = &items[0]["podMetrics"][0];
    assert!(
        m["cpu"]["currentUsage"].is_number() && m["memory"]["currentUsage"].is_string(),
        "{m}"
    );
    assert_eq!(items[0]["podMetrics"].as_array().unwrap().len(), 3);
    // The selector annotation (no kubernetes-id label on these objects).
    let cart = serde_json::to_value(
        svc.objects_for_ref(
            "component:default/cart-service",
            None,
            &KubernetesAccess::all(),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(pod_names(&cart["items"][0]).len(), 2);
    // Nothing deployed: no items at all.
    let none = serde_json::to_value(
        svc.objects_for_ref(
            "component:default/web-ui-kit",
            None,
            &KubernetesAccess::all(),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(none["items"], json!([]));
    // A namespace list (Backstage #13698), and everywhere when there is no namespace annotation.
    let entity = json!({"kind": "Component", "metadata": {"name": "x", "annotations": {"backstage.io/kubernetes-id": "storefront-web", "backstage.io/kubernetes-namespace": "storefront, storefront-staging"}}});
    let both = serde_json::to_value(svc.objects_by_entity(&entity, None).await.unwrap()).unwrap();
    assert_eq!(pod_names(&both["items"][0]).len(), 4);
    let sre = serde_json::to_value(
        svc.objects_for_ref(
            "component:default/sre-toolbox",
            None,
            &KubernetesAccess::all(),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(pod_names(&sre["items"][0]), vec!["sre-toolbox"]);
}

#[tokio::test]
async fn a_broken_cluster_is_an_error_entry_beside_a_healthy_one() {
    let demo = demo().await;
    let eu = demo.cluster("greenroom-demo").unwrap().cluster.clone();
    let svc = service(&two_clusters(&demo, ""), HashMap::new());
    let check = |r: Value, want: &dyn Fn(&Value) -> bool| {
        let items = r["items"].as_array().unwrap().clone();
        let broken = items
            .iter()
            .find(|i| i["cluster"]["name"] == "greenroom-demo")
            .expect("broken cluster listed");
        let healthy = items
            .iter()
            .find(|i| i["cluster"]["name"] == "demo-us")
            .expect("healthy cluster listed");
        assert_eq!(pod_names(healthy).len(), 2, "{r}");
        assert!(want(&broken["errors"]), "{}", broken["errors"]);
    };
    let faults = [
        (
            demo_cluster::Faults {
                refuse: true,
                ..Default::default()
            },
            "connection refused",
        ),
        (
            demo_cluster::Faults {
                delay_ms: 3000,
                ..Default::default()
            },
            "timed out after 1.5 s",
        ),
        (
            demo_cluster::Faults {
                malformed: true,
                ..Default::default()
            },
            "not valid JSON",
        ),
        (
            demo_cluster::Faults {
                close: true,
                ..Default::default()
            },
            "cluster 'greenroom-demo'",
        ),
    ];
    for (f, words) in faults {
        eu.set_faults(f);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let r = serde_json::to_value(
            svc.objects_for_ref(
                "component:default/storefront-web",
                None,
                &KubernetesAccess::all(),
            )
            .await
            .unwrap(),
        )
        .unwrap();
        check(r, &|e: &Value| {
            e.as_array().unwrap().len() == 1
                && e[0]["errorType"] == "FETCH_ERROR"
                && e[0]["message"].as_str().unwrap().contains(words)
        });
    }
    eu.set_faults(demo_cluster::Faults {
        internal_error: true,
        ..Default::default()
    });
    let r = serde_json::to_value(
        svc.objects_for_ref(
            "component:default/storefront-web",
            None,
            &KubernetesAccess::all(),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    check(r, &|e: &Value| {
        e[0] == json!({"errorType": "SYSTEM_ERROR", "statusCode": 500, "resourcePath": "/api/v1/namespaces/storefront/pods"})
    });
    eu.set_faults(demo_cluster::Faults::default());
    // 401: a wrong token.
    let wrong = two_clusters(&demo, "").replacen(
        demo.cluster("greenroom-demo")
            .unwrap()
            .token("greenroom-reader")
            .unwrap(),
        "wrong-token",
        1,
    );
    let r = serde_json::to_value(
        service(&wrong, HashMap::new())
            .objects_for_ref(
                "component:default/storefront-web",
                None,
                &KubernetesAccess::all(),
            )
            .await
            .unwrap(),
    )
    .unwrap();
    check(r, &|e: &Value| {
        e.as_array().unwrap().len() == 13
            && e.as_array()
                .unwrap()
                .iter()
                .all(|x| x["errorType"] == "UNAUTHORIZED_ERROR" && x["statusCode"] == 401)
    });
    // 403: a service account that may not list secrets, asked for secrets.
    let c = demo.cluster("greenroom-demo").unwrap();
    let restricted = two_clusters(&demo, "")
        .replacen(
            c.token("greenroom-reader").unwrap(),
            c.token("greenroom-restricted").unwrap(),
            1,
        )
        .replace(
            "  fetchTimeoutMs: 1500\n",
            "  fetchTimeoutMs: 1500\n  objectTypes: [pods, secrets]\n",
        );
    let r = serde_json::to_value(
        service(&restricted, HashMap::new())
            .objects_for_ref(
                "component:default/checkout-service",
                None,
                &KubernetesAccess::all(),
            )
            .await
            .unwrap(),
    )
    .unwrap();
    let eu_item = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["cluster"]["name"] == "greenroom-demo")
        .unwrap()
        .clone();
    assert_eq!(
        eu_item["errors"],
        json!([{"errorType": "UNKNOWN_ERROR", "statusCode": 403, "resourcePath": "/api/v1/namespaces/payments/secrets"}])
    );
    assert_eq!(pod_names(&eu_item).len(), 2, "pods still listed");
    // Secrets, when they may be read, come masked.
    let open = two_clusters(&demo, "").replace(
        "  fetchTimeoutMs: 1500\n",
        "  fetchTimeoutMs: 1500\n  objectTypes: [secrets]\n",
    );
    let r = serde_json::to_value(
        service(&open, HashMap::new())
            .objects_for_ref(
                "component:default/checkout-service",
                None,
                &KubernetesAccess::all(),
            )
            .await
            .unwrap(),
    )
    .unwrap();
    let secrets = &r["items"][0]["resources"][0];
    assert_eq!(secrets["type"], "secrets");
    assert!(
        secrets["resources"][0]["data"]
            .as_object()
            .unwrap()
            .values()
            .all(|v| v == "***"),
        "{secrets}"
    );
}

fn aws_user(demo_cfg: &demo_cluster::SimConfig) -> (String, String) {
    let u = &demo_cfg.aws.as_ref().unwrap().users[0];
    (u.access_key_id.clone(), u.secret_access_key.clone())
}

fn eks_block(demo: &demo_cluster::Running, auth_metadata: &str) -> String {
    let c = demo.cluster("backstage-tutorial-cluster").unwrap();
    format!(
        "kubernetes:\n  serviceLocatorMethod:\n    type: multiTenant\n  clusterLocatorMethods:\n    - type: config\n      clusters:\n        - url: {}\n          name: backstage-tutorial-cluster # You can use any name you want\n          authProvider: aws\n          caData: ${{EKS_CA_DATA}}\n{auth_metadata}",
        c.url
    )
}

fn aws_env(demo: &demo_cluster::Running, d: &Dir, with_keys: bool) -> HashMap<String, String> {
    let cfg =
        demo_cluster::SimConfig::load(&repo().join("catalog/clusters/demo-clusters.yaml")).unwrap();
    let (akid, secret) = aws_user(&cfg);
    let ca = d.0.join("sts-ca.crt");
    std::fs::write(&ca, demo.sts_ca_pem.as_ref().unwrap()).unwrap();
    let mut e = env(&[
        (
            "EKS_CA_DATA",
            &demo
                .cluster("backstage-tutorial-cluster")
                .unwrap()
                .ca_data()
                .unwrap(),
        ),
        ("AWS_ENDPOINT_URL_STS", demo.sts_url.as_ref().unwrap()),
        ("AWS_CA_BUNDLE", ca.to_str().unwrap()),
    ]);
    if with_keys {
        e.insert("AWS_ACCESS_KEY_ID".into(), akid);
        e.insert("AWS_SECRET_ACCESS_KEY".into(), secret);
    }
    e
}

async fn example1_on_eks(svc: &KubernetesService) -> Value {
    serde_json::to_value(
        svc.objects_for_ref("component:default/example1", None, &KubernetesAccess::all())
            .await
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn aws_static_keys_block_signs_a_verified_eks_token() {
    let demo = demo().await;
    let d = dir("aws");
    let seed_static = "aws:\n  mainAccount:\n  accounts: # Add any additional accounts here if needed\n    - accountId: '123456789012'\n      accessKeyId: ${AWS_ACCESS_KEY_ID}\n      secretAccessKey: ${AWS_SECRET_ACCESS_KEY}\n      region: us-east-1\n  accountDefaults: # Add defaults here if needed\n";
    let svc = service(
        &format!("{}{seed_static}", eks_block(&demo, "")),
        aws_env(&demo, &d, true),
    );
    let r = example1_on_eks(&svc).await;
    assert_eq!(r["items"][0]["errors"], json!([]), "{r}");
    assert_eq!(pod_names(&r["items"][0]).len(), 2);
    // Without keys anywhere: the cluster's error entry says so; nothing crashes.
    let svc = service(&eks_block(&demo, ""), aws_env(&demo, &d, false));
    let r = example1_on_eks(&svc).await;
    assert!(
        r["items"][0]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no AWS credentials"),
        "{r}"
    );
}

#[tokio::test]
async fn aws_main_account_role_is_assumed_once_and_tokens_are_cached() {
    let demo = demo().await;
    let d = dir("role");
    let seed_role = "aws:\n  mainAccount:\n    roleName: backstage-tutorial-role  \n    region: us-east-1\n  accounts: # Add any additional accounts here if needed\n  accountDefaults: # Add defaults here if needed\n";
    let svc = service(
        &format!("{}{seed_role}", eks_block(&demo, "")),
        aws_env(&demo, &d, true),
    );
    for _ in 0..3 {
        let r = example1_on_eks(&svc).await;
        assert_eq!(r["items"][0]["errors"], json!([]), "{r}");
        assert_eq!(pod_names(&r["items"][0]).len(), 2);
    }
    let sts = demo.sts.as_ref().unwrap();
    assert_eq!(
        (sts.calls("GetCallerIdentity"), sts.calls("AssumeRole")),
        (1, 1),
        "one identity lookup and one role assumption for three lookups"
    );
    assert_eq!(svc.auth().aws().sts_calls(), 2);
}

/// The access key id that signed an EKS token, and whether it carries a session token.
fn eks_signer(token: &str) -> (String, bool) {
    use base64::Engine as _;
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_start_matches("k8s-aws-v1."))
        .unwrap();
    let url = String::from_utf8(url).unwrap();
    let query = url.split_once('?').unwrap().1;
    let param = |k: &str| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.to_string())
    };
    let credential = param("X-Amz-Credential").unwrap();
    (
        credential.split('/').next().unwrap().to_string(),
        param("X-Amz-Security-Token").is_some(),
    )
}

#[tokio::test]
async fn aws_assumed_role_credentials_sign_and_are_renewed_before_they_expire() {
    use server::kubernetes::auth::{Authenticator, Credential};
    use std::time::{Duration, SystemTime};
    let demo = demo().await;
    let d = dir("renew");
    let env = aws_env(&demo, &d, true);
    let base_key = env["AWS_ACCESS_KEY_ID"].clone();
    let offset = Arc::new(std::sync::Mutex::new(Duration::ZERO));
    let o = Arc::clone(&offset);
    let auth = Authenticator::new(Default::default(), &env)
        .with_aws_clock(Arc::new(move || SystemTime::now() + *o.lock().unwrap()));
    let mut cluster = server::kubernetes::config::ClusterDetails::new(
        "backstage-tutorial-cluster",
        &demo.cluster("backstage-tutorial-cluster").unwrap().url,
        "aws",
    );
    cluster.auth_metadata.insert(
        "kubernetes.io/aws-assume-role".into(),
        "arn:aws:iam::123456789012:role/greenroom-cross-account".into(),
    );
    cluster.auth_metadata.insert(
        "kubernetes.io/aws-external-id".into(),
        "greenroom-demo-external-id".into(),
    );
    let sts = demo.sts.as_ref().unwrap();
    let mut tokens = Vec::new();
    let mut assumed = Vec::new();
    // Now; 9 min (token reused); 11 min (new token, same role credentials, valid 1 h);
    // 56 min (credentials within 5 min of expiry: renewed).
    for minutes in [0, 9, 11, 56] {
        *offset.lock().unwrap() = Duration::from_secs(minutes * 60);
        match auth.credential(&cluster).await.unwrap() {
            Credential::Bearer(t) => tokens.push(t),
            Credential::Anonymous => panic!("aws gives a bearer token"),
        }
        assumed.push(sts.calls("AssumeRole"));
    }
    let (signer, temporary) = eks_signer(&tokens[0]);
    assert_ne!(
        signer, base_key,
        "the assumed role's credentials sign, not the base keys"
    );
    assert!(temporary, "assumed credentials carry their session token");
    assert_eq!(tokens[1], tokens[0], "reused within ten minutes");
    assert_ne!(tokens[2], tokens[0], "re-minted after ten minutes");
    assert_eq!(
        eks_signer(&tokens[2]).0,
        signer,
        "with the same role credentials"
    );
    assert_eq!(
        assumed[..3],
        [assumed[0]; 3],
        "one AssumeRole while the credentials are fresh"
    );
    assert_eq!(
        assumed[3],
        assumed[0] + 1,
        "renewed five minutes before they expire"
    );
    assert_ne!(tokens[3], tokens[2]);
}

#[tokio::test]
async fn aws_assume_role_with_external_id_from_cluster_metadata() {
    let demo = demo().await;
    let d = dir("xacct");
    let role = "arn:aws:iam::123456789012:role/greenroom-cross-account";
    let good = format!("          authMetadata:\n            kubernetes.io/aws-assume-role: {role}\n            kubernetes.io/aws-external-id: greenroom-demo-external-id\n");
    let svc = service(&eks_block(&demo, &good), aws_env(&demo, &d, true));
    let r = example1_on_eks(&svc).await;
    assert_eq!(r["items"][0]["errors"], json!([]), "{r}");
    assert_eq!(pod_names(&r["items"][0]).len(), 2);
    let bad = good.replace("greenroom-demo-external-id", "wrong-id");
    let svc = service(&eks_block(&demo, &bad), aws_env(&demo, &d, true));
    let r = example1_on_eks(&svc).await;
    let msg = r["items"][0]["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("AccessDenied"), "{msg}");
}

#[tokio::test]
async fn rest_api_shapes_and_entity_checks() {
    let demo = demo().await;
    let svc = Arc::new(service(
        &two_clusters(
            &demo,
            "          dashboardUrl: https://dash.example/\n          title: Demo EU\n",
        ),
        HashMap::new(),
    ));
    let app = server::http::kubernetes_api::routes::<()>(
        svc,
        Arc::new(Vec::new()),
        Arc::new(Permissions::disabled()),
    );
    let call = |method: &str, uri: &str, body: Value| {
        let app = app.clone();
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        async move {
            let resp = app.oneshot(req).await.unwrap();
            let status = resp.status().as_u16();
            let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
                .await
                .unwrap();
            (status, String::from_utf8(bytes.to_vec()).unwrap())
        }
    };
    let (s, body) = call("GET", "/api/kubernetes/clusters", Value::Null).await;
    assert_eq!(s, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["items"][0],
        json!({"name": "greenroom-demo", "title": "Demo EU", "dashboardUrl": "https://dash.example/", "authProvider": "serviceAccount"})
    );
    // The body's entity is only a name: the catalog's copy is used.
    let (s, body) = call("POST", "/api/kubernetes/services/example1", json!({"entity": {"kind": "Component", "metadata": {"name": "example1", "annotations": {"backstage.io/kubernetes-id": "storefront-web"}}}})).await;
    assert_eq!(s, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        pod_names(&v["items"][0]).len(),
        1,
        "example1's own annotation from the catalog, not the body's"
    );
    let item = &v["items"][0];
    assert_eq!(
        item.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
        vec!["cluster", "errors", "podMetrics", "resources"]
    );
    let pm = &item["podMetrics"][0];
    for k in ["pod", "cpu", "memory", "containers"] {
        assert!(pm.get(k).is_some(), "podMetrics entry lacks {k}: {pm}");
    }
    for k in ["currentUsage", "requestTotal", "limitTotal"] {
        assert!(pm["cpu"].get(k).is_some() && pm["memory"].get(k).is_some());
    }
    assert!(
        pm["containers"][0]["cpuUsage"].is_object() && pm["containers"][0]["container"].is_string()
    );
    // No credential or CA material in any response.
    let c = demo.cluster("greenroom-demo").unwrap();
    for secret in [
        c.token("greenroom-reader").unwrap().to_string(),
        c.ca_data().unwrap()[..40].to_string(),
    ] {
        assert!(!body.contains(&secret));
    }
    let (s, body) = call(
        "POST",
        "/api/kubernetes/services/nope",
        json!({"entity": {"kind": "Component", "metadata": {"name": "nope"}}}),
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"],
        json!({"name": "NotAllowedError", "message": "Entity not found, component:default/nope"})
    );
    let (s, body) = call(
        "POST",
        "/api/kubernetes/resources/workloads/query",
        json!({"entityRef": "component:default/Example1"}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    for (req, msg) in [
        (json!({}), "entity is a required field"),
        (json!({"entityRef": 3}), "entity query must be a string"),
        (
            json!({"entityRef": "component:default/nope"}),
            "Entity ref missing, component:default/nope",
        ),
    ] {
        let (s, body) = call("POST", "/api/kubernetes/resources/workloads/query", req).await;
        assert_eq!(s, 400);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["error"]["message"],
            msg
        );
    }
    let (s, body) = call("POST", "/api/kubernetes/resources/custom/query", json!({"entityRef": "component:default/storefront-web", "customResources": [{"group": "demo.greenroom.dev", "apiVersion": "v1", "plural": "canaries"}]})).await;
    assert_eq!(s, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["items"][0]["resources"][0]["type"], "customresources");
    assert_eq!(
        v["items"][0]["resources"][0]["resources"][0]["kind"],
        "Canary"
    );
    let (s, _) = call(
        "POST",
        "/api/kubernetes/resources/custom/query",
        json!({"entityRef": "component:default/storefront-web", "customResources": []}),
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn the_tab_view_explains_every_scenario() {
    let demo = demo().await;
    let svc = service(&two_clusters(&demo, ""), HashMap::new());
    let view = |name: &'static str| {
        let svc = &svc;
        async move {
            svc.view(
                &format!("component:default/{name}"),
                &KubernetesAccess::all(),
            )
            .await
            .unwrap()
        }
    };
    let eu = |v: &app::wire::kubernetes::KubernetesView| {
        v.clusters
            .iter()
            .find(|c| c.name == "greenroom-demo")
            .cloned()
            .unwrap()
    };
    // Healthy: 3 ready pods, service, ingress, config map keys; no errors on greenroom-demo.
    let v = view("storefront-web").await;
    let c = eu(&v);
    assert_eq!((c.pods, c.pods_with_errors), (3, 0));
    let d = c.workloads.iter().find(|w| w.kind == "Deployment").unwrap();
    assert_eq!(d.status, "3/3 ready");
    assert!(d
        .pods
        .iter()
        .all(|p| p.containers[0].label == "Running" && p.cpu.is_some()));
    assert!(
        c.ingresses[0]
            .routes
            .iter()
            .any(|(url, _)| url.contains("shop.acme-retail.example")),
        "{:?}",
        c.ingresses
    );
    assert!(!c.services.is_empty() && !c.config_maps[0].keys.is_empty());
    assert!(v.errors.iter().all(|e| e.cluster != "greenroom-demo"));
    // Crash loop, with Backstage's explanation.
    let v = view("checkout-service").await;
    let waiting = v
        .errors
        .iter()
        .find(|e| e.cluster == "greenroom-demo" && e.error_type == "container-waiting")
        .unwrap();
    assert!(waiting
        .fix
        .as_ref()
        .unwrap()
        .root_cause
        .contains("has crashed many times"));
    assert!(v
        .errors
        .iter()
        .any(|e| e.error_type == "containers-restarting"
            && e.fix
                .as_ref()
                .is_some_and(|f| f.root_cause.contains("non-zero exit code (1)"))));
    assert_eq!(eu(&v).pods_with_errors, 2);
    // Image pull, OOM, readiness, False condition, HPA at max (most severe first).
    let v = view("fraud-scoring").await;
    assert!(v.errors.iter().any(|e| e.fix.as_ref().is_some_and(|f| f
        .root_cause
        .contains("could not be found or Kubernetes does not have permission"))));
    let v = view("payment-gateway").await;
    assert!(v.errors.iter().any(|e| e
        .fix
        .as_ref()
        .is_some_and(|f| f.root_cause.contains("tried to use more memory"))));
    let v = view("cart-service").await;
    assert!(v
        .errors
        .iter()
        .any(|e| e.error_type == "readiness-probe-taking-too-long"));
    let v = view("legacy-checkout").await;
    assert_eq!(v.errors[0].severity, 6);
    assert!(eu(&v).workloads[0].pods[0].containers[0]
        .label
        .contains("Unschedulable"));
    let v = view("product-catalog").await;
    assert_eq!(v.errors[0].severity, 8);
    assert_eq!(
        v.errors[0].message,
        "Current number of replicas (4) is equal to the configured max number of replicas (4)"
    );
    let hpa = eu(&v).workloads[0].hpa.clone().unwrap();
    assert_eq!((hpa.current, hpa.max), (4, 4));
    // CronJob → Jobs → pods; standalone Job; bare Pod; StatefulSet; DaemonSet.
    let v = view("order-events-etl").await;
    let cj = &eu(&v).workloads[0];
    assert_eq!(cj.kind, "CronJob");
    assert!(
        cj.jobs.len() >= 2
            && cj
                .jobs
                .iter()
                .all(|j| j.pods.len() == 1 && j.status.starts_with("Complete"))
    );
    let v = view("warehouse-backfill").await;
    let job = &eu(&v).workloads[0];
    assert_eq!(
        (job.kind.as_str(), job.status.as_str(), job.pods.len()),
        ("Job", "Complete (3/3)", 3)
    );
    let v = view("sre-toolbox").await;
    assert_eq!(eu(&v).workloads[0].kind, "Pod");
    assert_eq!(
        eu(&view("event-collector").await).workloads[0].kind,
        "StatefulSet"
    );
    let ds = eu(&view("log-shipper").await).workloads[0].clone();
    assert_eq!((ds.kind.as_str(), ds.pods.len()), ("DaemonSet", 3));
    assert!(
        ds.pods[0].cpu.as_ref().unwrap().of_limit.unwrap() > 100,
        "CPU over its limit"
    );
}

#[tokio::test]
async fn the_pod_panel_reads_only_the_entitys_pods() {
    let demo = demo().await;
    let svc = service(&two_clusters(&demo, ""), HashMap::new());
    let c = demo.cluster("greenroom-demo").unwrap();
    let pod_of = |ns: &str, id: &str| {
        c.cluster
            .store
            .all("pods")
            .iter()
            .find(|p| {
                p["metadata"]["namespace"] == ns
                    && p["metadata"]["labels"]["backstage.io/kubernetes-id"] == id
            })
            .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
            .unwrap()
    };
    use app::wire::kubernetes::{LogRequest, PodRef};
    let checkout = PodRef {
        cluster: "greenroom-demo".into(),
        namespace: "payments".into(),
        name: pod_of("payments", "checkout-service"),
    };
    let d = svc
        .pod_detail(
            "component:default/checkout-service",
            &checkout,
            &KubernetesAccess::all(),
        )
        .await
        .unwrap();
    assert!(d.containers[0]
        .state
        .starts_with("Waiting: CrashLoopBackOff"));
    assert!(d.containers[0]
        .last_termination
        .as_deref()
        .unwrap()
        .starts_with("Error, exit code 1"));
    assert!(
        d.events
            .iter()
            .any(|e| e.reason == "BackOff" && e.object.starts_with("Pod ")),
        "{:?}",
        d.events
    );
    assert!(
        d.events
            .iter()
            .any(|e| e.object == "Deployment checkout-service" && e.reason == "ScalingReplicaSet"),
        "{:?}",
        d.events
    );
    assert!(d.yaml.contains("kind: Pod") && !d.yaml.contains("managedFields"));
    let logs = svc
        .pod_logs(
            "component:default/checkout-service",
            &LogRequest {
                pod: checkout.clone(),
                container: None,
                previous: true,
                tail_lines: 50,
            },
            &KubernetesAccess::all(),
        )
        .await
        .unwrap();
    assert!(logs
        .lines
        .iter()
        .any(|(ts, l)| l.contains("PAYMENTS_GRPC_ADDR not set") && ts.starts_with("20")));
    // Another entity's pod is refused, whatever the caller asks for.
    let err = svc
        .pod_detail(
            "component:default/storefront-web",
            &checkout,
            &KubernetesAccess::all(),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("namespace 'payments' is not one of this entity's namespaces"),
        "{err}"
    );
    let err = svc
        .pod_logs(
            "component:default/fraud-scoring",
            &LogRequest {
                pod: checkout,
                container: None,
                previous: false,
                tail_lines: 5,
            },
            &KubernetesAccess::all(),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not carry this entity's labels"), "{err}");
}
