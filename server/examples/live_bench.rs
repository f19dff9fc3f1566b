//! Benchmark of the watch cache and live updates, with the portal and the demo clusters as
//! separate processes on loopback (HTTPS + bearer tokens to the clusters, as in production):
//!
//! 1. memory: RSS of the portal with 1, 2 and 3 clusters × 5,000 pods cached (cluster-wide
//!    mode, so one lookup caches every pod), and the growth per cached object;
//! 2. `POST /api/kubernetes/services/bench-app` from the cache: p50/p99 sequential and the
//!    throughput of 16 concurrent clients; and the same lookup without the cache for contrast;
//! 3. API-server requests per minute with 1 and with 100 open tabs (live subscribers) while the
//!    cluster changes every second, the time from each change to every tab's frame showing it,
//!    and, for contrast, 100 tabs polling every 10 s without the cache (Backstage's behaviour).
//!
//! `scripts/build.sh --release && . ./env.sh && cargo run --release -p server --example live_bench`
//! (or `-- memory`, `-- rest`, `-- tabs` for one section)

#[path = "support/harness.rs"]
mod harness;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use harness::{ms, percentile, rss_kib, Harness, Seed};
use serde_json::Value;

const BULK: usize = 5000;
const APP_REPLICAS: usize = 5;
const WINDOW: Duration = Duration::from_secs(60);

/// The restart count of a pod in a pushed view.
fn restarts_in(view: &Value, cluster: &str, pod: &str) -> Option<u64> {
    view["clusters"]
        .as_array()?
        .iter()
        .filter(|c| c["name"] == cluster)
        .flat_map(|c| c["workloads"].as_array().into_iter().flatten())
        .flat_map(|w| w["pods"].as_array().into_iter().flatten())
        .find(|p| p["name"] == pod)
        .and_then(|p| p["restarts"].as_u64())
}

