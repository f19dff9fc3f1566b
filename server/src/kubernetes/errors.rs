//! Turning a failed call to a cluster into Backstage's error entries, with messages in plain
//! words: token rejected, not allowed, timed out, unreachable, TLS verification failed.

use super::types::FetchError;

/// An error and its sources, joined (the useful part of a TLS or connect error is deep inside).
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

/// A plain-words reason for a transport failure.
pub fn describe_transport(cluster: &str, url: &str, detail: &str) -> String {
    let lower = detail.to_lowercase();
    let what = if lower.contains("certificate")
        || lower.contains("invalidcertificate")
        || lower.contains("unknownissuer")
        || lower.contains("tls") && lower.contains("handshake")
    {
        "TLS verification failed"
    } else if lower.contains("connection refused") {
        "connection refused"
    } else if lower.contains("connection reset")
        || lower.contains("connection closed")
        || lower.contains("incomplete message")
        || lower.contains("unexpected eof")
    {
        "the connection was closed"
    } else if lower.contains("dns")
        || lower.contains("failed to lookup")
        || lower.contains("name or service not known")
    {
        "the host name does not resolve"
    } else if lower.contains("timed out") || lower.contains("elapsed") {
        "timed out"
    } else if lower.contains("expected")
        || lower.contains("json")
        || lower.contains("eof while parsing")
    {
        "the answer is not valid JSON"
    } else {
        "unreachable"
    };
    // The URL and the low-level detail (addresses, certificate names) go to the log only.
    tracing::warn!(cluster, url, detail, "cluster request failed: {what}");
    format!("cluster '{cluster}': {what}")
}

/// A credential that could not be made, as the cluster's error: the kind of failure for the
/// user, everything (role ARNs, STS endpoints, paths) in the log.
pub fn credential_failure(cluster: &str, e: &super::auth::AuthError) -> FetchError {
    tracing::warn!(cluster, error = %e, "no credential for the cluster");
    FetchError::fetch(format!("cluster '{cluster}': {}", e.public_message()))
}

/// A client that could not be set up (bad URL or CA in the cluster's settings).
pub fn client_failure(cluster: &str, e: &dyn std::fmt::Display) -> FetchError {
    tracing::warn!(cluster, error = %e, "cannot set up a client for the cluster");
    FetchError::fetch(format!(
        "cluster '{cluster}': its connection settings are not usable (the portal's log has the details)"
    ))
}

/// A kube-rs error from one list call, as an error entry.
pub fn from_kube(cluster: &str, url: &str, path: &str, e: &kube::Error) -> FetchError {
    match e {
        kube::Error::Api(s) => FetchError::status(s.code, path),
        other => FetchError::fetch(describe_transport(cluster, url, &chain(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_errors_in_plain_words() {
        assert!(describe_transport(
            "c",
            "https://x",
            "error trying to connect: tcp connect error: Connection refused (os error 111)"
        )
        .contains("connection refused"));
        assert!(
            describe_transport("c", "https://x", "invalid peer certificate: UnknownIssuer")
                .contains("TLS verification failed")
        );
        assert!(describe_transport(
            "c",
            "https://x",
            "Error deserializing response: expected value at line 1"
        )
        .contains("not valid JSON"));
        assert!(describe_transport("c", "https://x", "something else").contains("unreachable"));
        // Internal hosts and low-level details stay in the log.
        let m = describe_transport(
            "prod",
            "https://10.20.30.40:6443",
            "error trying to connect: tcp connect error: 10.20.30.40:6443: Connection refused",
        );
        assert_eq!(m, "cluster 'prod': connection refused");
    }
}
