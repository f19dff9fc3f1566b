//! The `greenroom` binary as users and CI run it: exit codes, messages, default files, serving
//! and graceful shutdown.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_greenroom"));
    // Tests must not depend on the developer's environment.
    cmd.env_remove("RUST_LOG")
        .env_remove("GREENROOM_SITE_ROOT")
        .env_remove("LEPTOS_SITE_ROOT");
    cmd
}

/// A fresh directory for one test.
fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("greenroom-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write file");
    path
}

/// Runs to completion; a command still running after 60 s is killed and fails the test.
fn run(cmd: &mut Command) -> (Output, String, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn greenroom");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "greenroom {:?} still running after 60 s",
                cmd.get_args().collect::<Vec<_>>()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("collect output");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

const VALID: &str =
    "app:\n  baseUrl: http://localhost:7007\nbackend:\n  baseUrl: http://localhost:7007\n";

#[test]
fn validate_names_the_file_and_key_of_a_non_numeric_port() {
    let dir = workdir("port");
    let file = write(
        &dir,
        "bad-port.yaml",
        "app:\n  baseUrl: http://localhost:7007\nbackend:\n  baseUrl: http://localhost:7007\n  listen:\n    port: seven\n",
    );
    let (out, _, stderr) = run(bin().arg("validate").arg("--config").arg(&file));
    assert!(!out.status.success());
    assert!(stderr.contains("backend.listen.port"), "{stderr}");
    assert!(stderr.contains("bad-port.yaml"), "{stderr}");
}

#[test]
fn validate_accepts_a_valid_config_and_lists_the_files() {
    let dir = workdir("valid");
    let file = write(&dir, "app-config.yaml", VALID);
    let (out, stdout, stderr) = run(bin().arg("validate").arg("--config").arg(&file));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("configuration OK"), "{stdout}");
    assert!(stdout.contains(&file.display().to_string()), "{stdout}");
}

#[test]
fn validate_reports_every_problem_not_just_the_first() {
    let dir = workdir("many");
    let file = write(
        &dir,
        "c.yaml",
        "app:\n  baseUrl: not a url\nbackend:\n  listen: nonsense\n",
    );
    let (out, _, stderr) = run(bin().arg("validate").arg("-c").arg(&file));
    assert!(!out.status.success());
    assert!(stderr.contains("app.baseUrl"), "{stderr}");
    assert!(stderr.contains("backend.baseUrl"), "{stderr}");
    assert!(stderr.contains("backend.listen"), "{stderr}");
    assert!(stderr.contains("3 problem(s)"), "{stderr}");
}

#[test]
fn unset_variable_in_a_required_key_is_an_error_naming_the_variable() {
    let dir = workdir("unset-required");
    let file = write(
        &dir,
        "c.yaml",
        "app:\n  baseUrl: ${GREENROOM_TEST_UNSET_URL}\nbackend:\n  baseUrl: http://localhost:7007\n",
    );
    let (out, _, stderr) = run(bin()
        .env_remove("GREENROOM_TEST_UNSET_URL")
        .arg("validate")
        .arg("--config")
        .arg(&file));
    assert!(!out.status.success());
    assert!(stderr.contains("GREENROOM_TEST_UNSET_URL"), "{stderr}");
    assert!(stderr.contains("app.baseUrl"), "{stderr}");
}

#[test]
fn unset_variable_in_an_optional_key_is_a_warning() {
    let dir = workdir("unset-optional");
    let file = write(
        &dir,
        "c.yaml",
        &format!("{VALID}organization:\n  name: ${{GREENROOM_TEST_UNSET_ORG}}\n"),
    );
    let (out, stdout, stderr) = run(bin()
        .env_remove("GREENROOM_TEST_UNSET_ORG")
        .arg("validate")
        .arg("--config")
        .arg(&file));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("warning:"), "{stderr}");
    assert!(stderr.contains("GREENROOM_TEST_UNSET_ORG"), "{stderr}");
    assert!(stdout.contains("1 warning(s)"), "{stdout}");
}