async fn cached_objects(h: &Harness) -> u64 {
    let Ok((200, body)) = h.get(&format!("{}/metrics", h.portal_url)).await else {
        return 0;
    };
    String::from_utf8_lossy(&body)
        .lines()
        .filter(|l| l.starts_with("greenroom_kubernetes_cached_objects{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

async fn sequential(h: &Harness, n: usize) -> Vec<Duration> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = h.lookup("bench-app").await;
        times.push(t.elapsed());
        assert!(matches!(r, Ok((200, _))), "lookup failed: {r:?}");
    }
    times.sort();
    times
}

async fn memory(h: &mut Harness) {
    println!("\n### Memory: 5,000 pods per cluster cached (cluster-wide mode)\n");
    println!("| clusters | objects cached | RSS before | RSS cached | growth | per object | lookup p50 (cluster-wide) |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for n in 1..=3 {
        h.start_portal(n, "  cache:\n    clusterWide: true\n").await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let before = rss_kib(h.portal_pid());
        let r = h.lookup("bench-app").await;
        assert!(matches!(r, Ok((200, _))), "{r:?}");
        let times = sequential(h, 200).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after = rss_kib(h.portal_pid());
        let objects = cached_objects(h).await;
        let growth = after.saturating_sub(before);
        println!(
            "| {n} | {objects} | {:.1} MiB | {:.1} MiB | {:.1} MiB | {:.2} KiB | {} |",
            before as f64 / 1024.0,
            after as f64 / 1024.0,
            growth as f64 / 1024.0,
            growth as f64 / objects.max(1) as f64,
            ms(percentile(&times, 0.5))
        );
    }
}

async fn rest(h: &mut Harness) {
    println!(
        "\n### `POST /api/kubernetes/services/bench-app` (3 clusters, {APP_REPLICAS} pods each)\n"
    );
    println!("| path | p50 | p99 | throughput, 16 clients | p99 under load |");
    println!("| --- | --- | --- | --- | --- |");
    for (label, extra) in [
        ("cache (default)", ""),
        (
            "no cache (`cache.enabled: false`)",
            "  cache:\n    enabled: false\n",
        ),
    ] {
        h.start_portal(3, extra).await;
        let _ = sequential(h, 20).await;
        let n = if extra.is_empty() { 2000 } else { 200 };
        let times = sequential(h, n).await;
        let h2: &Harness = h;
        let stop = Instant::now() + Duration::from_secs(10);
        let done = AtomicU64::new(0);
        let under_load = Mutex::new(Vec::new());
        let clients = (0..16).map(|_| async {
            let mut mine = Vec::new();
            while Instant::now() < stop {
                let t = Instant::now();
                if let Ok((200, _)) = h2.lookup("bench-app").await {
                    mine.push(t.elapsed());
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
            under_load
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(mine);
        });
        let t = Instant::now();
        futures_util::future::join_all(clients).await;
        let rate = done.load(Ordering::Relaxed) as f64 / t.elapsed().as_secs_f64();
        let mut load = under_load.into_inner().unwrap_or_else(|p| p.into_inner());
        load.sort();
        println!(
            "| {label} | {} | {} | {rate:.0} req/s | {} |",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
            ms(percentile(&load, 0.99))
        );
    }
}

/// Opens `tabs` subscribers, changes the cluster every second for the window, and returns
/// (API-server requests in the window, latencies from change to frame).
async fn tabs(h: &mut Harness, tabs: usize) -> (u64, Vec<Duration>) {
    h.start_portal(3, "").await;
    let pods = h.app_pods("bench-1").await;
    assert_eq!(pods.len(), APP_REPLICAS, "bench-app pods: {pods:?}");
    // (when, pod, restart count it must show)
    let changes: Arc<Mutex<Vec<(Instant, String, u64)>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..tabs {
        let mut sub = h.subscribe("bench-app").await.expect("subscribe");
        sub.next().await.expect("first frame");
        let (changes, latencies, stop) = (changes.clone(), latencies.clone(), stop.clone());
        readers.push(tokio::spawn(async move {
            let mut next = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let Ok((_, data)) = sub.next().await else {
                    break;
                };
                let arrived = Instant::now();
                let view: Value = serde_json::from_str(&data).unwrap_or_default();
                let pending: Vec<_> =
                    changes.lock().unwrap_or_else(|p| p.into_inner())[next..].to_vec();
                for (at, pod, want) in pending {
                    if restarts_in(&view, "bench-1", &pod).is_some_and(|r| r >= want) {
                        latencies
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(arrived - at);
                        next += 1;
                    } else {
                        break;
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    h.reset_cluster_requests().await;
    let start = Instant::now();
    let mut counts = vec![0u64; pods.len()];
    let mut i = 0;
    while start.elapsed() < WINDOW {
        let k = i % pods.len();
        counts[k] += 1;
        let at = Instant::now();
        h.restart("bench-1", &pods[k]).await.expect("restart");
        changes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((at, pods[k].clone(), counts[k]));
        i += 1;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let requests = h.cluster_requests().await;
    // Control API calls are not counted by the clusters' stats (they are not API requests).
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.abort();
    }
    let mut l = latencies.lock().unwrap_or_else(|p| p.into_inner()).clone();
    l.sort();
    (requests, l)
}

/// `tabs` polling every 10 s (staggered) without the cache, as Backstage's tab does.
async fn polling_tabs(h: &mut Harness, tabs: usize) -> u64 {
    h.start_portal(3, "  cache:\n    enabled: false\n").await;
    h.reset_cluster_requests().await;
    let start = Instant::now();
    let h2: &Harness = h;
    let pollers = (0..tabs).map(|t| async move {
        tokio::time::sleep(Duration::from_millis((t as u64 * 10_000) / tabs as u64)).await;
        while start.elapsed() < WINDOW {
            let _ = h2.lookup("bench-app").await;
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
    });
    futures_util::future::join_all(pollers).await;
    h.cluster_requests().await
}

#[tokio::main]
async fn main() {
    let mut h = Harness::start(Seed {
        clusters: 3,
        bulk_pods: BULK,
        app_replicas: APP_REPLICAS,
        frozen: true,
        entities: 0,
    })
    .await;
    // Sections to run (default: all): memory, rest, tabs.
    let only: Vec<String> = std::env::args().skip(1).collect();
    let run = |s: &str| only.is_empty() || only.iter().any(|o| o == s);
    if run("memory") {
        memory(&mut h).await;
    }
    if run("rest") {
        rest(&mut h).await;
    }
    if !run("tabs") {
        return;
    }
    println!(
        "\n### API-server load and update latency (3 clusters, one pod restarted every second)\n"
    );
    println!("| open tabs | API-server requests per minute | change → frame p50 | p95 | max | frames checked |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for n in [1, 100] {
        let (requests, l) = tabs(&mut h, n).await;
        let per_min = requests as f64 * 60.0 / WINDOW.as_secs_f64();
        println!(
            "| {n} (live, cache) | {per_min:.0} | {} | {} | {} | {} |",
            ms(percentile(&l, 0.5)),
            ms(percentile(&l, 0.95)),
            ms(l.last().copied().unwrap_or_default()),
            l.len()
        );
    }
    let polled = polling_tabs(&mut h, 100).await;
    println!(
        "| 100 (polling every 10 s, no cache) | {:.0} | up to 10 s | | | |",
        polled as f64 * 60.0 / WINDOW.as_secs_f64()
    );
}
