//! Ingestion of catalog locations end to end: Backstage's example catalogs, create-app's examples
//! under its rules, a corpus of bad inputs in temporary directories, globs, and `url` locations
//! served by a loopback HTTP server.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Value};
use server::catalog::location::{
    ingest, join_url, location_ref, HttpUrlReader, IngestOptions, IngestResult, LocationSpec,
    LocationType, UrlReadError, UrlReader, DEFAULT_MAX_FILE_BYTES,
};
use server::catalog::rules::{default_rules, Rule};
use server::catalog::url_reader::{ReadingAllow, UrlFetcher};
use server::catalog::Problem;

/// `shared/fixtures`, found by walking up from this crate.
fn fixtures() -> PathBuf {
    let mut dir = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    loop {
        let candidate = dir.join("shared/fixtures");
        if candidate.is_dir() {
            return candidate;
        }
        assert!(
            dir.pop(),
            "no shared/fixtures above {}",
            env!("CARGO_MANIFEST_DIR")
        );
    }
}

/// A directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!(
            "greenroom-location-test-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A reader for tests that must not touch the network.
struct Offline;

impl UrlReader for Offline {
    fn read_url(&self, url: &str) -> Result<String, UrlReadError> {
        Err(UrlReadError::Transport {
            url: url.to_string(),
            reason: "offline test".to_string(),
        })
    }
}

fn file(path: &Path, rules: Vec<Rule>) -> LocationSpec {
    LocationSpec {
        kind: LocationType::File,
        target: path.to_string_lossy().into_owned(),
        rules,
        optional: false,
    }
}

fn run(
    locations: &[LocationSpec],
    rules: &[Rule],
    reader: &dyn UrlReader,
    max: u64,
) -> IngestResult {
    ingest(&IngestOptions {
        locations,
        rules,
        url_reader: reader,
        max_file_bytes: max,
    })
}

fn entity_ref(entity: &Value) -> String {
    let kind = entity["kind"].as_str().unwrap_or_default();
    let namespace = entity["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default");
    let name = entity["metadata"]["name"].as_str().unwrap_or_default();
    format!("{kind}:{namespace}/{name}").to_lowercase()
}

fn is_generated(entity: &Value) -> bool {
    entity["metadata"]["name"]
        .as_str()
        .is_some_and(|n| n.starts_with("generated-"))
}

/// Refs of everything read except the generated root Location entities.
fn refs(result: &IngestResult) -> BTreeSet<String> {
    result
        .entities
        .iter()
        .filter(|e| !is_generated(&e.entity))
        .map(|e| entity_ref(&e.entity))
        .collect()
}

fn find<'a>(result: &'a IngestResult, wanted: &str) -> &'a server::catalog::SourcedEntity {
    result
        .entities
        .iter()
        .find(|e| entity_ref(&e.entity) == wanted)
        .unwrap_or_else(|| panic!("{wanted} not read"))
}

/// The problems whose location or reason mentions `needle`.
fn problems_about<'a>(result: &'a IngestResult, needle: &str) -> Vec<&'a Problem> {
    result
        .problems
        .iter()
        .filter(|p| p.location.contains(needle) || p.reason.contains(needle))
        .collect()
}

const ALL_KINDS: &[&str] = &[
    "Component",
    "API",
    "Location",
    "Resource",
    "System",
    "Domain",
    "Group",
    "User",
    "AiResource",
    "Template",
];

