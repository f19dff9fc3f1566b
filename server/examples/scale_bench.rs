//! Benchmark of how the portal's cost grows with the catalog and the cluster: the portal and a
//! demo cluster as separate processes on loopback (HTTPS + a bearer token), 1,000 components
//! with 4 pods each (4,000 pods, plus a 5-pod Deployment), and lookups of N distinct entities
//! in sequence, each looked up once (cold) and then again (warm):
//!
//! 1. `-- entities`: for N = 10, 100, 1,000: watches and TCP connections to the cluster, file
//!    descriptors and RSS of the portal after the N lookups; cold and warm lookup p50/p95/max;
//!    the time to ready (readiness answering 200) from the portal's start.
//! 2. `-- pods`: cluster-size scaling: RSS and lookup p50 with 10,000 and 100,000 pods.
//! 3. `-- logs`: a followed log with 1 and with 50 viewers of one pod: latency from a new line
//!    (control API) to every viewer, and the API-server requests per minute.
//!
//! `scripts/build.sh --release && . ./env.sh && cargo run --release -p server --example scale_bench`

#[path = "support/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::{ms, percentile, rss_kib, Harness, Seed};
use serde_json::Value;

/// ESTABLISHED TCP connections to `port` on loopback (from /proc/net/tcp; the portal is the
/// only client of the demo cluster).
fn connections_to(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default()
        + &std::fs::read_to_string("/proc/net/tcp6").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3
                && f[3] == "01"
                && f[2]
                    .rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok())
                    == Some(port)
        })
        .count()
}

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

