//! `backend.database`: Backstage's keys, read as `@backstage/backend-defaults` 0.19 reads them
//! for the catalog plugin (`dist/entrypoints/database/connectors/{sqlite3,postgres}.cjs.js`).
//!
//! - `client`: `better-sqlite3` or `sqlite3` (the same embedded SQLite here), or `pg`.
//! - SQLite `connection`: `':memory:'`, a file name, or `{ directory, filename }`; the file is
//!   `<directory or .>/<filename or catalog.sqlite>` (Backstage's `getDatabaseName`), its
//!   directory created on first start.
//! - PostgreSQL `connection`: a `postgres://` string or `{ host, port, user, password, database,
//!   ssl }`; `ssl` is `true`, `false` or node-postgres's object (`rejectUnauthorized`, `ca`).
//!   With `pluginDivisionMode: database` (Backstage's default) the database is
//!   `<prefix>catalog` (`prefix` defaults to `backstage_plugin_`) and `connection.database` is
//!   ignored, as in Backstage; `ensureExists` (default true) creates it through the `postgres`
//!   database. `pluginDivisionMode: schema` is refused with a clear error (not supported yet).
//! - `plugin.catalog.client` / `plugin.catalog.connection` override the base keys.
//!
//! Greenroom's choice where the key is absent: Backstage then keeps everything in memory
//! (`better-sqlite3`, `':memory:'`), which loses registered locations on every restart.
//! Greenroom keeps a SQLite file, `data/catalog.sqlite` next to the first config file, so the
//! one-command demo remembers what was registered and needs nothing installed.

use std::path::{Path, PathBuf};

use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgSslMode};

use crate::config::{Config, ConfigError};

/// The plugin whose database this is (Backstage's per-plugin naming).
const PLUGIN_ID: &str = "catalog";

/// Where the catalog's state lives.
#[derive(Clone, Debug)]
pub enum DatabaseConfig {
    /// Embedded SQLite: a file, or memory (`None`).
    Sqlite {
        /// The database file; `None` for `':memory:'`.
        file: Option<PathBuf>,
    },
    /// PostgreSQL.
    Postgres {
        /// How to reach the server, with the plugin's database set.
        options: Box<PgConnectOptions>,
        /// The database name (for messages and `ensureExists`).
        database: String,
        /// Create the database when missing (`ensureExists`).
        ensure_exists: bool,
    },
}

impl DatabaseConfig {
    /// What to call it in logs: the file, memory, or `host:port/database` (never a password).
    pub fn describe(&self) -> String {
        match self {
            DatabaseConfig::Sqlite { file: None } => "SQLite in memory".into(),
            DatabaseConfig::Sqlite { file: Some(f) } => format!("SQLite file {}", f.display()),
            DatabaseConfig::Postgres {
                options, database, ..
            } => format!(
                "PostgreSQL {}:{}/{database}",
                options.get_host(),
                options.get_port()
            ),
        }
    }
}

/// Reads `backend.database`. `config_dir` is the directory of the first config file (the
/// default SQLite file goes under it), `cwd` resolves relative `directory` / `filename` as
/// Backstage's `path.join` from the working directory does.
pub fn read(config: &Config, config_dir: &Path, cwd: &Path) -> Result<DatabaseConfig, ConfigError> {
    let Some(db) = config.get_optional_config("backend.database")? else {
        return Ok(DatabaseConfig::Sqlite {
            file: Some(config_dir.join("data").join("catalog.sqlite")),
        });
    };
    let plugin_key = format!("plugin.{PLUGIN_ID}");
    let plugin_client = db.get_optional_string(&format!("{plugin_key}.client"))?;
    let client = match plugin_client {
        Some(c) => c,
        None => db.get_string("client")?,
    };
    let client_key = if db.has(&format!("{plugin_key}.client")) {
        format!("{plugin_key}.client")
    } else {
        "client".to_string()
    };
    let connection_key = if db.has(&format!("{plugin_key}.connection")) {
        format!("{plugin_key}.connection")
    } else {
        "connection".to_string()
    };
    let connection = db.try_get_optional_value(&connection_key)?;
    match client.as_str() {
        "better-sqlite3" | "sqlite3" => sqlite(&db, &connection_key, connection, cwd),
        "pg" => postgres(&db, &connection_key, connection),
        other => Err(db.invalid_value(
            &client_key,
            format!(
                "database client '{other}' is not supported; use 'better-sqlite3' (or 'sqlite3') for an embedded database, or 'pg' for PostgreSQL"
            ),
        )),
    }
}