#[test]
fn backstage_examples_read_exactly_the_expected_entities() {
    let dir = fixtures().join("backstage-examples");
    let roots = [
        file(&dir.join("all.yaml"), vec![]),
        file(&dir.join("acme-corp.yaml"), vec![]),
    ];
    let result = run(
        &roots,
        &[Rule::allowing(ALL_KINDS)],
        &HttpUrlReader,
        DEFAULT_MAX_FILE_BYTES,
    );

    let expected: BTreeSet<String> =
        std::fs::read_to_string(fixtures().join("expected-entity-refs.txt"))
            .unwrap()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
    assert_eq!(refs(&result), expected);
    assert_eq!(
        result.entities.len(),
        expected.len() + 2,
        "each entity once, plus two generated roots"
    );

    // Only the three remote `$text` definitions fail (no internet here); the entities stay.
    let mut failed: Vec<(String, String)> = result
        .problems
        .iter()
        .map(|p| {
            (
                p.entity_ref.clone().unwrap_or_default(),
                p.field.clone().unwrap_or_default(),
            )
        })
        .collect();
    failed.sort();
    assert_eq!(
        failed,
        vec![
            (
                "api:default/spotify".to_string(),
                "spec.definition".to_string()
            ),
            (
                "api:default/wayback-archive".to_string(),
                "spec.definition".to_string()
            ),
            (
                "api:default/wayback-search".to_string(),
                "spec.definition".to_string()
            ),
        ],
        "{:#?}",
        result.problems
    );
    // No `backend.reading.allow` here: the remote definitions are refused before any
    // connection is attempted (so this test never touches the internet).
    assert!(
        result.problems[0].reason.contains("is not allowed"),
        "{}",
        result.problems[0].reason
    );
    let spotify = find(&result, "api:default/spotify");
    assert!(spotify.entity["spec"]["definition"]
        .as_str()
        .unwrap()
        .starts_with("(unresolved $text placeholder: https://github.com/"));

    let webhook = find(&result, "api:default/petstore-webhook");
    let oas = dir.join("apis/petstore-webhook.oas.yaml");
    assert_eq!(
        webhook.entity["spec"]["definition"],
        json!(std::fs::read_to_string(&oas).unwrap())
    );
    assert_eq!(
        webhook.location,
        location_ref(
            LocationType::File,
            &dir.join("apis/petstore-webhook-api.yaml").to_string_lossy()
        )
    );
    assert_eq!(
        webhook.origin_location,
        location_ref(LocationType::File, &dir.join("all.yaml").to_string_lossy())
    );
    assert!(result.files.contains(&oas));
    assert!(result.files.contains(&dir.join("acme/org.yaml")));

    let team_a = find(&result, "group:default/team-a");
    assert_eq!(
        team_a.origin_location,
        format!("file:{}", dir.join("acme-corp.yaml").display())
    );
}

#[test]
fn generated_root_location_entities_are_named_and_shaped_like_backstages() {
    let dir = fixtures().join("backstage-examples");
    let target = dir.join("acme-corp.yaml").to_string_lossy().into_owned();
    let root = LocationSpec {
        target: target.clone(),
        ..file(Path::new("/"), vec![])
    };
    let result = run(
        &[root],
        &[Rule::allowing(ALL_KINDS)],
        &Offline,
        DEFAULT_MAX_FILE_BYTES,
    );
    let generated = &result.entities[0];
    let hash = sha1_hex(&format!("file:{target}"));
    assert_eq!(
        generated.entity,
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Location",
            "metadata": {
                "name": format!("generated-{hash}"),
                "annotations": {
                    "backstage.io/managed-by-location": format!("file:{target}"),
                    "backstage.io/managed-by-origin-location": format!("file:{target}"),
                }
            },
            "spec": {"type": "file", "target": target}
        })
    );
    assert_eq!(generated.location, format!("file:{target}"));
    assert_eq!(generated.origin_location, format!("file:{target}"));
    assert_eq!(
        entity_ref(&result.entities[1].entity),
        "location:default/acme-corp"
    );
}

fn sha1_hex(text: &str) -> String {
    sha1_smol::Sha1::from(text).digest().to_string()
}

