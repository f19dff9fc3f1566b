//! The catalog's trust boundary, tried as an attacker would (issue 12, catalog classes):
//! catalog files that try to read the server's own files (3), outbound reads to unlisted,
//! private and metadata addresses, redirects, slow and oversized responses (4), script URLs in
//! link annotations (6), credentials in location URLs (8), and URL locations failing at a bad
//! moment (9). Every server is a loopback listener; nothing here touches the internet.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use http::Request;
use serde_json::Value;
use server::catalog::config::{CatalogConfig, ProcessingInterval};
use server::catalog::location::{
    ingest, IngestOptions, IngestResult, LocationSpec, LocationType, UrlReader,
};
use server::catalog::reload::{load, load_keeping};
use server::catalog::rules::{default_rules, Rule};
use server::catalog::store::{CatalogStore, Snapshot};
use server::catalog::url_reader::{ReadingAllow, UrlFetcher, UrlReadError};
use tower::ServiceExt;

// ---------------------------------------------------------------------------------------------
// Helpers

/// A directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("greenroom-trust-{name}-{}-{n}", std::process::id()));
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

/// Refuses every URL without a network (for file-only tests).
struct Offline;

impl UrlReader for Offline {
    fn read_url(&self, url: &str) -> Result<String, UrlReadError> {
        Err(UrlReadError::Transport {
            url: url.to_string(),
            reason: "offline test".to_string(),
        })
    }
}

fn component(name: &str, description: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  description: {description}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
    )
}

fn location_yaml(name: &str, targets: &[&str]) -> String {
    let list: String = targets.iter().map(|t| format!("    - {t}\n")).collect();
    format!("apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: {name}\nspec:\n  targets:\n{list}")
}

fn file_root(path: &Path) -> LocationSpec {
    LocationSpec {
        kind: LocationType::File,
        target: path.to_string_lossy().into_owned(),
        rules: Vec::new(),
        optional: false,
    }
}

fn url_root(url: &str) -> LocationSpec {
    LocationSpec {
        kind: LocationType::Url,
        target: url.to_string(),
        rules: Vec::new(),
        optional: false,
    }
}

fn run(locations: &[LocationSpec], reader: &dyn UrlReader) -> IngestResult {
    ingest(&IngestOptions {
        locations,
        rules: &[Rule::allowing(&[
            "Component",
            "API",
            "Location",
            "Group",
            "User",
        ])],
        url_reader: reader,
        max_file_bytes: 1 << 20,
    })
}

fn names(result: &IngestResult) -> Vec<String> {
    let mut names: Vec<String> = result
        .entities
        .iter()
        .filter_map(|e| e.entity["metadata"]["name"].as_str())
        .filter(|n| !n.starts_with("generated-"))
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

/// Everything a client could see of a snapshot: every entity's JSON, every problem, every
/// location entry, plus the REST API's responses for entities, locations and problems.
async fn everything_served(snapshot: Snapshot) -> String {
    let mut out = String::new();
    for e in &snapshot.entities {
        out.push_str(e.json.get());
    }
    for p in snapshot.errors.iter().chain(&snapshot.warnings) {
        out.push_str(&p.to_string());
    }
    for l in &snapshot.locations {
        out.push_str(&format!("{} {} {}\n", l.id, l.location_type, l.target));
    }
    let ids: Vec<String> = snapshot.locations.iter().map(|l| l.id.clone()).collect();
    let store = Arc::new(CatalogStore::new(snapshot));
    let router = server::http::catalog_api::routes::<()>(
        store,
        Arc::new(Vec::new()),
        Arc::new(server::permission::Permissions::disabled()),
    );
    let mut paths = vec![
        "/api/catalog/entities".to_string(),
        "/api/catalog/entities/by-query".to_string(),
        "/api/catalog/locations".to_string(),
    ];
    paths.extend(ids.iter().map(|id| format!("/api/catalog/locations/{id}")));
    for path in paths {
        let response = router
            .clone()
            .oneshot(Request::get(&path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .unwrap();
        out.push_str(&String::from_utf8_lossy(&bytes));
    }
    out
}

/// What a loopback server does with one request (given the request target).
type Handler = dyn Fn(&str, &mut TcpStream) + Send + Sync;

/// A loopback HTTP server; counts requests.
struct Server {
    base: String,
    port: u16,
    hits: Arc<AtomicUsize>,
}

impl Server {
    fn start(handler: impl Fn(&str, &mut TcpStream) + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        let handler: Arc<Handler> = Arc::new(handler);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let handler = Arc::clone(&handler);
                let counter = Arc::clone(&counter);
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).is_err() {
                        return;
                    }
                    let mut header = String::new();
                    while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                        header.clear();
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    let target = request_line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or("/")
                        .to_string();
                    handler(&target, &mut stream);
                });
            }
        });
        Server {
            base: format!("http://127.0.0.1:{port}"),
            port,
            hits,
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// A reader that lists this server exactly (loopback needs that).
    fn reader(&self) -> UrlFetcher {
        UrlFetcher::new(allow(&[&format!("127.0.0.1:{}", self.port)]))
    }
}

