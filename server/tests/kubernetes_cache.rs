//! The watch cache against the demo cluster: its answers equal a fresh list after every step of
//! churn (create, relabel in and out of the selector, delete, scale, rollout, restart, a
//! replaced pod, store compaction), in per-selector and in cluster-wide mode; lookups from memory
//! send no lists; pod metrics are fetched once per interval however many lookups; idle watches
//! stop; live feeds push a change and resume after `Last-Event-ID`; `/metrics` reports it all.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use server::permission::{KubernetesAccess, Permissions};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use http::Request;
use serde_json::{json, Value};
use server::kubernetes::KubernetesService;
use support::*;
use tower::ServiceExt;

const CLUSTER: &str = "greenroom-demo";

/// The response without podMetrics (those are shared per interval, compared separately).
fn comparable(r: &server::kubernetes::types::ObjectsByEntityResponse) -> Value {
    let mut v = serde_json::to_value(r).unwrap();
    for item in v["items"].as_array_mut().unwrap() {
        item.as_object_mut().unwrap().remove("podMetrics");
    }
    v
}

/// Waits until the cached answer equals a fresh list (watch events arrive asynchronously), and
/// returns it; fails with both if they never agree.
async fn settled(svc: &KubernetesService, entity: &Value, step: &str) -> Value {
    let give_up = Instant::now() + Duration::from_secs(10);
    loop {
        let listed = comparable(&svc.objects_by_entity_listed(entity, None).await.unwrap());
        let cached = comparable(&svc.objects_by_entity(entity, None).await.unwrap());
        if listed == cached {
            return listed;
        }
        assert!(
            Instant::now() < give_up,
            "{step}: the cache never matched a fresh list\ncached: {cached}\nlisted: {listed}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn pods_of(answer: &Value) -> Vec<String> {
    let mut names: Vec<String> = answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["cluster"]["name"] == CLUSTER)
        .flat_map(pod_names)
        .collect();
    names.sort();
    names
}

fn lists(demo: &demo_cluster::Running) -> u64 {
    let s = demo.cluster(CLUSTER).unwrap().cluster.stats.snapshot();
    s["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verb"] == "list")
        .map(|r| r["count"].as_u64().unwrap())
        .sum()
}

async fn ok(demo: &demo_cluster::Running, method: &str, path: &str, body: &str) -> String {
    let (status, text) = control(&demo.control_url, method, path, body).await;
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {text}"
    );
    text
}

