//! Where clusters come from: `config` (fixed at start), `localKubectlProxy` (one anonymous
//! cluster at http://127.0.0.1:8001), and `catalog` (Resource entities of
//! `spec.type: kubernetes-cluster`, read from the current catalog on every lookup).
//!
//! Catalog clusters are written by anyone who can add a catalog file, so they get Backstage's
//! SSRF rules: https only, no credentials in the URL, no private, loopback or link-local
//! address (checked after DNS) unless the host is allow-listed in
//! `dangerouslyAllowClusterUrls`, and no `serviceAccount` provider (it would hand the portal's
//! own token to an arbitrary URL). Stricter than Backstage, because `aws` makes the portal mint
//! a signed EKS token (replayable for 15 minutes) and send it to the URL: an `aws` catalog
//! cluster must be at an EKS endpoint host (`*.eks.amazonaws.com`, `*.eks.amazonaws.com.cn`) or
//! a `dangerouslyAllowClusterUrls` host, may name in `kubernetes.io/aws-assume-role` only a
//! role listed in the locator's `allowedAssumeRoles`, and may not take the name of a cluster
//! from config (whichever locator comes first).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::Value;

use super::config::{ClusterDetails, ClusterLocator};
use crate::catalog::store::Snapshot;

/// Why a catalog cluster is ignored (logged as a warning naming the Resource).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("Kubernetes cluster API server URL is not a valid URL")]
    InvalidUrl,
    #[error("Kubernetes cluster API server URL must not contain credentials")]
    Credentials,
    #[error("Kubernetes cluster API server URL must use the HTTP or HTTPS scheme")]
    NotHttp,
    #[error("Kubernetes cluster API server URL must use the HTTPS scheme")]
    NotHttps,
    #[error("Kubernetes cluster API server URL must not use a non-public IP address")]
    NonPublicIp,
    #[error("Kubernetes cluster API server URL hostname \"{host}\" does not resolve: {reason}")]
    Unresolved { host: String, reason: String },
    #[error("Kubernetes cluster API server URL hostname \"{0}\" resolves to a non-public address")]
    NonPublicHost(String),
    #[error("Kubernetes cluster API server URL hostname did not resolve in time")]
    ResolveTimeout,
    #[error("the aws auth provider is allowed only for EKS endpoints (*.eks.amazonaws.com) or hosts in dangerouslyAllowClusterUrls, not '{0}'")]
    AwsOutsideEks(String),
    #[error(
        "its kubernetes.io/aws-assume-role is not one of the catalog locator's allowedAssumeRoles"
    )]
    RoleNotAllowed,
    #[error("catalog cluster locator does not support the serviceAccount auth provider")]
    ServiceAccount,
    #[error("a cluster of that name is configured in app-config")]
    NameTaken,
}

/// A catalog cluster that is ignored: the Resource's name and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Ignoring kubernetes-cluster Resource \"{name}\": {why}")]
pub struct Ignored {
    pub name: String,
    pub why: Refusal,
}

/// The cluster `localKubectlProxy` stands for.
pub fn local_proxy() -> ClusterDetails {
    ClusterDetails {
        skip_metrics_lookup: true,
        ..ClusterDetails::new("local", "http://127.0.0.1:8001", "localKubectlProxy")
    }
}

pub use crate::net::is_public;

fn host_allowed(host: &str, patterns: &[String]) -> bool {
    let host = host.to_lowercase();
    patterns.iter().any(|p| {
        let p = p.to_lowercase();
        match p.strip_prefix("*.") {
            Some(domain) => host == domain || host.ends_with(&format!(".{domain}")),
            None => host == p,
        }
    })
}

/// Checks a catalog cluster's URL (DNS included); the reason when it is refused.
pub async fn check_catalog_url(url: &str, allowed_hosts: &[String]) -> Result<(), Refusal> {
    let uri: http::Uri = url.parse().map_err(|_| Refusal::InvalidUrl)?;
    let authority = uri.authority().ok_or(Refusal::InvalidUrl)?;
    if authority.as_str().contains('@') {
        return Err(Refusal::Credentials);
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    match uri.scheme_str() {
        Some("https") | Some("http") => {}
        _ => return Err(Refusal::NotHttp),
    }
    if host_allowed(host, allowed_hosts) {
        return Ok(());
    }
    if uri.scheme_str() != Some("https") {
        return Err(Refusal::NotHttps);
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return if is_public(ip) {
            Ok(())
        } else {
            Err(Refusal::NonPublicIp)
        };
    }
    let port = authority.port_u16().unwrap_or(443);
    let addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| Refusal::Unresolved {
            host: host.to_string(),
            reason: e.to_string(),
        })?;
    for a in addrs {
        if !is_public(a.ip()) {
            return Err(Refusal::NonPublicHost(host.to_string()));
        }
    }
    Ok(())
}

