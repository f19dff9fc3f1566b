//! kube-rs against the simulator over verified TLS: lists with selectors and pagination, get,
//! watcher, watch resume and 410, logs (previous, follow), 401/403, faults, metrics, and the
//! seeded scenarios. If a real client library accepts these answers, so will the portal.

mod support;

use std::time::Duration;

use futures_util::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{Api, ListParams, LogParams, WatchEvent, WatchParams};
use kube::runtime::watcher;
use serde_json::json;

fn names(pods: &[Pod]) -> Vec<String> {
    let mut n: Vec<String> = pods
        .iter()
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    n.sort();
    n
}

#[tokio::test]
async fn lists_the_articles_pods_by_label_in_their_namespace() {
    let running = support::start().await;
    let client = support::reader(&running).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "backstage");
    let list = pods
        .list(&ListParams::default().labels("backstage.io/kubernetes-id=backstage-app"))
        .await
        .expect("list");
    assert_eq!(list.items.len(), 1);
    let pod = &list.items[0];
    assert!(pod
        .metadata
        .name
        .as_deref()
        .unwrap_or("")
        .starts_with("backstage-"));
    assert_eq!(pod.metadata.namespace.as_deref(), Some("backstage"));
    let status = pod.status.as_ref().expect("status");
    assert_eq!(status.phase.as_deref(), Some("Running"));
    assert!(
        status.pod_ip.is_some()
            && pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .is_some()
    );
    let owner = &pod.metadata.owner_references.as_ref().expect("owned")[0];
    assert_eq!(owner.kind, "ReplicaSet");
    // Nothing else carries the label anywhere.
    let all: Api<Pod> = Api::all(client);
    let everywhere = all
        .list(&ListParams::default().labels("backstage.io/kubernetes-id=backstage-app"))
        .await
        .expect("list all");
    assert_eq!(names(&everywhere.items), names(&list.items));
}

#[tokio::test]
async fn set_based_selectors_and_field_selectors() {
    let running = support::start().await;
    let client = support::reader(&running).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "storefront");
    let count = |sel: &'static str| {
        let pods = pods.clone();
        async move {
            pods.list(&ListParams::default().labels(sel))
                .await
                .expect(sel)
                .items
                .len()
        }
    };
    assert_eq!(count("app=cart,tier=backend").await, 2);
    assert_eq!(count("app in (cart),tier notin (frontend)").await, 2);
    assert_eq!(count("backstage.io/kubernetes-id=storefront-web").await, 3);
    assert_eq!(
        count("backstage.io/kubernetes-id,!tier").await,
        count("backstage.io/kubernetes-id").await
    );
    assert_eq!(
        count("backstage.io/kubernetes-id!=storefront-web,backstage.io/kubernetes-id").await,
        4,
        "product-catalog at max replicas"
    );
    let all: Api<Pod> = Api::all(client.clone());
    let pending = all
        .list(&ListParams::default().fields("status.phase=Pending"))
        .await
        .expect("field selector");
    assert!(pending
        .items
        .iter()
        .all(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending")));
    assert!(
        pending.items.len() >= 2,
        "legacy-checkout and fraud-scoring are Pending"
    );
    let bad = all
        .list(&ListParams::default().fields("spec.bogus=1"))
        .await
        .expect_err("unsupported field");
    assert_eq!(support::api_code(&bad), Some(400));
}

#[tokio::test]
async fn pagination_is_a_consistent_snapshot() {
    let running = support::start().await;
    let client = support::reader(&running).await;
    let all: Api<Pod> = Api::all(client);
    let full = all.list(&ListParams::default()).await.expect("full list");
    let mut seen = Vec::new();
    let mut params = ListParams::default().limit(4);
    let mut pages = 0;
    loop {
        let page = all.list(&params).await.expect("page");
        pages += 1;
        if pages == 2 {
            // A change between pages must not show up in the paged result.
            running.cluster("greenroom-demo").expect("c").cluster.apply(json!({
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "aaa-late", "namespace": "backstage"},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]}
            })).expect("apply");
        }
        seen.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => params = params.continue_token(&c),
            None => break,
        }
    }
    assert!(pages > 3);
    assert_eq!(names(&seen), names(&full.items));
    let after = all.list(&ListParams::default()).await.expect("after");
    assert_eq!(after.items.len(), full.items.len() + 1);
}

