//! Soak and load: live subscribers (default 500) and REST clients (default 16) against the
//! portal for a bounded time (default 180 s) while the demo clusters churn (a container restart
//! every 250 ms, a scale between 5 and 8 replicas every 5 s, a pod deleted and replaced every
//! 7 s). Everything runs on loopback. Prints a summary and exits non-zero on any error, or if the
//! portal's memory grew by more than 20% after the warm-up.
//!
//! `scripts/soak.sh [--seconds N] [--subscribers N] [--rest-clients N]`

#[path = "support/harness.rs"]
mod harness;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use harness::{ms, percentile, rss_kib, Harness, Seed};
use serde_json::{json, Value};

const ENTITIES: [&str; 4] = ["bench-app", "bench-bulk-1", "bench-bulk-2", "bench-bulk-3"];

fn arg(name: &str, default: u64, max: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    let v = args
        .iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    assert!(v >= 1 && v <= max, "{name} must be between 1 and {max}");
    v
}

#[derive(Default)]
struct Counts {
    frames: AtomicU64,
    stream_errors: AtomicU64,
    reconnects: AtomicU64,
    rest_ok: AtomicU64,
    rest_errors: AtomicU64,
    churn_errors: AtomicU64,
}

async fn churn(h: &Harness, stop: &AtomicBool, counts: &Counts) {
    let mut i = 0u64;
    let mut replicas = 5;
    while !stop.load(Ordering::Relaxed) {
        let cluster = format!("bench-{}", 1 + i % 3);
        let pods = h.app_pods(&cluster).await;
        let ok = if i % 20 == 19 {
            replicas = if replicas >= 8 { 5 } else { replicas + 1 };
            h.send(
                "PATCH",
                &format!(
                    "{}/clusters/{cluster}/objects/deployments/bench/bench-app",
                    h.control
                ),
                &json!({"spec": {"replicas": replicas}}),
            )
            .await
            .is_ok_and(|(s, _)| s < 300)
        } else if i % 28 == 27 && !pods.is_empty() {
            let pod = &pods[(i as usize) % pods.len()];
            h.send(
                "DELETE",
                &format!("{}/clusters/{cluster}/objects/pods/bench/{pod}", h.control),
                &Value::Null,
            )
            .await
            .is_ok_and(|(s, _)| s < 300)
        } else if let Some(pod) = pods.get((i as usize) % pods.len().max(1)) {
            h.restart(&cluster, pod).await.is_ok()
        } else {
            false
        };
        if !ok {
            counts.churn_errors.fetch_add(1, Ordering::Relaxed);
        }
        i += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::main]
async fn main() {
    let seconds = arg("--seconds", 180, 1800);
    let subscribers = arg("--subscribers", 500, 2000) as usize;
    let rest_clients = arg("--rest-clients", 16, 64) as usize;
    let mut h = Harness::start(Seed {
        clusters: 3,
        bulk_pods: 100,
        app_replicas: 5,
        frozen: true,
        entities: 0,
    })
    .await;
    h.start_portal(3, "").await;
    let h = Arc::new(h);
    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));
    eprintln!("soak: {subscribers} subscribers, {rest_clients} REST clients, {seconds} s");

    let mut tasks = Vec::new();
    for n in 0..subscribers {
        let (h, counts, stop) = (h.clone(), counts.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let entity = ENTITIES[n % ENTITIES.len()];
            let mut first = true;
            while !stop.load(Ordering::Relaxed) {
                if !first {
                    counts.reconnects.fetch_add(1, Ordering::Relaxed);
                }
                first = false;
                let mut sub = match h.subscribe(entity).await {
                    Ok(s) => s,
                    Err(e) => {
                        counts.stream_errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("subscribe {entity}: {e}");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                loop {
                    match sub.next().await {
                        Ok((event, _)) if event == "view" => {
                            counts.frames.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok((event, data)) => {
                            counts.stream_errors.fetch_add(1, Ordering::Relaxed);
                            eprintln!("{entity}: {event}: {data}");
                        }
                        Err(e) => {
                            if !stop.load(Ordering::Relaxed) {
                                counts.stream_errors.fetch_add(1, Ordering::Relaxed);
                                eprintln!("{entity}: stream: {e}");
                            }
                            break;
                        }
                    }
                }
            }
        }));
    }
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    for n in 0..rest_clients {
        let (h, counts, stop, latencies) =
            (h.clone(), counts.clone(), stop.clone(), latencies.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = n;
            let mut mine = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let entity = ENTITIES[i % ENTITIES.len()];
                i += 1;
                let t = Instant::now();
                let ok = match h.lookup(entity).await {
                    Ok((200, body)) => serde_json::from_slice::<Value>(&body)
                        .ok()
                        .and_then(|v| v["items"].as_array().cloned())
                        .is_some_and(|items| {
                            !items.is_empty() && items.iter().all(|it| it["errors"] == json!([]))
                        }),
                    Ok((s, b)) => {
                        eprintln!("lookup {entity}: {s} {}", String::from_utf8_lossy(&b));
                        false
                    }
                    Err(e) => {
                        eprintln!("lookup {entity}: {e}");
                        false
                    }
                };
                mine.push(t.elapsed());
                let c = if ok {
                    &counts.rest_ok
                } else {
                    &counts.rest_errors
                };
                c.fetch_add(1, Ordering::Relaxed);
            }
            latencies
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(mine);
        }));
    }
    {
        let (h, counts, stop) = (h.clone(), counts.clone(), stop.clone());
        tasks.push(tokio::spawn(async move { churn(&h, &stop, &counts).await }));
    }

    let warm_up = Duration::from_secs((seconds / 6).clamp(20, 60));
    let start = Instant::now();
    let pid = h.portal_pid();
    let mut samples: Vec<(u64, u64)> = Vec::new();
    let mut warm_rss = 0;
    let mut after_warm_up_requests_reset = false;
    println!("| t (s) | portal RSS | frames received | REST requests |");
    println!("| --- | --- | --- | --- |");
    while start.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let t = start.elapsed().as_secs();
        let rss = rss_kib(pid);
        samples.push((t, rss));
        println!(
            "| {t} | {:.1} MiB | {} | {} |",
            rss as f64 / 1024.0,
            counts.frames.load(Ordering::Relaxed),
            counts.rest_ok.load(Ordering::Relaxed) + counts.rest_errors.load(Ordering::Relaxed)
        );
        if !after_warm_up_requests_reset && start.elapsed() >= warm_up {
            after_warm_up_requests_reset = true;
            warm_rss = rss;
            h.reset_cluster_requests().await;
        }
    }
    let measured = start.elapsed().saturating_sub(warm_up);
    let api_requests = h.cluster_requests().await;
    let metrics = h
        .get(&format!("{}/metrics", h.portal_url))
        .await
        .map(|(_, b)| String::from_utf8_lossy(&b).to_string())
        .unwrap_or_default();
    let viewers = metrics
        .lines()
        .find(|l| l.starts_with("greenroom_kubernetes_viewers "))
        .unwrap_or("greenroom_kubernetes_viewers ?")
        .to_string();
    stop.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(300)).await;
    for t in tasks {
        t.abort();
    }
    let mut l = latencies.lock().unwrap_or_else(|p| p.into_inner()).clone();
    l.sort();
    let end_rss = samples.last().map_or(0, |s| s.1);
    let max_rss = samples.iter().map(|s| s.1).max().unwrap_or(0);
    let growth = if warm_rss > 0 {
        (end_rss as f64 - warm_rss as f64) / warm_rss as f64 * 100.0
    } else {
        0.0
    };
    let c = &counts;
    let rest_total = c.rest_ok.load(Ordering::Relaxed) + c.rest_errors.load(Ordering::Relaxed);
    let errors = c.rest_errors.load(Ordering::Relaxed) + c.stream_errors.load(Ordering::Relaxed);
    println!("\n| soak summary | |\n| --- | --- |");
    println!(
        "| duration | {seconds} s ({} s warm-up) |",
        warm_up.as_secs()
    );
    println!("| live subscribers | {subscribers} ({viewers} at the end, from /metrics) |");
    println!(
        "| REST lookups | {rest_total} by {rest_clients} clients ({:.0}/s), p50 {}, p99 {} |",
        rest_total as f64 / seconds as f64,
        ms(percentile(&l, 0.5)),
        ms(percentile(&l, 0.99))
    );
    println!(
        "| frames pushed and received | {} |",
        c.frames.load(Ordering::Relaxed)
    );
    println!(
        "| errors | {} REST, {} stream, {} reconnects (churn calls failed: {}) |",
        c.rest_errors.load(Ordering::Relaxed),
        c.stream_errors.load(Ordering::Relaxed),
        c.reconnects.load(Ordering::Relaxed),
        c.churn_errors.load(Ordering::Relaxed)
    );
    println!(
        "| API-server requests after warm-up | {api_requests} ({:.0} per minute) |",
        api_requests as f64 * 60.0 / measured.as_secs_f64().max(1.0)
    );
    println!(
        "| portal RSS | {:.1} MiB after warm-up, {:.1} MiB at the end ({growth:+.1}%), max {:.1} MiB |",
        warm_rss as f64 / 1024.0,
        end_rss as f64 / 1024.0,
        max_rss as f64 / 1024.0
    );
    if errors > 0 || growth > 20.0 {
        eprintln!("soak FAILED: {errors} errors, memory growth {growth:+.1}%");
        std::process::exit(1);
    }
}