/// How long one catalog cluster's DNS check may take.
pub const DNS_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Hosts of EKS API server endpoints.
pub const EKS_HOSTS: &[&str] = &["*.eks.amazonaws.com", "*.eks.amazonaws.com.cn"];

/// The extra rules for a catalog cluster with `authProvider: aws`; the reason when refused.
pub fn check_catalog_aws(
    c: &ClusterDetails,
    allowed_hosts: &[String],
    allowed_roles: &[String],
) -> Result<(), Refusal> {
    if c.auth_provider() != "aws" {
        return Ok(());
    }
    let host = c
        .url
        .parse::<http::Uri>()
        .ok()
        .and_then(|u| u.host().map(str::to_string))
        .unwrap_or_default();
    let eks: Vec<String> = EKS_HOSTS.iter().map(|h| h.to_string()).collect();
    if !host_allowed(&host, &eks) && !host_allowed(&host, allowed_hosts) {
        return Err(Refusal::AwsOutsideEks(host));
    }
    if let Some(role) = c.auth_metadata.get("kubernetes.io/aws-assume-role") {
        if !allowed_roles.iter().any(|r| r == role) {
            return Err(Refusal::RoleNotAllowed);
        }
    }
    Ok(())
}

/// Cluster entities of the catalog, before URL checks.
pub fn catalog_candidates(
    snapshot: &Snapshot,
    allow_skip_tls_verify: bool,
) -> Vec<Result<ClusterDetails, Ignored>> {
    let mut out = Vec::new();
    for stored in &snapshot.entities {
        if !stored.entity_ref.starts_with("resource:") {
            continue;
        }
        let e = stored.value();
        if e["spec"]["type"] != "kubernetes-cluster" {
            continue;
        }
        let ann = &e["metadata"]["annotations"];
        let get = |k: &str| ann[k].as_str().map(str::to_string);
        let name = e["metadata"]["name"].as_str().unwrap_or("").to_string();
        let (Some(url), Some(ca), Some(provider)) = (
            get("kubernetes.io/api-server"),
            get("kubernetes.io/api-server-certificate-authority"),
            get("kubernetes.io/auth-provider"),
        ) else {
            continue;
        };
        if provider == "serviceAccount" {
            out.push(Err(Ignored {
                name,
                why: Refusal::ServiceAccount,
            }));
            continue;
        }
        let auth_metadata: BTreeMap<String, String> = ann
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.starts_with("kubernetes.io/"))
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect();
        let params = get("kubernetes.io/dashboard-parameters")
            .and_then(|p| serde_json::from_str::<Value>(&p).ok())
            .filter(Value::is_object);
        out.push(Ok(ClusterDetails {
            name,
            title: e["metadata"]["title"].as_str().map(str::to_string),
            url,
            auth_metadata,
            service_account_token: None,
            ca_data: (!ca.is_empty()).then_some(ca),
            ca_file: None,
            skip_tls_verify: allow_skip_tls_verify
                && get("kubernetes.io/skip-tls-verify").as_deref() == Some("true"),
            skip_metrics_lookup: get("kubernetes.io/skip-metrics-lookup").as_deref()
                == Some("true"),
            dashboard_url: get("kubernetes.io/dashboard-url"),
            dashboard_app: get("kubernetes.io/dashboard-app"),
            dashboard_parameters: params,
            custom_resources: Vec::new(),
        }));
    }
    out
}