#[test]
fn a_missing_config_file_is_named() {
    let dir = workdir("missing");
    let (out, _, stderr) = run(bin()
        .arg("validate")
        .arg("--config")
        .arg(dir.join("nope.yaml")));
    assert!(!out.status.success());
    assert!(stderr.contains("nope.yaml"), "{stderr}");
}

#[test]
fn default_files_are_app_config_then_local_from_the_working_dir() {
    let dir = workdir("defaults");
    write(
        &dir,
        "app-config.yaml",
        "app:\n  baseUrl: http://a.example\nbackend:\n  baseUrl: http://a.example\n",
    );
    write(
        &dir,
        "app-config.local.yaml",
        "app:\n  baseUrl: not a url\n",
    );
    let (out, _, stderr) = run(bin().current_dir(&dir).arg("validate"));
    // The local file wins, so its broken value is the one checked.
    assert!(!out.status.success());
    assert!(stderr.contains("app-config.local.yaml"), "{stderr}");
    assert!(stderr.contains("'not a url'"), "{stderr}");

    std::fs::remove_file(dir.join("app-config.local.yaml")).expect("rm");
    let (out, stdout, stderr) = run(bin().current_dir(&dir).arg("validate"));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("app-config.yaml"), "{stdout}");
}

#[test]
fn app_config_env_overrides_reach_the_settings() {
    let dir = workdir("envoverride");
    let file = write(&dir, "c.yaml", VALID);
    let (out, _, stderr) = run(bin()
        .env("APP_CONFIG_backend_listen_port", "\"eighty\"")
        .arg("validate")
        .arg("--config")
        .arg(&file));
    assert!(!out.status.success());
    assert!(stderr.contains("backend.listen.port"), "{stderr}");
    assert!(
        stderr.contains("APP_CONFIG_backend_listen_port"),
        "{stderr}"
    );
}

#[test]
fn help_is_available_on_every_command() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["validate", "--help"],
    ] {
        let (out, stdout, _) = run(bin().args(&args));
        assert!(out.status.success(), "{args:?}");
        assert!(stdout.contains("--log-format"), "{args:?}: {stdout}");
    }
}

#[test]
fn serve_refuses_to_start_without_site_assets_and_says_where_it_looked() {
    let dir = workdir("nosite");
    let file = write(&dir, "c.yaml", &format!("{VALID}  listen:\n    port: 0\n"));
    let (out, _, stderr) = run(bin()
        .current_dir(&dir)
        .env("GREENROOM_SITE_ROOT", dir.join("nothing-here"))
        .arg("serve")
        .arg("--config")
        .arg(&file));
    assert!(!out.status.success());
    assert!(stderr.contains("pkg/greenroom.js"), "{stderr}");
    assert!(stderr.contains("nothing-here"), "{stderr}");
}

fn http_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}

/// A `greenroom serve` started by a test, logging JSON on stderr.
struct Serving {
    child: std::process::Child,
    /// The rest of its log.
    lines: std::io::Lines<BufReader<std::process::ChildStderr>>,
    addr: String,
    /// `backend.metrics.listen`'s address, when configured (logged before the main one).
    metrics_addr: Option<String>,
}

/// Starts `greenroom serve` on `file` with the site assets of `dir`, and waits (at most 30 s)
/// for the address it logs.
fn serve(dir: &Path, file: &Path) -> Serving {
    let mut child = bin()
        .env("GREENROOM_SITE_ROOT", dir.join("site"))
        .env("RUST_LOG", "info")
        .args(["--log-format", "json", "serve", "--config"])
        .arg(file)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut metrics_addr = None;
    let addr = loop {
        assert!(Instant::now() < deadline, "server did not log its address");
        let line = lines
            .next()
            .expect("server exited early")
            .expect("read line");
        let json: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if let Some(m) = json.get("metrics_addr").and_then(|a| a.as_str()) {
            metrics_addr = Some(m.to_string());
        }
        if let Some(addr) = json.get("addr").and_then(|a| a.as_str()) {
            break addr.to_string();
        }
    };
    Serving {
        child,
        lines,
        addr,
        metrics_addr,
    }
}