#[test]
fn create_app_examples_load_under_create_app_rules() {
    let dir = fixtures().join("create-app-examples");
    let roots = [
        file(&dir.join("entities.yaml"), vec![]),
        file(
            &dir.join("template/template.yaml"),
            vec![Rule::allowing(&["Template"])],
        ),
        file(
            &dir.join("org.yaml"),
            vec![Rule::allowing(&["User", "Group"])],
        ),
    ];
    let global = [Rule::allowing(&[
        "Component",
        "System",
        "API",
        "Resource",
        "Location",
    ])];
    let result = run(&roots, &global, &Offline, DEFAULT_MAX_FILE_BYTES);
    assert_eq!(result.problems, vec![]);
    let expected: BTreeSet<String> = [
        "system:default/examples",
        "component:default/example-website",
        "api:default/example-grpc-api",
        "template:default/example-nodejs-template",
        "user:default/guest",
        "group:default/guests",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(refs(&result), expected);

    // Per-location rules do not leak: User is only allowed from org.yaml.
    let result = run(&roots[..1], &global, &Offline, DEFAULT_MAX_FILE_BYTES);
    assert_eq!(result.problems, vec![]);
    let strict = [file(
        &dir.join("org.yaml"),
        vec![Rule::allowing(&["Group"])],
    )];
    let result = run(&strict, &global, &Offline, DEFAULT_MAX_FILE_BYTES);
    assert_eq!(
        refs(&result),
        BTreeSet::from(["group:default/guests".to_string()])
    );
    assert_eq!(result.problems.len(), 1);
    assert_eq!(
        result.problems[0].entity_ref.as_deref(),
        Some("user:default/guest")
    );
}

/// Copies a directory tree (regular files and directories).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// create-app's `app-config.yaml` (unmodified) and `examples/` laid out as in a Backstage
/// repository, with `packages/backend/package.json` when `backend` is set. Returns the
/// directory and the config file.
fn create_app_repo(backend: bool) -> (TempDir, PathBuf) {
    let repo = TempDir::new();
    let config = repo.0.join("app-config.yaml");
    std::fs::copy(fixtures().join("create-app-app-config.yaml"), &config).unwrap();
    copy_tree(
        &fixtures().join("create-app-examples"),
        &repo.0.join("examples"),
    );
    if backend {
        repo.write(
            "packages/backend/package.json",
            r#"{"name": "backend", "version": "0.0.0", "private": true}"#,
        );
    }
    (repo, config)
}

/// Loads the catalog of an app-config the way `greenroom serve` does: the config loader, then
/// `catalog.locations` / `catalog.rules`, then ingestion.
fn load_app_config(file: &Path) -> server::catalog::store::Snapshot {
    let loaded = server::config::load(&server::config::LoadOptions {
        files: vec![file.to_path_buf()],
        cwd: std::env::temp_dir(),
        env: HashMap::new(),
    })
    .unwrap_or_else(|e| panic!("{e:?}"));
    let catalog = server::catalog::config::read(&loaded.config, &std::env::temp_dir())
        .unwrap_or_else(|e| panic!("{e:?}"));
    server::catalog::reload::load(&catalog, &Offline)
}

#[test]
fn an_unmodified_create_app_config_loads_in_a_backstage_repo() {
    let (repo, config) = create_app_repo(true);
    let snapshot = load_app_config(&config);
    let errors: Vec<String> = snapshot.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors, Vec::<String>::new());
    // `../../examples/...` resolved from packages/backend, as Backstage's backend reads them.
    let targets: Vec<&str> = snapshot
        .locations
        .iter()
        .map(|l| l.target.as_str())
        .collect();
    let examples = repo.0.join("examples");
    assert_eq!(
        targets,
        [
            examples.join("entities.yaml"),
            examples.join("template/template.yaml"),
            examples.join("org.yaml"),
        ]
        .iter()
        .map(|p| p.to_str().unwrap())
        .collect::<Vec<_>>()
    );
    let refs: BTreeSet<&str> = snapshot
        .entities
        .iter()
        .map(|e| e.entity_ref.as_str())
        .collect();
    // From entities.yaml (global rules), template.yaml (+Template) and org.yaml (+User, Group).
    for wanted in [
        "system:default/examples",
        "component:default/example-website",
        "api:default/example-grpc-api",
        "template:default/example-nodejs-template",
        "user:default/guest",
        "group:default/guests",
    ] {
        assert!(refs.contains(wanted), "{wanted} missing from {refs:?}");
    }
    // Those six, plus one generated Location per configured location.
    assert_eq!(refs.len(), 6 + 3, "{refs:?}");
}

#[test]
fn without_packages_backend_targets_stay_relative_to_the_config_file() {
    let (repo, config) = create_app_repo(false);
    let snapshot = load_app_config(&config);
    // `../../` from the config file's directory leaves the repository: each root is reported
    // missing under the path it resolved to, and nothing from examples/ is read.
    let above = repo
        .0
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("/"));
    for file in ["entities.yaml", "template/template.yaml", "org.yaml"] {
        let missing = above.join("examples").join(file);
        let wanted = format!("file {} does not exist", missing.display());
        assert!(
            snapshot.errors.iter().any(|e| e.reason.contains(&wanted)),
            "no '{wanted}' in {:?}",
            snapshot.errors
        );
    }
    assert!(!snapshot
        .entities
        .iter()
        .any(|e| e.entity_ref == "system:default/examples"));
}