fn sqlite(
    db: &Config,
    key: &str,
    connection: Option<Value>,
    cwd: &Path,
) -> Result<DatabaseConfig, ConfigError> {
    let (directory, filename) = match connection {
        None | Some(Value::Null) => (None, None),
        Some(Value::String(s)) => (None, Some(s)),
        Some(Value::Object(o)) => {
            let text = |field: &str| -> Result<Option<String>, ConfigError> {
                match o.get(field) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
                    Some(_) => Err(
                        db.invalid_value(&format!("{key}.{field}"), "expected a non-empty string")
                    ),
                }
            };
            (text("directory")?, text("filename")?)
        }
        Some(_) => {
            return Err(db.invalid_value(
                key,
                "expected ':memory:', a file name, or an object with 'directory' and/or 'filename'",
            ))
        }
    };
    if filename.as_deref() == Some(":memory:") {
        return Ok(DatabaseConfig::Sqlite { file: None });
    }
    let directory = cwd.join(directory.unwrap_or_else(|| ".".into()));
    let file = directory.join(filename.unwrap_or_else(|| format!("{PLUGIN_ID}.sqlite")));
    Ok(DatabaseConfig::Sqlite {
        file: Some(crate::files::normalize(&file)),
    })
}

fn postgres(
    db: &Config,
    key: &str,
    connection: Option<Value>,
) -> Result<DatabaseConfig, ConfigError> {
    let division = db
        .get_optional_string("pluginDivisionMode")?
        .unwrap_or_else(|| "database".into());
    if division != "database" {
        return Err(db.invalid_value(
            "pluginDivisionMode",
            format!("'{division}' is not supported by Greenroom; use 'database' (the default): the catalog's tables go in the database <prefix>catalog"),
        ));
    }
    let prefix = db
        .get_optional_string("prefix")?
        .unwrap_or_else(|| "backstage_plugin_".into());
    let ensure_exists = db.get_optional_bool("ensureExists")?.unwrap_or(true);
    let mut options = match connection {
        None | Some(Value::Null) => {
            return Err(db.invalid_value(
                key,
                "the pg client needs a connection: a postgres:// string or { host, port, user, password }",
            ))
        }
        Some(Value::String(url)) => url.parse::<PgConnectOptions>().map_err(|e| {
            db.invalid_value(
                key,
                format!(
                    "not a PostgreSQL connection string ({})",
                    redacted_error(&e.to_string(), &url)
                ),
            )
        })?,
        Some(Value::Object(o)) => {
            let mut options = PgConnectOptions::new_without_pgpass();
            for (field, value) in &o {
                let bad = |what: &str| db.invalid_value(&format!("{key}.{field}"), what.to_string());
                match field.as_str() {
                    "host" => options = options.host(value.as_str().ok_or_else(|| bad("expected a string"))?),
                    "port" => {
                        let port = match value {
                            Value::Number(n) => n.as_u64(),
                            Value::String(s) => s.parse::<u64>().ok(),
                            _ => None,
                        }
                        .and_then(|p| u16::try_from(p).ok())
                        .ok_or_else(|| bad("expected a port number"))?;
                        options = options.port(port);
                    }
                    "user" => options = options.username(value.as_str().ok_or_else(|| bad("expected a string"))?),
                    "password" => options = options.password(value.as_str().ok_or_else(|| bad("expected a string"))?),
                    "database" | "application_name" | "type" => {}
                    "ssl" => options = ssl(options, value).map_err(|why| bad(&why))?,
                    other => {
                        tracing::warn!(key = %db.full_key(&format!("{key}.{other}")), "ignored: Greenroom does not use this PostgreSQL connection option");
                    }
                }
            }
            options
        }
        Some(_) => {
            return Err(db.invalid_value(
                key,
                "expected a postgres:// string or an object with host, port, user, password",
            ))
        }
    };
    let database = format!("{prefix}{PLUGIN_ID}");
    options = options.database(&database).application_name("greenroom");
    Ok(DatabaseConfig::Postgres {
        options: Box::new(options),
        database,
        ensure_exists,
    })
}

