//! Reading `url` locations and URL placeholders: the one place the catalog opens outbound
//! connections. It owns the allow list (`backend.reading.allow`, see [`allow`]), the address
//! rule, redirects, the deadline and the size limit; nothing else in the catalog connects.
//!
//! A read of `url`:
//! 1. must be `http://` or `https://`, without credentials in the authority;
//! 2. must match `backend.reading.allow`, else it is refused with Backstage's message
//!    (`UrlReaderPredicateMux`: "Reading from '<url>' is not allowed. ...");
//! 3. connects only to addresses it checked: the host is resolved once, and a private,
//!    loopback, link-local or unspecified address (`crate::net::is_public`) is refused
//!    unless an allow entry names the host exactly (stricter than Backstage, which has no
//!    address rule). The connection goes to the checked address, so a DNS answer that changes
//!    between check and connect (rebinding) cannot move it;
//! 4. follows at most [`MAX_REDIRECTS`] requests (301, 302, 307, 308, as Backstage's
//!    `FetchUrlReader`), each hop checked again by 2 and 3 (Backstage's message for a hop:
//!    "URL not allowed by backend.reading.allow configuration: <url>");
//! 5. has one total deadline (connect, TLS, headers and body of every hop), so a server that
//!    drips a byte a second cannot hold a reload;
//! 6. refuses bodies over the size limit, by `Content-Length` before reading and by counting
//!    while reading (u64, checked); chunk sizes are parsed by hyper, which rejects overflow.
//!
//! HTTPS verifies certificates against the system trust store (rustls-native-certs, honouring
//! `SSL_CERT_FILE`/`SSL_CERT_DIR`), or exactly the roots given to [`UrlFetcher::with_roots`].
//! Connections are not pooled: every read connects (and is checked) afresh.
//!
//! Not handled here: SCM integrations (GitHub API URLs, tokens), ETags, `readTree`/`search`.

pub mod allow;
mod connect;

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

pub use allow::{AllowEntryError, Permit, ReadingAllow, Target};

use crate::catalog::redact::redact_url;
use crate::catalog::urls::{resolve_reference, url_scheme};
use connect::{system_tls, tls_config, GuardedConnector};

/// At most this many requests per read (the first one and its redirects), as Backstage's
/// `FetchUrlReader` (`MAX_REDIRECTS = 5`).
pub const MAX_REDIRECTS: usize = 5;
/// The default total deadline of one read.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);
/// The default largest body (the catalog's own file limit applies too).
pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Redirect statuses followed (Backstage's `REDIRECT_STATUS_CODES`).
const REDIRECT_STATUSES: [u16; 4] = [301, 302, 307, 308];

/// Why a URL could not be read. Messages name the URL with credentials redacted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlReadError {
    /// Not an `http://` or `https://` URL.
    #[error("unsupported URL {0} (only http:// and https:// are supported)")]
    UnsupportedScheme(String),
    /// The URL does not parse, or has no host.
    #[error("bad URL {url}: {reason}")]
    BadUrl {
        /// The URL (redacted).
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// `user:password@` in the URL.
    #[error("credentials in URLs are not supported ({0})")]
    Credentials(String),
    /// Not matched by `backend.reading.allow` (Backstage's `UrlReaderPredicateMux` message).
    #[error("Reading from '{0}' is not allowed. You may need to configure an integration for the target host, or add it to the configured list of allowed hosts at 'backend.reading.allow'")]
    NotAllowed(String),
    /// A redirect hop not matched by the allow list (Backstage's `FetchUrlReader` message).
    #[error("URL not allowed by backend.reading.allow configuration: {0}")]
    RedirectNotAllowed(String),
    /// More than [`MAX_REDIRECTS`] requests (Backstage's message).
    #[error("Too many redirects (max {max}) when reading {url}")]
    TooManyRedirects {
        /// The URL first asked for.
        url: String,
        /// [`MAX_REDIRECTS`].
        max: usize,
    },
    /// The host resolves only to non-public addresses and is not listed exactly.
    #[error("refusing to read {url}: {host} resolves to {ip}, a private, loopback, link-local or unspecified address; list '{host}' exactly (not by a wildcard) in backend.reading.allow to allow it")]
    PrivateAddress {
        /// The URL (redacted).
        url: String,
        /// The host name.
        host: String,
        /// The refused address.
        ip: IpAddr,
    },
    /// DNS failed or returned nothing.
    #[error("cannot resolve {host}: {reason}")]
    Resolve {
        /// The host name.
        host: String,
        /// The resolver's reason.
        reason: String,
    },
    /// No checked address accepted the connection.
    #[error("cannot connect to {authority}: {reason}")]
    Connect {
        /// `host:port`.
        authority: String,
        /// The last connect error.
        reason: String,
    },
    /// The total deadline passed before the body was complete.
    #[error("reading {url} did not complete within {} seconds (the read deadline)", .deadline.as_secs_f64())]
    Deadline {
        /// The URL (redacted).
        url: String,
        /// The deadline.
        deadline: Duration,
    },
    /// A non-2xx status that is not a followed redirect. `404`/`410` mean "not found".
    #[error("HTTP {status} from {url}")]
    Status {
        /// The URL (redacted).
        url: String,
        /// The status code.
        code: u16,
        /// `404 Not Found`.
        status: String,
    },
    /// The body is bigger than the limit.
    #[error("the response from {url} is larger than {limit} bytes")]
    TooLarge {
        /// The URL (redacted).
        url: String,
        /// The limit.
        limit: u64,
    },
    /// TLS, protocol or I/O failure after connecting (bad chunk sizes land here).
    #[error("reading {url} failed: {reason}")]
    Transport {
        /// The URL (redacted).
        url: String,
        /// The error chain.
        reason: String,
    },
    /// The body is not UTF-8.
    #[error("the response from {0} is not UTF-8 text")]
    NotUtf8(String),
    /// The TLS client could not be set up (e.g. no trusted roots).
    #[error("TLS setup failed: {0}")]
    Tls(String),
}

impl UrlReadError {
    /// Whether the server said the document does not exist (404 or 410).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            UrlReadError::Status {
                code: 404 | 410,
                ..
            }
        )
    }
}

