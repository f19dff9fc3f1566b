//! The control API over HTTP: apply/patch/delete objects (controllers and garbage collection
//! follow), fault switches, log lines and request counters.

mod support;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: canary-web, namespace: storefront, labels: {backstage.io/kubernetes-id: canary-web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: canary-web}}
  template:
    metadata: {labels: {app: canary-web, backstage.io/kubernetes-id: canary-web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
"#;

#[tokio::test]
async fn apply_patch_delete_through_the_control_api() {
    let running = support::start().await;
    let client = support::reader(&running).await;
    let pods: Api<Pod> = Api::namespaced(client, "storefront");
    let sel = ListParams::default().labels("backstage.io/kubernetes-id=canary-web");
    let (code, body) = support::control(
        &running,
        "POST",
        "/clusters/greenroom-demo/apply",
        DEPLOYMENT,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(pods.list(&sel).await.expect("list").items.len(), 2);
    let (code, body) = support::control(
        &running,
        "PATCH",
        "/clusters/greenroom-demo/objects/deployments.apps/storefront/canary-web",
        r#"{"spec":{"replicas":4}}"#,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(pods.list(&sel).await.expect("list").items.len(), 4);
    let (code, _) = support::control(
        &running,
        "DELETE",
        "/clusters/greenroom-demo/objects/deployments/storefront/canary-web",
        "",
    )
    .await;
    assert_eq!(code, 200);
    assert!(
        pods.list(&sel).await.expect("list").items.is_empty(),
        "garbage collection removed the ReplicaSet's pods"
    );
    let (code, body) = support::control(&running, "POST", "/clusters/greenroom-demo/apply", "apiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: nowhere}\nspec: {containers: [{name: c, image: busybox}]}\n").await;
    assert_eq!(code, 422);
    assert!(
        body.contains("namespaces \\\"nowhere\\\" not found"),
        "{body}"
    );
}

#[tokio::test]
async fn a_deleted_pod_is_replaced_by_its_replicaset() {
    let running = support::start().await;
    let pods: Api<Pod> = Api::namespaced(support::reader(&running).await, "storefront");
    let sel = ListParams::default().labels("backstage.io/kubernetes-id=storefront-web");
    let before: Vec<String> = pods
        .list(&sel)
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    let (code, _) = support::control(
        &running,
        "DELETE",
        &format!(
            "/clusters/greenroom-demo/objects/pods/storefront/{}",
            before[0]
        ),
        "",
    )
    .await;
    assert_eq!(code, 200);
    let after: Vec<String> = pods
        .list(&sel)
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    assert_eq!(after.len(), 3, "{after:?}");
    assert!(!after.contains(&before[0]));
}

#[tokio::test]
async fn faults_and_counters_through_the_control_api() {
    let running = support::start().await;
    let (code, _) =
        support::control(&running, "DELETE", "/clusters/greenroom-demo/stats", "").await;
    assert_eq!(code, 204);
    let pods: Api<Pod> = Api::all(support::reader(&running).await);
    pods.list(&ListParams::default()).await.expect("list");
    pods.list(&ListParams::default().labels("app=cart"))
        .await
        .expect("list");
    let (_, stats) = support::control(&running, "GET", "/clusters/greenroom-demo/stats", "").await;
    let v: serde_json::Value = serde_json::from_str(&stats).expect("json");
    let lists = v["requests"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["verb"] == "list" && r["resource"] == "pods")
        .map(|r| r["count"].clone());
    assert_eq!(lists, Some(serde_json::json!(2)));
    let (code, _) = support::control(
        &running,
        "PUT",
        "/clusters/greenroom-demo/faults",
        r#"{"internalError": true}"#,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        support::api_code(&pods.list(&ListParams::default()).await.expect_err("500")),
        Some(500)
    );
    support::control(&running, "PUT", "/clusters/greenroom-demo/faults", "{}").await;
    assert!(pods.list(&ListParams::default()).await.is_ok());
    let (code, _) = support::control(&running, "PUT", "/clusters/nope/faults", "{}").await;
    assert_eq!(code, 404);
}