/// node-postgres's `ssl`: `true` (verify), `false`, or `{ rejectUnauthorized, ca }`.
fn ssl(options: PgConnectOptions, value: &Value) -> Result<PgConnectOptions, String> {
    match value {
        Value::Bool(false) => Ok(options.ssl_mode(PgSslMode::Disable)),
        Value::Bool(true) => Ok(options.ssl_mode(PgSslMode::VerifyFull)),
        Value::Object(o) => {
            let verify = match o.get("rejectUnauthorized") {
                None => true,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err("rejectUnauthorized must be true or false".into()),
            };
            let mut options = options.ssl_mode(if verify {
                PgSslMode::VerifyFull
            } else {
                PgSslMode::Require
            });
            match o.get("ca") {
                None => {}
                Some(Value::String(pem)) => {
                    options = options.ssl_root_cert_from_pem(pem.as_bytes().to_vec());
                }
                Some(_) => return Err("ca must be a PEM string".into()),
            }
            Ok(options)
        }
        _ => Err("expected true, false or { rejectUnauthorized, ca }".into()),
    }
}

/// A parse error that does not repeat the connection string (it may hold a password).
fn redacted_error(error: &str, url: &str) -> String {
    if url.is_empty() {
        return error.to_string();
    }
    error.replace(url, "<connection string>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_json(v: Value) -> Result<DatabaseConfig, ConfigError> {
        let config = Config::from_json_layers(vec![("app-config.yaml".into(), v)]);
        read(&config, Path::new("/etc/gr"), Path::new("/work"))
    }

    #[test]
    fn absent_is_a_file_next_to_the_config() {
        match read_json(json!({})).unwrap() {
            DatabaseConfig::Sqlite { file } => {
                assert_eq!(file.unwrap(), PathBuf::from("/etc/gr/data/catalog.sqlite"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sqlite_forms_follow_backstage() {
        let memory = json!({"backend": {"database": {"client": "better-sqlite3", "connection": ":memory:"}}});
        assert!(matches!(
            read_json(memory).unwrap(),
            DatabaseConfig::Sqlite { file: None }
        ));
        let dir = json!({"backend": {"database": {"client": "sqlite3", "connection": {"directory": "state"}}}});
        match read_json(dir).unwrap() {
            DatabaseConfig::Sqlite { file } => {
                assert_eq!(file.unwrap(), PathBuf::from("/work/state/catalog.sqlite"))
            }
            other => panic!("{other:?}"),
        }
        let named = json!({"backend": {"database": {"client": "better-sqlite3", "connection": "x/db.sqlite"}}});
        match read_json(named).unwrap() {
            DatabaseConfig::Sqlite { file } => {
                assert_eq!(file.unwrap(), PathBuf::from("/work/x/db.sqlite"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn postgres_uses_the_plugin_database_and_hides_the_password() {
        let pg = json!({"backend": {"database": {"client": "pg", "connection": {
            "host": "db.internal", "port": "5433", "user": "bs", "password": "s3cret", "database": "ignored"
        }}}});
        let c = read_json(pg).unwrap();
        assert_eq!(
            c.describe(),
            "PostgreSQL db.internal:5433/backstage_plugin_catalog"
        );
        let DatabaseConfig::Postgres { options, .. } = c else {
            panic!()
        };
        assert_eq!(options.get_database(), Some("backstage_plugin_catalog"));
        let url = json!({"backend": {"database": {"client": "pg", "prefix": "gr_", "connection": "postgres://u:pw@h:5432/x"}}});
        assert_eq!(
            read_json(url).unwrap().describe(),
            "PostgreSQL h:5432/gr_catalog"
        );
    }

    #[test]
    fn unsupported_clients_and_modes_name_the_key() {
        let e =
            read_json(json!({"backend": {"database": {"client": "mysql2", "connection": "x"}}}))
                .unwrap_err()
                .to_string();
        assert!(
            e.contains("backend.database.client") && e.contains("mysql2"),
            "{e}"
        );
        let e = read_json(json!({"backend": {"database": {"client": "pg", "pluginDivisionMode": "schema", "connection": "postgres://h/x"}}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("pluginDivisionMode"), "{e}");
        let e = read_json(json!({"backend": {"database": {"client": "pg"}}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("backend.database.connection"), "{e}");
        let e = read_json(json!({"backend": {"database": {"client": "pg", "connection": "postgres://u:hunter2@h:notaport/x"}}}))
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }
}