#[tokio::test]
async fn expired_continue_token_is_410() {
    let running = support::start().await;
    let client = support::reader(&running).await;
    let all: Api<Pod> = Api::all(client);
    let page = all
        .list(&ListParams::default().limit(2))
        .await
        .expect("page");
    let token = page.metadata.continue_.expect("more pages");
    let demo = &running.cluster("greenroom-demo").expect("c").cluster;
    demo.apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bump", "namespace": "default"}})).expect("apply");
    demo.store.compact();
    let err = all
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .expect_err("expired");
    assert_eq!(support::api_code(&err), Some(410));
}

#[tokio::test]
async fn watcher_sees_creates_updates_and_deletes() {
    let running = support::start().await;
    let client = support::reader(&running).await;
    let demo = running
        .cluster("greenroom-demo")
        .expect("c")
        .cluster
        .clone();
    let pods: Api<Pod> = Api::namespaced(client, "storefront");
    let cfg = watcher::Config::default().labels("backstage.io/kubernetes-id=storefront-web");
    let mut stream = watcher(pods, cfg).boxed();
    let mut initial = 0;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.try_next())
            .await
            .expect("in time")
            .expect("ok")
        {
            Some(watcher::Event::InitApply(_)) => initial += 1,
            Some(watcher::Event::InitDone) => break,
            _ => {}
        }
    }
    assert_eq!(initial, 3);
    demo.apply(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-extra", "namespace": "storefront", "labels": {"backstage.io/kubernetes-id": "storefront-web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}})).expect("apply");
    let mut applied = false;
    while !applied {
        if let Some(watcher::Event::Apply(p)) =
            tokio::time::timeout(Duration::from_secs(10), stream.try_next())
                .await
                .expect("in time")
                .expect("ok")
        {
            applied = p.metadata.name.as_deref() == Some("web-extra");
        }
    }
    // A label change that takes the pod out of the selector is a delete for this watcher.
    let mut moved = (*demo
        .store
        .get("pods", "storefront", "web-extra")
        .expect("stored"))
    .clone();
    moved["metadata"]["labels"] = json!({"app": "other"});
    demo.store.put("pods", moved);
    let mut deleted = false;
    while !deleted {
        if let Some(watcher::Event::Delete(p)) =
            tokio::time::timeout(Duration::from_secs(10), stream.try_next())
                .await
                .expect("in time")
                .expect("ok")
        {
            deleted = p.metadata.name.as_deref() == Some("web-extra");
        }
    }
}

#[tokio::test]
async fn watch_resumes_from_a_resource_version_and_expires_with_410() {
    let running = support::start().await;
    let client = support::reader(&running).await;
    let demo = running
        .cluster("greenroom-demo")
        .expect("c")
        .cluster
        .clone();
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let rv = pods
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    for i in 0..3 {
        demo.apply(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("resume-{i}"), "namespace": "default"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}})).expect("apply");
    }
    // Resuming from rv replays what happened since, in order.
    let mut s = pods
        .watch(&WatchParams::default().timeout(5), &rv)
        .await
        .expect("watch")
        .boxed();
    let mut got = Vec::new();
    while got.len() < 3 {
        match tokio::time::timeout(Duration::from_secs(10), s.try_next())
            .await
            .expect("in time")
            .expect("ok")
        {
            Some(WatchEvent::Added(p)) => {
                let n = p.metadata.name.unwrap_or_default();
                if !got.contains(&n) {
                    got.push(n);
                }
            }
            Some(_) => {}
            None => break,
        }
    }
    assert_eq!(got, vec!["resume-0", "resume-1", "resume-2"]);
    // Bookmarks when asked for.
    let mut s = pods
        .watch(
            &WatchParams {
                bookmarks: true,
                ..WatchParams::default().timeout(5)
            },
            &demo.store.resource_version().to_string(),
        )
        .await
        .expect("watch")
        .boxed();
    let first = tokio::time::timeout(Duration::from_secs(10), s.try_next())
        .await
        .expect("in time")
        .expect("ok");
    assert!(matches!(first, Some(WatchEvent::Bookmark(_))), "{first:?}");
    // After compaction the old version is gone: an ERROR event with 410, as the API server sends it.
    demo.store.compact();
    let mut s = pods
        .watch(&WatchParams::default().timeout(5), &rv)
        .await
        .expect("watch")
        .boxed();
    match tokio::time::timeout(Duration::from_secs(10), s.try_next())
        .await
        .expect("in time")
        .expect("ok")
    {
        Some(WatchEvent::Error(e)) => assert_eq!(e.code, 410),
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
}

