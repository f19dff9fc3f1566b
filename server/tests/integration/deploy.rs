//! The deployment files (issue 17): `deploy/kubernetes` rendered by `kubectl kustomize` (as
//! `kubectl apply -k` would render them), the objects checked, and the app-config they mount
//! checked by the `greenroom` binary the image runs; the `Dockerfile`'s promises read from it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The objects of an overlay, rendered.
fn render(overlay: &str) -> Vec<Value> {
    let dir = repo().join("deploy/kubernetes/overlays").join(overlay);
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(&dir)
        .output()
        .expect("kubectl is needed (scripts/setup.sh --test installs it)");
    assert!(
        out.status.success(),
        "kubectl kustomize {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| {
            serde_yaml::from_value::<Value>(serde_yaml::Value::deserialize(doc).expect("yaml"))
                .expect("json")
        })
        .collect()
}

fn one<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = objects.iter().filter(|o| o["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "one {kind} expected");
    found[0]
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Checks shared by both overlays; returns the config files the container is started with,
/// written out with the values the Deployment gives their variables.
fn check_common(objects: &[Value], dir: &Path) -> Vec<PathBuf> {
    let deployment = one(objects, "Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];

    // Probes on Backstage's health paths, on the port the container listens on.
    assert_eq!(
        container["readinessProbe"]["httpGet"]["path"],
        "/.backstage/health/v1/readiness"
    );
    assert_eq!(
        container["livenessProbe"]["httpGet"]["path"],
        "/.backstage/health/v1/liveness"
    );
    assert_eq!(container["ports"][0]["containerPort"], 7007);

    // Non-root, read-only root filesystem, no privilege escalation, no capabilities.
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_ne!(pod["securityContext"]["runAsUser"], 0);
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        container["securityContext"]["allowPrivilegeEscalation"],
        false
    );
    assert_eq!(
        strings(&container["securityContext"]["capabilities"]["drop"]),
        vec!["ALL"]
    );

    // RBAC: read-only verbs, never secrets, bound to the pod's ServiceAccount.
    let role = one(objects, "ClusterRole");
    let mut resources = BTreeSet::new();
    for rule in role["rules"].as_array().expect("rules") {
        for verb in strings(&rule["verbs"]) {
            assert!(
                ["get", "list", "watch"].contains(&verb.as_str()),
                "a write verb in the ClusterRole: {verb}"
            );
        }
        for group in strings(&rule["apiGroups"]) {
            for r in strings(&rule["resources"]) {
                assert!(r != "secrets" && r != "*", "the ClusterRole reads {r}");
                resources.insert(format!("{group}/{r}"));
            }
        }
    }
    for needed in [
        "/pods",
        "/pods/log",
        "/events",
        "apps/deployments",
        "apps/replicasets",
        "autoscaling/horizontalpodautoscalers",
        "batch/cronjobs",
        "networking.k8s.io/ingresses",
        "metrics.k8s.io/pods",
    ] {
        assert!(
            resources.contains(needed),
            "the ClusterRole lacks {needed}: {resources:?}"
        );
    }
    let account = one(objects, "ServiceAccount");
    assert_eq!(pod["serviceAccountName"], account["metadata"]["name"]);
    let binding = one(objects, "ClusterRoleBinding");
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    assert_eq!(binding["subjects"][0]["name"], account["metadata"]["name"]);
    assert_eq!(
        binding["subjects"][0]["namespace"],
        deployment["metadata"]["namespace"]
    );

    // The Service selects the pods.
    let service = one(objects, "Service");
    let template_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    for (k, v) in service["spec"]["selector"].as_object().expect("selector") {
        assert_eq!(
            &template_labels[k], v,
            "the Service does not select the pods"
        );
    }

    // Every --config file is in the mounted ConfigMap, at the mount path.
    let args = strings(&container["args"]);
    let configs: Vec<&str> = args
        .windows(2)
        .filter(|w| w[0] == "--config")
        .map(|w| w[1].as_str())
        .collect();
    assert!(!configs.is_empty(), "no --config in {args:?}");
    let mount = container["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .find(|m| m["name"] == "config")
        .expect("config mount");
    assert_eq!(mount["readOnly"], true);
    let volume = pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == "config")
        .expect("config volume");
    let map_name = volume["configMap"]["name"].as_str().expect("configMap");
    let map = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == map_name)
        .expect("the mounted ConfigMap is rendered");
    // Variables the config uses, with the values the Deployment gives (secrets: placeholders).
    let mut env: Vec<(String, String)> = Vec::new();
    for e in container["env"].as_array().expect("env") {
        let name = e["name"].as_str().expect("name").to_string();
        let value = match e["value"].as_str() {
            Some(v) => v.to_string(),
            None => {
                assert!(
                    e["valueFrom"]["secretKeyRef"]["name"].is_string(),
                    "{name}: neither a value nor a Secret reference"
                );
                match name.as_str() {
                    "POSTGRES_PORT" => "5432".into(),
                    "AUTH_SESSION_SECRET" => "a-session-secret-of-at-least-32-characters!".into(),
                    _ => format!("secret-{name}"),
                }
            }
        };
        env.push((name, value));
    }
    let mount_path = mount["mountPath"].as_str().expect("mountPath");
    let mut files = Vec::new();
    for config in configs {
        let key = config
            .strip_prefix(&format!("{mount_path}/"))
            .unwrap_or_else(|| panic!("{config} is not under the config mount {mount_path}"));
        let text = map["data"][key]
            .as_str()
            .unwrap_or_else(|| panic!("the ConfigMap has no {key}"));
        let file = dir.join(key);
        std::fs::write(&file, text).expect("write config");
        files.push(file);
    }
    // `greenroom validate` with the Deployment's environment: the config the pod gets is one
    // the binary accepts (keys, types, database, in-cluster Kubernetes access).
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_greenroom"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in &env {
        cmd.env(k, v);
    }
    cmd.arg("validate");
    for f in &files {
        cmd.arg("--config").arg(f);
    }
    let out = cmd.output().expect("run greenroom validate");
    assert!(
        out.status.success(),
        "greenroom validate rejects the deployed config:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    files
}

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("greenroom-deploy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

#[test]
fn sqlite_overlay_is_one_replica_on_a_volume() {
    let objects = render("sqlite");
    let dir = workdir("sqlite");
    let files = check_common(&objects, &dir);
    let deployment = one(&objects, "Deployment");
    assert_eq!(deployment["spec"]["replicas"], 1);
    assert_eq!(deployment["spec"]["strategy"]["type"], "Recreate");
    let pod = &deployment["spec"]["template"]["spec"];
    let data = pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == "data")
        .expect("data volume");
    let claim = data["persistentVolumeClaim"]["claimName"]
        .as_str()
        .expect("a PVC");
    assert!(data.get("emptyDir").is_none());
    assert!(objects
        .iter()
        .any(|o| o["kind"] == "PersistentVolumeClaim" && o["metadata"]["name"] == claim));
    // The database directory of the config is the mounted volume.
    let config = std::fs::read_to_string(&files[0]).expect("config");
    let mount = pod["containers"][0]["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .find(|m| m["name"] == "data")
        .expect("data mount");
    let path = mount["mountPath"].as_str().expect("path");
    assert!(config.contains(&format!("directory: {path}")), "{config}");
}

#[test]
fn postgres_overlay_runs_replicas_with_secrets_from_secret_objects() {
    let objects = render("postgres");
    let dir = workdir("postgres");
    let files = check_common(&objects, &dir);
    let deployment = one(&objects, "Deployment");
    assert!(deployment["spec"]["replicas"].as_u64().expect("replicas") >= 2);
    assert_eq!(
        deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"],
        0
    );
    let pdb = one(&objects, "PodDisruptionBudget");
    assert_eq!(
        pdb["spec"]["selector"]["matchLabels"],
        deployment["spec"]["selector"]["matchLabels"]
    );
    let layered = std::fs::read_to_string(files.last().expect("files")).expect("config");
    assert!(layered.contains("client: pg"), "{layered}");
    assert!(
        layered.contains("${POSTGRES_PASSWORD}"),
        "no password in the ConfigMap"
    );
    assert!(layered.contains("${AUTH_SESSION_SECRET}"), "{layered}");
    // No secret value anywhere in what is rendered.
    for o in &objects {
        assert_ne!(o["kind"], "Secret", "secrets are referenced, not shipped");
    }
}

#[test]
fn dockerfile_builds_in_stages_and_runs_unprivileged() {
    let text = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    let froms: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(
        froms.len(),
        2,
        "a build stage and a runtime stage: {froms:?}"
    );
    let runtime = text.split(froms[1]).nth(1).expect("runtime stage");
    let user = runtime
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("USER in the runtime stage");
    assert!(
        !user.starts_with('0') && !user.starts_with("root"),
        "runs as {user}"
    );
    assert!(runtime.contains("COPY --from=build /out/site /app/site"));
    assert!(runtime.contains("ENV GREENROOM_SITE_ROOT=/app/site"));
    // The image's own config files are the ones its CMD names.
    let cmd = runtime
        .lines()
        .find_map(|l| l.strip_prefix("CMD "))
        .expect("CMD");
    let cmd: Vec<String> = serde_json::from_str(cmd).expect("CMD in exec form");
    assert_eq!(cmd[0], "serve");
    for file in cmd.iter().skip(1).filter(|a| a.starts_with('/')) {
        let name = file
            .strip_prefix("/app/config/")
            .expect("under /app/config");
        assert!(
            text.contains(&format!("/out/config/{name}")),
            "{name} is not put in the image"
        );
    }
}
