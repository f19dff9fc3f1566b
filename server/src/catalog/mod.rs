//! The software catalog: Backstage-format entities read from `catalog.locations`, validated with
//! Backstage's rules, related, indexed and served from memory.
//!
//! Pipeline (one concern per module):
//! - [`location`]: walking location targets: multi-document YAML, following `kind: Location`
//!   entities, cycle detection, rules per origin;
//! - [`read`]: reading one target (a local file or a URL) as text, with one size limit and one
//!   error type; [`urls`]: joining relative URL targets; [`glob`]: glob file targets;
//! - [`url_reader`]: every outbound read (`backend.reading.allow`, address rule, redirects,
//!   deadline, size limit);
//! - [`confine`]: which local files a catalog file may read (its own directory tree);
//! - [`placeholders`]: `$text`, `$json`, `$yaml` substitution;
//! - [`redact`]: credentials in location URLs, redacted wherever they are shown;
//! - [`scm`]: the view/edit/source annotations of entities read from URLs;
//! - [`script_urls`]: non-http(s) link annotations replaced, as Backstage's stitcher does;
//! - [`rules`]: `catalog.rules` (which kinds each location may contribute);
//! - [`validate`]: Backstage's entity validation (envelope, metadata, per-kind spec);
//! - [`refs`]: entity references (parse, default kind/namespace, canonical form);
//! - [`relations`]: relations derived from spec fields;
//! - [`query`]: Backstage's filter syntax, field projection, ordering;
//! - [`store`]: the immutable snapshot (stitching: uid, etag, relations, search keys) and the
//!   store that swaps it atomically;
//! - [`registry`]: locations registered through the API (kept in [`crate::db`]), reload
//!   requests and their completion;
//! - [`shared_reader`]: `url` targets read once by the refresh leader, shared through the
//!   database;
//! - [`reload`]: loading, live reload on file changes, re-reading URLs on
//!   `catalog.processingInterval`, keeping a failed URL's last good entities;
//! - [`index`]: inverted indexes of filter keys (bitsets), and facet counts from them;
//! - [`service`]: the catalog's queries, for the REST API (paging, cursors, facets, validation)
//!   and the UI's list page (`service::list`), on the same filter, index and facet code;
//! - [`views`]: what the UI pages show (presentation only), from [`rows`] (links, list rows); [`kind_views`]: what each kind's
//!   page adds; [`definition`]: API definitions rendered for people; [`search`]: the portal's
//!   search and the APIs explorer;
//! - [`config`]: the `catalog:` block of app-config.
//!
//! Every problem is a [`Problem`] naming the file, the entity (when known), the field and the
//! reason; a problem never stops the other entities from being served.

pub mod config;
pub mod confine;
pub mod definition;
pub mod glob;
pub mod index;
pub mod kind_views;
pub mod location;
pub mod placeholders;
pub mod query;
pub mod read;
pub mod redact;
pub mod refs;
pub mod registry;
pub mod relations;
pub mod reload;
pub mod rows;
pub mod rules;
pub mod scm;
pub mod script_urls;
pub mod search;
pub mod service;
pub mod shared_reader;
pub mod store;
pub mod url_reader;
pub mod urls;
pub mod validate;
pub mod views;
pub mod yaml;

use serde::Serialize;

/// A problem found while reading or validating the catalog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where it was found: `file:/abs/path.yaml` or `url:https://...` (Backstage's location
    /// ref form), or the config file for a bad `catalog.locations` entry.
    pub location: String,
    /// The entity concerned, as `kind:namespace/name` (lower-case), when it could be determined.
    pub entity_ref: Option<String>,
    /// The offending field as a dotted path (e.g. `metadata.name`, `spec.owner`), if any.
    pub field: Option<String>,
    /// What is wrong, naming the offending value.
    pub reason: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.location)?;
        if let Some(r) = &self.entity_ref {
            write!(f, " [{r}]")?;
        }
        if let Some(field) = &self.field {
            write!(f, " {field}:")?;
        }
        write!(f, " {}", self.reason)
    }
}

/// `shared/fixtures` (real catalogs written for Backstage), found by walking up from the crate
/// directory: the repository is checked out with `shared/` beside it.
#[cfg(test)]
pub(crate) fn fixtures_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|d| d.join("shared/fixtures"))
        .find(|candidate| candidate.is_dir())
        .unwrap_or_else(|| panic!("no shared/fixtures above {}", env!("CARGO_MANIFEST_DIR")))
}

/// An entity as read from a location, before validation and relation processing.
#[derive(Clone, Debug, PartialEq)]
pub struct SourcedEntity {
    /// The entity document exactly as read (after placeholder substitution).
    pub entity: serde_json::Value,
    /// Location ref of the file/URL it was read from: `file:/abs/path` or `url:https://...`
    /// (becomes the `backstage.io/managed-by-location` annotation).
    pub location: String,
    /// Location ref of the root `catalog.locations` entry it was reached from
    /// (becomes `backstage.io/managed-by-origin-location`).
    pub origin_location: String,
}
