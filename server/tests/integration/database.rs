//! The database (issue 17): registered locations on SQLite and on a real PostgreSQL (a private
//! server started here from Debian's `postgresql` package: initdb in a temp dir, loopback port),
//! through the `greenroom` binary where the behaviour is the process's (restart, crash, several
//! replicas) and through [`server::db::Database`] where it is the store's (concurrency).

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use server::db::{Database, DatabaseConfig, DbError};

/// A fresh directory for one test.
fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("greenroom-db-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Serves the files under `root` over HTTP/1.0 on 127.0.0.1 (404 for anything else); the base
/// URL. Files can change while it runs.
fn serve_dir(root: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let root = root.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    return;
                }
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let path = request_line.split_whitespace().nth(1).unwrap_or("/");
                let file = root.join(path.trim_start_matches('/'));
                let response = match std::fs::read_to_string(&file) {
                    Ok(body) if !path.contains("..") => format!(
                        "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    ),
                    _ => "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string(),
                };
                let _ = stream.write_all(response.as_bytes());
            });
        }
    });
    base
}

fn component(name: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
    )
}

/// One `greenroom serve` process; killed when dropped.
struct Portal {
    child: Child,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Portal {
    /// Starts the binary on `config` (port 0) and waits until it listens.
    fn start(config: &Path) -> Portal {
        let mut child = Command::new(env!("CARGO_BIN_EXE_greenroom"))
            .env_remove("RUST_LOG")
            .env(
                "GREENROOM_SITE_ROOT",
                site_root(config.parent().expect("config dir")),
            )
            .args(["--log-format", "json", "serve", "--config"])
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn greenroom");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        for pipe in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let (log, tx) = (Arc::clone(&log), tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Ok(json) = serde_json::from_str::<Value>(&line) {
                        if let Some(addr) = json.get("addr").and_then(Value::as_str) {
                            let _ = tx.send(addr.to_string());
                        }
                    }
                    log.lock().expect("log").push(line);
                }
            });
        }
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("greenroom did not start: {:?}", log.lock().expect("log")));
        Portal { child, addr, log }
    }

    fn request(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        http(&self.addr, method, path, body)
    }

    fn logged(&self, text: &str) -> bool {
        self.log
            .lock()
            .expect("log")
            .iter()
            .any(|l| l.contains(text))
    }

    /// SIGKILL: no shutdown, nothing flushed by the process.
    fn crash(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A site directory with the bundle files the binary checks for (the UI is not under test).
fn site_root(dir: &Path) -> PathBuf {
    let root = dir.join("site");
    std::fs::create_dir_all(root.join("pkg")).expect("site dir");
    for f in ["greenroom.js", "greenroom.wasm", "greenroom.css"] {
        std::fs::write(root.join("pkg").join(f), "// bundle").expect("asset");
    }
    root
}

/// One HTTP/1.1 request (Connection: close); status and body.
fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let body = body.unwrap_or("");
    let content_type = if body.is_empty() {
        String::new()
    } else {
        "Content-Type: application/json\r\n".to_string()
    };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{content_type}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn config(dir: &Path, files_base: &str, database: &str) -> PathBuf {
    let host = files_base.trim_start_matches("http://");
    let path = dir.join("app-config.yaml");
    std::fs::write(
        &path,
        format!(
            "app:\n  baseUrl: http://localhost:7007\nbackend:\n  baseUrl: http://localhost:7007\n  listen:\n    port: 0\n  reading:\n    allow:\n      - host: '{host}'\n{database}catalog:\n  processingInterval: {{ seconds: 2 }}\n  locations: []\n"
        ),
    )
    .expect("write config");
    path
}

fn register(portal: &Portal, target: &str) -> (u16, Value) {
    let (status, body) = portal.request(
        "POST",
        "/api/catalog/locations",
        Some(&format!(r#"{{"type":"url","target":"{target}"}}"#)),
    );
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn has_component(portal: &Portal, name: &str) -> bool {
    portal
        .request(
            "GET",
            &format!("/api/catalog/entities/by-name/component/default/{name}"),
            None,
        )
        .0
        == 200
}

/// Polls `check` every 50 ms for up to `limit`; how long it took, or None.
fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn sqlite_keeps_registered_locations_across_restarts_and_crashes() {
    let dir = workdir("sqlite");
    let files = dir.join("files");
    std::fs::create_dir_all(files.join("a")).expect("dir");
    std::fs::create_dir_all(files.join("b")).expect("dir");
    std::fs::write(files.join("a/catalog-info.yaml"), component("reg-a")).expect("write");
    std::fs::write(files.join("b/catalog-info.yaml"), component("reg-b")).expect("write");
    let base = serve_dir(files);
    // No backend.database: the default file next to the config.
    let config = config(&dir, &base, "");

    let portal = Portal::start(&config);
    assert!(
        dir.join("data/catalog.sqlite").exists(),
        "the default database file is created"
    );
    let (status, created) = register(&portal, &format!("{base}/a/catalog-info.yaml"));
    assert_eq!(status, 201, "{created}");
    let id = created["location"]["id"].as_str().expect("id").to_string();
    assert_eq!(created["entities"], serde_json::json!([]));
    // Answered once the catalog shows it.
    assert!(has_component(&portal, "reg-a"));
    let (status, again) = register(&portal, &format!("{base}/a/catalog-info.yaml"));
    assert_eq!(status, 409, "{again}");
    assert_eq!(
        again["error"]["message"],
        format!("Location url:{base}/a/catalog-info.yaml already exists")
    );
    drop(portal);

    // Restart: still registered, same id, entities served from the first load.
    let portal = Portal::start(&config);
    assert!(has_component(&portal, "reg-a"));
    let (status, listed) = portal.request("GET", "/api/catalog/locations", None);
    assert_eq!(status, 200);
    let listed: Value = serde_json::from_str(&listed).expect("json");
    assert_eq!(listed[0]["data"]["id"], id.as_str());

    // Crash right after an acknowledged registration: nothing acknowledged is lost.
    let (status, _) = register(&portal, &format!("{base}/b/catalog-info.yaml"));
    assert_eq!(status, 201);
    portal.crash();
    let portal = Portal::start(&config);
    assert!(has_component(&portal, "reg-a") && has_component(&portal, "reg-b"));

    // Unregister: the location and its entities go, and stay gone after a restart.
    let (status, body) = portal.request("DELETE", &format!("/api/catalog/locations/{id}"), None);
    assert_eq!((status, body.as_str()), (204, ""));
    assert!(!has_component(&portal, "reg-a"));
    let (status, body) = portal.request("DELETE", &format!("/api/catalog/locations/{id}"), None);
    assert_eq!(status, 404, "{body}");
    assert!(
        body.contains(&format!("Found no location with ID {id}")),
        "{body}"
    );
    drop(portal);
    let portal = Portal::start(&config);
    assert!(!has_component(&portal, "reg-a"));
    assert!(has_component(&portal, "reg-b"));
}

#[test]
fn deleting_an_entity_hides_it_until_it_is_read_again() {
    let dir = workdir("delete");
    let files = dir.join("files");
    std::fs::create_dir_all(&files).expect("dir");
    std::fs::write(files.join("c.yaml"), component("del-a")).expect("write");
    let base = serve_dir(files);
    let config = config(
        &dir,
        &base,
        "  database:\n    client: better-sqlite3\n    connection: ':memory:'\n",
    );
    let portal = Portal::start(&config);
    assert_eq!(register(&portal, &format!("{base}/c.yaml")).0, 201);
    let (_, entity) = portal.request(
        "GET",
        "/api/catalog/entities/by-name/component/default/del-a",
        None,
    );
    let uid = serde_json::from_str::<Value>(&entity).expect("json")["metadata"]["uid"]
        .as_str()
        .expect("uid")
        .to_string();
    let (status, _) = portal.request(
        "DELETE",
        &format!("/api/catalog/entities/by-uid/{uid}"),
        None,
    );
    assert_eq!(status, 204);
    assert!(
        !has_component(&portal, "del-a"),
        "gone right after the delete"
    );
    // Backstage answers 204 for a uid it does not know.
    assert_eq!(
        portal
            .request("DELETE", "/api/catalog/entities/by-uid/nope", None)
            .0,
        204
    );
    // Its location still lists it: the next processing cycle (2 s here) reads it again.
    assert!(
        eventually(Duration::from_secs(20), || has_component(&portal, "del-a")).is_some(),
        "a managed entity comes back when its location is processed again"
    );
    // POST /refresh re-reads at once.
    let (status, _) = portal.request(
        "DELETE",
        &format!("/api/catalog/entities/by-uid/{uid}"),
        None,
    );
    assert_eq!(status, 204);
    let (status, body) = portal.request(
        "POST",
        "/api/catalog/refresh",
        Some(r#"{"entityRef":"location:default/nope"}"#),
    );
    assert_eq!(status, 404, "{body}");
    assert!(
        body.contains("Entity location:default/nope not found"),
        "{body}"
    );
    let generated =
        server::catalog::location::generated_location_ref(&format!("url:{base}/c.yaml"));
    let (status, body) = portal.request(
        "POST",
        "/api/catalog/refresh",
        Some(&format!(r#"{{"entityRef":"{generated}"}}"#)),
    );
    assert_eq!((status, body.as_str()), (200, ""));
    assert!(has_component(&portal, "del-a"));
}

#[test]
fn concurrent_registrations_store_each_target_once_on_sqlite() {
    let dir = workdir("concurrent");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let db = Database::connect(&DatabaseConfig::Sqlite {
            file: Some(dir.join("c.sqlite")),
        })
        .await
        .expect("connect");
        concurrent(&db).await;
    });
}

/// 40 concurrent registrations of 8 targets: each target stored once, every other attempt a
/// conflict, and the list agrees.
async fn concurrent(db: &Database) {
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                db.add_location(
                    "url",
                    &format!("https://git.example/{}/catalog-info.yaml", i % 8),
                )
                .await
            })
        })
        .collect();
    let (mut ok, mut conflicts) = (0, 0);
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => ok += 1,
            Err(DbError::Conflict(..)) => conflicts += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!((ok, conflicts), (8, 32));
    let listed = db.locations().await.expect("list");
    let targets: HashSet<_> = listed.iter().map(|l| l.target.clone()).collect();
    assert_eq!((listed.len(), targets.len()), (8, 8));
    let ids: HashSet<_> = listed.iter().map(|l| l.id.clone()).collect();
    assert_eq!(ids.len(), 8);
}

/// A private PostgreSQL server in a temp dir on a loopback port, as an unprivileged user
/// (`postgres` when the tests run as root: the server refuses root). Stopped when dropped.
struct Postgres {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Postgres {
    fn start(name: &str) -> Postgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL is not installed (Debian's postgresql package; scripts/setup.sh --test installs it)")
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").exists())
            .max()
            .expect("no /usr/lib/postgresql/*/bin/initdb");
        let dir = std::env::temp_dir().join(format!("greenroom-pg-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("pg dir");
        let as_user = |program: &Path| -> Command {
            if is_root() {
                let (uid, gid) = postgres_ids();
                std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("chown pg dir");
                let mut c = Command::new("setpriv");
                c.args([
                    &format!("--reuid={uid}"),
                    &format!("--regid={gid}"),
                    "--clear-groups",
                    "--",
                ])
                .arg(program);
                c
            } else {
                Command::new(program)
            }
        };
        let data = dir.join("data");
        let out = as_user(&bin.join("initdb"))
            .args([
                "-U",
                "greenroom",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-instructions",
                "-D",
            ])
            .arg(&data)
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let child = as_user(&bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .args([
                "-p",
                &port.to_string(),
                "-c",
                "listen_addresses=127.0.0.1",
                "-k",
            ])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start postgres");
        let pg = Postgres { child, port, dir };
        let ready = eventually(Duration::from_secs(30), || {
            Command::new(bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &port.to_string()])
                .output()
                .is_ok_and(|o| o.status.success())
        });
        assert!(ready.is_some(), "PostgreSQL did not become ready");
        pg
    }

    fn url(&self) -> String {
        format!("postgres://greenroom@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // SIGINT: fast shutdown (the server removes its shared memory and lock files).
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// uid and gid of the `postgres` user Debian's package creates.
fn postgres_ids() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    let line = passwd
        .lines()
        .find(|l| l.starts_with("postgres:"))
        .expect("no postgres user (Debian's postgresql package creates it)");
    let fields: Vec<&str> = line.split(':').collect();
    (
        fields[2].parse().expect("uid"),
        fields[3].parse().expect("gid"),
    )
}

#[test]
fn postgres_store_replicas_and_refresh_leader() {
    let pg = Postgres::start("replicas");
    let pg_config = format!(
        "  database:\n    client: pg\n    connection: '{}'\n",
        pg.url()
    );
    // The store: concurrent registrations on PostgreSQL (the database is created on first
    // connect, Backstage's ensureExists).
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let config = server::db::config::read(
            &server::config::Config::from_json_layers(vec![(
                "test".into(),
                serde_json::json!({"backend": {"database": {"client": "pg", "connection": pg.url()}}}),
            )]),
            Path::new("/"),
            Path::new("/"),
        )
        .expect("config");
        let db = Database::connect(&config).await.expect("connect");
        concurrent(&db).await;
        for l in db.locations().await.expect("list") {
            db.delete_location(&l.id).await.expect("delete");
        }
    });
    // Its background tasks (the listener, the refresh lease) end with the runtime, and the
    // server releases the lease with their connection.
    drop(runtime);

    let dir = workdir("replicas");
    let files = dir.join("files");
    std::fs::create_dir_all(&files).expect("dir");
    std::fs::write(files.join("r.yaml"), component("rep-a")).expect("write");
    let base = serve_dir(files.clone());
    let config_a = config(&dir, &base, &pg_config);
    let dir_b = dir.join("b");
    std::fs::create_dir_all(&dir_b).expect("dir");
    let config_b = config(&dir_b, &base, &pg_config);
    let a = Portal::start(&config_a);
    let b = Portal::start(&config_b);

    // Registered through A, served by B (LISTEN/NOTIFY).
    assert_eq!(register(&a, &format!("{base}/r.yaml")).0, 201);
    let took = eventually(Duration::from_secs(10), || has_component(&b, "rep-a"));
    eprintln!("replica B served the registration after {took:?}");
    assert!(
        took.is_some(),
        "replica B never served the location registered on A"
    );
    // A conflict is a conflict whichever replica is asked.
    assert_eq!(register(&b, &format!("{base}/r.yaml")).0, 409);

    // Exactly one replica holds the refresh lease.
    let lease = "holds the lease";
    assert!(
        eventually(Duration::from_secs(15), || a.logged(lease)
            || b.logged(lease))
        .is_some(),
        "no replica became the refresh leader; A: {:?}",
        a.log.lock().expect("log")
    );
    let (leader, follower) = if a.logged(lease) { (a, b) } else { (b, a) };
    assert!(!follower.logged(lease), "both replicas hold the lease");
    // The leader re-reads the URL on the interval and the follower follows its stored read.
    std::fs::write(
        files.join("r.yaml"),
        component("rep-a").replace("rep-a", "rep-b"),
    )
    .expect("write");
    assert!(
        eventually(Duration::from_secs(20), || has_component(
            &follower, "rep-b"
        ))
        .is_some(),
        "the follower did not pick up the leader's new read"
    );
    // The leader dies: the other replica takes the lease over and refreshes from then on.
    leader.crash();
    assert!(
        eventually(Duration::from_secs(30), || follower.logged(lease)).is_some(),
        "the surviving replica did not take the refresh lease over"
    );
    std::fs::write(files.join("r.yaml"), component("rep-c")).expect("write");
    assert!(
        eventually(Duration::from_secs(20), || has_component(
            &follower, "rep-c"
        ))
        .is_some(),
        "the new leader does not refresh"
    );
    // A replica started now (a restart, a scale-up) serves the registered location at once,
    // and a location removed through it is gone on the other replica too.
    drop(follower);
    let dir_c = dir.join("c");
    std::fs::create_dir_all(&dir_c).expect("dir");
    let c = Portal::start(&config(&dir_c, &base, &pg_config));
    assert!(
        has_component(&c, "rep-c"),
        "a new replica does not serve the registered location"
    );
    let dir_d = dir.join("d");
    std::fs::create_dir_all(&dir_d).expect("dir");
    let d = Portal::start(&config(&dir_d, &base, &pg_config));
    let (_, listed) = c.request("GET", "/api/catalog/locations", None);
    let listed: Value = serde_json::from_str(&listed).expect("json");
    let id = listed[0]["data"]["id"].as_str().expect("id").to_string();
    assert_eq!(
        c.request("DELETE", &format!("/api/catalog/locations/{id}"), None)
            .0,
        204
    );
    assert!(
        eventually(Duration::from_secs(10), || !has_component(&d, "rep-c")).is_some(),
        "the other replica still serves an unregistered location"
    );
}
