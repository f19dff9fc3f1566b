//! Reading one catalog target — a local file or a URL — as text, with one size limit for both
//! and one error type ([`ReadError`]) whose messages name the target. Used by the location
//! walker ([`crate::catalog::location`]) and by `$text` / `$json` / `$yaml` placeholders
//! ([`crate::catalog::placeholders`]). Local reads are [`crate::files::read_text`]; URL reads go
//! through a [`UrlReader`], normally [`crate::catalog::url_reader::UrlFetcher`].

use std::path::Path;

pub use crate::catalog::url_reader::{UrlReadError, UrlReader};
use crate::files::FileError;

/// Why a target could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// A local file could not be read (missing, a directory, too large, not UTF-8, ...).
    #[error(transparent)]
    File(#[from] FileError),
    /// A URL's body is bigger than the limit: the URL, its size, the limit.
    #[error("url {0} is {1} bytes, more than the {2}-byte limit; it was not read")]
    TooLarge(String, u64, u64),
    /// The URL reader failed: the URL, why.
    #[error("Unable to read url {0}, {1}")]
    Url(String, UrlReadError),
    /// No URL can be read for the target (an unsupported scheme, a reference that does not
    /// join its base): the target, why.
    #[error("Unable to read url {0}, {1}")]
    BadUrl(String, String),
    /// A catalog file named a file it may not read ([`crate::catalog::confine`]); the whole
    /// message.
    #[error("{0}")]
    Refused(String),
}

impl ReadError {
    /// Whether the target does not exist (a missing file, HTTP 404 or 410).
    pub fn is_not_found(&self) -> bool {
        match self {
            ReadError::File(FileError::NotFound(_)) => true,
            ReadError::Url(_, e) => e.is_not_found(),
            _ => false,
        }
    }

    /// Whether the problem lies in the reference (then reported where the target is named).
    pub fn is_bad_reference(&self) -> bool {
        self.is_not_found()
            || matches!(
                self,
                ReadError::File(FileError::Directory(_)) | ReadError::Refused(_)
            )
    }

    /// The same error naming `shown` where it named `real` (a file read through its resolved
    /// path is reported under the path as written).
    pub fn renamed(self, real: &Path, shown: &Path) -> ReadError {
        match self {
            ReadError::File(e) => ReadError::File(e.renamed(real, shown)),
            other => other,
        }
    }
}

/// Reads a local file as UTF-8 text (see [`crate::files::read_text`]).
pub fn read_local_text(path: &Path, max_bytes: u64) -> Result<String, ReadError> {
    Ok(crate::files::read_text(path, max_bytes)?)
}

/// Reads a URL through the reader, applying the same size limit as for files.
pub fn read_url_text(
    reader: &dyn UrlReader,
    url: &str,
    max_bytes: u64,
) -> Result<String, ReadError> {
    let text = reader
        .read_url(url)
        .map_err(|e| ReadError::Url(url.to_string(), e))?;
    if text.len() as u64 > max_bytes {
        return Err(ReadError::TooLarge(
            url.to_string(),
            text.len() as u64,
            max_bytes,
        ));
    }
    Ok(text)
}