#[tokio::test]
async fn logs_previous_tail_and_follow() {
    let running = support::start().await;
    let client = support::reader(&running).await;
    let demo = running
        .cluster("greenroom-demo")
        .expect("c")
        .cluster
        .clone();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "payments");
    let crashing = pods
        .list(&ListParams::default().labels("backstage.io/kubernetes-id=checkout-service"))
        .await
        .expect("list");
    let name = crashing.items[0].metadata.name.clone().expect("name");
    let previous = pods
        .logs(
            &name,
            &LogParams {
                previous: true,
                ..LogParams::default()
            },
        )
        .await
        .expect("previous log");
    assert!(
        previous.contains("PAYMENTS_GRPC_ADDR not set"),
        "{previous}"
    );
    // Image never pulled: the kubelet's 400.
    let fraud = pods
        .list(&ListParams::default().labels("backstage.io/kubernetes-id=fraud-scoring"))
        .await
        .expect("list");
    let err = pods
        .logs(
            fraud.items[0].metadata.name.as_deref().unwrap_or(""),
            &LogParams::default(),
        )
        .await
        .expect_err("waiting");
    assert_eq!(support::api_code(&err), Some(400));
    // A healthy pod: tail and timestamps.
    let web: Api<Pod> = Api::namespaced(client, "storefront");
    let list = web
        .list(&ListParams::default().labels("backstage.io/kubernetes-id=storefront-web"))
        .await
        .expect("list");
    let web_pod = list.items[0].metadata.name.clone().expect("name");
    let tail = web
        .logs(
            &web_pod,
            &LogParams {
                tail_lines: Some(3),
                timestamps: true,
                ..LogParams::default()
            },
        )
        .await
        .expect("tail");
    assert_eq!(tail.lines().count(), 3);
    assert!(
        tail.lines()
            .all(|l| l.starts_with("20") && l.contains("Z ")),
        "{tail}"
    );
    // follow: a line added now arrives on the open stream.
    let mut lines = web
        .log_stream(
            &web_pod,
            &LogParams {
                follow: true,
                tail_lines: Some(1),
                ..LogParams::default()
            },
        )
        .await
        .expect("follow")
        .lines();
    let first = tokio::time::timeout(Duration::from_secs(10), lines.next())
        .await
        .expect("in time");
    assert!(first.is_some());
    demo.logs.push(
        "storefront",
        &web_pod,
        "storefront-web",
        "checkout button clicked 42 times",
    );
    loop {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next())
            .await
            .expect("in time")
            .expect("open")
            .expect("line");
        if line.contains("clicked 42 times") {
            break;
        }
    }
}

#[tokio::test]
async fn wrong_token_is_401_and_missing_rights_are_403() {
    let running = support::start().await;
    let bad = support::client(&running, "greenroom-demo", "not-a-token").await;
    let err = Api::<Pod>::all(bad)
        .list(&ListParams::default())
        .await
        .expect_err("401");
    assert_eq!(support::api_code(&err), Some(401));
    let token = running
        .cluster("greenroom-demo")
        .and_then(|c| c.token("greenroom-restricted"))
        .expect("token")
        .to_string();
    let restricted = support::client(&running, "greenroom-demo", &token).await;
    assert!(Api::<Pod>::namespaced(restricted.clone(), "payments")
        .list(&ListParams::default())
        .await
        .is_ok());
    let err = Api::<Secret>::namespaced(restricted, "payments")
        .list(&ListParams::default())
        .await
        .expect_err("403");
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 403);
            assert!(
                s.message.contains("cannot list resource \"secrets\""),
                "{}",
                s.message
            );
        }
        other => panic!("{other:?}"),
    }
    // A token of one cluster is unknown to another.
    let reader = running
        .cluster("greenroom-demo")
        .and_then(|c| c.token("greenroom-reader"))
        .expect("t")
        .to_string();
    let other = support::client(&running, "demo-us", &reader).await;
    assert_eq!(
        support::api_code(
            &Api::<Pod>::all(other)
                .list(&ListParams::default())
                .await
                .expect_err("401")
        ),
        Some(401)
    );
}

