//! What the live benchmark and the soak share: the built `demo-cluster` and `greenroom`
//! binaries started as separate processes on loopback (as in production: the portal's memory is
//! its own), a generated catalog and app-config, and a small HTTP client.
//!
//! Needs `scripts/build.sh --release` first (both binaries and the site).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

/// The HTTP client (pooled, plain HTTP on loopback).
pub type Http = Client<HttpConnector, Full<Bytes>>;

/// What to seed in each cluster (namespace `bench`).
#[derive(Clone, Copy)]
pub struct Seed {
    /// Clusters `bench-1` .. `bench-n`.
    pub clusters: usize,
    /// Bare pods labelled `backstage.io/kubernetes-id: bench-bulk-<i>` in cluster i.
    pub bulk_pods: usize,
    /// Replicas of the `bench-app` Deployment in every cluster (the entity that is looked up).
    pub app_replicas: usize,
    /// `--frozen`: nothing changes but what the caller changes.
    pub frozen: bool,
    /// With more than 0, bulk pod `n` is labelled `bench-e<n % entities>` instead, and the
    /// catalog holds the components `bench-e0` .. (so many entities, each with a few pods).
    pub entities: usize,
}

/// A cluster as the portal's config needs it.
pub struct ClusterInfo {
    /// Name.
    pub name: String,
    /// API server URL.
    pub url: String,
    /// CA (base64 PEM).
    pub ca_data: String,
    /// Service-account token.
    pub token: String,
}

/// The running processes.
pub struct Harness {
    /// Scratch directory.
    pub dir: PathBuf,
    sim: Child,
    portal: Option<Child>,
    /// Control API base URL.
    pub control: String,
    /// The clusters.
    pub clusters: Vec<ClusterInfo>,
    /// `http://127.0.0.1:<port>` of the portal.
    pub portal_url: String,
    /// The client.
    pub http: Http,
    /// [`Seed::entities`].
    pub entities: usize,
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(p) = self.portal.as_mut() {
            let _ = p.kill();
            let _ = p.wait();
        }
        let _ = self.sim.kill();
        let _ = self.sim.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn binary(name: &str) -> PathBuf {
    let p = repo().join("target/release").join(name);
    assert!(
        p.exists(),
        "{} is missing: run scripts/build.sh --release first",
        p.display()
    );
    p
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Resident set size of a process, KiB.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn manifests(i: usize, seed: &Seed) -> String {
    let mut y = String::from("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench\n");
    y.push_str(&format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bench-app\n  namespace: bench\n  labels:\n    backstage.io/kubernetes-id: bench-app\nspec:\n  replicas: {}\n  selector:\n    matchLabels:\n      app: bench-app\n  template:\n    metadata:\n      labels:\n        app: bench-app\n        backstage.io/kubernetes-id: bench-app\n    spec:\n      containers:\n        - name: app\n          image: acme/bench-app:1.0.0\n          resources:\n            requests: {{cpu: 100m, memory: 64Mi}}\n            limits: {{cpu: 500m, memory: 128Mi}}\n",
        seed.app_replicas
    ));
    y.push_str("---\napiVersion: v1\nkind: Service\nmetadata:\n  name: bench-app\n  namespace: bench\n  labels:\n    backstage.io/kubernetes-id: bench-app\nspec:\n  selector:\n    app: bench-app\n  ports:\n    - name: http\n      port: 80\n      targetPort: 8080\n");
    for n in 0..seed.bulk_pods {
        let id = if seed.entities > 0 {
            format!("bench-e{}", n % seed.entities)
        } else {
            format!("bench-bulk-{i}")
        };
        y.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: bulk-{n:06}\n  namespace: bench\n  labels:\n    backstage.io/kubernetes-id: {id}\n    app: bulk\nspec:\n  containers:\n    - name: worker\n      image: acme/bulk-worker:2.3.1\n      resources:\n        requests: {{cpu: 50m, memory: 32Mi}}\n"
        ));
    }
    y
}

fn catalog(clusters: usize, entities: usize) -> String {
    let component = |name: &str| {
        format!("---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  annotations:\n    backstage.io/kubernetes-id: {name}\n    backstage.io/kubernetes-namespace: bench\nspec:\n  type: service\n  lifecycle: production\n  owner: bench\n")
    };
    let mut y = component("bench-app");
    for i in 1..=clusters {
        y.push_str(&component(&format!("bench-bulk-{i}")));
    }
    for e in 0..entities {
        y.push_str(&component(&format!("bench-e{e}")));
    }
    y
}

