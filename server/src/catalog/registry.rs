//! Registered locations: the `url` locations added through `POST /api/catalog/locations`, kept in
//! the [`Database`] and read, validated and reloaded exactly like `catalog.locations` (they are
//! extra roots of the same ingestion, see [`crate::catalog::reload`]).
//!
//! The registry also carries what the reload loop is asked to do and tells callers when it has
//! been done, so `POST /locations`, `DELETE /locations/:id`, `POST /refresh` and
//! `DELETE /entities/by-uid/:uid` answer once the catalog shows their effect (Backstage answers
//! first and processes later; answering after is what a script or the UI wants next anyway).
//!
//! `DELETE /entities/by-uid/:uid` keeps Backstage's meaning: the entity is removed now and
//! comes back when its location is processed again, if it still lists it. Greenroom never keeps
//! orphans (an entity its location no longer lists is gone at the next reload), so every entity
//! is "managed"; it is hidden until the next `catalog.processingInterval` cycle (or a change of
//! its file, or `POST /refresh`), which then re-reads it.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::watch;

use crate::db::{Database, DbError, StoredLocation};

/// The most registered locations kept (each is read on every reload).
pub const MAX_REGISTERED: usize = 10_000;

/// What the next load reads besides `catalog.locations`.
#[derive(Clone, Debug, Default)]
pub struct Extra {
    /// Registered locations, oldest first.
    pub locations: Vec<StoredLocation>,
    /// Entities deleted by uid, left out until they are read again.
    pub hidden_uids: HashSet<String>,
}

/// The registered locations and the reload requests.
pub struct Registry {
    db: Database,
    extra: Mutex<Extra>,
    requested: watch::Sender<u64>,
    completed: watch::Sender<u64>,
    fresh: AtomicBool,
}

impl Registry {
    /// Opens the registry on `db`, reading what it holds.
    pub async fn open(db: Database) -> Result<Arc<Registry>, DbError> {
        let locations = db.locations().await?;
        Ok(Arc::new(Registry {
            db,
            extra: Mutex::new(Extra {
                locations,
                hidden_uids: HashSet::new(),
            }),
            requested: watch::channel(0).0,
            completed: watch::channel(0).0,
            fresh: AtomicBool::new(false),
        }))
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// What the next load reads besides `catalog.locations`.
    pub fn extra(&self) -> Extra {
        self.extra.lock().clone()
    }

    /// The registered locations.
    pub fn locations(&self) -> Vec<StoredLocation> {
        self.extra.lock().locations.clone()
    }

    /// Re-reads the registered locations from the database (another replica changed them).
    /// Returns whether they changed.
    pub async fn refresh_from_database(&self) -> Result<bool, DbError> {
        let locations = self.db.locations().await?;
        let mut extra = self.extra.lock();
        if extra.locations == locations {
            return Ok(false);
        }
        extra.locations = locations;
        Ok(true)
    }

    /// Registers a `url` location (durable when this returns) and has the catalog reloaded.
    pub async fn register(&self, target: &str) -> Result<StoredLocation, RegisterError> {
        if self.extra.lock().locations.len() >= MAX_REGISTERED {
            return Err(RegisterError::Full);
        }
        let location = self.db.add_location("url", target).await?;
        {
            let mut extra = self.extra.lock();
            if !extra.locations.iter().any(|l| l.id == location.id) {
                extra.locations.push(location.clone());
            }
        }
        Ok(location)
    }

    /// Removes a registered location; `None` when there is none with that id.
    pub async fn unregister(&self, id: &str) -> Result<Option<StoredLocation>, DbError> {
        let removed = self.db.delete_location(id).await?;
        if removed.is_some() {
            self.extra.lock().locations.retain(|l| l.id != id);
        }
        Ok(removed)
    }

    /// Hides an entity until it is read again.
    pub fn hide(&self, uid: &str) {
        self.extra.lock().hidden_uids.insert(uid.to_string());
    }

    /// Forgets the hidden entities (their locations are being processed again).
    pub fn unhide_all(&self) {
        self.extra.lock().hidden_uids.clear();
    }

    /// Has the next reload fetch every URL again (`POST /refresh`), not only new ones.
    pub fn want_fresh(&self) {
        self.fresh.store(true, Ordering::Relaxed);
    }

    /// For the reload loop: whether a fresh read was asked for (and forget the ask).
    pub fn take_fresh(&self) -> bool {
        self.fresh.swap(false, Ordering::Relaxed)
    }

    /// Asks for a reload; the number to pass to [`Registry::reloaded`].
    pub fn request_reload(&self) -> u64 {
        let mut generation = 0;
        self.requested.send_modify(|n| {
            *n += 1;
            generation = *n;
        });
        generation
    }

    /// Waits until a reload that started after request `generation` has finished (false when
    /// `timeout` passed first).
    pub async fn reloaded(&self, generation: u64, timeout: Duration) -> bool {
        let mut done = self.completed.subscribe();
        tokio::time::timeout(timeout, done.wait_for(|n| *n >= generation))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// For the reload loop: the requests.
    pub fn requests(&self) -> watch::Receiver<u64> {
        self.requested.subscribe()
    }

    /// For the reload loop: a load that started when the requests stood at `generation` is done.
    pub fn completed(&self, generation: u64) {
        self.completed.send_modify(|n| *n = (*n).max(generation));
    }
}

/// Why a registration failed.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The database refused it (a conflict: registered already) or failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// [`MAX_REGISTERED`] locations are registered already.
    #[error("{MAX_REGISTERED} locations are registered already; unregister some first")]
    Full,
}