/// Reads URLs under `backend.reading.allow`, the address rule, a deadline and a size limit.
pub struct UrlFetcher {
    allow: ReadingAllow,
    deadline: Duration,
    max_bytes: u64,
    /// Trusted roots given explicitly, or the system store loaded on first https read.
    tls: OnceLock<Result<Arc<rustls::ClientConfig>, String>>,
}

impl UrlFetcher {
    /// A fetcher trusting the system's certificate store.
    pub fn new(allow: ReadingAllow) -> Self {
        Self {
            allow,
            deadline: DEFAULT_DEADLINE,
            max_bytes: DEFAULT_MAX_BYTES,
            tls: OnceLock::new(),
        }
    }

    /// A fetcher trusting exactly `roots` (a private CA).
    pub fn with_roots(
        allow: ReadingAllow,
        roots: rustls::RootCertStore,
    ) -> Result<Self, UrlReadError> {
        let fetcher = Self::new(allow);
        let config = tls_config(roots).map_err(UrlReadError::Tls)?;
        let _ = fetcher.tls.set(Ok(config));
        Ok(fetcher)
    }

    /// Sets the total deadline of one read.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Sets the largest body accepted.
    pub fn with_max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Reads `url` as text, blocking the calling thread (a private runtime drives the I/O;
    /// from inside a runtime, it runs on a scoped thread of its own).
    pub fn fetch(&self, url: &str) -> Result<String, UrlReadError> {
        let run = || -> Result<String, UrlReadError> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| UrlReadError::Transport {
                    url: redact_url(url),
                    reason: format!("cannot start the I/O runtime: {e}"),
                })?;
            runtime.block_on(self.fetch_async(url))
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return run();
        }
        std::thread::scope(|scope| {
            scope.spawn(run).join().unwrap_or_else(|_| {
                Err(UrlReadError::Transport {
                    url: redact_url(url),
                    reason: "the reading thread panicked".into(),
                })
            })
        })
    }

    /// Reads `url` as text.
    pub async fn fetch_async(&self, url: &str) -> Result<String, UrlReadError> {
        match tokio::time::timeout(self.deadline, self.fetch_hops(url)).await {
            Ok(result) => result,
            Err(_) => Err(UrlReadError::Deadline {
                url: redact_url(url),
                deadline: self.deadline,
            }),
        }
    }

    async fn fetch_hops(&self, url: &str) -> Result<String, UrlReadError> {
        let mut current = url.split('#').next().unwrap_or_default().to_string();
        for hop in 0..MAX_REDIRECTS {
            let parsed = parse(&current)?;
            let permit = self.allow.permits(&parsed.target());
            if permit == Permit::Denied {
                let shown = redact_url(&current);
                return Err(if hop == 0 {
                    UrlReadError::NotAllowed(shown)
                } else {
                    UrlReadError::RedirectNotAllowed(shown)
                });
            }
            let response = self
                .send(&parsed, permit == Permit::Exact)?
                .await
                .map_err(|e| transport_error(&current, &e))?;
            let code = response.status().as_u16();
            if response.status().is_success() {
                let too_large = || UrlReadError::TooLarge {
                    url: redact_url(&current),
                    limit: self.max_bytes,
                };
                let declared = response
                    .headers()
                    .get(http::header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                if declared.is_some_and(|n| n > self.max_bytes) {
                    return Err(too_large());
                }
                let mut body = response.into_body();
                let mut bytes: Vec<u8> = Vec::new();
                let mut total: u64 = 0;
                while let Some(frame) = body.frame().await {
                    let frame = frame.map_err(|e| transport_error(&current, &e))?;
                    if let Ok(data) = frame.into_data() {
                        total = total
                            .checked_add(data.len() as u64)
                            .filter(|&t| t <= self.max_bytes)
                            .ok_or_else(too_large)?;
                        bytes.extend_from_slice(&data);
                    }
                }
                return String::from_utf8(bytes)
                    .map_err(|_| UrlReadError::NotUtf8(redact_url(&current)));
            }
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            match location {
                Some(to) if REDIRECT_STATUSES.contains(&code) => {
                    current =
                        resolve_reference(&current, &to).ok_or_else(|| UrlReadError::BadUrl {
                            url: redact_url(&to),
                            reason: format!(
                                "redirect from {} is not an http(s) URL",
                                redact_url(&current)
                            ),
                        })?;
                }
                _ => {
                    let status = response.status();
                    return Err(UrlReadError::Status {
                        url: redact_url(&current),
                        code,
                        status: format!("{} {}", code, status.canonical_reason().unwrap_or(""))
                            .trim_end()
                            .to_string(),
                    });
                }
            }
        }
        Err(UrlReadError::TooManyRedirects {
            url: redact_url(url),
            max: MAX_REDIRECTS,
        })
    }

    /// One GET to `parsed` through a fresh, unpooled client whose connector enforces the
    /// address rule (`private_ok`: the host is listed exactly).
    fn send(
        &self,
        parsed: &Parsed,
        private_ok: bool,
    ) -> Result<hyper_util::client::legacy::ResponseFuture, UrlReadError> {
        let connector = GuardedConnector {
            private_ok,
            url: Arc::from(redact_url(&parsed.url)),
        };
        let request = http::Request::get(parsed.uri.clone())
            .header(http::header::USER_AGENT, "greenroom")
            .header(http::header::ACCEPT, "*/*")
            .header(http::header::ACCEPT_ENCODING, "identity")
            .body(Empty::<Bytes>::new())
            .map_err(|e| UrlReadError::BadUrl {
                url: redact_url(&parsed.url),
                reason: e.to_string(),
            })?;
        let mut builder = Client::builder(TokioExecutor::new());
        builder.pool_max_idle_per_host(0);
        Ok(if parsed.secure {
            let tls = self.tls()?;
            let https = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config((*tls).clone())
                .https_only()
                .enable_http1()
                .wrap_connector(connector);
            builder.build(https).request(request)
        } else {
            builder.build(connector).request(request)
        })
    }

    fn tls(&self) -> Result<Arc<rustls::ClientConfig>, UrlReadError> {
        self.tls
            .get_or_init(system_tls)
            .clone()
            .map_err(UrlReadError::Tls)
    }
}

