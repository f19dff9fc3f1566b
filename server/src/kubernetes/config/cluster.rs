//! One cluster of the `kubernetes:` block: what Greenroom knows about it ([`ClusterDetails`],
//! also made from catalog `kubernetes-cluster` Resources), how one `clusters[]` entry is read,
//! and the URL rule for configured clusters.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{read_custom_resources, CustomResource};
use crate::config::{Config, ConfigError};

/// Auth providers Greenroom implements.
pub const SUPPORTED_PROVIDERS: &[&str] = &["serviceAccount", "aws", "localKubectlProxy"];
/// Auth providers Backstage knows that Greenroom does not implement yet (a per-cluster error).
pub const UNSUPPORTED_PROVIDERS: &[&str] =
    &["google", "googleServiceAccount", "azure", "aks", "oidc"];

/// One cluster, from config or from the catalog.
#[derive(Clone, PartialEq)]
pub struct ClusterDetails {
    /// Unique name.
    pub name: String,
    /// Display title.
    pub title: Option<String>,
    /// API server URL.
    pub url: String,
    /// `kubernetes.io/auth-provider` and the rest of authMetadata.
    pub auth_metadata: BTreeMap<String, String>,
    /// Static service-account token.
    pub service_account_token: Option<String>,
    /// Base64 PEM CA.
    pub ca_data: Option<String>,
    /// CA file.
    pub ca_file: Option<PathBuf>,
    /// Do not verify TLS (logged as a warning at start).
    pub skip_tls_verify: bool,
    /// Do not ask metrics.k8s.io.
    pub skip_metrics_lookup: bool,
    /// Dashboard URL.
    pub dashboard_url: Option<String>,
    /// Dashboard app.
    pub dashboard_app: Option<String>,
    /// Dashboard parameters.
    pub dashboard_parameters: Option<Value>,
    /// Custom resources for this cluster.
    pub custom_resources: Vec<CustomResource>,
}

impl std::fmt::Debug for ClusterDetails {
    // Tokens and CA data stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterDetails")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("auth_provider", &self.auth_provider())
            .field("skip_tls_verify", &self.skip_tls_verify)
            .finish_non_exhaustive()
    }
}

impl ClusterDetails {
    /// What a connection to the cluster depends on (URL, CA, TLS verification): clients are
    /// rebuilt when it changes.
    pub fn connection(&self) -> String {
        format!(
            "{}|{:?}|{:?}|{}",
            self.url, self.ca_data, self.ca_file, self.skip_tls_verify
        )
    }

    /// A hash of everything a watch of the cluster depends on (connection and credentials), so
    /// a cluster whose settings change gets new watches rather than stale ones.
    pub fn watch_identity(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.connection().hash(&mut h);
        self.auth_metadata.hash(&mut h);
        self.service_account_token.hash(&mut h);
        h.finish()
    }

    /// A cluster with a name, URL and auth provider, and every other setting at its default.
    pub fn new(name: &str, url: &str, auth_provider: &str) -> Self {
        Self {
            name: name.to_string(),
            title: None,
            url: url.to_string(),
            auth_metadata: BTreeMap::from([(
                "kubernetes.io/auth-provider".to_string(),
                auth_provider.to_string(),
            )]),
            service_account_token: None,
            ca_data: None,
            ca_file: None,
            skip_tls_verify: false,
            skip_metrics_lookup: false,
            dashboard_url: None,
            dashboard_app: None,
            dashboard_parameters: None,
            custom_resources: Vec::new(),
        }
    }