#[test]
fn catalog_files_stay_confined_to_their_directory_in_a_backstage_repo() {
    let repo = TempDir::new();
    repo.write("packages/backend/package.json", "{}");
    let component = |name: &str| {
        format!("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: guests\n")
    };
    repo.write("packages/backend/secret.yaml", component("secret"));
    let config = repo.write(
        "app-config.yaml",
        "catalog:\n  rules:\n    - allow: [Component, Location]\n  locations:\n    - type: file\n      target: ../../catalog/all.yaml\n",
    );
    repo.write(
        "catalog/all.yaml",
        location_yaml("all", &["./ok.yaml", "../packages/backend/secret.yaml"]),
    );
    repo.write("catalog/ok.yaml", component("ok"));
    let snapshot = load_app_config(&config);
    let refs: BTreeSet<&str> = snapshot
        .entities
        .iter()
        .map(|e| e.entity_ref.as_str())
        .collect();
    assert!(refs.contains("component:default/ok"), "{refs:?}");
    assert!(!refs.contains("component:default/secret"), "{refs:?}");
    assert!(
        snapshot
            .errors
            .iter()
            .any(|e| e.reason.contains("reads outside the directory of")),
        "{:?}",
        snapshot.errors
    );
}

#[test]
fn default_rules_reject_domains_from_all_yaml() {
    let dir = fixtures().join("backstage-examples");
    let result = run(
        &[file(&dir.join("all.yaml"), vec![])],
        &default_rules(),
        &Offline,
        DEFAULT_MAX_FILE_BYTES,
    );
    let read = refs(&result);
    assert!(!read.iter().any(|r| r.starts_with("domain:")), "{read:?}");
    assert!(read.contains("component:default/petstore"));
    assert!(read.contains("location:default/example-domains"));
    let denied: Vec<&Problem> = problems_about(&result, "kind 'Domain'");
    let denied_refs: BTreeSet<&str> = denied
        .iter()
        .filter_map(|p| p.entity_ref.as_deref())
        .collect();
    assert_eq!(
        denied_refs,
        BTreeSet::from([
            "domain:default/artists",
            "domain:default/audio",
            "domain:default/playback"
        ])
    );
    for p in denied {
        assert!(p.reason.contains("not allowed by catalog.rules"), "{p}");
        assert!(
            p.reason
                .contains(&format!("file:{}", dir.join("all.yaml").display())),
            "{p}"
        );
        assert!(
            p.location
                .starts_with(&format!("file:{}/domains/", dir.display())),
            "{p}"
        );
        assert_eq!(p.field.as_deref(), Some("kind"));
    }
}

const GOOD: &str = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: good\nspec:\n  type: service\n";

fn location_yaml(name: &str, targets: &[&str]) -> String {
    let list: Vec<String> = targets.iter().map(|t| format!("    - {t}\n")).collect();
    format!("apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: {name}\nspec:\n  targets:\n{}", list.concat())
}

fn component_yaml(name: &str) -> String {
    GOOD.replace("name: good", &format!("name: {name}"))
}

/// Exactly one problem mentions `needle`; returns it.
fn one_problem<'a>(result: &'a IngestResult, needle: &str) -> &'a Problem {
    let found = problems_about(result, needle);
    assert_eq!(
        found.len(),
        1,
        "problems about {needle}: {:#?}",
        result.problems
    );
    found[0]
}

