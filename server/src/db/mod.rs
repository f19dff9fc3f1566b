//! The database: what Greenroom keeps across restarts and shares between replicas — the
//! locations registered through `POST /api/catalog/locations` (Backstage's `locations` table).
//! The catalog itself stays in memory, rebuilt from its locations by every replica.
//!
//! One library, `sqlx`, for both engines (see [`config`] for Backstage's `backend.database`
//! keys): embedded SQLite (the default; a file, WAL journal, `synchronous = FULL` so a commit
//! is on disk before it is acknowledged) and PostgreSQL (several replicas on one database).
//! The schema is created by migrations embedded in the binary and run at start (PostgreSQL
//! serialises concurrent starts with sqlx's advisory lock). Tables are prefixed `greenroom_` so
//! they never collide with Backstage's own tables when both use one server.
//!
//! Only one replica at a time re-reads `url` locations on `catalog.processingInterval` (the
//! refresh leader, see [`Database::is_leader`]); it stores what it read
//! (`greenroom_url_documents`) and announces it, and the others build their catalog from those
//! stored reads instead of fetching the URLs themselves.
//!
//! Changes are announced: on PostgreSQL with `NOTIFY greenroom_catalog` in the changing
//! transaction (every replica `LISTEN`s and reloads; after a lost connection it reloads
//! anyway, since notifications may have been missed). On SQLite there is one process, whose
//! registry asks for its own reloads.

pub mod config;

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Executor, Row};
use tokio::sync::watch;

pub use config::DatabaseConfig;

/// The channel replicas announce changes on.
pub const CHANNEL: &str = "greenroom_catalog";

/// How long to wait for a connection from the pool before failing a request.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The schema, oldest first. Append only: a released migration is never edited.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "registered locations",
        "CREATE TABLE greenroom_locations (
            id TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            target TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (type, target)
        )",
    ),
    (
        2,
        "url documents read by the refresh leader",
        "CREATE TABLE greenroom_url_documents (
            url TEXT PRIMARY KEY,
            status BIGINT NOT NULL,
            body TEXT,
            fetched_at TEXT NOT NULL
        )",
    ),
];

/// The advisory lock key the URL refresh leader holds (PostgreSQL).
const LEADER_LOCK: i64 = 0x6772_6565_6e72_6f6f; // "greenroo"

/// How often a replica that is not the leader tries to become it, and the leader checks that
/// its lock connection is alive.
pub const LEASE_CHECK: Duration = Duration::from_secs(3);

/// A URL's last read, as the refresh leader stored it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Document {
    /// Read: the body.
    Body(String),
    /// The server said it does not exist (404 or 410).
    NotFound(u16),
}

/// A location registered through the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredLocation {
    /// A random UUID (v4), as Backstage gives.
    pub id: String,
    /// `url` (the only type the API registers).
    pub location_type: String,
    /// The URL.
    pub target: String,
}

/// Why a database call failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The location is registered already (Backstage's 409).
    #[error("Location {0}:{1} already exists")]
    Conflict(String, String),
    /// The database could not be reached or refused the statement.
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The SQLite file's directory could not be created.
    #[error("cannot create the database directory {0}: {1}")]
    Directory(String, std::io::Error),
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same statement on whichever pool this is (the SQL is portable: `$n` parameters,
/// in order, work on both).
macro_rules! on_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            Pool::Sqlite($p) => $body,
            Pool::Postgres($p) => $body,
        }
    };
}

/// A connected, migrated database.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    described: Arc<str>,
    changes: Arc<watch::Sender<u64>>,
    leader: Arc<AtomicBool>,
}