impl Harness {
    /// Seeds and starts the demo clusters.
    pub async fn start(seed: Seed) -> Harness {
        let dir = std::env::temp_dir().join(format!("greenroom-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let mut sim_yaml = String::from("clusters:\n");
        for i in 1..=seed.clusters {
            let m = dir.join(format!("bench-{i}"));
            std::fs::create_dir_all(&m).expect("manifest dir");
            std::fs::write(m.join("bench.yaml"), manifests(i, &seed)).expect("manifests");
            sim_yaml.push_str(&format!(
                "  - name: bench-{i}\n    manifests: ./bench-{i}\n    serviceAccounts:\n      - name: reader\n        namespace: default\n"
            ));
        }
        std::fs::write(dir.join("sim.yaml"), sim_yaml).expect("sim config");
        let state = dir.join("state");
        let mut cmd = Command::new(binary("demo-cluster"));
        cmd.arg("--config")
            .arg(dir.join("sim.yaml"))
            .arg("--state-dir")
            .arg(&state)
            .args(["--base-port", "0", "--control-port", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("demo-cluster.log")).expect("log"),
            ));
        if seed.frozen {
            cmd.arg("--frozen");
        }
        let sim = cmd.spawn().expect("demo-cluster starts");
        let t = Instant::now();
        let described: Value = loop {
            if let Some(v) = std::fs::read_to_string(state.join("state.json"))
                .ok()
                .and_then(|s| serde_json::from_str(&s).ok())
            {
                break v;
            }
            assert!(
                t.elapsed() < Duration::from_secs(300),
                "demo-cluster did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        eprintln!(
            "demo-cluster: {} clusters, {} bulk pods each, up in {:.1} s",
            seed.clusters,
            seed.bulk_pods,
            t.elapsed().as_secs_f64()
        );
        let clusters = described["clusters"]
            .as_array()
            .expect("clusters")
            .iter()
            .map(|c| ClusterInfo {
                name: c["name"].as_str().unwrap_or_default().to_string(),
                url: c["url"].as_str().unwrap_or_default().to_string(),
                ca_data: c["caData"].as_str().unwrap_or_default().to_string(),
                token: c["serviceAccounts"][0]["token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            })
            .collect();
        Harness {
            control: described["controlUrl"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            dir,
            sim,
            portal: None,
            clusters,
            portal_url: String::new(),
            entities: seed.entities,
            http: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(64)
                .build_http(),
        }
    }

    /// (Re)starts the portal on the first `clusters` clusters; `kubernetes_extra` is YAML
    /// appended inside the `kubernetes:` block (indented two spaces).
    pub async fn start_portal(&mut self, clusters: usize, kubernetes_extra: &str) {
        if let Some(mut p) = self.portal.take() {
            let _ = p.kill();
            let _ = p.wait();
        }
        let port = free_port();
        std::fs::write(
            self.dir.join("catalog.yaml"),
            catalog(self.clusters.len(), self.entities),
        )
        .expect("catalog");
        let mut cfg = format!(
            "app:\n  title: bench\n  baseUrl: http://127.0.0.1:{port}\nbackend:\n  baseUrl: http://127.0.0.1:{port}\n  listen:\n    host: 127.0.0.1\n    port: {port}\ncatalog:\n  locations:\n    - type: file\n      target: {}\nkubernetes:\n  serviceLocatorMethod:\n    type: multiTenant\n  fetchTimeoutMs: 30000\n{kubernetes_extra}  clusterLocatorMethods:\n    - type: config\n      clusters:\n",
            self.dir.join("catalog.yaml").display()
        );
        for c in &self.clusters[..clusters] {
            cfg.push_str(&format!(
                "        - name: {}\n          url: {}\n          authProvider: serviceAccount\n          serviceAccountToken: {}\n          caData: {}\n",
                c.name, c.url, c.token, c.ca_data
            ));
        }
        let file = self.dir.join("app-config.yaml");
        std::fs::write(&file, cfg).expect("app-config");
        let portal = Command::new(binary("greenroom"))
            .current_dir(repo())
            .arg("serve")
            .arg("--config")
            .arg(&file)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(self.dir.join("greenroom.log")).expect("log"),
            ))
            .spawn()
            .expect("greenroom starts");
        self.portal = Some(portal);
        self.portal_url = format!("http://127.0.0.1:{port}");
        let t = Instant::now();
        loop {
            if let Ok((200, _)) = self.get(&format!("{}/healthz", self.portal_url)).await {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "greenroom did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The portal's pid.
    pub fn portal_pid(&self) -> u32 {
        self.portal.as_ref().map(Child::id).unwrap_or(0)
    }

    /// GET; (status, body).
    pub async fn get(&self, url: &str) -> Result<(u16, Bytes), String> {
        let req = http::Request::get(url)
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        self.call(req).await
    }

    /// A request with a JSON body; (status, body).
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        body: &Value,
    ) -> Result<(u16, Bytes), String> {
        let req = http::Request::builder()
            .method(method)
            .uri(url)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| e.to_string())?;
        self.call(req).await
    }

    async fn call(&self, req: http::Request<Full<Bytes>>) -> Result<(u16, Bytes), String> {
        let resp = self.http.request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, body))
    }

    /// `POST /api/kubernetes/services/<name>` for a component; (status, body).
    pub async fn lookup(&self, name: &str) -> Result<(u16, Bytes), String> {
        self.send(
            "POST",
            &format!("{}/api/kubernetes/services/{name}", self.portal_url),
            &json!({"entity": {"kind": "Component", "metadata": {"name": name, "namespace": "default"}}}),
        )
        .await
    }

    /// Requests the demo clusters have served since the last reset.
    pub async fn cluster_requests(&self) -> u64 {
        let mut total = 0;
        for c in &self.clusters {
            if let Ok((200, b)) = self
                .get(&format!("{}/clusters/{}/stats", self.control, c.name))
                .await
            {
                total += serde_json::from_slice::<Value>(&b)
                    .map_or(0, |v| v["total"].as_u64().unwrap_or(0));
            }
        }
        total
    }

    /// Zeroes the demo clusters' request counters.
    pub async fn reset_cluster_requests(&self) {
        for c in &self.clusters {
            let _ = self
                .send(
                    "DELETE",
                    &format!("{}/clusters/{}/stats", self.control, c.name),
                    &Value::Null,
                )
                .await;
        }
    }

    /// Restarts the containers of a pod (a change every viewer of the entity sees).
    pub async fn restart(&self, cluster: &str, pod: &str) -> Result<(), String> {
        match self
            .send(
                "POST",
                &format!(
                    "{}/clusters/{cluster}/pods/bench/{pod}/restart",
                    self.control
                ),
                &Value::Null,
            )
            .await?
        {
            (s, _) if (200..300).contains(&s) => Ok(()),
            (s, b) => Err(format!(
                "restart {pod}: {s} {}",
                String::from_utf8_lossy(&b)
            )),
        }
    }

    /// Appends a line to the log of every container of a `bench` pod (control API).
    pub async fn add_log_line(&self, cluster: &str, pod: &str, line: &str) {
        let r = self
            .send(
                "POST",
                &format!("{}/clusters/{cluster}/pods/bench/{pod}/log", self.control),
                &serde_json::json!({ "line": line }),
            )
            .await;
        assert!(
            matches!(&r, Ok((s, _)) if (200..300).contains(s)),
            "log line: {r:?}"
        );
    }

    /// The names of `bench-app`'s pods on a cluster, from a lookup.
    pub async fn app_pods(&self, cluster: &str) -> Vec<String> {
        let Ok((200, body)) = self.lookup("bench-app").await else {
            return Vec::new();
        };
        let v: Value = serde_json::from_slice(&body).unwrap_or_default();
        v["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|i| i["cluster"]["name"] == cluster)
            .flat_map(|i| i["resources"].as_array().into_iter().flatten())
            .filter(|r| r["type"] == "pods")
            .flat_map(|r| r["resources"].as_array().into_iter().flatten())
            .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
            .collect()
    }
}

/// A live subscription: reads SSE frames and reports when each arrives.
pub struct Sse {
    body: hyper::body::Incoming,
    buf: String,
}

impl Harness {
    /// Opens `/api/greenroom/kubernetes/live` for a component.
    pub async fn subscribe(&self, name: &str) -> Result<Sse, String> {
        self.open_sse(&format!(
            "{}/api/greenroom/kubernetes/live?entity=component%3Adefault%2F{name}",
            self.portal_url
        ))
        .await
    }

    /// Opens a Server-Sent Events stream of the portal.
    pub async fn open_sse(&self, url: &str) -> Result<Sse, String> {
        let req = http::Request::get(url)
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        let resp = self.http.request(req).await.map_err(|e| e.to_string())?;
        if resp.status() != 200 {
            return Err(format!("{url}: HTTP {}", resp.status()));
        }
        Ok(Sse {
            body: resp.into_body(),
            buf: String::new(),
        })
    }
}

impl Sse {
    /// The next frame: (event, data). `Err` when the stream ends or breaks.
    pub async fn next(&mut self) -> Result<(String, String), String> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut event = String::new();
                let mut data = String::new();
                for l in block.lines() {
                    if let Some(v) = l.strip_prefix("event:") {
                        event = v.trim().to_string();
                    } else if let Some(v) = l.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue;
                }
                return Ok((event, data));
            }
            match self.body.frame().await {
                Some(Ok(f)) => {
                    if let Ok(d) = f.into_data() {
                        self.buf.push_str(&String::from_utf8_lossy(&d));
                    }
                }
                Some(Err(e)) => return Err(e.to_string()),
                None => return Err("stream ended".into()),
            }
        }
    }
}

/// The p-th percentile of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}