#[cfg(unix)]
#[test]
fn serve_answers_health_checks_logs_json_and_stops_cleanly_on_sigterm() {
    let dir = workdir("serve");
    std::fs::create_dir_all(dir.join("site/pkg")).expect("mkdir");
    write(&dir, "site/pkg/greenroom.js", "// bundle");
    write(
        &dir,
        "catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: watched\n  annotations:\n    backstage.io/kubernetes-id: watched\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n",
    );
    // A live stream stays open until the server ends it: SIGTERM must still stop the server.
    let file = write(
        &dir,
        "c.yaml",
        &format!("{VALID}  listen:\n    host: 127.0.0.1\n    port: 0\n  metrics:\n    listen: 127.0.0.1:0\ncatalog:\n  locations:\n    - type: file\n      target: ./catalog-info.yaml\nkubernetes:\n  serviceLocatorMethod:\n    type: multiTenant\n  clusterLocatorMethods:\n    - type: config\n      clusters:\n        - url: https://127.0.0.1:1\n          name: nowhere\n          authProvider: serviceAccount\n          serviceAccountToken: t\n"),
    );
    let Serving {
        mut child,
        lines,
        addr,
        metrics_addr,
    } = serve(&dir, &file);
    // backend.metrics.listen: /metrics and health only, on an address of its own.
    let metrics_addr = metrics_addr.expect("the metrics address is logged before the main one");
    assert_ne!(metrics_addr, addr);
    let scrape = http_get(&metrics_addr, "/metrics");
    assert!(scrape.starts_with("HTTP/1.1 200"), "{scrape}");
    assert!(scrape.contains("greenroom_"), "{scrape}");
    assert!(http_get(&metrics_addr, "/api/catalog/entities").starts_with("HTTP/1.1 404"));
    let health = http_get(&addr, "/.backstage/health/v1/liveness");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.ends_with(r#"{"status":"ok"}"#), "{health}");
    let mut live = TcpStream::connect(&addr).expect("connect");
    live.set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    write!(
        live,
        "GET /api/greenroom/kubernetes/live?entity=component%3Adefault%2Fwatched HTTP/1.1\r\nHost: {addr}\r\n\r\n"
    )
    .expect("send");
    let mut first = [0u8; 512];
    let n = live.read(&mut first).expect("stream answers");
    let head = String::from_utf8_lossy(&first[..n]).to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/event-stream"), "{head}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "server did not stop within 10 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "exit status after SIGTERM: {exit}");
    // The stream was ended, not cut mid-frame: the rest reads to a clean end of file.
    let mut tail = Vec::new();
    live.read_to_end(&mut tail).expect("stream ends cleanly");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("SIGTERM")), "{rest:?}");
}

#[test]
fn validate_lists_every_kubernetes_and_aws_problem() {
    let dir = workdir("k8s");
    let file = write(
        &dir,
        "c.yaml",
        "kubernetes:\n  serviceLocatorMethod:\n    type: multiTenant\n  clusterLocatorMethods:\n    - type: config\n      clusters:\n        - url: ${GREENROOM_TEST_UNSET_URL}\n          name: a\n          authProvider: serviceAccount\n        - url: https://b.example\n          name: a\n          authProvider: serviceAccount\n        - url: https://c.example\n          name: c\n        - url: https://d.example\n          name: d\n          authProvider: magic\n        - url: https://e.example\n          name: e\n          authProvider: aws\n          caFile: ./missing-ca.crt\naws:\n  accounts:\n    - accountId: '123456789012'\n      accessKeyId: AKIAEXAMPLE\n",
    );
    let (out, _, stderr) = run(bin().arg("validate").arg("-c").arg(&file));
    assert!(!out.status.success());
    for (key, words) in [
        ("clusters[0].url", "GREENROOM_TEST_UNSET_URL"),
        ("clusters[1].name", "duplicate cluster name 'a'"),
        ("clusters[2].authProvider", "no auth provider configured"),
        ("clusters[3].authProvider", "unknown authProvider 'magic'"),
        ("clusters[4].caFile", "missing-ca.crt"),
        ("aws.accounts[0].secretAccessKey", "no secret access key"),
    ] {
        assert!(
            stderr.lines().any(|l| l.contains(key) && l.contains(words)),
            "expected {key}: {words} in\n{stderr}"
        );
    }
}

