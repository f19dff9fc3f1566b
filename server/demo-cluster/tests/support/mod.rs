//! Shared set-up for the integration tests: start the simulator on free ports from the bundled
//! config, frozen, and make kube-rs clients for it from a kubeconfig (as a user would).

#![allow(dead_code)]

use std::path::PathBuf;

use demo_cluster::{Options, Running, SimConfig};

/// Starts every bundled demo cluster (frozen, HTTPS, free ports).
pub async fn start() -> Running {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../catalog/clusters/demo-clusters.yaml");
    let config = SimConfig::load(&path).expect("bundled config loads");
    let opts = Options {
        bookmark_every: std::time::Duration::from_millis(200),
        ..Options::default()
    };
    demo_cluster::start(&config, &opts)
        .await
        .expect("simulator starts")
}

/// A kube client for a cluster with a bearer token, verifying TLS against the cluster's CA.
pub async fn client(running: &Running, cluster: &str, token: &str) -> kube::Client {
    let c = running.cluster(cluster).expect("cluster exists");
    let yaml = format!(
        "apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: \"{}\", certificate-authority-data: \"{}\"}}}}]\nusers: [{{name: u, user: {{token: \"{token}\"}}}}]\ncontexts: [{{name: x, context: {{cluster: c, user: u, namespace: default}}}}]\ncurrent-context: x\n",
        c.url,
        c.ca_data().expect("TLS is on"),
    );
    let kc = kube::config::Kubeconfig::from_yaml(&yaml).expect("kubeconfig parses");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
        .await
        .expect("config");
    kube::Client::try_from(cfg).expect("client")
}

/// A client for greenroom-demo with its reader token.
pub async fn reader(running: &Running) -> kube::Client {
    let token = running
        .cluster("greenroom-demo")
        .and_then(|c| c.token("greenroom-reader"))
        .expect("reader token")
        .to_string();
    client(running, "greenroom-demo", &token).await
}

/// GET a raw path and parse JSON (status errors come back as kube errors).
pub async fn get_json(client: &kube::Client, path: &str) -> Result<serde_json::Value, kube::Error> {
    let req = http::Request::get(path).body(Vec::new()).expect("request");
    let text = client.request_text(req).await?;
    Ok(serde_json::from_str(&text).expect("JSON body"))
}

/// The HTTP status of a kube error, if it was an API error.
pub fn api_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

/// One request to the control API (plain HTTP/1.1 on loopback): (status, body).
pub async fn control(running: &Running, method: &str, path: &str, body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = running
        .control_url
        .trim_start_matches("http://")
        .to_string();
    let mut s = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("control API reachable");
    let req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    let code = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}