const EXTRA_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: churn-probe\n  namespace: storefront\n  labels:\n    backstage.io/kubernetes-id: storefront-web\nspec:\n  containers:\n    - name: probe\n      image: busybox:1.36\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_answers_equal_a_fresh_list_under_churn() {
    let demo = demo().await;
    let base = two_clusters(&demo, "");
    let per_selector = service(&base, Default::default());
    let cluster_wide = service(
        &base.replace(
            "  fetchTimeoutMs: 1500\n",
            "  fetchTimeoutMs: 1500\n  cache:\n    clusterWide: true\n",
        ),
        Default::default(),
    );
    assert!(cluster_wide.cache().unwrap().cluster_wide());
    let storefront = per_selector
        .entity("component:default/storefront-web")
        .unwrap();
    // A namespace list, and a label-selector annotation.
    let both_namespaces = json!({"kind": "Component", "metadata": {"name": "x", "annotations": {"backstage.io/kubernetes-id": "storefront-web", "backstage.io/kubernetes-namespace": "storefront,storefront-staging"}}});
    let cart = per_selector
        .entity("component:default/cart-service")
        .unwrap();
    let entities = [&storefront, &both_namespaces, &cart];
    let check = |step: &'static str| {
        let (a, b) = (&per_selector, &cluster_wide);
        async move {
            let mut first = Value::Null;
            for e in entities {
                let x = settled(a, e, step).await;
                let y = settled(b, e, step).await;
                assert_eq!(x, y, "{step}: cluster-wide mode differs");
                if first.is_null() {
                    first = x;
                }
            }
            first
        }
    };
    let path = |p: &str| format!("/clusters/{CLUSTER}{p}");

    let start = check("start").await;
    let initial = pods_of(&start);
    assert_eq!(initial.len(), 3, "{start}");

    ok(&demo, "POST", &path("/apply"), EXTRA_POD).await;
    let created = pods_of(&check("create a pod").await);
    assert!(created.contains(&"churn-probe".to_string()), "{created:?}");

    ok(
        &demo,
        "PATCH",
        &path("/objects/pods/storefront/churn-probe"),
        r#"{"metadata":{"labels":{"tier":"probe"}}}"#,
    )
    .await;
    let relabelled = check("modify a pod").await;
    assert!(relabelled.to_string().contains("\"tier\":\"probe\""));

    ok(
        &demo,
        "PATCH",
        &path("/objects/pods/storefront/churn-probe"),
        r#"{"metadata":{"labels":{"backstage.io/kubernetes-id":"someone-else"}}}"#,
    )
    .await;
    assert_eq!(
        pods_of(&check("relabel out of the selector").await),
        initial
    );

    ok(
        &demo,
        "PATCH",
        &path("/objects/pods/storefront/churn-probe"),
        r#"{"metadata":{"labels":{"backstage.io/kubernetes-id":"storefront-web"}}}"#,
    )
    .await;
    assert_eq!(pods_of(&check("relabel back into it").await), created);

    ok(
        &demo,
        "DELETE",
        &path("/objects/pods/storefront/churn-probe"),
        "",
    )
    .await;
    assert_eq!(pods_of(&check("delete a pod").await), initial);

    ok(
        &demo,
        "PATCH",
        &path("/objects/deployments/storefront/storefront-web"),
        r#"{"spec":{"replicas":5}}"#,
    )
    .await;
    assert_eq!(pods_of(&check("scale up").await).len(), 5);

    ok(
        &demo,
        "POST",
        &path("/deployments/storefront/storefront-web/rollout"),
        "",
    )
    .await;
    let rolled = pods_of(&check("rollout").await);
    assert_eq!(rolled.len(), 5);
    assert!(
        rolled.iter().all(|p| !initial.contains(p)),
        "new pods: {rolled:?}"
    );

    ok(
        &demo,
        "POST",
        &path(&format!("/pods/storefront/{}/restart", rolled[0])),
        "",
    )
    .await;
    let restarted = check("restart a container").await;
    assert!(
        restarted.to_string().contains("\"restartCount\":1"),
        "{restarted}"
    );

    ok(
        &demo,
        "DELETE",
        &path(&format!("/objects/pods/storefront/{}", rolled[1])),
        "",
    )
    .await;
    let replaced = pods_of(&check("a deleted pod is replaced").await);
    assert_eq!(replaced.len(), 5);
    assert!(!replaced.contains(&rolled[1]));

    // Compaction: the next watch resume gets 410 Gone and re-lists.
    ok(&demo, "POST", &path("/compact"), "").await;
    ok(
        &demo,
        "PATCH",
        &path("/objects/deployments/storefront/storefront-web"),
        r#"{"spec":{"replicas":2}}"#,
    )
    .await;
    assert_eq!(
        pods_of(&check("scale down after compaction").await).len(),
        2
    );

    // Warm: lookups are answered from memory, with no list sent.
    let before = lists(&demo);
    for _ in 0..20 {
        per_selector
            .objects_by_entity(&storefront, None)
            .await
            .unwrap();
    }
    assert_eq!(lists(&demo), before, "cached lookups sent lists");
}

#[tokio::test]
async fn metrics_are_fetched_once_per_interval_and_idle_watches_stop() {
    let demo = demo().await;
    let svc = service(
        &two_clusters(&demo, "").replace(
            "  fetchTimeoutMs: 1500\n",
            "  fetchTimeoutMs: 1500\n  cache:\n    idleTimeoutMs: 1000\n    metricsIntervalMs: 60000\n",
        ),
        Default::default(),
    );
    let metric_lists = || {
        let s = demo.cluster(CLUSTER).unwrap().cluster.stats.snapshot();
        s["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                r["resource"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("pods.metrics")
            })
            .map(|r| r["count"].as_u64().unwrap())
            .sum::<u64>()
    };
    for _ in 0..10 {
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
        assert_eq!(r["items"][0]["podMetrics"].as_array().unwrap().len(), 3);
    }
    assert_eq!(metric_lists(), 1, "one metrics list for ten lookups");
    let cache = svc.cache().unwrap();
    assert!(!cache.entries().is_empty());
    // Nobody reads them: after the idle timeout the janitor stops every watch.
    let give_up = Instant::now() + Duration::from_secs(10);
    while !cache.entries().is_empty() {
        assert!(Instant::now() < give_up, "idle watches kept");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads SSE frames from a body until one arrives; (id, event, data).
async fn next_frame(
    body: &mut axum::body::BodyDataStream,
    buf: &mut String,
) -> (String, String, Value) {
    use futures_util::StreamExt;
    loop {
        if let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}:")))
                    .map(|v| v.trim_start().to_string())
                    .unwrap_or_default()
            };
            if field("data").is_empty() {
                continue; // keep-alive comment
            }
            return (
                field("id"),
                field("event"),
                serde_json::from_str(&field("data")).unwrap(),
            );
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), body.next())
            .await
            .expect("a frame within 10 s")
            .expect("stream open")
            .unwrap();
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}

