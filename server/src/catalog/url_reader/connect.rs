//! The connection of one URL read: the host resolved once, every address checked against the
//! outbound rule ([`crate::net::is_public`], unless the allow list names the host exactly),
//! then a TCP connection to a checked address (so DNS cannot answer differently between the
//! check and the connect); and the TLS client over the system's roots.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::rt::TokioIo;

use super::UrlReadError;
use crate::net::is_public;

/// Resolves the host once, refuses addresses the rule forbids, connects to a checked one.
#[derive(Clone)]
pub(super) struct GuardedConnector {
    pub(super) private_ok: bool,
    pub(super) url: Arc<str>,
}

type ConnectFuture =
    Pin<Box<dyn Future<Output = Result<TokioIo<tokio::net::TcpStream>, UrlReadError>> + Send>>;

impl tower::Service<http::Uri> for GuardedConnector {
    type Response = TokioIo<tokio::net::TcpStream>;
    type Error = UrlReadError;
    type Future = ConnectFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let private_ok = self.private_ok;
        let url = Arc::clone(&self.url);
        Box::pin(async move {
            let host = uri
                .host()
                .unwrap_or_default()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let port = uri
                .port_u16()
                .unwrap_or(if uri.scheme_str() == Some("https") {
                    443
                } else {
                    80
                });
            let addresses: Vec<SocketAddr> = match host.parse::<IpAddr>() {
                Ok(ip) => vec![SocketAddr::new(ip, port)],
                Err(_) => tokio::net::lookup_host((host.as_str(), port))
                    .await
                    .map_err(|e| UrlReadError::Resolve {
                        host: host.clone(),
                        reason: e.to_string(),
                    })?
                    .collect(),
            };
            let mut refused = None;
            let mut last_error = None;
            for address in addresses {
                if !private_ok && !is_public(address.ip()) {
                    refused = Some(address.ip());
                    continue;
                }
                match tokio::net::TcpStream::connect(address).await {
                    Ok(stream) => {
                        let _ = stream.set_nodelay(true);
                        return Ok(TokioIo::new(stream));
                    }
                    Err(e) => last_error = Some(e),
                }
            }
            Err(match (last_error, refused) {
                (Some(e), _) => UrlReadError::Connect {
                    authority: format!("{host}:{port}"),
                    reason: e.to_string(),
                },
                (None, Some(ip)) => UrlReadError::PrivateAddress {
                    url: url.to_string(),
                    host,
                    ip,
                },
                (None, None) => UrlReadError::Resolve {
                    host,
                    reason: "no address found".into(),
                },
            })
        })
    }
}

pub(super) fn tls_config(
    roots: rustls::RootCertStore,
) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The system trust store as a TLS client configuration.
pub(super) fn system_tls() -> Result<Arc<rustls::ClientConfig>, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(format!(
            "no trusted CA certificates found in the system store (set SSL_CERT_FILE){}",
            found
                .errors
                .first()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ));
    }
    tls_config(roots)
}