    /// The auth provider name.
    pub fn auth_provider(&self) -> &str {
        self.auth_metadata
            .get("kubernetes.io/auth-provider")
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// One `clusters[]` entry.
pub(super) fn read_cluster(c: &Config, cwd: &Path) -> Result<ClusterDetails, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut opt = |key: &str| {
        c.get_optional_string(key).unwrap_or_else(|e| {
            errors.push(e);
            None
        })
    };
    let name = opt("name");
    let url = opt("url");
    let title = opt("title");
    let auth_provider = opt("authProvider");
    let service_account_token = opt("serviceAccountToken");
    let assume_role = opt("assumeRole");
    let external_id = opt("externalId");
    let oidc = opt("oidcTokenProvider");
    let ca_data = opt("caData");
    let ca_file = opt("caFile");
    let dashboard_url = opt("dashboardUrl");
    let dashboard_app = opt("dashboardApp");
    let mut flag = |key: &str| {
        c.get_optional_bool(key).unwrap_or_else(|e| {
            errors.push(e);
            None
        })
    };
    let skip_tls_verify = flag("skipTLSVerify").unwrap_or(false);
    let skip_metrics_lookup = flag("skipMetricsLookup").unwrap_or(false);
    let dashboard_parameters = c.get_optional_value("dashboardParameters");
    let mut auth_metadata = BTreeMap::new();
    match c.get_optional_value("authMetadata") {
        Some(Value::Object(m)) => {
            for (k, v) in m {
                match v {
                    Value::String(s) => {
                        auth_metadata.insert(k, s);
                    }
                    other => errors.push(c.invalid_value(
                        &format!("authMetadata.{k}"),
                        format!("expected a string, got {other}"),
                    )),
                }
            }
        }
        Some(other) => {
            errors.push(c.invalid_value("authMetadata", format!("expected an object, got {other}")))
        }
        None => {}
    }
    let custom_resources = read_custom_resources(c, "customResources", &mut errors);
    let shown = name.clone().unwrap_or_else(|| "<unnamed>".into());
    if name.is_none() {
        errors.push(c.invalid_value("name", "every cluster needs a name"));
    }
    match url.as_deref() {
        None => errors.push(c.invalid_value(
            "url",
            format!("cluster '{shown}' has no url (is its environment variable set?)"),
        )),
        Some(u) => {
            if let Err(why) = check_url(u) {
                errors.push(c.invalid_value("url", format!("cluster '{shown}': {why}")));
            }
        }
    }
    let provider = auth_metadata
        .get("kubernetes.io/auth-provider")
        .cloned()
        .or(auth_provider);
    match provider.as_deref() {
        None => errors.push(c.invalid_value(
            "authProvider",
            format!("cluster '{shown}' has no auth provider configured; this must be specified via the 'authProvider' or 'authMetadata.kubernetes.io/auth-provider' parameter"),
        )),
        Some(p) if SUPPORTED_PROVIDERS.contains(&p) || UNSUPPORTED_PROVIDERS.contains(&p) => {}
        Some(p) => errors.push(c.invalid_value(
            "authProvider",
            format!("cluster '{shown}': unknown authProvider '{p}' (expected one of {}, {})", SUPPORTED_PROVIDERS.join(", "), UNSUPPORTED_PROVIDERS.join(", ")),
        )),
    }
    if provider.as_deref() == Some("oidc")
        && oidc.is_none()
        && !auth_metadata.contains_key("kubernetes.io/oidc-token-provider")
    {
        errors.push(c.invalid_value(
            "oidcTokenProvider",
            format!("cluster '{shown}': Must specify a token provider for 'oidc' strategy"),
        ));
    }
    let ca_file = ca_file.map(|f| {
        if Path::new(&f).is_absolute() {
            PathBuf::from(f)
        } else {
            cwd.join(f)
        }
    });
    if let Some(f) = &ca_file {
        if let Err(e) = std::fs::read(f) {
            errors.push(c.invalid_value(
                "caFile",
                format!("cluster '{shown}': cannot read {}: {e}", f.display()),
            ));
        }
    }
    if let Some(d) = &ca_data {
        if let Err(why) = crate::kubernetes::tls::pem_certs_from_base64(d) {
            errors.push(c.invalid_value("caData", format!("cluster '{shown}': {why}")));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut meta = BTreeMap::new();
    if let Some(p) = &provider {
        meta.insert("kubernetes.io/auth-provider".to_string(), p.clone());
    }
    if let Some(r) = assume_role {
        meta.insert("kubernetes.io/aws-assume-role".to_string(), r);
    }
    if let Some(x) = external_id {
        meta.insert("kubernetes.io/aws-external-id".to_string(), x);
    }
    if let Some(o) = oidc {
        meta.insert("kubernetes.io/oidc-token-provider".to_string(), o);
    }
    meta.extend(auth_metadata);
    Ok(ClusterDetails {
        name: name.unwrap_or_default(),
        title,
        url: url.unwrap_or_default(),
        auth_metadata: meta,
        service_account_token,
        ca_data,
        ca_file,
        skip_tls_verify,
        skip_metrics_lookup,
        dashboard_url,
        dashboard_app,
        dashboard_parameters,
        custom_resources,
    })
}

/// Why a configured cluster URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterUrlError {
    /// The URL and the parser's reason.
    #[error("'{0}' is not a valid URL: {1}")]
    Invalid(String, String),
    /// Not http(s).
    #[error("'{0}' must start with https:// (or http://)")]
    Scheme(String),
    /// No host.
    #[error("'{0}' has no host")]
    NoHost(String),
    /// `user:password@`.
    #[error("the URL must not contain credentials")]
    Credentials,
}

/// A cluster URL must be http(s) with a host and no credentials.
pub fn check_url(url: &str) -> Result<(), ClusterUrlError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| ClusterUrlError::Invalid(url.into(), e.to_string()))?;
    match uri.scheme_str() {
        Some("https") | Some("http") => {}
        _ => return Err(ClusterUrlError::Scheme(url.into())),
    }
    let authority = uri
        .authority()
        .ok_or_else(|| ClusterUrlError::NoHost(url.into()))?;
    if authority.as_str().contains('@') {
        return Err(ClusterUrlError::Credentials);
    }
    Ok(())
}