fn allow(hosts: &[&str]) -> ReadingAllow {
    let entries: Vec<(&str, Option<&[&str]>)> = hosts.iter().map(|h| (*h, None)).collect();
    ReadingAllow::from_entries(&entries).unwrap()
}

fn respond(stream: &mut TcpStream, status: &str, headers: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}",
        body.len()
    );
}

const BACKSTAGE_NOT_ALLOWED: &str = "is not allowed. You may need to configure an integration for the target host, or add it to the configured list of allowed hosts at 'backend.reading.allow'";

// ---------------------------------------------------------------------------------------------
// 3. Catalog files read the server's own files

#[test]
fn placeholders_in_catalog_files_cannot_read_outside_their_directory() {
    let tmp = TempDir::new("placeholders");
    tmp.write("secret.txt", "TOP-SECRET-FILE-CONTENT");
    tmp.write("cat/docs/readme.md", "inside the catalog");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(tmp.0.join("secret.txt"), tmp.0.join("cat/leak.txt")).unwrap();
        std::os::unix::fs::symlink("/", tmp.0.join("cat/root")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", tmp.0.join("cat/zero")).unwrap();
    }
    let catalog = tmp.write(
        "cat/catalog-info.yaml",
        [
            component("environ", "{$text: /proc/self/environ}"),
            component("parent", "{$text: ../secret.txt}"),
            component("deep-parent", "{$text: ./docs/../../secret.txt}"),
            component("symlink", "{$text: ./leak.txt}"),
            component("via-root-link", "{$text: ./root/proc/self/environ}"),
            component("device", "{$text: ./zero}"),
            component("json-abs", "{$json: /etc/passwd}"),
            component("fine", "{$text: ./docs/readme.md}"),
        ]
        .join("---\n"),
    );
    let result = run(&[file_root(&catalog)], &Offline);
    assert_eq!(
        names(&result),
        vec![
            "deep-parent",
            "device",
            "environ",
            "fine",
            "json-abs",
            "parent",
            "symlink",
            "via-root-link"
        ],
        "the entities stay (with an unresolved text)"
    );
    let description = |name: &str| {
        result
            .entities
            .iter()
            .find(|e| e.entity["metadata"]["name"] == name)
            .map(|e| e.entity["metadata"]["description"].clone())
            .unwrap()
    };
    assert_eq!(description("fine"), Value::from("inside the catalog"));
    let all = serde_json::to_string(
        &result
            .entities
            .iter()
            .map(|e| &e.entity)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(!all.contains("TOP-SECRET-FILE-CONTENT"), "{all}");
    assert!(!all.contains("PATH="), "no environment in entities");
    assert!(!all.contains("root:x:0:0"), "no /etc/passwd in entities");

    let file = catalog.display().to_string();
    let refused = |name: &str| {
        result
            .problems
            .iter()
            .find(|p| p.entity_ref.as_deref() == Some(&format!("component:default/{name}")))
            .unwrap_or_else(|| panic!("no problem for {name}: {:#?}", result.problems))
    };
    let p = refused("environ");
    assert_eq!(p.location, format!("file:{file}"));
    assert_eq!(p.field.as_deref(), Some("metadata.description"));
    assert!(
        p.reason.starts_with(&format!(
            "$text placeholder '/proc/self/environ' reads outside the directory of {file}"
        )),
        "{p}"
    );
    for name in ["parent", "deep-parent", "json-abs"] {
        assert!(
            refused(name)
                .reason
                .contains(&format!("reads outside the directory of {file}")),
            "{}",
            refused(name)
        );
    }
    #[cfg(unix)]
    {
        assert!(
            refused("symlink")
                .reason
                .contains("reads outside the directory"),
            "{}",
            refused("symlink")
        );
        assert!(
            refused("via-root-link").reason.contains("system file"),
            "{}",
            refused("via-root-link")
        );
        assert!(
            refused("device").reason.contains("system file"),
            "{}",
            refused("device")
        );
    }
    assert_eq!(result.problems.len(), 7, "{:#?}", result.problems);
}

#[test]
fn location_targets_in_catalog_files_stay_in_their_directory_but_config_roots_do_not() {
    let tmp = TempDir::new("targets");
    let outside = tmp.write("outside/comp.yaml", component("outside", "not for you"));
    tmp.write(
        "outside/more.yaml",
        component("outside-glob", "not for you either"),
    );
    tmp.write("cat/inside.yaml", component("inside", "ok"));
    tmp.write("cat/sub/deeper.yaml", component("deeper", "ok"));
    #[cfg(unix)]
    std::os::unix::fs::symlink(tmp.0.join("outside"), tmp.0.join("cat/link")).unwrap();
    let catalog = tmp.write(
        "cat/all.yaml",
        location_yaml(
            "all",
            &[
                "./inside.yaml",
                "./sub/deeper.yaml",
                "../outside/comp.yaml",
                &outside.display().to_string(),
                "./link/comp.yaml",
                "./link/*.yaml",
            ],
        ),
    );
    let result = run(&[file_root(&catalog)], &Offline);
    assert_eq!(names(&result), vec!["all", "deeper", "inside"]);
    let field = |i: usize| {
        result
            .problems
            .iter()
            .find(|p| p.field.as_deref() == Some(&format!("spec.targets[{i}]")))
            .unwrap_or_else(|| panic!("no problem for target {i}: {:#?}", result.problems))
    };
    let file = catalog.display().to_string();
    for i in [2, 3] {
        let p = field(i);
        assert_eq!(p.location, format!("file:{file}"));
        assert_eq!(p.entity_ref.as_deref(), Some("location:default/all"));
        assert!(
            p.reason
                .contains(&format!("reads outside the directory of {file}")),
            "{p}"
        );
    }
    #[cfg(unix)]
    {
        assert!(
            field(4).reason.contains("reads outside the directory"),
            "{}",
            field(4)
        );
        assert!(
            field(5).reason.contains("reads outside the directory"),
            "{}",
            field(5)
        );
    }

    // The same file as a root location in app-config is trusted and read.
    let root = run(&[file_root(&outside)], &Offline);
    assert_eq!(names(&root), vec!["outside"]);
    assert!(root.problems.is_empty(), "{:#?}", root.problems);
}

#[test]
fn a_document_read_from_a_url_never_reads_local_files() {
    let tmp = TempDir::new("url-local");
    let secret = tmp.write("secret.txt", "TOP-SECRET-FILE-CONTENT");
    let secret_path = secret.display().to_string();
    let served = format!(
        "{}---\napiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: to-files\nspec:\n  type: file\n  target: {secret_path}\n",
        component("remote", &format!("{{$text: '{secret_path}'}}"))
    );
    let server = Server::start(move |target, stream| {
        if target == "/all.yaml" {
            respond(stream, "200 OK", "", &served);
        } else {
            respond(stream, "404 Not Found", "", "");
        }
    });
    let result = run(
        &[url_root(&format!("{}/all.yaml", server.base))],
        &server.reader(),
    );
    let all = serde_json::to_string(
        &result
            .entities
            .iter()
            .map(|e| &e.entity)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(!all.contains("TOP-SECRET-FILE-CONTENT"));
    assert!(result.files.is_empty(), "{:?}", result.files);
    assert!(result
        .problems
        .iter()
        .any(|p| p.reason.contains("may not point at local files")));
}

// ---------------------------------------------------------------------------------------------
// 4. Outbound reads go anywhere

#[test]
fn unlisted_hosts_are_refused_with_backstages_message_before_connecting() {
    let server = Server::start(|_, stream| respond(stream, "200 OK", "", &component("x", "y")));
    let url = format!("{}/catalog-info.yaml", server.base);
    let expected = format!("Reading from '{url}' {BACKSTAGE_NOT_ALLOWED}");
    let unlisted = UrlFetcher::new(ReadingAllow::default());
    assert_eq!(
        unlisted.fetch(&url),
        Err(UrlReadError::NotAllowed(url.clone()))
    );
    assert_eq!(
        unlisted.read_url(&url).map_err(|e| e.to_string()),
        Err(expected.clone())
    );
    let other_port = UrlFetcher::new(allow(&["127.0.0.1"]));
    assert_eq!(
        other_port.read_url(&url).map_err(|e| e.to_string()),
        Err(expected.clone())
    );

    // As a location: a problem with the message, and the server never saw a request.
    let result = run(&[url_root(&url)], &unlisted);
    assert!(
        result.problems.iter().any(|p| p.reason.contains(&expected)),
        "{:#?}",
        result.problems
    );
    assert_eq!(server.hits(), 0);

    // Listed exactly: read.
    assert!(server.reader().fetch(&url).unwrap().contains("name: x"));
    assert_eq!(server.hits(), 1);
}

#[test]
fn private_addresses_need_an_exact_entry_not_a_wildcard() {
    let server = Server::start(|_, stream| respond(stream, "200 OK", "", "ok"));
    let url = format!("{}/x.yaml", server.base);
    // "127.0.0.1" ends with ".0.0.1": matched by the wildcard, but loopback is not public.
    let wildcard = UrlFetcher::new(allow(&[&format!("*.0.0.1:{}", server.port)]));
    match wildcard.fetch(&url) {
        Err(UrlReadError::PrivateAddress { ip, .. }) => assert!(ip.is_loopback()),
        other => panic!("expected a private-address refusal, got {other:?}"),
    }
    assert_eq!(server.hits(), 0, "refused before connecting");
    // `localhost` listed exactly: resolved, and the loopback address is allowed.
    let by_name = UrlFetcher::new(allow(&[&format!("localhost:{}", server.port)]));
    let url_by_name = format!("http://localhost:{}/x.yaml", server.port);
    match by_name.fetch(&url_by_name) {
        Ok(body) => assert_eq!(body, "ok"),
        // Some machines resolve localhost to ::1 only, where nothing listens.
        Err(UrlReadError::Connect { .. }) => {}
        Err(other) => panic!("{other}"),
    }
    // The cloud metadata address, matched by a wildcard only: refused without a connection.
    let metadata = UrlFetcher::new(allow(&["*.169.254"]));
    match metadata.fetch("http://169.254.169.254/latest/meta-data/iam/security-credentials/") {
        Err(UrlReadError::PrivateAddress { ip, .. }) => {
            assert_eq!(ip.to_string(), "169.254.169.254")
        }
        other => panic!("expected a private-address refusal, got {other:?}"),
    }
}

#[test]
fn allowed_paths_are_prefixes() {
    let server = Server::start(|_, stream| respond(stream, "200 OK", "", "ok"));
    let host = format!("127.0.0.1:{}", server.port);
    let reader = UrlFetcher::new(
        ReadingAllow::from_entries(&[(host.as_str(), Some(&["/cat/"][..]))]).unwrap(),
    );
    assert_eq!(
        reader.fetch(&format!("{}/cat/a.yaml", server.base)),
        Ok("ok".into())
    );
    let refused = format!("{}/catalog/a.yaml", server.base);
    assert_eq!(
        reader.fetch(&refused),
        Err(UrlReadError::NotAllowed(refused.clone()))
    );
    let dotted = format!("{}/cat/../secret", server.base);
    assert!(matches!(
        reader.fetch(&dotted),
        Err(UrlReadError::NotAllowed(_))
    ));
}

#[test]
fn redirects_are_followed_only_to_allowed_hosts_and_only_a_few_times() {
    let target = Server::start(|_, stream| respond(stream, "200 OK", "", "you should not be here"));
    let to = format!("http://localhost:{}/stolen", target.port);
    let server = Server::start(move |path, stream| match path {
        "/away" => respond(stream, "302 Found", &format!("Location: {to}\r\n"), ""),
        "/here" => respond(stream, "301 Moved Permanently", "Location: /final\r\n", ""),
        "/final" => respond(stream, "200 OK", "", "arrived"),
        "/loop" => respond(stream, "307 Temporary Redirect", "Location: /loop\r\n", ""),
        _ => respond(stream, "404 Not Found", "", ""),
    });
    let reader = server.reader();
    assert_eq!(
        reader.fetch(&format!("{}/here", server.base)),
        Ok("arrived".into())
    );
    assert_eq!(
        reader.fetch(&format!("{}/away", server.base)),
        Err(UrlReadError::RedirectNotAllowed(format!(
            "http://localhost:{}/stolen",
            target.port
        )))
    );
    assert_eq!(target.hits(), 0, "the unlisted host was never contacted");
    let looped = format!("{}/loop", server.base);
    assert_eq!(
        reader.read_url(&looped).map_err(|e| e.to_string()),
        Err(format!("Too many redirects (max 5) when reading {looped}"))
    );
}

#[test]
fn a_slow_drip_server_stops_at_the_deadline() {
    let drip = Server::start(|_, stream| {
        let _ = write!(stream, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
        for _ in 0..100_000 {
            if stream.write_all(b"x").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let silent = Server::start(|_, _| std::thread::sleep(Duration::from_secs(60)));
    for server in [&drip, &silent] {
        let reader = server.reader().with_deadline(Duration::from_millis(1500));
        let url = format!("{}/slow.yaml", server.base);
        match reader.fetch(&url) {
            Err(UrlReadError::Deadline { deadline, .. }) => {
                assert_eq!(deadline, Duration::from_millis(1500))
            }
            other => panic!("expected the deadline, got {other:?}"),
        }
    }
}

#[test]
fn sizes_and_chunk_lengths_cannot_overflow_or_exhaust_memory() {
    let server = Server::start(|path, stream| {
        let _ = match path {
            "/chunk-overflow" => write!(
                stream,
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n"
            ),
            "/chunk-huge" => write!(
                stream,
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFF\r\nabc"
            ),
            "/length-overflow" => write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999999\r\n\r\nabc"
            ),
            "/length-big" => write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\nabc"
            ),
            "/chunks-too-many" => {
                let _ = write!(stream, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                for _ in 0..64 {
                    if write!(stream, "400\r\n{}\r\n", "y".repeat(1024)).is_err() {
                        return;
                    }
                }
                write!(stream, "0\r\n\r\n")
            }
            _ => write!(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
        };
    });
    let reader = server.reader().with_max_bytes(16 * 1024);
    let get = |path: &str| reader.fetch(&format!("{}{path}", server.base));
    assert!(
        matches!(get("/chunk-overflow"), Err(UrlReadError::Transport { .. })),
        "{:?}",
        get("/chunk-overflow")
    );
    assert!(get("/chunk-huge").is_err());
    assert!(get("/length-overflow").is_err());
    assert!(matches!(
        get("/length-big"),
        Err(UrlReadError::TooLarge { limit: 16384, .. })
    ));
    assert!(matches!(
        get("/chunks-too-many"),
        Err(UrlReadError::TooLarge { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// 6. Script URLs

#[tokio::test]
async fn script_urls_in_link_annotations_are_rejected_in_stored_entities() {
    let tmp = TempDir::new("script-urls");
    let entity = |name: &str, view: &str, source: &str| {
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  annotations:\n    backstage.io/view-url: {view:?}\n    backstage.io/edit-url: {view:?}\n    backstage.io/source-location: {source:?}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
        )
    };
    let catalog = tmp.write(
        "catalog.yaml",
        [
            entity("js", "javascript:alert(1)", "url:javascript:alert(1)"),
            entity(
                "mixed-case",
                "JaVaScRiPt:alert(document.cookie)",
                "url:JaVaScRiPt:alert(2)",
            ),
            entity(
                "spaces",
                "  \tjavascript:alert(3)",
                "url: javascript:alert(3)",
            ),
            entity(
                "data",
                "data:text/html,<script>alert(4)</script>",
                "url:data:text/html,x",
            ),
            entity(
                "fine",
                "https://github.com/acme/x/blob/main/catalog-info.yaml",
                "url:https://github.com/acme/x/tree/main/",
            ),
        ]
        .join("---\n"),
    );
    let config = CatalogConfig {
        locations: vec![file_root(&catalog)],
        rules: default_rules(),
    };
    let snapshot = load(&config, &Offline);
    assert!(snapshot.errors.is_empty(), "{:#?}", snapshot.errors);
    let annotation = |name: &str, key: &str| {
        let e = snapshot
            .get(&format!("component:default/{name}"))
            .unwrap()
            .value();
        e["metadata"]["annotations"][key]
            .as_str()
            .unwrap()
            .to_string()
    };
    const REJECTED: &str = "https://backstage.io/annotation-rejected-for-security-reasons";
    for name in ["js", "mixed-case", "spaces", "data"] {
        assert_eq!(annotation(name, "backstage.io/view-url"), REJECTED);
        assert_eq!(annotation(name, "backstage.io/edit-url"), REJECTED);
        assert_eq!(
            annotation(name, "backstage.io/source-location"),
            format!("url:{REJECTED}")
        );
    }
    assert_eq!(
        annotation("fine", "backstage.io/view-url"),
        "https://github.com/acme/x/blob/main/catalog-info.yaml"
    );
    let served = everything_served(snapshot).await.to_lowercase();
    assert!(!served.contains("javascript:"), "{served}");
    assert!(!served.contains("data:text/html"), "{served}");
}

// ---------------------------------------------------------------------------------------------
// 8. Credentials in URLs

#[tokio::test]
async fn credentials_in_location_urls_are_redacted_everywhere_but_still_used() {
    const SECRET: &str = "glpat-SUPERSECRET123";
    let server = Server::start(|target, stream| {
        if !target.contains(&format!("private_token={SECRET}")) {
            return respond(stream, "401 Unauthorized", "", "");
        }
        if target.starts_with("/all.yaml") {
            let body = format!(
                "{}---\n{}",
                component("remote", "read with a token"),
                location_yaml("nested", &["./broken.yaml", "./missing.yaml"])
            );
            respond(stream, "200 OK", "", &body);
        } else if target.starts_with("/broken.yaml") {
            respond(stream, "500 Internal Server Error", "", "");
        } else {
            respond(stream, "404 Not Found", "", "");
        }
    });
    let root = format!("{}/all.yaml?ref=main&private_token={SECRET}", server.base);
    let config = CatalogConfig {
        locations: vec![url_root(&root)],
        rules: default_rules(),
    };
    let snapshot = load(&config, &server.reader());
    assert!(
        snapshot.get("component:default/remote").is_some(),
        "the real URL (with its token) was used to read: {:#?}",
        snapshot.errors
    );
    assert!(snapshot.errors.len() >= 2, "{:#?}", snapshot.errors);
    let redacted = format!("{}/all.yaml?ref=main&private_token=***", server.base);
    assert_eq!(snapshot.locations[0].target, redacted);
    let remote = snapshot.get("component:default/remote").unwrap().value();
    assert_eq!(
        remote["metadata"]["annotations"]["backstage.io/managed-by-location"],
        Value::from(format!("url:{redacted}"))
    );
    assert_eq!(
        remote["metadata"]["annotations"]["backstage.io/managed-by-origin-location"],
        Value::from(format!("url:{redacted}"))
    );
    let served = everything_served(snapshot).await;
    assert!(!served.contains(SECRET), "{served}");
    assert!(served.contains("private_token=***"), "{served}");
}

// ---------------------------------------------------------------------------------------------
// 9. Losing data on a bad moment

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Good,
    Changed,
    Failing,
    Malformed,
    Gone,
}

fn switchable_server() -> (Server, Arc<Mutex<Mode>>) {
    let mode = Arc::new(Mutex::new(Mode::Good));
    let state = Arc::clone(&mode);
    let server = Server::start(move |target, stream| {
        let mode = *state.lock().unwrap();
        match (target, mode) {
            (_, Mode::Failing) => respond(stream, "503 Service Unavailable", "", ""),
            (_, Mode::Gone) => respond(stream, "404 Not Found", "", ""),
            ("/all.yaml", Mode::Malformed) => {
                respond(stream, "200 OK", "", "kind: [unclosed\n---\nmore: {\n")
            }
            ("/all.yaml", _) => respond(
                stream,
                "200 OK",
                "",
                &format!(
                    "{}---\n{}",
                    component("served", "v1"),
                    location_yaml("more", &["./b.yaml"])
                ),
            ),
            ("/b.yaml", Mode::Changed) => respond(stream, "200 OK", "", &component("nested", "v2")),
            ("/b.yaml", _) => respond(stream, "200 OK", "", &component("nested", "v1")),
            _ => respond(stream, "404 Not Found", "", ""),
        }
    });
    (server, mode)
}

fn description(snapshot: &Snapshot, name: &str) -> Option<String> {
    snapshot
        .get(&format!("component:default/{name}"))
        .and_then(|e| {
            e.value()["metadata"]["description"]
                .as_str()
                .map(str::to_string)
        })
}

#[test]
fn a_failing_url_keeps_its_last_good_entities_and_a_404_removes_them() {
    let (server, mode) = switchable_server();
    let config = CatalogConfig {
        locations: vec![url_root(&format!("{}/all.yaml", server.base))],
        rules: default_rules(),
    };
    let reader = server.reader();
    let (first, previous) = load_keeping(&config, &reader, None);
    assert_eq!(description(&first, "served").as_deref(), Some("v1"));
    assert_eq!(description(&first, "nested").as_deref(), Some("v1"));
    assert!(first.errors.is_empty(), "{:#?}", first.errors);

    for bad in [Mode::Failing, Mode::Malformed] {
        *mode.lock().unwrap() = bad;
        let (snapshot, next) = load_keeping(&config, &reader, Some(&previous));
        assert_eq!(description(&snapshot, "served").as_deref(), Some("v1"));
        assert_eq!(description(&snapshot, "nested").as_deref(), Some("v1"));
        assert!(
            snapshot.errors.iter().any(|p| p
                .reason
                .contains("before are kept until it can be read again")),
            "{:#?}",
            snapshot.errors
        );
        // Failing twice in a row still keeps them.
        let (again, _) = load_keeping(&config, &reader, Some(&next));
        assert_eq!(description(&again, "nested").as_deref(), Some("v1"));
    }

    *mode.lock().unwrap() = Mode::Gone;
    let (gone, _) = load_keeping(&config, &reader, Some(&previous));
    assert_eq!(
        description(&gone, "served"),
        None,
        "a 404 is a real removal"
    );
    assert_eq!(description(&gone, "nested"), None);
}

#[test]
fn url_locations_are_reread_on_the_processing_interval() {
    let (server, mode) = switchable_server();
    let config = Arc::new(CatalogConfig {
        locations: vec![url_root(&format!("{}/all.yaml", server.base))],
        rules: default_rules(),
    });
    let reader: Arc<dyn UrlReader> = Arc::new(server.reader());
    let (first, previous) = load_keeping(&config, reader.as_ref(), None);
    assert_eq!(description(&first, "nested").as_deref(), Some("v1"));
    let store = Arc::new(CatalogStore::new(first));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let interval = ProcessingInterval::Random {
        min: Duration::from_secs(1),
        max: Duration::from_millis(1500),
    };
    runtime.spawn(server::catalog::reload::watch(
        Arc::clone(&store),
        config,
        reader,
        interval,
        previous,
        None,
    ));
    *mode.lock().unwrap() = Mode::Changed;
    let mut seen = None;
    for _ in 0..300 {
        seen = description(&store.snapshot(), "nested");
        if seen.as_deref() == Some("v2") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        seen.as_deref(),
        Some("v2"),
        "no local file changed; the interval re-read the URL"
    );
    runtime.shutdown_background();
}

// ---------------------------------------------------------------------------------------------
// 7. Unbounded work per request

#[tokio::test]
async fn full_text_terms_and_filters_are_capped_with_backstages_error_shape() {
    let tmp = TempDir::new("caps");
    let catalog = tmp.write("catalog.yaml", component("one", "x"));
    let config = CatalogConfig {
        locations: vec![file_root(&catalog)],
        rules: default_rules(),
    };
    let store = Arc::new(CatalogStore::new(load(&config, &Offline)));
    let router = server::http::catalog_api::routes::<()>(
        store,
        Arc::new(Vec::new()),
        Arc::new(server::permission::Permissions::disabled()),
    );
    let get = |uri: String| {
        let router = router.clone();
        async move {
            let response = router
                .oneshot(Request::get(&uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let status = response.status().as_u16();
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .unwrap();
            (
                status,
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            )
        }
    };
    let (status, _) = get(format!(
        "/api/catalog/entities/by-query?fullTextFilterTerm={}",
        "o".repeat(200)
    ))
    .await;
    assert_eq!(status, 200, "200 characters are fine");
    let (status, body) = get(format!(
        "/api/catalog/entities/by-query?fullTextFilterTerm={}",
        "o".repeat(201)
    ))
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["name"], "InputError");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("fullTextFilterTerm"),
        "{body}"
    );
    assert_eq!(body["response"]["statusCode"], 400);
    assert_eq!(body["request"]["method"], "GET");

    let many: String = (0..51).map(|i| format!("filter=kind%3Dk{i}&")).collect();
    for uri in [
        format!("/api/catalog/entities?{many}"),
        format!("/api/catalog/entities/by-query?{many}"),
        format!(
            "/api/catalog/entities?filter=metadata.name%3D{}",
            "a".repeat(5000)
        ),
    ] {
        let (status, body) = get(uri.clone()).await;
        assert_eq!(status, 400, "{uri}");
        assert_eq!(body["error"]["name"], "InputError");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("filter"),
            "{body}"
        );
    }
}