#[tokio::test]
async fn faults_fail_the_way_clusters_fail() {
    let running = support::start().await;
    let client = support::reader(&running).await;
    let demo = running
        .cluster("greenroom-demo")
        .expect("c")
        .cluster
        .clone();
    let pods: Api<Pod> = Api::all(client.clone());
    demo.set_faults(demo_cluster::Faults {
        internal_error: true,
        ..Default::default()
    });
    assert_eq!(
        support::api_code(&pods.list(&ListParams::default()).await.expect_err("500")),
        Some(500)
    );
    demo.set_faults(demo_cluster::Faults {
        malformed: true,
        ..Default::default()
    });
    assert!(matches!(
        pods.list(&ListParams::default())
            .await
            .expect_err("garbage"),
        kube::Error::SerdeError(_)
    ));
    demo.set_faults(demo_cluster::Faults {
        refuse: true,
        ..Default::default()
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = support::reader(&running).await;
    let err = Api::<Pod>::all(refused)
        .list(&ListParams::default())
        .await
        .expect_err("refused");
    assert!(
        format!("{err:?}").to_lowercase().contains("refused"),
        "{err:?}"
    );
    demo.set_faults(demo_cluster::Faults {
        close: true,
        ..Default::default()
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let closed = support::reader(&running).await;
    assert!(Api::<Pod>::all(closed)
        .list(&ListParams::default())
        .await
        .is_err());
    demo.set_faults(demo_cluster::Faults {
        delay_ms: 300,
        ..Default::default()
    });
    let slow = support::reader(&running).await;
    assert!(Api::<Pod>::all(slow)
        .list(&ListParams::default())
        .await
        .is_ok());
    demo.set_faults(demo_cluster::Faults::default());
    let fine = support::reader(&running).await;
    assert!(Api::<Pod>::all(fine)
        .list(&ListParams::default())
        .await
        .is_ok());
}

#[tokio::test]
async fn discovery_and_metrics() {
    let running = support::start().await;
    let client = support::reader(&running).await;
    let version = client.apiserver_version().await.expect("version");
    assert_eq!(version.major, "1");
    let core = support::get_json(&client, "/api/v1")
        .await
        .expect("core discovery");
    assert!(core["resources"]
        .as_array()
        .expect("list")
        .iter()
        .any(|r| r["name"] == "pods/log"));
    let groups = support::get_json(&client, "/apis").await.expect("groups");
    let group_names: Vec<&str> = groups["groups"]
        .as_array()
        .expect("g")
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    for g in [
        "apps",
        "batch",
        "autoscaling",
        "networking.k8s.io",
        "metrics.k8s.io",
        "demo.greenroom.dev",
    ] {
        assert!(group_names.contains(&g), "{g} missing from {group_names:?}");
    }
    let canaries = support::get_json(&client, "/apis/demo.greenroom.dev/v1/namespaces/storefront/canaries?labelSelector=backstage.io%2Fkubernetes-id%3Dstorefront-web").await.expect("custom resources");
    assert_eq!(canaries["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(canaries["items"][0]["kind"], "Canary");
    let m = support::get_json(&client, "/apis/metrics.k8s.io/v1beta1/namespaces/data/pods?labelSelector=backstage.io%2Fkubernetes-id%3Devent-collector").await.expect("metrics");
    let items = m["items"].as_array().expect("items");
    assert_eq!(items.len(), 3);
    assert_eq!(
        items[0]["containers"][0]["usage"]["memory"],
        format!("{}Ki", 232 * 1024)
    );
    assert_eq!(items[0]["containers"][0]["usage"]["cpu"], "410000000n");
}

#[tokio::test]
async fn every_seeded_scenario_is_there() {
    let running = support::start().await;
    let client = support::reader(&running).await;
    let pods = |ns: &'static str| Api::<Pod>::namespaced(client.clone(), ns);
    let by_id = |ns: &'static str, id: &'static str| {
        let api = pods(ns);
        async move {
            api.list(&ListParams::default().labels(&format!("backstage.io/kubernetes-id={id}")))
                .await
                .expect(id)
                .items
        }
    };
    let container = |p: &Pod| {
        p.status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .map(|c| c[0].clone())
            .expect("container status")
    };
    // Healthy multi-replica.
    let web = by_id("storefront", "storefront-web").await;
    assert_eq!(web.len(), 3);
    assert!(web.iter().all(|p| container(p).ready));
    // CrashLoopBackOff with restarts.
    let c = container(&by_id("payments", "checkout-service").await[0]);
    assert_eq!(
        c.state
            .as_ref()
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_deref()),
        Some("CrashLoopBackOff")
    );
    assert!(c.restart_count > 0);
    // ImagePullBackOff.
    let c = container(&by_id("payments", "fraud-scoring").await[0]);
    assert_eq!(
        c.state
            .as_ref()
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_deref()),
        Some("ImagePullBackOff")
    );
    // OOMKilled with restarts.
    let c = container(&by_id("payments", "payment-gateway").await[0]);
    assert_eq!(
        c.last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .map(|t| (t.reason.clone(), t.exit_code)),
        Some((Some("OOMKilled".into()), 137))
    );
    // Readiness never passes.
    let cart = pods("storefront")
        .list(&ListParams::default().labels("app=cart,tier=backend"))
        .await
        .expect("cart")
        .items;
    assert_eq!(cart.len(), 2);
    assert!(cart.iter().all(|p| !container(p).ready
        && container(p)
            .state
            .as_ref()
            .and_then(|s| s.running.as_ref())
            .is_some()));
    // HPA at max.
    let hpa = Api::<HorizontalPodAutoscaler>::namespaced(client.clone(), "storefront")
        .list(&ListParams::default().labels("backstage.io/kubernetes-id=product-catalog"))
        .await
        .expect("hpa")
        .items;
    let st = hpa[0].status.as_ref().expect("hpa status");
    assert_eq!(
        Some(st.current_replicas.unwrap_or(0)),
        Some(hpa[0].spec.as_ref().map(|s| s.max_replicas).unwrap_or(-1))
    );
    // Deployment with a False condition.
    let legacy = Api::<Deployment>::namespaced(client.clone(), "payments")
        .get("legacy-checkout")
        .await
        .expect("legacy");
    let conds = legacy
        .status
        .and_then(|s| s.conditions)
        .expect("conditions");
    assert!(conds.iter().any(|c| c.type_ == "Progressing"
        && c.status == "False"
        && c.reason.as_deref() == Some("ProgressDeadlineExceeded")));
    // CronJob → Jobs → Completed pods; a standalone Job; a bare pod; StatefulSet; DaemonSet.
    let etl = by_id("data", "order-events-etl").await;
    assert!(
        etl.len() >= 2
            && etl
                .iter()
                .all(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Succeeded"))
    );
    assert_eq!(by_id("data", "warehouse-backfill").await.len(), 3);
    let bare = Api::<Pod>::namespaced(client.clone(), "default")
        .get("sre-toolbox")
        .await
        .expect("bare pod");
    assert!(bare.metadata.owner_references.is_none());
    assert_eq!(
        names(&by_id("data", "event-collector").await),
        vec![
            "event-collector-0",
            "event-collector-1",
            "event-collector-2"
        ]
    );
    assert_eq!(by_id("observability", "log-shipper").await.len(), 3);
    // Services, Ingress, ConfigMaps, a Secret.
    for path in [
        "/api/v1/namespaces/storefront/services",
        "/apis/networking.k8s.io/v1/namespaces/storefront/ingresses",
        "/api/v1/namespaces/storefront/configmaps",
        "/api/v1/namespaces/payments/secrets",
    ] {
        let v = support::get_json(&client, path).await.expect(path);
        assert!(
            !v["items"].as_array().expect("items").is_empty(),
            "{path} is empty"
        );
    }
    // Nothing for the library without annotations; the staging copy is elsewhere.
    let all = Api::<Pod>::all(client.clone());
    assert!(all
        .list(&ListParams::default().labels("backstage.io/kubernetes-id=web-ui-kit"))
        .await
        .expect("l")
        .items
        .is_empty());
    assert_eq!(
        all.list(&ListParams::default().labels("backstage.io/kubernetes-id=storefront-web"))
            .await
            .expect("l")
            .items
            .len(),
        4
    );
    // A second cluster with other data.
    let us = support::client(
        &running,
        "demo-us",
        running
            .cluster("demo-us")
            .and_then(|c| c.token("greenroom-reader"))
            .expect("t"),
    )
    .await;
    let us_checkout = Api::<Pod>::namespaced(us, "payments")
        .list(&ListParams::default().labels("backstage.io/kubernetes-id=checkout-service"))
        .await
        .expect("us")
        .items;
    assert_eq!(us_checkout.len(), 2);
    assert!(us_checkout.iter().all(|p| container(p).ready));
}
