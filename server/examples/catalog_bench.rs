//! Catalog benchmark: ingest time, memory and REST query latency for synthetic catalogs.
//!
//!     . ./env.sh && cargo run --release -p server --example catalog_bench [-- 1000 20000]
//!
//! For each size it writes the entities as YAML files (50 per file, reached from one root
//! Location), loads them through the real pipeline (read, parse, validate, relations, search
//! keys), then sends requests to the real `/api/catalog` router in-process (no network: this
//! measures Greenroom's own cost per request). Prints a Markdown table for the README.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use server::catalog::config::CatalogConfig;
use server::catalog::location::{HttpUrlReader, LocationSpec, LocationType};
use server::catalog::query::synthetic_entities;
use server::catalog::reload::load;
use server::catalog::rules::Rule;
use server::catalog::store::CatalogStore;
use tower::ServiceExt;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn write_catalog(n: usize) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("greenroom-bench-{n}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let entities = synthetic_entities(n);
    let mut targets = Vec::new();
    for (i, chunk) in entities.chunks(50).enumerate() {
        let name = format!("part-{i:04}.yaml");
        let text: Vec<String> = chunk
            .iter()
            .map(|e| serde_yaml::to_string(e).expect("yaml"))
            .collect();
        std::fs::write(dir.join(&name), text.join("---\n")).expect("write");
        targets.push(format!("    - ./{name}"));
    }
    let root = format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: bench\nspec:\n  targets:\n{}\n",
        targets.join("\n")
    );
    std::fs::write(dir.join("all.yaml"), root).expect("write");
    dir
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn time_requests(
    router: &axum::Router,
    uri: &str,
    count: usize,
) -> (Duration, Duration, usize) {
    let mut times = Vec::with_capacity(count);
    let mut bytes = 0;
    for _ in 0..count {
        let req = axum::http::Request::get(uri)
            .body(Body::empty())
            .expect("request");
        let started = Instant::now();
        let res = router.clone().oneshot(req).await.expect("infallible");
        assert!(res.status().is_success(), "{uri}: {}", res.status());
        bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body")
            .len();
        times.push(started.elapsed());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99), bytes)
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 20_000]
    } else {
        sizes
    };
    println!("| entities | ingest (ms) | RSS growth (MiB) | `GET /entities?filter=kind=component` p50 / p99 (ms) | by-query first page of 20, new query p50 / p99 (ms) | same page again p50 / p99 (ms) | next page via cursor p50 (ms) | UI list page with facets, new query p50 / p99 (ms) | UI list, new text search p50 / p99 (ms) | UI list, same query again p50 (ms) |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut pages = Vec::new();
    for n in sizes {
        let dir = write_catalog(n);
        let config = CatalogConfig {
            locations: vec![LocationSpec {
                kind: LocationType::File,
                target: dir.join("all.yaml").display().to_string(),
                rules: Vec::new(),
                optional: false,
            }],
            rules: vec![Rule::allowing(&[
                "Component",
                "API",
                "Location",
                "Resource",
                "System",
                "Domain",
                "Group",
                "User",
            ])],
        };
        let before = rss_kib();
        let started = Instant::now();
        let snapshot = load(&config, &HttpUrlReader);
        let ingest = started.elapsed();
        let loaded = snapshot.entities.len();
        assert!(snapshot.errors.is_empty(), "{:?}", snapshot.errors.first());
        // The catalog page's server function: one page of rows plus every facet count. A new
        // query each time (another text term), then page 2 of one query again and again.
        let ui_page = |filters: &app::wire::CatalogFilters| {
            let started = Instant::now();
            let page = server::catalog::views::catalog_list(
                &snapshot,
                filters,
                &server::permission::Decision::Allow,
                &[],
            );
            (started.elapsed(), page)
        };
        // A new query each time: another owner (the filter index and facet counts run), or
        // another text term (the text is matched against every entity as well).
        let mut ui_cold = Vec::new();
        let mut ui_text = Vec::new();
        for i in 0..50 {
            let by_owner = app::wire::CatalogFilters {
                kind: "component".into(),
                owner: format!("group:default/team-{i}"),
                ..Default::default()
            };
            ui_cold.push(ui_page(&by_owner).0);
            let by_text = app::wire::CatalogFilters {
                kind: "component".into(),
                text: format!("number {i}"),
                ..Default::default()
            };
            let (t, page) = ui_page(&by_text);
            assert!(!page.rows.is_empty());
            ui_text.push(t);
        }
        ui_cold.sort();
        ui_text.sort();
        let filters = app::wire::CatalogFilters {
            kind: "component".into(),
            page: 2,
            ..Default::default()
        };
        let mut ui = Vec::new();
        for _ in 0..50 {
            let (t, page) = ui_page(&filters);
            ui.push(t);
            assert_eq!(page.rows.len(), server::catalog::views::PAGE_SIZE);
        }
        ui.sort();
        // The header's search as you type: every keystroke of 40 names typed in full is a
        // query (prefixes typed before are answered from the snapshot's cache, as in use).
        let mut keystrokes = Vec::new();
        for i in 0..40 {
            let name = format!("component-{}", i * 37 % (n / 2).max(1));
            for end in 1..=name.len() {
                let started = Instant::now();
                let r = server::catalog::search::search(
                    &snapshot,
                    &server::permission::Decision::Allow,
                    &name[..end],
                    8,
                );
                keystrokes.push(started.elapsed());
                assert!(end < name.len() || !r.hits.is_empty(), "{name}");
            }
        }
        keystrokes.sort();
        // Two-word searches never typed before (every word is a full pass).
        let mut fresh = Vec::new();
        for i in 0..50 {
            let started = Instant::now();
            let _ = server::catalog::search::search(
                &snapshot,
                &server::permission::Decision::Allow,
                &format!("rust team-{i}"),
                50,
            );
            fresh.push(started.elapsed());
        }
        fresh.sort();
        // A Group's page (members, ownership counts) and the APIs explorer.
        let mut group_page = Vec::new();
        let mut explorer = Vec::new();
        for i in 0..50 {
            let started = Instant::now();
            let _ = server::catalog::views::entity_detail(
                &snapshot,
                &server::permission::Decision::Allow,
                "default",
                "group",
                &format!("team-{i}"),
            );
            group_page.push(started.elapsed());
            let started = Instant::now();
            let _ = server::catalog::search::api_explorer(
                &snapshot,
                &server::permission::Decision::Allow,
                "",
                "",
                1 + i % 4,
            );
            explorer.push(started.elapsed());
        }
        group_page.sort();
        explorer.sort();
        pages.push(format!(
            "| {n} | {} / {} | {} / {} | {} / {} | {} / {} |",
            ms(percentile(&keystrokes, 0.5)),
            ms(percentile(&keystrokes, 0.99)),
            ms(percentile(&fresh, 0.5)),
            ms(percentile(&fresh, 0.99)),
            ms(percentile(&group_page, 0.5)),
            ms(percentile(&group_page, 0.99)),
            ms(percentile(&explorer, 0.5)),
            ms(percentile(&explorer, 0.99)),
        ));
        let store = Arc::new(CatalogStore::new(snapshot));
        let rss = rss_kib().saturating_sub(before);
        let router: axum::Router = server::http::catalog_api::routes(
            Arc::clone(&store),
            Arc::new(Vec::new()),
            Arc::new(server::permission::Permissions::disabled()),
        );
        let rounds = if n > 5_000 { 50 } else { 200 };
        let (list50, list99, _) = time_requests(
            &router,
            "/api/catalog/entities?filter=kind=component",
            rounds,
        )
        .await;
        // A new query each time (an extra OR'd filter that matches nothing): filter + sort run.
        let mut cold = Vec::new();
        for i in 0..50 {
            let uri = format!("/api/catalog/entities/by-query?limit=20&orderField=metadata.name,asc&filter=kind=component&filter=metadata.name=absent-{i}");
            let (t, _, _) = time_requests(&router, &uri, 1).await;
            cold.push(t);
        }
        cold.sort();
        let (cold50, cold99) = (percentile(&cold, 0.5), percentile(&cold, 0.99));
        let page_uri = "/api/catalog/entities/by-query?limit=20&orderField=metadata.name,asc&filter=kind=component";
        let (q50, q99, _) = time_requests(&router, page_uri, 500).await;
        let first: serde_json::Value = {
            let res = router
                .clone()
                .oneshot(
                    axum::http::Request::get(page_uri)
                        .body(Body::empty())
                        .expect("req"),
                )
                .await
                .expect("ok");
            serde_json::from_slice(
                &axum::body::to_bytes(res.into_body(), usize::MAX)
                    .await
                    .expect("body"),
            )
            .expect("json")
        };
        let cursor = first["pageInfo"]["nextCursor"]
            .as_str()
            .expect("next cursor")
            .to_string();
        let next_uri = format!(
            "/api/catalog/entities/by-query?limit=20&cursor={}",
            urlencode(&cursor)
        );
        let (c50, _, _) = time_requests(&router, &next_uri, 500).await;
        println!(
            "| {loaded} | {} | {:.1} | {} / {} | {} / {} | {} / {} | {} | {} / {} | {} / {} | {} |",
            ingest.as_millis(),
            rss as f64 / 1024.0,
            ms(list50),
            ms(list99),
            ms(cold50),
            ms(cold99),
            ms(q50),
            ms(q99),
            ms(c50),
            ms(percentile(&ui_cold, 0.5)),
            ms(percentile(&ui_cold, 0.99)),
            ms(percentile(&ui_text, 0.5)),
            ms(percentile(&ui_text, 0.99)),
            ms(percentile(&ui, 0.5))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!();
    println!("| entities | search as you type, per keystroke p50 / p99 (ms) | new two-word search p50 / p99 (ms) | Group page data p50 / p99 (ms) | APIs explorer p50 / p99 (ms) |");
    println!("| --- | --- | --- | --- | --- |");
    for line in pages {
        println!("{line}");
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
