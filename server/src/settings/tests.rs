//! Settings read from real config files through the real loader.

use std::collections::HashMap;
use std::path::PathBuf;

use super::*;
use crate::config::{load, LoadOptions};

fn settings_from(name: &str, yaml: &str, env: &[(&str, &str)]) -> Result<Settings, Vec<String>> {
    let dir =
        std::env::temp_dir().join(format!("greenroom-settings-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("app-config.yaml");
    std::fs::write(&file, yaml).expect("write");
    let options = LoadOptions {
        files: vec![PathBuf::from("app-config.yaml")],
        cwd: dir,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
    };
    let loaded =
        load(&options).map_err(|e| e.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    read(&loaded.config).map_err(|e| e.iter().map(ToString::to_string).collect())
}

const URLS: &str =
    "app:\n  baseUrl: http://localhost:3000/\nbackend:\n  baseUrl: https://portal.example.com\n";

#[test]
fn defaults_apply_when_keys_are_absent() {
    let s = settings_from("defaults", URLS, &[]).expect("valid");
    assert_eq!(s.app.title, "Greenroom");
    assert_eq!(
        s.app.base_url, "http://localhost:3000",
        "trailing slash dropped"
    );
    assert_eq!(s.backend.base_url, "https://portal.example.com");
    assert_eq!(
        s.backend.listen,
        Listen {
            host: "127.0.0.1".into(),
            port: 7007
        }
    );
}

#[test]
fn listen_object_with_numeric_string_port_from_a_variable() {
    let yaml = format!("{URLS}  listen:\n    host: 0.0.0.0\n    port: ${{PORT}}\n");
    let s = settings_from("listen-var", &yaml, &[("PORT", "8080")]).expect("valid");
    assert_eq!(
        s.backend.listen,
        Listen {
            host: "0.0.0.0".into(),
            port: 8080
        }
    );
}

#[test]
fn listen_string_forms_match_backstage() {
    for (value, host, port) in [
        ("'9000'", "127.0.0.1", 9000),
        ("':9001'", "0.0.0.0", 9001),
        ("localhost:9002", "localhost", 9002),
    ] {
        let yaml = format!("{URLS}  listen: {value}\n");
        let s =
            settings_from("listen-str", &yaml, &[]).unwrap_or_else(|e| panic!("{value}: {e:?}"));
        assert_eq!(
            s.backend.listen,
            Listen {
                host: host.into(),
                port
            },
            "{value}"
        );
    }
    let err = settings_from("listen-bad", &format!("{URLS}  listen: 'a:b:c'\n"), &[])
        .expect_err("invalid");
    assert!(
        err[0].contains("backend.listen") && err[0].contains("a:b:c"),
        "{err:?}"
    );
}

#[test]
fn non_numeric_port_names_key_and_file() {
    let err = settings_from(
        "port-word",
        &format!("{URLS}  listen:\n    port: seven\n"),
        &[],
    )
    .expect_err("invalid");
    assert_eq!(err.len(), 1, "{err:?}");
    assert!(err[0].contains("backend.listen.port"), "{err:?}");
    assert!(err[0].contains("app-config.yaml"), "{err:?}");
}

#[test]
fn out_of_range_port_is_rejected() {
    for port in ["70000", "-1", "80.5"] {
        let err = settings_from(
            "port-range",
            &format!("{URLS}  listen:\n    port: {port}\n"),
            &[],
        )
        .expect_err(port);
        assert!(
            err[0].contains("backend.listen.port") && err[0].contains("TCP port"),
            "{port}: {err:?}"
        );
    }
}

#[test]
fn wrong_type_for_title_is_reported() {
    let yaml = "app:\n  title: [a, b]\n  baseUrl: http://x\nbackend:\n  baseUrl: http://x\n";
    let err = settings_from("title-type", yaml, &[]).expect_err("invalid");
    assert_eq!(err.len(), 1, "{err:?}");
    assert!(
        err[0].contains("app.title") && err[0].contains("app-config.yaml"),
        "{err:?}"
    );
}

#[test]
fn base_urls_are_required_and_must_be_http_urls() {
    let err = settings_from("urls-missing", "app:\n  title: X\n", &[]).expect_err("invalid");
    assert_eq!(err.len(), 2, "{err:?}");
    assert!(err[0].contains("app.baseUrl"), "{err:?}");
    assert!(err[1].contains("backend.baseUrl"), "{err:?}");

    let err = settings_from(
        "urls-bad",
        "app:\n  baseUrl: ftp://x\nbackend:\n  baseUrl: /relative\n",
        &[],
    )
    .expect_err("invalid");
    assert!(
        err[0].contains("app.baseUrl") && err[0].contains("ftp://x"),
        "{err:?}"
    );
    assert!(
        err[1].contains("backend.baseUrl") && err[1].contains("/relative"),
        "{err:?}"
    );
}

#[test]
fn bind_address_brackets_ipv6() {
    assert_eq!(
        Listen {
            host: "::1".into(),
            port: 80
        }
        .bind_address(),
        "[::1]:80"
    );
    assert_eq!(
        Listen {
            host: "127.0.0.1".into(),
            port: 80
        }
        .bind_address(),
        "127.0.0.1:80"
    );
}

#[test]
fn create_app_default_config_is_accepted() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/create-app-app-config.yaml"
    ))
    .expect("fixture ../shared/fixtures/create-app-app-config.yaml");
    let s = settings_from("create-app", &text, &[]).expect("Backstage's default app-config loads");
    assert_eq!(s.app.title, "Scaffolded Backstage App");
    assert_eq!(s.backend.base_url, "http://localhost:7007");
    assert_eq!(s.backend.listen.port, 7007);
}