fn pod_count(view: &Value) -> usize {
    view["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == CLUSTER)
        .map(|c| c["pods"].as_u64().unwrap() as usize)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_feeds_push_changes_resume_and_are_counted() {
    let demo = demo().await;
    let registry = Arc::new(server::metrics::Registry::default());
    let svc = Arc::new(
        service(&two_clusters(&demo, ""), Default::default()).with_registry(Arc::clone(&registry)),
    );
    let live = Arc::new(server::kubernetes::live::Live::new(Arc::clone(&svc)));
    let app = server::http::kubernetes_api::ui_routes::<()>(
        Arc::clone(&live),
        Arc::new(Permissions::disabled()),
    );
    let open = |last: Option<String>| {
        let app = app.clone();
        async move {
            let mut req = Request::get(
                "/api/greenroom/kubernetes/live?entity=component%3Adefault%2Fstorefront-web",
            );
            if let Some(id) = last {
                req = req.header("last-event-id", id);
            }
            let resp = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
            assert_eq!(resp.status(), 200);
            assert_eq!(resp.headers()["content-type"], "text/event-stream");
            resp.into_body().into_data_stream()
        }
    };
    let mut a = open(None).await;
    let mut buf_a = String::new();
    let (id1, event, view) = next_frame(&mut a, &mut buf_a).await;
    assert_eq!(event, "view");
    assert_eq!(pod_count(&view), 3, "{view}");
    // A second viewer shares the feed: same frame.
    let mut b = open(None).await;
    let mut buf_b = String::new();
    assert_eq!(next_frame(&mut b, &mut buf_b).await.0, id1);
    assert_eq!(live.counts(), (2, 1));

    let lists_before = lists(&demo);
    ok(
        &demo,
        "POST",
        &format!("/clusters/{CLUSTER}/apply"),
        EXTRA_POD,
    )
    .await;
    let (id2, _, view) = next_frame(&mut a, &mut buf_a).await;
    assert_ne!(id2, id1);
    assert_eq!(pod_count(&view), 4, "the new pod is pushed");
    assert_eq!(lists(&demo), lists_before, "pushed from the watch, no list");

    // Reconnect with the last id seen: nothing is resent until the next change.
    drop(a);
    let mut c = open(Some(id2.clone())).await;
    let mut buf_c = String::new();
    ok(
        &demo,
        "DELETE",
        &format!("/clusters/{CLUSTER}/objects/pods/storefront/churn-probe"),
        "",
    )
    .await;
    let (id3, _, view) = next_frame(&mut c, &mut buf_c).await;
    assert_ne!(id3, id2);
    assert_eq!(pod_count(&view), 3);

    svc.sample_gauges();
    let text = registry.render();
    for want in [
        "greenroom_kubernetes_viewers 2\n",
        "greenroom_kubernetes_feeds 1\n",
        "greenroom_kubernetes_requests_total{cluster=\"greenroom-demo\",verb=\"watch\",group=\"\",resource=\"pods\",code=\"200\"}",
        "greenroom_kubernetes_requests_total{cluster=\"greenroom-demo\",verb=\"list\",group=\"apps\",resource=\"deployments\",code=\"200\"}",
        "greenroom_kubernetes_cached_objects{cluster=\"greenroom-demo\",resource=\"pods\"} 3\n",
        "greenroom_kubernetes_watches{cluster=\"greenroom-demo\",health=\"ready\"} 13\n",
        "greenroom_kubernetes_request_duration_seconds_count{cluster=\"greenroom-demo\",verb=\"list\",group=\"\",resource=\"pods\"}",
    ] {
        assert!(text.contains(want), "missing {want}\n{text}");
    }
    drop((b, c));
    // An unknown entity is a 404, not a stream.
    let resp = app
        .clone()
        .oneshot(
            Request::get("/api/greenroom/kubernetes/live?entity=component%3Adefault%2Fnope")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}
