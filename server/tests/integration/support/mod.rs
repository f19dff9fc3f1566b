//! Shared by the Kubernetes integration tests: the demo cluster started in-process, a service
//! built from an app-config string over the bundled catalog, and small readers of responses.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use server::catalog::store::CatalogStore;
use server::kubernetes::auth::Authenticator;
use server::kubernetes::KubernetesService;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub async fn demo() -> demo_cluster::Running {
    let config =
        demo_cluster::SimConfig::load(&repo().join("catalog/clusters/demo-clusters.yaml")).unwrap();
    demo_cluster::start(&config, &demo_cluster::Options::default())
        .await
        .unwrap()
}

/// A temp dir holding an app-config and the sts CA.
pub struct Dir(pub PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn dir(tag: &str) -> Dir {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "greenroom-k8s-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&d).unwrap();
    Dir(d)
}

/// Loads `yaml` as app-config with `env`, and builds the service.
pub fn service(yaml: &str, env: HashMap<String, String>) -> KubernetesService {
    service_with_catalog(yaml, env, None)
}

/// [`service`], with one more catalog file holding `extra_entities` (YAML documents).
pub fn service_with_catalog(
    yaml: &str,
    env: HashMap<String, String>,
    extra_entities: Option<&str>,
) -> KubernetesService {
    let d = dir("cfg");
    let file = d.0.join("app-config.yaml");
    // The bundled catalog (52 entities), so entities are looked up as in the portal.
    let mut catalog_block = format!(
        "\ncatalog:\n  rules:\n    - allow: [Component, System, API, Resource, Location, Domain, Group, User]\n  locations:\n    - type: file\n      target: {}\n",
        repo().join("catalog/all.yaml").display()
    );
    if let Some(extra) = extra_entities {
        let f = d.0.join("extra-entities.yaml");
        std::fs::write(&f, extra).unwrap();
        catalog_block.push_str(&format!(
            "    - type: file\n      target: {}\n",
            f.display()
        ));
    }
    std::fs::write(&file, format!("{yaml}{catalog_block}")).unwrap();
    let loaded = server::config::load(&server::config::LoadOptions {
        files: vec![file],
        cwd: d.0.clone(),
        env: env.clone(),
    })
    .unwrap_or_else(|e| panic!("{e:?}"));
    let k = server::kubernetes::config::read(&loaded.config, &d.0)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .expect("kubernetes block");
    let aws =
        server::kubernetes::aws_config::read(&loaded.config).unwrap_or_else(|e| panic!("{e:?}"));
    let catalog_config =
        server::catalog::config::read(&loaded.config, &d.0).unwrap_or_else(|e| panic!("{e:?}"));
    let catalog = Arc::new(CatalogStore::new(server::catalog::reload::load(
        &catalog_config,
        &server::catalog::location::HttpUrlReader,
    )));
    assert!(catalog.snapshot().entities.len() >= 52);
    KubernetesService::new(k, Authenticator::new(aws, &env), catalog)
}

pub fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn pod_names(item: &Value) -> Vec<String> {
    let mut n: Vec<String> = item["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "pods")
        .flat_map(|r| {
            r["resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        })
        .collect();
    n.sort();
    n
}

pub fn verified(c: &demo_cluster::RunningCluster, name: &str, extra: &str) -> String {
    format!("        - url: {}\n          name: {name}\n          authProvider: serviceAccount\n          serviceAccountToken: {}\n          caData: {}\n{extra}", c.url, c.token("greenroom-reader").unwrap(), c.ca_data().unwrap())
}

pub fn two_clusters(demo: &demo_cluster::Running, extra: &str) -> String {
    format!(
        "kubernetes:\n  serviceLocatorMethod:\n    type: multiTenant\n  fetchTimeoutMs: 1500\n  clusterLocatorMethods:\n    - type: config\n      clusters:\n{}{}",
        verified(demo.cluster("greenroom-demo").unwrap(), "greenroom-demo", extra),
        verified(demo.cluster("demo-us").unwrap(), "demo-us", "")
    )
}

/// One request to the demo cluster's control API (plain HTTP on loopback); (status, body).
pub async fn control(base: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Reads SSE frames from a body until one arrives; (id, event, data).
pub async fn next_frame(
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
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), body.next())
            .await
            .expect("a frame within 10 s")
            .expect("stream open")
            .unwrap();
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}