async fn metric_sum(h: &Harness, prefix: &str) -> f64 {
    let Ok((200, body)) = h.get(&format!("{}/metrics", h.portal_url)).await else {
        return 0.0;
    };
    String::from_utf8_lossy(&body)
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn until_ready(h: &Harness) -> Duration {
    let t = Instant::now();
    loop {
        if let Ok((200, _)) = h
            .get(&format!("{}/.backstage/health/v1/readiness", h.portal_url))
            .await
        {
            return t.elapsed();
        }
        assert!(t.elapsed() < Duration::from_secs(300), "never ready");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn cluster_port(h: &Harness) -> u16 {
    h.clusters[0]
        .url
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .unwrap_or(0)
}

async fn lookups(h: &Harness, names: &[String]) -> Vec<Duration> {
    let mut times = Vec::with_capacity(names.len());
    for n in names {
        let t = Instant::now();
        let r = h.lookup(n).await;
        times.push(t.elapsed());
        match r {
            Ok((200, body)) => {
                let v: Value = serde_json::from_slice(&body).unwrap_or_default();
                assert!(
                    v["items"][0]["errors"].as_array().is_none_or(Vec::is_empty),
                    "{n}: {v}"
                );
            }
            other => panic!("{n}: {other:?}"),
        }
    }
    times.sort();
    times
}

fn stats(t: &[Duration]) -> String {
    format!(
        "{} / {} / {}",
        ms(percentile(t, 0.5)),
        ms(percentile(t, 0.95)),
        ms(t.last().copied().unwrap_or_default())
    )
}

async fn entities() {
    println!("\n### Lookups of N distinct entities (1 cluster, 4,005 pods, 1,000 components)\n");
    let mut h = Harness::start(Seed {
        clusters: 1,
        bulk_pods: 4000,
        app_replicas: 5,
        frozen: true,
        entities: 1000,
    })
    .await;
    let port = cluster_port(&h);
    println!("| N | ready after start | watches | connections to the cluster | file descriptors | RSS | cold p50 / p95 / max | warm p50 / p95 / max |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for n in [10usize, 100, 1000] {
        let started = Instant::now();
        h.start_portal(1, "").await;
        let ready = until_ready(&h).await + started.elapsed().saturating_sub(Duration::ZERO);
        let names: Vec<String> = (0..n).map(|i| format!("bench-e{i}")).collect();
        let cold = lookups(&h, &names).await;
        let warm = lookups(&h, &names).await;
        let pid = h.portal_pid();
        println!(
            "| {n} | {} | {} | {} | {} | {:.1} MiB | {} | {} |",
            ms(ready),
            metric_sum(&h, "greenroom_kubernetes_watches{").await,
            connections_to(port),
            fds(pid),
            rss_kib(pid) as f64 / 1024.0,
            stats(&cold),
            stats(&warm)
        );
    }
}

async fn pods() {
    println!("\n### Cluster size: one lookup of 5 pods out of all of them\n");
    println!("| pods in the cluster | ready after start | RSS ready | cached JSON | lookup p50 / p95 / max |");
    println!("| --- | --- | --- | --- | --- |");
    for bulk in [10_000usize, 100_000] {
        let mut h = Harness::start(Seed {
            clusters: 1,
            bulk_pods: bulk,
            app_replicas: 5,
            frozen: true,
            entities: 1000,
        })
        .await;
        let started = Instant::now();
        h.start_portal(1, "").await;
        let ready = until_ready(&h).await.max(started.elapsed());
        let times = lookups(&h, &vec!["bench-app".to_string(); 200]).await;
        println!(
            "| {} | {} | {:.1} MiB | {:.1} MiB | {} |",
            bulk + 5,
            ms(ready),
            rss_kib(h.portal_pid()) as f64 / 1024.0,
            metric_sum(&h, "greenroom_kubernetes_cached_bytes{").await / 1048576.0,
            stats(&times)
        );
    }
}

async fn logs() {
    println!(
        "\n### A followed log: 1 and 50 viewers of one pod, a new line every second for 30 s\n"
    );
    println!("| viewers | line → every viewer p50 | p95 | max | API-server requests per minute |");
    println!("| --- | --- | --- | --- | --- |");
    let mut h = Harness::start(Seed {
        clusters: 1,
        bulk_pods: 0,
        app_replicas: 1,
        frozen: true,
        entities: 0,
    })
    .await;
    h.start_portal(1, "").await;
    until_ready(&h).await;
    let cluster = h.clusters[0].name.clone();
    let pod = h.app_pods(&cluster).await[0].clone();
    for viewers in [1usize, 50] {
        let url = format!(
            "{}/api/greenroom/kubernetes/logs/follow?entity=component%3Adefault%2Fbench-app&cluster={cluster}&namespace=bench&pod={pod}&tail=1",
            h.portal_url
        );
        let mut streams = Vec::new();
        for _ in 0..viewers {
            let mut s = h.open_sse(&url).await.expect("follow");
            s.next().await.expect("first batch");
            streams.push(s);
        }
        h.reset_cluster_requests().await;
        let window = Instant::now();
        let mut latencies = Vec::new();
        for i in 0..30 {
            let line = format!("bench line {viewers}-{i}");
            let t = Instant::now();
            h.add_log_line(&cluster, &pod, &line).await;
            for s in &mut streams {
                loop {
                    let (_, data) = s.next().await.expect("a batch");
                    if data.contains(&line) {
                        break;
                    }
                }
                latencies.push(t.elapsed());
            }
            tokio::time::sleep(Duration::from_secs(1).saturating_sub(t.elapsed())).await;
        }
        let per_minute = h.cluster_requests().await as f64 * 60.0 / window.elapsed().as_secs_f64();
        latencies.sort();
        println!(
            "| {viewers} | {} | {} | {} | {per_minute:.1} |",
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.95)),
            ms(latencies.last().copied().unwrap_or_default())
        );
        drop(streams);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// `viewers` clients each loading `url` every 2 s for 20 s: API-server requests per minute.
async fn viewers(h: &Harness, viewers: usize, url: &str) -> f64 {
    h.reset_cluster_requests().await;
    let window = Instant::now();
    let one = |v: usize| async move {
        tokio::time::sleep(Duration::from_millis((v as u64 * 20) % 2000)).await;
        for _ in 0..10 {
            let t = Instant::now();
            let (code, _) = h.get(url).await.expect("catalog page");
            assert_eq!(code, 200);
            tokio::time::sleep(Duration::from_secs(2).saturating_sub(t.elapsed())).await;
        }
    };
    futures_util::future::join_all((0..viewers).map(one)).await;
    h.cluster_requests().await as f64 * 60.0 / window.elapsed().as_secs_f64()
}

async fn health() {
    println!("\n### The catalog list with its health column (25 rows), over 50,000 pods\n");
    println!("| components | page p50 / p99 | RSS | API-server requests per minute: 1 viewer | 100 viewers |");
    println!("| --- | --- | --- | --- | --- |");
    for entities in [1_000usize, 20_000] {
        let mut h = Harness::start(Seed {
            clusters: 1,
            bulk_pods: 50_000,
            app_replicas: 5,
            frozen: true,
            entities,
        })
        .await;
        h.start_portal(1, "").await;
        until_ready(&h).await;
        let pages = (entities / 25).min(40);
        let mut times = Vec::new();
        for i in 0..200 {
            let url = format!(
                "{}/catalog?kind=component&page={}",
                h.portal_url,
                i % pages + 1
            );
            let t = Instant::now();
            let (code, body) = h.get(&url).await.expect("catalog page");
            times.push(t.elapsed());
            assert_eq!(code, 200);
            assert!(
                String::from_utf8_lossy(&body).contains("health-cell"),
                "the page has a health column"
            );
        }
        times.sort();
        let url = format!("{}/catalog?kind=component", h.portal_url);
        let one = viewers(&h, 1, &url).await;
        let hundred = viewers(&h, 100, &url).await;
        println!(
            "| {entities} | {} / {} | {:.1} MiB | {one:.1} | {hundred:.1} |",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
            rss_kib(h.portal_pid()) as f64 / 1024.0,
        );
    }
}

#[tokio::main]
async fn main() {
    let only: Vec<String> = std::env::args().skip(1).collect();
    let want = |s: &str| only.is_empty() || only.iter().any(|o| o == s);
    if want("entities") {
        entities().await;
    }
    if want("pods") {
        pods().await;
    }
    if want("logs") {
        logs().await;
    }
    if want("health") {
        health().await;
    }
}
