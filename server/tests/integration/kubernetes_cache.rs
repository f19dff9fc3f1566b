//! The watch cache against the demo cluster: its answers equal a fresh list after every step of
//! churn (create, relabel in and out of the selector, delete, scale, rollout, restart, a
//! replaced pod, store compaction), with cluster-wide and with per-namespace informers; lookups from memory
//! send no lists; pod metrics are fetched once per interval however many lookups; idle watches
//! stop; live feeds push a change and resume after `Last-Event-ID`; `/metrics` reports it all.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use server::permission::{KubernetesAccess, Permissions};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::*;
use axum::body::Body;
use http::Request;
use serde_json::{json, Value};
use server::kubernetes::KubernetesService;
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
    let cluster_wide = service(&base, Default::default());
    let per_namespace = service(
        &base.replace(
            "  fetchTimeoutMs: 1500\n",
            "  fetchTimeoutMs: 1500\n  cache:\n    clusterWide: false\n",
        ),
        Default::default(),
    );
    assert!(cluster_wide.cache().unwrap().cluster_wide());
    assert!(!per_namespace.cache().unwrap().cluster_wide());
    let storefront = cluster_wide
        .entity("component:default/storefront-web")
        .unwrap();
    // A namespace list, and a label-selector annotation.
    let both_namespaces = json!({"kind": "Component", "metadata": {"name": "x", "annotations": {"backstage.io/kubernetes-id": "storefront-web", "backstage.io/kubernetes-namespace": "storefront,storefront-staging"}}});
    let cart = cluster_wide
        .entity("component:default/cart-service")
        .unwrap();
    let entities = [&storefront, &both_namespaces, &cart];
    let check = |step: &'static str| {
        let (a, b) = (&cluster_wide, &per_namespace);
        async move {
            let mut first = Value::Null;
            for e in entities {
                let x = settled(a, e, step).await;
                let y = settled(b, e, step).await;
                assert_eq!(x, y, "{step}: per-namespace mode differs");
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
        cluster_wide
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

    // A change elsewhere in the cluster (another entity's pod, same namespace) wakes the feed
    // but builds no frame: the next frame is the next change to this entity's pods.
    ok(
        &demo,
        "POST",
        &format!("/clusters/{CLUSTER}/apply"),
        &EXTRA_POD.replace("churn-probe", "unrelated-probe").replace(
            "kubernetes-id: storefront-web",
            "kubernetes-id: someone-else",
        ),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    ok(
        &demo,
        "PATCH",
        &format!("/clusters/{CLUSTER}/objects/pods/storefront/churn-probe"),
        r#"{"metadata":{"labels":{"tier":"probe"}}}"#,
    )
    .await;
    let (id_next, _, view) = next_frame(&mut a, &mut buf_a).await;
    let seq = |id: &str| id.rsplit('.').next().unwrap().parse::<u64>().unwrap();
    assert_eq!(
        seq(&id_next),
        seq(&id2) + 1,
        "a frame was built for an unrelated change"
    );
    assert!(view.to_string().contains("churn-probe"), "{view}");

    // Reconnect with the last id seen: nothing is resent until the next change.
    drop(a);
    let mut c = open(Some(id_next.clone())).await;
    let mut buf_c = String::new();
    ok(
        &demo,
        "DELETE",
        &format!("/clusters/{CLUSTER}/objects/pods/storefront/churn-probe"),
        "",
    )
    .await;
    let (id3, _, view) = next_frame(&mut c, &mut buf_c).await;
    assert_ne!(id3, id_next);
    assert_eq!(pod_count(&view), 3);

    svc.sample_gauges();
    let text = registry.render();
    for want in [
        "greenroom_kubernetes_viewers 2\n",
        "greenroom_kubernetes_feeds 1\n",
        "greenroom_kubernetes_requests_total{cluster=\"greenroom-demo\",verb=\"watch\",group=\"\",resource=\"pods\",code=\"200\"}",
        "greenroom_kubernetes_requests_total{cluster=\"greenroom-demo\",verb=\"list\",group=\"apps\",resource=\"deployments\",code=\"200\"}",
        "greenroom_kubernetes_watches{cluster=\"greenroom-demo\",health=\"ready\"} 13\n",
        "greenroom_kubernetes_request_duration_seconds_count{cluster=\"greenroom-demo\",verb=\"list\",group=\"\",resource=\"pods\"}",
    ] {
        assert!(text.contains(want), "missing {want}\n{text}");
    }
    // Informers hold the whole cluster's pods (every namespace), not just this entity's.
    let cached_pods: f64 = text
        .lines()
        .find_map(|l| {
            l.strip_prefix(
                "greenroom_kubernetes_cached_objects{cluster=\"greenroom-demo\",resource=\"pods\"} ",
            )
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no cached pods gauge\n{text}"));
    assert!(cached_pods > 4.0, "{cached_pods}");
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

fn requests(demo: &demo_cluster::Running, verb: &str, resource: &str) -> u64 {
    let s = demo.cluster(CLUSTER).unwrap().cluster.stats.snapshot();
    s["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verb"] == verb && r["resource"].as_str().unwrap_or("").contains(resource))
        .map(|r| r["count"].as_u64().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_clusters_are_watched_from_boot_one_informer_per_type_whatever_the_lookups() {
    let demo = demo().await;
    let svc = service(&two_clusters(&demo, ""), Default::default());
    assert!(!svc.is_ready(), "ready before the first lists");
    svc.warm_up(Duration::from_secs(20)).await;
    assert!(svc.is_ready());
    let cache = svc.cache().unwrap();
    let types = svc.config().object_types.len() + svc.config().custom_resources.len();
    // Two clusters, one informer per object type each (greenroom-demo's CRD is configured on
    // the demo's own config, not here), all cluster-wide.
    assert_eq!(cache.entries().len(), 2 * types);
    assert!(cache.entries().iter().all(|e| e.key.namespace.is_none()));
    // Pod metrics are not watchable (fetched per namespace and selector, every interval): only
    // the object lists count here.
    let object_lists = || lists(&demo) - requests(&demo, "list", "metrics.k8s.io");
    // Each informer opens its watch right after its first list.
    let give_up = Instant::now() + Duration::from_secs(10);
    while (requests(&demo, "watch", "") as usize) < types {
        assert!(
            Instant::now() < give_up,
            "the informers never started watching"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (lists_after_boot, watches_after_boot) = (object_lists(), requests(&demo, "watch", ""));
    assert_eq!(watches_after_boot as usize, types, "one watch per type");
    assert_eq!(
        lists_after_boot as usize, types,
        "one list per type at boot"
    );

    // Every component of the catalog looked up: no list, no new watch, no new informer.
    let snapshot = svc.catalog_store().snapshot();
    let components: Vec<String> = snapshot
        .entities
        .iter()
        .map(|e| e.value())
        .filter(|e| e["kind"] == "Component")
        .map(|e| {
            format!(
                "component:{}/{}",
                e["metadata"]["namespace"].as_str().unwrap_or("default"),
                e["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert!(components.len() >= 10, "{components:?}");
    let mut answers = Vec::new();
    for c in &components {
        let r = svc
            .objects_for_ref(c, None, &KubernetesAccess::all())
            .await
            .unwrap_or_else(|e| panic!("{c}: {e}"));
        answers.push(r);
    }
    assert_eq!(object_lists(), lists_after_boot, "a lookup sent a list");
    assert_eq!(
        requests(&demo, "watch", ""),
        watches_after_boot,
        "a lookup opened a watch"
    );
    assert_eq!(cache.entries().len(), 2 * types);
    // Each lookup selected only its own objects out of the cluster-wide informers.
    let mut with_pods = 0;
    for (c, r) in components.iter().zip(&answers) {
        let listed = svc
            .objects_by_entity_listed(&svc.entity(c).unwrap(), None)
            .await
            .unwrap();
        assert_eq!(
            comparable(r),
            comparable(&listed),
            "{c}: cache and list differ"
        );
        if !pods_of(&comparable(r)).is_empty() {
            with_pods += 1;
        }
    }
    assert!(with_pods >= 3, "{with_pods} components with pods");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_followed_log_is_one_upstream_stream_for_every_viewer() {
    let demo = demo().await;
    let svc = Arc::new(service(&two_clusters(&demo, ""), Default::default()));
    let live = Arc::new(server::kubernetes::live::Live::new(Arc::clone(&svc)));
    let app = server::http::kubernetes_api::ui_routes::<()>(
        Arc::clone(&live),
        Arc::new(Permissions::disabled()),
    );
    let entity = "component:default/storefront-web";
    let answer = serde_json::to_value(
        svc.objects_for_ref(entity, None, &KubernetesAccess::all())
            .await
            .unwrap(),
    )
    .unwrap();
    let pod = pods_of(&answer)[0].clone();
    let url = |pod: &str| {
        format!("/api/greenroom/kubernetes/logs/follow?entity=component%3Adefault%2Fstorefront-web&cluster={CLUSTER}&namespace=storefront&pod={pod}&tail=3")
    };
    let open = |u: String| {
        let app = app.clone();
        async move {
            let resp = app
                .oneshot(Request::get(u).body(Body::empty()).unwrap())
                .await
                .unwrap();
            (resp.status(), resp)
        }
    };
    let mut viewers = Vec::new();
    for _ in 0..2 {
        let (status, resp) = open(url(&pod)).await;
        assert_eq!(status, 200);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        let mut body = resp.into_body().into_data_stream();
        let mut buf = String::new();
        let (_, event, lines) = next_frame(&mut body, &mut buf).await;
        assert_eq!(event, "lines");
        let n = lines.as_array().unwrap().len();
        assert!((1..=3).contains(&n), "the last 3 lines first: {lines}");
        viewers.push((body, buf));
    }
    ok(
        &demo,
        "POST",
        &format!("/clusters/{CLUSTER}/pods/storefront/{pod}/log"),
        r#"{"line":"followed line 1"}"#,
    )
    .await;
    for (body, buf) in &mut viewers {
        let give_up = Instant::now() + Duration::from_secs(10);
        loop {
            assert!(Instant::now() < give_up, "the new line never arrived");
            let (_, event, lines) = next_frame(body, buf).await;
            assert_eq!(event, "lines");
            if lines.to_string().contains("followed line 1") {
                let ts = lines[0][0].as_str().unwrap();
                assert!(ts.starts_with("20") && ts.ends_with('Z'), "{lines}");
                break;
            }
        }
    }
    assert_eq!(
        requests(&demo, "get", "log"),
        1,
        "one upstream log stream for two viewers"
    );
    drop(viewers);

    // The pod panel's checks: a pod of another entity, or an invalid container name.
    let other = serde_json::to_value(
        svc.objects_for_ref(
            "component:default/cart-service",
            None,
            &KubernetesAccess::all(),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    let other_pod = pods_of(&other)[0].clone();
    let (status, _) = open(url(&other_pod)).await;
    assert!(status.is_client_error(), "{status}");
    let (status, _) = open(format!("{}&container=..%2Fx", url(&pod))).await;
    assert_eq!(status, 400);
}