#[test]
fn bad_inputs_become_problems_and_siblings_still_load() {
    let tmp = TempDir::new();
    let d = |name: &str| tmp.0.join(name).to_string_lossy().into_owned();
    let root = tmp.write(
        "catalog.yaml",
        location_yaml(
            "root",
            &[
                "./malformed.yaml",
                "./bomb.yaml",
                "./big.yaml",
                "./scalars.yaml",
                "./missing.yaml",
                "./binary.bin",
                "./somedir",
                "./nul.yaml",
                "./good.yaml",
                "./nested/a.yaml",
                "./self.yaml",
                "./shared.yaml",
                "./also-shared.yaml",
            ],
        ),
    );
    tmp.write(
        "malformed.yaml",
        format!(
            "{}---\nkind: [unclosed\n---\n{}",
            component_yaml("before-error"),
            component_yaml("after-error")
        ),
    );
    let mut bomb = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (prev, next) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
    {
        bomb.push_str(&format!(
            "{next}: &{next} [{}]\n",
            vec![format!("*{prev}"); 9].join(", ")
        ));
    }
    tmp.write("bomb.yaml", bomb);
    tmp.write(
        "big.yaml",
        format!("{}# {}\n", component_yaml("too-big"), "x".repeat(5000)),
    );
    tmp.write(
        "scalars.yaml",
        format!(
            "{}---\njust a string\n---\n- a\n- list\n",
            component_yaml("in-scalars")
        ),
    );
    tmp.write(
        "binary.bin",
        [
            0x89u8, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xfe, 0x00, 0x01,
        ],
    );
    std::fs::create_dir_all(tmp.0.join("somedir")).unwrap();
    tmp.write("nul.yaml", "kind: Component\0\0\x01garbage\n");
    tmp.write("good.yaml", GOOD);
    // A cycle between siblings (a file may only name files in its own directory tree).
    tmp.write("nested/a.yaml", location_yaml("a", &["./b.yaml"]));
    tmp.write(
        "nested/b.yaml",
        format!(
            "{}---\n{}",
            location_yaml("b", &["./a.yaml"]),
            component_yaml("in-b")
        ),
    );
    tmp.write("self.yaml", location_yaml("self", &["./self.yaml"]));
    tmp.write(
        "shared.yaml",
        format!(
            "{}---\n{}",
            component_yaml("shared-thing"),
            location_yaml("shared", &["./also-shared.yaml"])
        ),
    );
    tmp.write("also-shared.yaml", component_yaml("diamond"));

    // A loop or a diamond ends (each file is read once); the entities below say so.
    let result = run(&[file(&root, vec![])], &default_rules(), &Offline, 4096);

    let read = refs(&result);
    for name in [
        "good",
        "before-error",
        "after-error",
        "in-scalars",
        "in-b",
        "shared-thing",
        "diamond",
    ] {
        assert!(
            read.contains(&format!("component:default/{name}")),
            "{name} missing from {read:?}"
        );
    }
    assert!(!read.contains("component:default/too-big"));
    let diamonds = result
        .entities
        .iter()
        .filter(|e| entity_ref(&e.entity) == "component:default/diamond")
        .count();
    assert_eq!(diamonds, 1, "a file reached twice is read once");

    let p = one_problem(&result, "malformed.yaml");
    assert_eq!(p.location, format!("file:{}", d("malformed.yaml")));
    assert!(p.reason.starts_with("YAML error in document 2: "), "{p}");
    assert!(
        p.reason
            .contains("at line 9 column 1, while parsing a flow sequence at line 8"),
        "{p}"
    );

    let p = one_problem(&result, "bomb.yaml");
    assert!(
        p.reason
            .starts_with("YAML error in document 1: repetition limit exceeded (aliases"),
        "{p}"
    );

    let p = one_problem(&result, "big.yaml");
    assert!(
        p.reason.contains(&format!("file {} is", d("big.yaml"))),
        "{p}"
    );
    assert!(p.reason.contains("more than the 4096-byte limit"), "{p}");

    let scalars: Vec<&Problem> = problems_about(&result, "scalars.yaml");
    let reasons: Vec<&str> = scalars.iter().map(|p| p.reason.as_str()).collect();
    assert_eq!(
        reasons,
        vec![
            "document 2 is not an object (found a string)",
            "document 3 is not an object (found a list)"
        ]
    );

    let p = one_problem(&result, "missing.yaml");
    assert_eq!(
        p.reason,
        format!("file {} does not exist", d("missing.yaml"))
    );
    assert_eq!(
        p.location,
        format!("file:{}", root.display()),
        "reported where it is listed"
    );
    assert_eq!(p.entity_ref.as_deref(), Some("location:default/root"));
    assert_eq!(p.field.as_deref(), Some("spec.targets[4]"));

    let p = one_problem(&result, "binary.bin");
    assert!(
        p.reason
            .contains("is not UTF-8 text (invalid byte at offset 0)"),
        "{p}"
    );

    let p = one_problem(&result, "nul.yaml");
    assert!(
        p.reason.contains("control characters are not allowed"),
        "{p}"
    );

    let p = one_problem(&result, "somedir");
    assert!(
        p.reason
            .contains(&format!("file {} is a directory", d("somedir"))),
        "{p}"
    );

    let cycles: Vec<&Problem> = problems_about(&result, "Location cycle");
    assert_eq!(cycles.len(), 2, "{cycles:#?}");
    assert_eq!(
        cycles[0].reason,
        format!(
            "Location cycle: file:{a} -> file:{b} -> file:{a}; file:{a} is not read again",
            a = d("nested/a.yaml"),
            b = d("nested/b.yaml")
        )
    );
    assert_eq!(cycles[0].location, format!("file:{}", d("nested/b.yaml")));
    assert_eq!(
        cycles[1].reason,
        format!(
            "Location cycle: file:{s} refers to itself; it is not read again",
            s = d("self.yaml")
        )
    );

    assert_eq!(
        result.problems.len(),
        11,
        "nothing else: {:#?}",
        result.problems
    );
    assert!(result.files.contains(&tmp.0.join("missing.yaml")));
    assert!(result.files.contains(&tmp.0.join("binary.bin")));
}

