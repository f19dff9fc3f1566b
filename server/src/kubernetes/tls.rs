//! Certificates for cluster connections: `caData` (base64 of PEM, as kubeconfig and EKS give
//! it) and `caFile`, turned into the DER roots a client verifies against; and the one rustls
//! HTTPS connector the portal's own small clients (STS, the OpenID provider) share.

use base64::Engine;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// Why a CA could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaError {
    /// The PEM parser's reason.
    #[error("the CA is not valid PEM: {0}")]
    NotPem(String),
    #[error("the CA holds no certificate")]
    NoCertificate,
    /// The base64 decoder's reason.
    #[error("caData is not base64: {0}")]
    NotBase64(String),
    /// The I/O error.
    #[error("cannot read it: {0}")]
    Unreadable(String),
}

/// DER certificates from PEM text (or one raw DER certificate).
pub fn certs_from_pem(bytes: &[u8]) -> Result<Vec<Vec<u8>>, CaError> {
    let certs: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(bytes)
        .map(|c| c.map(|c| c.as_ref().to_vec()))
        .collect::<Result<_, _>>()
        .map_err(|e| CaError::NotPem(format!("{e:?}")))?;
    if !certs.is_empty() {
        return Ok(certs);
    }
    // DER starts with a SEQUENCE tag.
    if bytes.first() == Some(&0x30) {
        return Ok(vec![bytes.to_vec()]);
    }
    Err(CaError::NoCertificate)
}

/// DER certificates from `caData` (base64 of PEM).
pub fn pem_certs_from_base64(data: &str) -> Result<Vec<Vec<u8>>, CaError> {
    let compact: String = data.chars().filter(|c| !c.is_whitespace()).collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| CaError::NotBase64(e.to_string()))?;
    certs_from_pem(&raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_data_must_hold_a_certificate() {
        assert!(pem_certs_from_base64("not base64!")
            .unwrap_err()
            .to_string()
            .contains("not base64"));
        let empty = base64::engine::general_purpose::STANDARD.encode("hello");
        assert!(pem_certs_from_base64(&empty)
            .unwrap_err()
            .to_string()
            .contains("no certificate"));
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["x".to_string()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let data = base64::engine::general_purpose::STANDARD.encode(cert.pem());
        assert_eq!(
            pem_certs_from_base64(&data).expect("ok"),
            vec![cert.der().to_vec()]
        );
    }
}

/// The system's trusted roots (rustls-native-certs); unreadable ones are skipped.
pub fn native_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    roots
}

/// An HTTP/1 connector verifying servers against `roots` (ring, rustls' safe protocol
/// versions). Plain `http://` URLs stay possible: callers decide which URLs they accept.
pub fn https_connector(
    roots: rustls::RootCertStore,
) -> hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        .unwrap_or_else(|_| {
            rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth()
        });
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build()
}
