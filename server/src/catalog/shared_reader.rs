//! Reading `url` targets through the database, so that one replica fetches and every replica
//! builds the same catalog ([`crate::db`]: the refresh leader and its stored reads).
//!
//! A [`DocumentReader`] is made for one load:
//! - `fresh` (the leader's `catalog.processingInterval` cycle, `POST /refresh`, a single
//!   process's first load): fetch every URL, store what was read — the body, or "not found"
//!   for a 404/410 — and answer it. A failed fetch (5xx, refused, deadline) stores nothing, so
//!   the other replicas keep the last good read, as the leader keeps its last good entities.
//! - not fresh (a registration, a file change, another replica's announcement): answer the
//!   stored read; fetch (and store) only URLs never read before.
//!
//! The loads run on blocking threads ([`crate::catalog::reload`]), so the database is reached
//! through the runtime's handle.

use std::sync::Arc;

use tokio::runtime::Handle;

use crate::catalog::url_reader::{UrlReadError, UrlReader};
use crate::db::{Database, Document};

/// A [`UrlReader`] backed by the database's stored reads.
pub struct DocumentReader {
    inner: Arc<dyn UrlReader>,
    db: Database,
    fresh: bool,
    runtime: Handle,
}

impl DocumentReader {
    /// A reader for one load; call from within the runtime (the handle is taken here).
    pub fn new(inner: Arc<dyn UrlReader>, db: Database, fresh: bool) -> Self {
        Self {
            inner,
            db,
            fresh,
            runtime: Handle::current(),
        }
    }

    fn fetch_and_store(&self, url: &str) -> Result<String, UrlReadError> {
        let read = self.inner.read_url(url);
        let stored = match &read {
            Ok(body) => Some(Document::Body(body.clone())),
            Err(UrlReadError::Status { code, .. }) if matches!(code, 404 | 410) => {
                Some(Document::NotFound(*code))
            }
            Err(_) => None,
        };
        if let Some(document) = stored {
            if let Err(e) = self.runtime.block_on(self.db.put_document(url, &document)) {
                tracing::warn!(error = %e, "cannot store a url read for the other replicas");
            }
        }
        read
    }
}

impl UrlReader for DocumentReader {
    fn read_url(&self, url: &str) -> Result<String, UrlReadError> {
        if self.fresh {
            return self.fetch_and_store(url);
        }
        match self.runtime.block_on(self.db.document(url)) {
            Ok(Some(Document::Body(body))) => Ok(body),
            Ok(Some(Document::NotFound(code))) => Err(UrlReadError::Status {
                url: crate::catalog::redact::redact_text(url),
                code,
                status: if code == 410 {
                    "410 Gone"
                } else {
                    "404 Not Found"
                }
                .into(),
            }),
            Ok(None) => self.fetch_and_store(url),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the stored url reads; fetching");
                self.inner.read_url(url)
            }
        }
    }
}