#[test]
fn a_50_megabyte_file_is_refused_under_the_default_limit() {
    let tmp = TempDir::new();
    // 50 MB of NUL bytes (a sparse file): not YAML, so a reader that read it would report a
    // parse error, not the size.
    let huge = std::fs::File::create(tmp.0.join("huge.yaml")).unwrap();
    huge.set_len(50 * 1024 * 1024).unwrap();
    drop(huge);
    let root = tmp.write(
        "catalog.yaml",
        location_yaml("root", &["./huge.yaml", "./good.yaml"]),
    );
    tmp.write("good.yaml", GOOD);
    let result = run(
        &[file(&root, vec![])],
        &default_rules(),
        &Offline,
        DEFAULT_MAX_FILE_BYTES,
    );
    assert!(refs(&result).contains("component:default/good"));
    let p = one_problem(&result, "huge.yaml");
    assert!(
        p.reason.contains(&format!(
            "more than the {DEFAULT_MAX_FILE_BYTES}-byte limit"
        )),
        "{p}"
    );
}

#[test]
fn roots_rules_presence_and_globs() {
    let tmp = TempDir::new();
    tmp.write("comps/a.yaml", component_yaml("glob-a"));
    tmp.write("comps/b.yaml", component_yaml("glob-b"));
    tmp.write("comps/.hidden.yaml", component_yaml("hidden"));
    tmp.write("comps/sub/c.yaml", component_yaml("glob-c"));
    tmp.write("comps/notes.txt", "not yaml: [");
    let shallow = tmp.write(
        "shallow.yaml",
        location_yaml("shallow", &["./comps/*.yaml", "./nothing/*.yaml"]),
    );
    let deep = tmp.write("deep.yaml", location_yaml("deep", &["./comps/**/*.yaml"]));
    let optional_missing = LocationSpec {
        optional: true,
        ..file(&tmp.0.join("absent.yaml"), vec![])
    };
    let required_missing = file(&tmp.0.join("required-absent.yaml"), vec![]);
    let users = tmp.write("users.yaml", GOOD.replace("Component", "User"));

    let result = run(
        &[
            file(&shallow, vec![]),
            optional_missing,
            required_missing,
            file(&users, vec![]),
        ],
        &default_rules(),
        &Offline,
        DEFAULT_MAX_FILE_BYTES,
    );
    let read = refs(&result);
    assert!(read.contains("component:default/glob-a") && read.contains("component:default/glob-b"));
    assert!(
        !read.contains("component:default/glob-c") && !read.contains("component:default/hidden")
    );
    let p = one_problem(&result, "nothing/*.yaml");
    assert!(p.reason.contains("does not exist"), "{p}");
    assert!(problems_about(&result, &format!("{}/absent.yaml", tmp.0.display())).is_empty());
    let p = one_problem(&result, "required-absent.yaml");
    assert_eq!(
        p.location,
        format!("file:{}", tmp.0.join("required-absent.yaml").display())
    );
    let p = one_problem(&result, "not allowed");
    assert_eq!(p.entity_ref.as_deref(), Some("user:default/good"));
    assert_eq!(p.location, format!("file:{}", users.display()));
    assert_eq!(
        result
            .entities
            .iter()
            .filter(|e| is_generated(&e.entity))
            .count(),
        4
    );
    assert_eq!(result.problems.len(), 3, "{:#?}", result.problems);

    // A denied Location entity is dropped and its targets are not read.
    let result = run(
        &[file(&shallow, vec![])],
        &[Rule::allowing(&["Component"])],
        &Offline,
        DEFAULT_MAX_FILE_BYTES,
    );
    assert_eq!(refs(&result), BTreeSet::new());
    assert_eq!(
        one_problem(&result, "not allowed").entity_ref.as_deref(),
        Some("location:default/shallow")
    );
    assert_eq!(result.files, vec![shallow.clone()]);

    let result = run(
        &[file(&deep, vec![])],
        &default_rules(),
        &Offline,
        DEFAULT_MAX_FILE_BYTES,
    );
    let read = refs(&result);
    for name in ["glob-a", "glob-b", "glob-c"] {
        assert!(
            read.contains(&format!("component:default/{name}")),
            "{name}: {read:?}"
        );
    }
    assert_eq!(result.problems, vec![]);
}