/// Fetches `url:` targets: [`UrlFetcher`] in the server; tests use fakes. A
/// [`UrlReadError::is_not_found`] answer makes an optional location silently empty.
pub trait UrlReader: Send + Sync {
    /// The body of `url` as text, or why it could not be read.
    fn read_url(&self, url: &str) -> Result<String, UrlReadError>;
}

impl UrlReader for UrlFetcher {
    fn read_url(&self, url: &str) -> Result<String, UrlReadError> {
        self.fetch(url)
    }
}

/// The reader when nothing is configured: `backend.reading.allow` empty, so every URL is
/// refused with Backstage's message (Backstage without integrations does the same).
pub struct HttpUrlReader;

impl UrlReader for HttpUrlReader {
    fn read_url(&self, url: &str) -> Result<String, UrlReadError> {
        UrlFetcher::new(ReadingAllow::default()).read_url(url)
    }
}

/// A URL checked for scheme, host and credentials.
struct Parsed {
    url: String,
    uri: http::Uri,
    host: String,
    explicit_port: Option<u16>,
    secure: bool,
}

impl Parsed {
    fn target(&self) -> Target<'_> {
        Target {
            host: &self.host,
            explicit_port: self.explicit_port,
            default_port: if self.secure { 443 } else { 80 },
            path: self.uri.path(),
        }
    }
}

fn parse(url: &str) -> Result<Parsed, UrlReadError> {
    let shown = || redact_url(url);
    let secure = match url_scheme(url).map(str::to_ascii_lowercase).as_deref() {
        Some("http") => false,
        Some("https") => true,
        _ => return Err(UrlReadError::UnsupportedScheme(shown())),
    };
    let uri: http::Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| UrlReadError::BadUrl {
            url: shown(),
            reason: e.to_string(),
        })?;
    let authority = uri.authority().ok_or_else(|| UrlReadError::BadUrl {
        url: shown(),
        reason: "no host".into(),
    })?;
    if authority.as_str().contains('@') {
        return Err(UrlReadError::Credentials(shown()));
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    if host.is_empty() {
        return Err(UrlReadError::BadUrl {
            url: shown(),
            reason: "no host".into(),
        });
    }
    let default_port = if secure { 443 } else { 80 };
    Ok(Parsed {
        url: url.to_string(),
        explicit_port: authority.port_u16().filter(|&p| p != default_port),
        host,
        uri,
        secure,
    })
}

/// The error a hyper/hyper-util failure stands for: ours when the connector refused (found in
/// the source chain), else the whole chain as text.
fn transport_error(url: &str, error: &(dyn std::error::Error + 'static)) -> UrlReadError {
    let mut reasons = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(ours) = e.downcast_ref::<UrlReadError>() {
            return ours.clone();
        }
        let text = e.to_string();
        if reasons.last() != Some(&text) {
            reasons.push(text);
        }
        current = e.source();
    }
    UrlReadError::Transport {
        url: redact_url(url),
        reason: reasons.join(": "),
    }
}
