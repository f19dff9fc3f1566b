//! `type: url` locations over HTTPS: a loopback server with a certificate from a private CA.
//! The reader that trusts that CA reads the catalog; the system-trust reader refuses the
//! certificate with a clear problem. Loopback is read only because `backend.reading.allow`
//! lists `127.0.0.1:<port>` exactly; without it the read is refused before connecting.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;

use server::catalog::location::{
    ingest, HttpUrlReader, IngestOptions, LocationSpec, LocationType, UrlReader,
};
use server::catalog::rules::default_rules;
use server::catalog::url_reader::{ReadingAllow, UrlFetcher};

fn allow_port(port: u16) -> ReadingAllow {
    ReadingAllow::from_entries(&[(&format!("127.0.0.1:{port}"), None)]).expect("allow list")
}

const ENTITY: &str = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: served-over-tls\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n";

/// Starts an HTTPS server on 127.0.0.1 answering `requests` requests with ENTITY; returns its
/// port and the CA certificate that signed its certificate.
fn https_server(requests: usize) -> (u16, rustls::pki_types::CertificateDer<'static>) {
    let ca_key = rcgen::KeyPair::generate().expect("ca key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "greenroom test CA");
    let ca = ca_params.self_signed(&ca_key).expect("ca cert");
    let key = rcgen::KeyPair::generate().expect("server key");
    let params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("params");
    let cert = params.signed_by(&key, &ca, &ca_key).expect("server cert");

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("server config");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let Ok(tcp) = stream else { continue };
            let Ok(conn) = rustls::ServerConnection::new(Arc::clone(&config)) else {
                continue;
            };
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut reader = BufReader::new(&mut tls);
            let mut line = String::new();
            // Read the request head; a failed handshake ends here.
            while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                line.clear();
            }
            drop(reader);
            let _ = write!(
                tls,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{ENTITY}",
                ENTITY.len()
            );
            let _ = tls.flush();
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    (port, ca.der().clone())
}

#[test]
fn an_https_location_is_read_when_its_ca_is_trusted() {
    let (port, ca) = https_server(1);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).expect("add CA");
    let reader = UrlFetcher::with_roots(allow_port(port), roots).expect("reader");
    let locations = vec![LocationSpec {
        kind: LocationType::Url,
        target: format!("https://127.0.0.1:{port}/catalog-info.yaml"),
        rules: Vec::new(),
        optional: false,
    }];
    let result = ingest(&IngestOptions {
        locations: &locations,
        rules: &default_rules(),
        url_reader: &reader,
        max_file_bytes: 1 << 20,
    });
    assert!(result.problems.is_empty(), "{:#?}", result.problems);
    assert!(result
        .entities
        .iter()
        .any(|e| e.entity["metadata"]["name"] == "served-over-tls"));
}

#[test]
fn an_untrusted_certificate_is_refused_with_a_clear_reason() {
    let (port, _ca) = https_server(1);
    let url = format!("https://127.0.0.1:{port}/catalog-info.yaml");
    let err = UrlFetcher::new(allow_port(port))
        .read_url(&url)
        .map_err(|e| e.to_string())
        .expect_err("certificate not trusted by the system store");
    assert!(err.contains(&url), "{err}");
    assert!(err.to_lowercase().contains("certificate"), "{err}");
}

#[test]
fn an_unlisted_https_host_is_refused_with_backstages_message() {
    let (port, ca) = https_server(1);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).expect("add CA");
    let url = format!("https://127.0.0.1:{port}/catalog-info.yaml");
    let expected = format!(
        "Reading from '{url}' is not allowed. You may need to configure an integration for the target host, or add it to the configured list of allowed hosts at 'backend.reading.allow'"
    );
    let reader = UrlFetcher::with_roots(ReadingAllow::default(), roots).expect("reader");
    assert_eq!(
        reader.read_url(&url).map_err(|e| e.to_string()),
        Err(expected.clone())
    );
    assert_eq!(
        HttpUrlReader.read_url(&url).map_err(|e| e.to_string()),
        Err(expected)
    );
}