#[test]
fn a_root_listed_by_another_root_keeps_its_own_rules() {
    let tmp = TempDir::new();
    let org = tmp.write("org.yaml", GOOD.replace("Component", "Group"));
    let all = tmp.write("all.yaml", location_yaml("all", &["./org.yaml"]));
    let roots = [
        file(&all, vec![]),
        file(&org, vec![Rule::allowing(&["Group"])]),
    ];
    let result = run(&roots, &default_rules(), &Offline, DEFAULT_MAX_FILE_BYTES);
    assert_eq!(result.problems, vec![]);
    let group = find(&result, "group:default/good");
    assert_eq!(group.origin_location, format!("file:{}", org.display()));
}

/// A reader allowed to read the loopback server at `base` (`http://127.0.0.1:<port>`): the
/// host is listed exactly, as loopback needs.
fn loopback_reader(base: &str) -> UrlFetcher {
    let host = base.trim_start_matches("http://");
    UrlFetcher::new(ReadingAllow::from_entries(&[(host, None)]).unwrap())
}

/// Serves fixed responses on 127.0.0.1; returns the base URL.
fn serve(routes: HashMap<&'static str, (&'static str, String, bool)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .to_string();
            let response = match routes.get(path.as_str()) {
                Some((status, body, true)) => {
                    let mut chunked = String::new();
                    for piece in body.as_bytes().chunks(7) {
                        chunked.push_str(&format!(
                            "{:x}\r\n{}\r\n",
                            piece.len(),
                            String::from_utf8_lossy(piece)
                        ));
                    }
                    format!(
                        "HTTP/1.1 {status}\r\nTransfer-Encoding: chunked\r\n\r\n{chunked}0\r\n\r\n"
                    )
                }
                Some((status, body, false)) => {
                    format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nLocation: /elsewhere\r\n\r\n{body}", body.len())
                }
                None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string(),
            };
            let _ = stream.write_all(response.as_bytes());
        }
    });
    base
}

#[test]
fn url_locations_are_read_over_http_with_relative_targets() {
    let root_yaml = format!(
        "{}---\n{}    - ../other/comp.yaml\n---\napiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: bad-ones\nspec:\n  type: file\n  target: /etc/hostname\n",
        component_yaml("from-url"),
        location_yaml("remote", &["./apis/api.yaml", "./gone.yaml"]),
    );
    let api_yaml = "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: remote-api\nspec:\n  type: openapi\n  definition:\n    $text: ./def.txt\n".to_string();
    let base = serve(HashMap::from([
        ("/cat/all.yaml", ("200 OK", root_yaml, false)),
        ("/cat/apis/api.yaml", ("200 OK", api_yaml, true)),
        (
            "/cat/apis/def.txt",
            ("200 OK", "openapi: 3.0.0\n".to_string(), true),
        ),
        (
            "/other/comp.yaml",
            ("200 OK", component_yaml("relative-up"), false),
        ),
        ("/moved.yaml", ("302 Found", String::new(), false)),
        (
            "/broken.yaml",
            ("500 Internal Server Error", "oops".to_string(), false),
        ),
    ]));
    let root_url = format!("{base}/cat/all.yaml");
    let reader = loopback_reader(&base);
    let optional = LocationSpec {
        kind: LocationType::Url,
        target: format!("{base}/optional-missing.yaml"),
        rules: vec![],
        optional: true,
    };
    let root = LocationSpec {
        target: root_url.clone(),
        optional: false,
        ..optional.clone()
    };
    let result = run(
        &[root, optional],
        &default_rules(),
        &reader,
        DEFAULT_MAX_FILE_BYTES,
    );

    let read = refs(&result);
    let expected = [
        "component:default/from-url",
        "location:default/remote",
        "location:default/bad-ones",
        "api:default/remote-api",
        "component:default/relative-up",
    ];
    assert_eq!(read, expected.iter().map(|s| s.to_string()).collect());
    let api = find(&result, "api:default/remote-api");
    assert_eq!(api.location, format!("url:{base}/cat/apis/api.yaml"));
    assert_eq!(api.origin_location, format!("url:{root_url}"));
    assert_eq!(api.entity["spec"]["definition"], json!("openapi: 3.0.0\n"));
    assert_eq!(
        find(&result, "component:default/relative-up").location,
        format!("url:{base}/other/comp.yaml")
    );

    let p = one_problem(&result, "gone.yaml");
    assert_eq!(
        p.location,
        format!("url:{root_url}"),
        "reported where it is listed"
    );
    assert_eq!(p.field.as_deref(), Some("spec.targets[1]"));
    assert_eq!(
        p.reason,
        format!(
            "Unable to read url {base}/cat/gone.yaml, HTTP 404 Not Found from {base}/cat/gone.yaml"
        )
    );
    let p = one_problem(&result, "/etc/hostname");
    assert!(p.reason.contains("may not point at local files"), "{p}");
    assert_eq!(result.problems.len(), 2, "{:#?}", result.problems);
    assert_eq!(result.files, Vec::<PathBuf>::new());

    // Redirects are followed now (re-checked against the allow list); /elsewhere is a 404.
    let moved = reader
        .read_url(&format!("{base}/moved.yaml"))
        .map_err(|e| e.to_string())
        .unwrap_err();
    assert_eq!(moved, format!("HTTP 404 Not Found from {base}/elsewhere"));
    let broken = reader
        .read_url(&format!("{base}/broken.yaml"))
        .map_err(|e| e.to_string())
        .unwrap_err();
    assert_eq!(
        broken,
        format!("HTTP 500 Internal Server Error from {base}/broken.yaml")
    );
    assert_eq!(
        reader
            .read_url(&format!("{base}/cat/apis/def.txt"))
            .map_err(|e| e.to_string()),
        Ok("openapi: 3.0.0\n".to_string())
    );
}