/// Every cluster the locators know now. A catalog cluster that breaks a rule is skipped with a
/// warning naming it and why.
pub async fn locate(locators: &[ClusterLocator], snapshot: &Snapshot) -> Vec<ClusterDetails> {
    let mut out: Vec<ClusterDetails> = Vec::new();
    let config_names: Vec<&str> = locators
        .iter()
        .flat_map(|l| match l {
            ClusterLocator::Config(list) => list.iter().map(|c| c.name.as_str()).collect(),
            ClusterLocator::LocalKubectlProxy => vec!["local"],
            ClusterLocator::Catalog { .. } => Vec::new(),
        })
        .collect();
    for l in locators {
        match l {
            ClusterLocator::Config(list) => out.extend(list.iter().cloned()),
            ClusterLocator::LocalKubectlProxy => out.push(local_proxy()),
            ClusterLocator::Catalog {
                allowed_hosts,
                allow_skip_tls_verify,
                allowed_assume_roles,
            } => {
                let ignore = |c: &ClusterDetails, why: Refusal| {
                    let ignored = Ignored {
                        name: c.name.clone(),
                        why,
                    };
                    tracing::warn!(cluster = %c.name, "{ignored}");
                };
                let mut checked = Vec::new();
                for c in catalog_candidates(snapshot, *allow_skip_tls_verify) {
                    match c {
                        Ok(c) if config_names.contains(&c.name.as_str()) => {
                            ignore(&c, Refusal::NameTaken)
                        }
                        Ok(c) => match check_catalog_aws(&c, allowed_hosts, allowed_assume_roles) {
                            Err(why) => ignore(&c, why),
                            Ok(()) => checked.push(c),
                        },
                        Err(ignored) => tracing::warn!(cluster = %ignored.name, "{ignored}"),
                    }
                }
                // DNS checks run concurrently, each bounded: a catalog full of hosts whose name
                // server never answers cannot hold up a lookup.
                let verdicts = futures_util::future::join_all(checked.iter().map(|c| async move {
                    tokio::time::timeout(
                        DNS_CHECK_TIMEOUT,
                        check_catalog_url(&c.url, allowed_hosts),
                    )
                    .await
                    .unwrap_or(Err(Refusal::ResolveTimeout))
                }))
                .await;
                for (c, verdict) in checked.into_iter().zip(verdicts) {
                    match verdict {
                        Ok(()) => out.push(c),
                        Err(why) => ignore(&c, why),
                    }
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|c| {
        let fresh = seen.insert(c.name.clone());
        if !fresh {
            tracing::warn!("Duplicate cluster name '{}'", c.name);
        }
        fresh
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_and_private_addresses() {
        for ip in [
            "10.0.0.1",
            "172.16.3.4",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(
                !is_public(ip.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))),
                "{ip} is not public"
            );
        }
        for ip in ["52.95.110.1", "8.8.8.8", "2600:1f18::1"] {
            assert!(
                is_public(ip.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))),
                "{ip} is public"
            );
        }
    }

    #[test]
    fn catalog_aws_clusters_only_at_eks_hosts_and_with_listed_roles() {
        let aws = |url: &str, role: Option<&str>| {
            let mut c = ClusterDetails::new("x", url, "aws");
            if let Some(r) = role {
                c.auth_metadata
                    .insert("kubernetes.io/aws-assume-role".into(), r.into());
            }
            c
        };
        let none: Vec<String> = vec![];
        let eks = "https://ABCDEF0123.gr7.eu-west-1.eks.amazonaws.com";
        assert!(check_catalog_aws(&aws(eks, None), &none, &none).is_ok());
        assert!(
            check_catalog_aws(&aws("https://attacker.example.com", None), &none, &none)
                .unwrap_err()
                .to_string()
                .contains("only for EKS endpoints")
        );
        assert!(check_catalog_aws(
            &aws("https://eks.amazonaws.com.attacker.example", None),
            &none,
            &none
        )
        .is_err());
        let role = "arn:aws:iam::123456789012:role/admin";
        assert!(check_catalog_aws(&aws(eks, Some(role)), &none, &none)
            .unwrap_err()
            .to_string()
            .contains("allowedAssumeRoles"));
        assert!(check_catalog_aws(&aws(eks, Some(role)), &none, &[role.to_string()]).is_ok());
        let own = vec!["k8s.internal.example".to_string()];
        assert!(check_catalog_aws(&aws("https://k8s.internal.example", None), &own, &none).is_ok());
        // Other providers send no minted credential: only the URL rules apply.
        let anon = ClusterDetails::new("y", "https://attacker.example.com", "localKubectlProxy");
        assert!(check_catalog_aws(&anon, &none, &none).is_ok());
    }

    #[tokio::test]
    async fn catalog_urls_follow_the_ssrf_rules() {
        let none: Vec<String> = vec![];
        assert!(check_catalog_url("https://52.95.110.1", &none)
            .await
            .is_ok());
        assert_eq!(
            check_catalog_url("http://52.95.110.1", &none)
                .await
                .map_err(|e| e.to_string()),
            Err("Kubernetes cluster API server URL must use the HTTPS scheme".to_string())
        );
        assert_eq!(
            check_catalog_url("https://user:pw@52.95.110.1", &none)
                .await
                .map_err(|e| e.to_string()),
            Err("Kubernetes cluster API server URL must not contain credentials".to_string())
        );
        assert_eq!(
            check_catalog_url("https://10.1.2.3:6443", &none)
                .await
                .map_err(|e| e.to_string()),
            Err(
                "Kubernetes cluster API server URL must not use a non-public IP address"
                    .to_string()
            )
        );
        assert!(check_catalog_url("https://localhost:6443", &none)
            .await
            .unwrap_err()
            .to_string()
            .contains("non-public"));
        let allowed = vec!["localhost".to_string(), "*.internal.example".to_string()];
        assert!(check_catalog_url("https://localhost:6443", &allowed)
            .await
            .is_ok());
        assert!(check_catalog_url("http://api.internal.example", &allowed)
            .await
            .is_ok());
        assert!(check_catalog_url("ftp://localhost", &allowed)
            .await
            .is_err());
    }
}