impl Database {
    /// Connects (creating the SQLite file and its directory, or the PostgreSQL database with
    /// `ensureExists`), runs the migrations, and on PostgreSQL starts listening for changes.
    pub async fn connect(config: &DatabaseConfig) -> Result<Database, DbError> {
        let pool = match config {
            DatabaseConfig::Sqlite { file } => {
                let options = match file {
                    None => SqliteConnectOptions::from_str("sqlite::memory:")?,
                    Some(path) => {
                        if let Some(dir) = path.parent() {
                            std::fs::create_dir_all(dir)
                                .map_err(|e| DbError::Directory(dir.display().to_string(), e))?;
                        }
                        SqliteConnectOptions::new()
                            .filename(path)
                            .create_if_missing(true)
                            .journal_mode(SqliteJournalMode::Wal)
                    }
                }
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true);
                // One in-memory database exists per connection: keep exactly one.
                let max = if file.is_none() { 1 } else { 4 };
                let pool = SqlitePoolOptions::new()
                    .max_connections(max)
                    .min_connections(if file.is_none() { 1 } else { 0 })
                    .idle_timeout(if file.is_none() {
                        None
                    } else {
                        Some(Duration::from_secs(600))
                    })
                    .max_lifetime(if file.is_none() {
                        None
                    } else {
                        Some(Duration::from_secs(1800))
                    })
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await?;
                Pool::Sqlite(pool)
            }
            DatabaseConfig::Postgres {
                options,
                database,
                ensure_exists,
            } => {
                if *ensure_exists {
                    ensure_database(options, database).await?;
                }
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with((**options).clone())
                    .await?;
                Pool::Postgres(pool)
            }
        };
        let mut migrator = Migrator::with_migrations(
            MIGRATIONS
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        sqlx::SqlStr::from_static(sql),
                        false,
                    )
                })
                .collect(),
        );
        migrator.dangerous_set_table_name("greenroom_migrations");
        on_pool!(&pool, |p| migrator.run(p).await)?;
        let (changes, _) = watch::channel(0u64);
        let db = Database {
            pool,
            described: config.describe().into(),
            changes: Arc::new(changes),
            // One process owns a SQLite database: it is always the leader.
            leader: Arc::new(AtomicBool::new(matches!(
                config,
                DatabaseConfig::Sqlite { .. }
            ))),
        };
        if let (Pool::Postgres(pg), DatabaseConfig::Postgres { options, .. }) = (&db.pool, config) {
            let mut listener = PgListener::connect_with(pg).await?;
            listener.listen(CHANNEL).await?;
            tokio::spawn(listen(listener, Arc::clone(&db.changes)));
            tokio::spawn(lease((**options).clone(), Arc::clone(&db.leader)));
        }
        Ok(db)
    }

    /// The database in words, for logs (never a password).
    pub fn describe(&self) -> &str {
        &self.described
    }

    /// Whether several processes can share it (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        matches!(self.pool, Pool::Postgres(_))
    }

    /// A counter that moves whenever another replica announced a change (or announcements may
    /// have been missed): reload what the database holds then. Changes made through this
    /// process are not counted: the registry asks for their reload itself.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Whether this replica refreshes `url` locations now (holds the lease). Always true on
    /// SQLite; on PostgreSQL one replica holds an advisory lock on its own connection, which
    /// passes to another replica when that connection ends (the process died, the network
    /// failed), within [`LEASE_CHECK`].
    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::Relaxed)
    }

    /// The stored read of `url`, if any.
    pub async fn document(&self, url: &str) -> Result<Option<Document>, DbError> {
        let row = on_pool!(&self.pool, |p| {
            sqlx::query("SELECT status, body FROM greenroom_url_documents WHERE url = $1")
                .bind(url)
                .fetch_optional(p)
                .await?
                .map(|r| -> Result<(i64, Option<String>), sqlx::Error> {
                    Ok((r.try_get("status")?, r.try_get("body")?))
                })
                .transpose()?
        });
        Ok(row.map(|(status, body)| match body {
            Some(b) if status == 200 => Document::Body(b),
            _ => Document::NotFound(u16::try_from(status).unwrap_or(404)),
        }))
    }

    /// Stores the read of `url` (the leader's, or a replica's first read of a new URL).
    pub async fn put_document(&self, url: &str, document: &Document) -> Result<(), DbError> {
        let (status, body) = match document {
            Document::Body(b) => (200i64, Some(b.as_str())),
            Document::NotFound(code) => (i64::from(*code), None),
        };
        let now = now();
        on_pool!(&self.pool, |p| {
            sqlx::query(
                "INSERT INTO greenroom_url_documents (url, status, body, fetched_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (url) DO UPDATE SET status = excluded.status, body = excluded.body, fetched_at = excluded.fetched_at",
            )
            .bind(url)
            .bind(status)
            .bind(body)
            .bind(&now)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// Tells the other replicas that the stored reads changed (they reload from them).
    pub async fn announce_documents(&self) -> Result<(), DbError> {
        if let Pool::Postgres(p) = &self.pool {
            sqlx::query("SELECT pg_notify($1, 'documents')")
                .bind(CHANNEL)
                .execute(p)
                .await?;
        }
        Ok(())
    }

    /// Every registered location, oldest first.
    pub async fn locations(&self) -> Result<Vec<StoredLocation>, DbError> {
        let rows = on_pool!(&self.pool, |p| {
            sqlx::query("SELECT id, type, target FROM greenroom_locations ORDER BY created_at, id")
                .fetch_all(p)
                .await?
                .into_iter()
                .map(|r| {
                    Ok(StoredLocation {
                        id: r.try_get("id")?,
                        location_type: r.try_get("type")?,
                        target: r.try_get("target")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
        })?;
        Ok(rows)
    }

    /// Registers a location; durable (committed) when this returns. [`DbError::Conflict`] when
    /// it is registered already.
    pub async fn add_location(
        &self,
        location_type: &str,
        target: &str,
    ) -> Result<StoredLocation, DbError> {
        let location = StoredLocation {
            id: uuid::Uuid::new_v4().to_string(),
            location_type: location_type.to_string(),
            target: target.to_string(),
        };
        let now = now();
        let inserted = on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await?;
            let done = sqlx::query(
                "INSERT INTO greenroom_locations (id, type, target, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&location.id)
            .bind(&location.location_type)
            .bind(&location.target)
            .bind(&now)
            .execute(&mut *tx)
            .await;
            match done {
                Ok(_) => {
                    if self.is_shared() {
                        tx.execute(sqlx::query("SELECT pg_notify($1, 'locations')").bind(CHANNEL))
                            .await?;
                    }
                    tx.commit().await?;
                    Ok(true)
                }
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
                Err(e) => Err(e),
            }
        })?;
        if !inserted {
            return Err(DbError::Conflict(location.location_type, location.target));
        }
        Ok(location)
    }

    /// Removes a registered location; `None` when there was none with that id.
    pub async fn delete_location(&self, id: &str) -> Result<Option<StoredLocation>, DbError> {
        let removed = on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await?;
            let row = sqlx::query(
                "DELETE FROM greenroom_locations WHERE id = $1 RETURNING id, type, target",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let removed = match row {
                None => None,
                Some(r) => Some(StoredLocation {
                    id: r.try_get("id")?,
                    location_type: r.try_get("type")?,
                    target: r.try_get("target")?,
                }),
            };
            if removed.is_some() && self.is_shared() {
                tx.execute(sqlx::query("SELECT pg_notify($1, 'locations')").bind(CHANNEL))
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(removed)
        })?;
        Ok(removed)
    }
}

/// Creates the plugin's database through the `postgres` database when it does not exist
/// (Backstage's `ensureExists`). A concurrent replica creating it first is fine.
async fn ensure_database(
    options: &sqlx::postgres::PgConnectOptions,
    database: &str,
) -> Result<(), DbError> {
    use sqlx::Connection;
    let admin = options.clone().database("postgres");
    let mut conn = sqlx::postgres::PgConnection::connect_with(&admin).await?;
    let exists = sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(database)
        .fetch_optional(&mut conn)
        .await?
        .is_some();
    if !exists {
        // An identifier cannot be a bound parameter; quote it (doubling any quote).
        let quoted = format!("\"{}\"", database.replace('"', "\"\""));
        let create = format!("CREATE DATABASE {quoted}");
        match conn.execute(sqlx::AssertSqlSafe(create)).await {
            Ok(_) => tracing::info!(database, "created the PostgreSQL database"),
            // 42P04 duplicate_database: another replica was first.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
            Err(e) => return Err(e.into()),
        }
    }
    conn.close().await.ok();
    Ok(())
}

/// Moves `changes` on every notification, and after a reconnect (notifications sent while
/// the connection was down are lost, so everything must be re-read).
async fn listen(mut listener: PgListener, changes: Arc<watch::Sender<u64>>) {
    loop {
        match listener.try_recv().await {
            Ok(Some(_)) => {}
            Ok(None) => tracing::warn!(
                "lost the database connection that listens for changes; reconnecting and reloading"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "listening for database changes failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        changes.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// Holds the refresh lease while this process lives: tries `pg_try_advisory_lock` on a
/// connection of its own every [`LEASE_CHECK`] until it gets it, then checks the connection on
/// the same beat; a failed check drops leadership (the server released the lock with the
/// connection) and the loop starts over.
async fn lease(options: sqlx::postgres::PgConnectOptions, leader: Arc<AtomicBool>) {
    use sqlx::Connection;
    loop {
        let mut conn = match sqlx::postgres::PgConnection::connect_with(&options).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot connect for the refresh lease; retrying");
                tokio::time::sleep(LEASE_CHECK).await;
                continue;
            }
        };
        loop {
            if leader.load(Ordering::Relaxed) {
                if let Err(e) = conn.ping().await {
                    leader.store(false, Ordering::Relaxed);
                    tracing::warn!(error = %e, "lost the refresh lease (its connection failed)");
                    break;
                }
            } else {
                let got: Result<bool, _> = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(LEADER_LOCK)
                    .fetch_one(&mut conn)
                    .await;
                match got {
                    Ok(true) => {
                        leader.store(true, Ordering::Relaxed);
                        tracing::info!(
                            "this replica now refreshes url locations (holds the lease)"
                        );
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "asking for the refresh lease failed; reconnecting");
                        break;
                    }
                }
            }
            tokio::time::sleep(LEASE_CHECK).await;
        }
    }
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