#[test]
fn validate_lists_every_permission_problem_with_its_file_and_line() {
    let dir = workdir("rbac");
    write(
        &dir,
        "rbac.csv",
        "p, role:default/dev, kubernetes.proxy, use, allow\np, dev, kubernetes.proxy, use, allow\ng, user:default/ada, role:default/dev\ng, ada\n",
    );
    write(
        &dir,
        "conditions.yaml",
        "result: CONDITIONAL\nroleEntityRef: role:default/dev\npluginId: kubernetes\nresourceType: catalog-entity\npermissionMapping: [use]\nconditions: { rule: IS_OWNER, params: {} }\n",
    );
    let file = write(
        &dir,
        "c.yaml",
        "permission:\n  enabled: yes-please\n  rbac:\n    maxDepth: -1\n    admin:\n      superUsers:\n        - name: ada\n",
    );
    let (out, _, stderr) = run(bin().arg("validate").arg("-c").arg(&file));
    assert!(!out.status.success());
    for (key, words) in [
        ("permission.enabled", "boolean"),
        ("permission.rbac.maxDepth", "whole number"),
        (
            "permission.rbac.admin.superUsers[0].name",
            "not a user or group entity ref",
        ),
    ] {
        assert!(
            stderr.lines().any(|l| l.contains(key) && l.contains(words)),
            "expected {key}: {words} in\n{stderr}"
        );
    }
    // With valid keys, the files' mistakes are listed with their line or document.
    let file = write(
        &dir,
        "c2.yaml",
        &format!(
            "permission:\n  enabled: true\n  rbac:\n    policies-csv-file: {}\n    conditionalPoliciesFile: {}\n",
            dir.join("rbac.csv").display(),
            dir.join("conditions.yaml").display()
        ),
    );
    let (out, _, stderr) = run(bin().arg("validate").arg("-c").arg(&file));
    assert!(!out.status.success());
    for words in [
        "rbac.csv line 2: 'dev' is not a role entity ref",
        "rbac.csv line 4: a g line has 3 fields",
        "conditions.yaml document 1: conditions: unknown rule 'IS_OWNER'",
    ] {
        assert!(stderr.contains(words), "expected {words} in\n{stderr}");
    }
}

/// `shared/fixtures`, found by walking up from this crate.
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|d| d.join("shared/fixtures"))
        .find(|d| d.is_dir())
        .unwrap_or_else(|| panic!("no shared/fixtures above {}", env!("CARGO_MANIFEST_DIR")))
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