#[test]
fn joins_urls_like_the_rfc_3986_examples() {
    let base = "http://a/b/c/d;p?q";
    let cases = [
        ("g", "http://a/b/c/g?q"),
        ("./g", "http://a/b/c/g?q"),
        ("g/", "http://a/b/c/g/?q"),
        ("/g", "http://a/g?q"),
        ("//g", "http://g/?q"),
        ("?y", "http://a/b/c/d;p?y"),
        ("g?y", "http://a/b/c/g?y"),
        ("", "http://a/b/c/d;p?q"),
        (".", "http://a/b/c/?q"),
        ("./", "http://a/b/c/?q"),
        ("..", "http://a/b/?q"),
        ("../g", "http://a/b/g?q"),
        ("../..", "http://a/?q"),
        ("../../g", "http://a/g?q"),
        ("../../../g", "http://a/g?q"),
        ("/./g", "http://a/g?q"),
        ("g.", "http://a/b/c/g.?q"),
        ("..g", "http://a/b/c/..g?q"),
        ("./../g", "http://a/b/g?q"),
        ("g/./h", "http://a/b/c/g/h?q"),
        ("g/../h", "http://a/b/c/h?q"),
        ("https://x.example/y/../z", "https://x.example/z"),
    ];
    // RFC 3986 section 5.4, except that a relative reference without a query keeps the base's
    // query (Backstage's defaultScmResolveUrl), so "g" gives ".../g?q" instead of ".../g".
    for (reference, expected) in cases {
        assert_eq!(
            join_url(base, reference).as_deref(),
            Some(expected),
            "{reference}"
        );
    }
    assert_eq!(
        join_url("http://h:8080/cat/all.yaml", "./apis/a.yaml#frag").as_deref(),
        Some("http://h:8080/cat/apis/a.yaml")
    );
    assert_eq!(join_url("/not/a/url.yaml", "./x"), None);
    assert_eq!(join_url("ftp://h/x", "./y"), None);
}

#[test]
fn http_reader_refuses_other_schemes_and_unreachable_hosts() {
    assert_eq!(
        HttpUrlReader
            .read_url("ftp://example.com/x.yaml")
            .map_err(|e| e.to_string()),
        Err(
            "unsupported URL ftp://example.com/x.yaml (only http:// and https:// are supported)"
                .to_string()
        )
    );
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let error = loopback_reader(&format!("http://{closed}"))
        .read_url(&format!("http://{closed}/x.yaml"))
        .map_err(|e| e.to_string())
        .unwrap_err();
    assert!(
        error.starts_with(&format!("cannot connect to {closed}")),
        "{error}"
    );
}