#[test]
fn external_access_static_tokens_are_read_and_checked() {
    let yaml = format!(
        "{URLS}  auth:\n    externalAccess:\n      - type: static\n        options:\n          token: ${{CI_TOKEN}}\n          subject: ci\n"
    );
    let s = settings_from("tokens", &yaml, &[("CI_TOKEN", "0123456789abcdef")]).expect("valid");
    assert_eq!(
        s.backend.static_tokens,
        vec![StaticToken {
            token: "0123456789abcdef".into(),
            subject: "ci".into()
        }]
    );
    assert!(
        !format!("{:?}", s.backend.static_tokens).contains("0123456789abcdef"),
        "Debug must not print the token"
    );

    let err =
        settings_from("tokens-short", &yaml, &[("CI_TOKEN", "short")]).expect_err("too short");
    assert!(
        err[0].contains("backend.auth.externalAccess[0].options.token")
            && err[0].contains("at least 8"),
        "{err:?}"
    );

    let err =
        settings_from("tokens-unset", &yaml, &[]).expect_err("unset variable in a required key");
    assert!(err[0].contains("CI_TOKEN"), "{err:?}");

    let jwks = format!("{URLS}  auth:\n    externalAccess:\n      - type: jwks\n        options:\n          url: https://x\n");
    let err = settings_from("tokens-jwks", &jwks, &[]).expect_err("unsupported");
    assert!(err[0].contains("'jwks' is not supported yet"), "{err:?}");

    // Ignoring Backstage's per-token restrictions would widen the token: refused.
    let restricted = format!("{URLS}  auth:\n    externalAccess:\n      - type: static\n        options:\n          token: 0123456789abcdef\n          subject: ci\n        accessRestrictions:\n          - plugin: catalog\n");
    let err = settings_from("tokens-restricted", &restricted, &[]).expect_err("unsupported");
    assert!(
        err[0].contains("backend.auth.externalAccess[0].accessRestrictions")
            && err[0].contains("not supported yet"),
        "{err:?}"
    );
}

#[test]
fn metrics_listen_takes_the_forms_of_backend_listen() {
    let s = settings_from("metrics-none", URLS, &[]).expect("valid");
    assert_eq!(s.backend.metrics_listen, None);
    let yaml = format!("{URLS}  metrics:\n    listen: 0.0.0.0:9464\n");
    let s = settings_from("metrics-str", &yaml, &[]).expect("valid");
    assert_eq!(
        s.backend.metrics_listen.map(|l| l.bind_address()),
        Some("0.0.0.0:9464".to_string())
    );
    let bad = format!("{URLS}  metrics:\n    listen:\n      port: 70000\n");
    let err = settings_from("metrics-bad", &bad, &[]).expect_err("invalid port");
    assert!(err[0].contains("backend.metrics.listen.port"), "{err:?}");
}

#[test]
fn shutdown_delay_is_read_as_backstage_reads_durations() {
    assert_eq!(
        settings_from("no-delay", URLS, &[])
            .expect("valid")
            .backend
            .shutdown_delay,
        None
    );
    for (name, value, ms) in [
        ("delay-string", "20s", 20_000),
        ("delay-object", "{ seconds: 5, milliseconds: 500 }", 5_500),
        ("delay-iso", "PT1M", 60_000),
    ] {
        let yaml = format!("{URLS}  lifecycle:\n    serverShutdownDelay: {value}\n");
        let s = settings_from(name, &yaml, &[]).expect("valid");
        assert_eq!(
            s.backend.shutdown_delay,
            Some(std::time::Duration::from_millis(ms)),
            "{value}"
        );
    }
    let yaml = format!("{URLS}  lifecycle:\n    serverShutdownDelay: soon\n");
    let errors = settings_from("delay-bad", &yaml, &[]).expect_err("invalid");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("backend.lifecycle.serverShutdownDelay")),
        "{errors:?}"
    );
}