#[test]
fn validate_names_the_rule_of_each_relative_target_and_suggests_the_other() {
    // create-app's app-config and examples, without packages/backend/ at first.
    let dir = workdir("backstage-layout");
    let file = dir.join("app-config.yaml");
    std::fs::copy(fixtures().join("create-app-app-config.yaml"), &file).expect("copy config");
    copy_tree(
        &fixtures().join("create-app-examples"),
        &dir.join("examples"),
    );
    let shown = file.display().to_string();
    let above = dir
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("/"));

    let (out, stdout, stderr) = run(bin().arg("validate").arg("-c").arg(&file));
    assert!(!out.status.success());
    assert!(
        stdout.contains(&format!(
            "catalog: file target '../../examples/entities.yaml' in {shown} resolved relative to the config file's directory: {}",
            above.join("examples/entities.yaml").display()
        )),
        "{stdout}"
    );
    for (target, suggested) in [
        ("../../examples/entities.yaml", "./examples/entities.yaml"),
        ("../../examples/org.yaml", "./examples/org.yaml"),
        (
            "../../examples/template/template.yaml",
            "./examples/template/template.yaml",
        ),
    ] {
        let hint = format!(
            "hint: catalog: file target '{target}' in {shown} names {}, which does not exist; did you mean {suggested}?",
            above.join(target.trim_start_matches("../../")).display()
        );
        assert!(stderr.contains(&hint), "expected {hint} in\n{stderr}");
    }
    assert!(
        stderr.contains("only relative to packages/backend (Backstage layout)"),
        "{stderr}"
    );

    // With packages/backend/, the same config reads the examples, with no hint.
    std::fs::create_dir_all(dir.join("packages/backend")).expect("mkdir");
    write(&dir.join("packages/backend"), "package.json", "{}");
    let (_, stdout, stderr) = run(bin().arg("validate").arg("-c").arg(&file));
    assert!(
        stdout.contains(&format!(
            "catalog: file target '../../examples/org.yaml' in {shown} resolved relative to packages/backend (Backstage layout): {}",
            dir.join("examples/org.yaml").display()
        )),
        "{stdout}"
    );
    assert!(!stderr.contains("hint:"), "{stderr}");
    assert!(!stderr.contains("does not exist"), "{stderr}");
    assert!(
        stdout.contains("catalog: 9 entities from 3 location(s), 0 error(s)"),
        "{stdout}"
    );

    // A config-relative target in a Backstage repo gets the opposite suggestion.
    let edited = std::fs::read_to_string(&file)
        .expect("read config")
        .replace("../../examples/entities.yaml", "./examples/entities.yaml");
    std::fs::write(&file, edited).expect("write config");
    let (_, _, stderr) = run(bin().arg("validate").arg("-c").arg(&file));
    assert!(
        stderr.contains(&format!(
            "hint: catalog: file target './examples/entities.yaml' in {shown} names {}, which does not exist; did you mean ../../examples/entities.yaml?",
            dir.join("packages/backend/examples/entities.yaml").display()
        )),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn after_sigterm_readiness_fails_while_the_shutdown_delay_keeps_serving() {
    let dir = workdir("shutdown-delay");
    std::fs::create_dir_all(dir.join("site/pkg")).expect("mkdir");
    write(&dir, "site/pkg/greenroom.js", "// bundle");
    // Backstage's key and duration forms.
    let file = write(
        &dir,
        "c.yaml",
        &format!("{VALID}  listen:\n    host: 127.0.0.1\n    port: 0\n  lifecycle:\n    serverShutdownDelay: {{ seconds: 2 }}\n"),
    );
    // The log is kept open: the server writes to it while it shuts down.
    let Serving {
        mut child,
        lines: _log,
        addr,
        ..
    } = serve(&dir, &file);
    let ready = http_get(&addr, "/.backstage/health/v1/readiness");
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let signalled = Instant::now();
    // Readiness turns 503 with Backstage's body; everything else is still served.
    let deadline = signalled + Duration::from_secs(1);
    let not_ready = loop {
        let r = http_get(&addr, "/.backstage/health/v1/readiness");
        if r.starts_with("HTTP/1.1 503") || Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(not_ready.starts_with("HTTP/1.1 503"), "{not_ready}");
    assert!(
        not_ready.ends_with(r#"{"message":"Backend is shutting down","status":"error"}"#)
            || not_ready.ends_with(r#"{"status":"error","message":"Backend is shutting down"}"#),
        "{not_ready}"
    );
    let live = http_get(&addr, "/.backstage/health/v1/liveness");
    assert!(live.starts_with("HTTP/1.1 200"), "{live}");
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(15),
            "server did not stop after its shutdown delay"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "exit status: {exit}");
    assert!(
        signalled.elapsed() >= Duration::from_millis(1900),
        "stopped before serverShutdownDelay passed: {:?}",
        signalled.elapsed()
    );
}
