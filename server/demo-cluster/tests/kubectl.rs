//! kubectl (the real one, from the machine) as an independent client: the same TLS, token and
//! REST paths a user's terminal would use.

mod support;

use std::process::Command;

fn kubectl(
    url: &str,
    ca_file: &std::path::Path,
    token: &str,
    args: &[&str],
) -> (bool, String, String) {
    let out = Command::new("kubectl")
        .args([
            "--server",
            url,
            "--certificate-authority",
            &ca_file.display().to_string(),
            "--token",
            token,
            "--kubeconfig",
            "/dev/null",
        ])
        .args(args)
        .output()
        .expect("kubectl is installed (the README's setup installs it on machines without it)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn kubectl_gets_pods_by_label_and_reads_logs() {
    let running = support::start().await;
    let c = running.cluster("greenroom-demo").expect("cluster");
    let dir = std::env::temp_dir().join(format!("demo-cluster-kubectl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let ca = dir.join("ca.crt");
    std::fs::write(&ca, c.ca_pem.as_deref().expect("tls")).expect("write ca");
    let url = c.url.clone();
    let token = c.token("greenroom-reader").expect("token").to_string();
    let (url2, ca2, token2) = (url.clone(), ca.clone(), token.clone());
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        kubectl(
            &url2,
            &ca2,
            &token2,
            &[
                "get",
                "pods",
                "-n",
                "backstage",
                "-l",
                "backstage.io/kubernetes-id=backstage-app",
                "-o",
                "jsonpath={.items[*].metadata.name}",
            ],
        )
    })
    .await
    .expect("join");
    assert!(ok, "{err}");
    let names: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(names.len(), 1, "{out}");
    assert!(names[0].starts_with("backstage-"));
    // Table output (server-side printing) with the pod's status column.
    let (url2, ca2, token2) = (url.clone(), ca.clone(), token.clone());
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        kubectl(
            &url2,
            &ca2,
            &token2,
            &[
                "get",
                "pods",
                "-n",
                "payments",
                "-l",
                "backstage.io/kubernetes-id=checkout-service",
            ],
        )
    })
    .await
    .expect("join");
    assert!(ok, "{err}");
    assert!(
        out.contains("CrashLoopBackOff") && out.contains("READY"),
        "{out}"
    );
    let pod = out
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .expect("a pod row")
        .to_string();
    let (url2, ca2, token2) = (url.clone(), ca.clone(), token.clone());
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        kubectl(
            &url2,
            &ca2,
            &token2,
            &["logs", "-n", "payments", &pod, "--previous"],
        )
    })
    .await
    .expect("join");
    assert!(ok, "{err}");
    assert!(out.contains("PAYMENTS_GRPC_ADDR not set"), "{out}");
    // A wrong token: kubectl reports the 401.
    let (url2, ca2) = (url.clone(), ca.clone());
    let (ok, _, err) =
        tokio::task::spawn_blocking(move || kubectl(&url2, &ca2, "wrong", &["get", "pods", "-A"]))
            .await
            .expect("join");
    assert!(!ok);
    assert!(
        err.contains("Unauthorized") || err.contains("must be logged in"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
