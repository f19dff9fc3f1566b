//! A cluster's errors in plain words: what failed and what to check, with the technical detail
//! beside it. Identical messages are merged.

use app::wire::kubernetes::ClusterProblem;

use crate::kubernetes::types::FetchError;

/// Plain words for a cluster's errors; identical ones are merged.
pub fn problems(cluster: &str, errors: &[FetchError]) -> Vec<ClusterProblem> {
    let mut out: Vec<ClusterProblem> = Vec::new();
    for e in errors {
        let p = match e {
            FetchError::Fetch { message, .. } => ClusterProblem {
                message: format!(
                    "Cluster {cluster} could not be read: {}",
                    short_transport(message)
                ),
                detail: message.clone(),
            },
            FetchError::Status {
                status_code,
                resource_path,
                ..
            } => {
                let resource = resource_path.rsplit('/').next().unwrap_or("");
                let message = match status_code {
                    401 => format!("Cluster {cluster} rejected Greenroom's credentials (401 Unauthorized): check the token or the AWS identity configured for it"),
                    403 => format!("Greenroom's service account lacks permission to list {resource} on cluster {cluster} (403 Forbidden)"),
                    404 if resource_path.contains("metrics.k8s.io") => format!("Cluster {cluster} has no metrics API (metrics.k8s.io, 404): CPU and memory are not shown"),
                    404 => format!("Cluster {cluster} does not serve {resource} (404 Not Found)"),
                    code => format!("Cluster {cluster} failed to list {resource} ({code})"),
                };
                ClusterProblem {
                    message,
                    detail: format!("{status_code} on {resource_path}"),
                }
            }
        };
        match out.iter_mut().find(|x| x.message == p.message) {
            Some(x) => {
                if !x.detail.contains(&p.detail) {
                    x.detail = format!("{}; {}", x.detail, p.detail);
                }
            }
            None => out.push(p),
        }
    }
    out
}

/// An object the cluster returned that does not read as its type (a field of the wrong type):
/// it is left out of the view, and this says which and why.
pub fn unreadable(
    cluster: &str,
    kind: &str,
    object: &serde_json::Value,
    why: &str,
) -> ClusterProblem {
    let text = |k: &str| object["metadata"][k].as_str().unwrap_or("?");
    let (ns, name) = (text("namespace"), text("name"));
    ClusterProblem {
        message: format!("Cluster {cluster} returned a {kind} that could not be read ({ns}/{name}); it is not shown"),
        detail: why.to_string(),
    }
}

fn short_transport(m: &str) -> &str {
    for w in [
        "TLS verification failed",
        "connection refused",
        "the connection was closed",
        "the host name does not resolve",
        "the answer is not valid JSON",
        "not supported by Greenroom yet",
        "no AWS credentials",
        "AWS authentication failed",
        "no service-account token",
        "too many distinct watches",
        "its connection settings are not usable",
    ] {
        if m.contains(w) {
            return w;
        }
    }
    if let Some(i) = m.find("timed out after") {
        return &m[i..];
    }
    "unreachable"
}
