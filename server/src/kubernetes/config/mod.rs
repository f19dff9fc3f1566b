//! The `kubernetes:` block of app-config, key for key as Backstage reads it:
//! `serviceLocatorMethod`, `clusterLocatorMethods` (`config`, `localKubectlProxy`, `catalog`),
//! `objectTypes`, `customResources`, `apiVersionOverrides`, `clusterLocatorContinueOnError`.
//! Greenroom adds `kubernetes.fetchTimeoutMs` (per-cluster deadline, default 5000) and
//! `kubernetes.cache` (`enabled`, `idleTimeoutMs`, `clusterWide`, `warmUpTimeoutMs`,
//! `metricsIntervalMs`, `maxWatchesPerCluster`: the watch cache, see [`super::cache`]).
//!
//! Every problem is collected with its key and file, so `greenroom validate` lists them all.

use std::path::Path;
use std::time::Duration;

use super::lookup::{all_object_types, default_object_types, ObjectType};
use super::names::{Group, NameError, Plural, Version};
use crate::config::{Config, ConfigError};

mod cluster;

use cluster::read_cluster;
pub use cluster::{
    check_url, ClusterDetails, ClusterUrlError, SUPPORTED_PROVIDERS, UNSUPPORTED_PROVIDERS,
};

/// Which clusters an entity lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceLocator {
    /// Every cluster.
    MultiTenant,
    /// The cluster named by `backstage.io/kubernetes-cluster`, or every cluster without it.
    SingleTenant,
    /// The clusters the entity `dependsOn` as `resource:<cluster>`.
    CatalogRelation,
}

/// A custom resource to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomResource {
    /// API group.
    pub group: Group,
    /// API version.
    pub api_version: Version,
    /// Plural.
    pub plural: Plural,
}

impl CustomResource {
    /// Validates the three names; `field` (`customResources[0]`) prefixes the field in errors.
    pub fn parse(
        field: &str,
        group: &str,
        api_version: &str,
        plural: &str,
    ) -> Result<Self, NameError> {
        Ok(Self {
            group: Group::parse(&format!("{field}.group"), group)?,
            api_version: Version::parse(&format!("{field}.apiVersion"), api_version)?,
            plural: Plural::parse(&format!("{field}.plural"), plural)?,
        })
    }

    /// As an object type.
    pub fn object_type(&self) -> ObjectType {
        ObjectType::custom(
            self.group.clone(),
            self.api_version.clone(),
            self.plural.clone(),
        )
    }
}

/// Where clusters come from.
#[derive(Debug, Clone, PartialEq)]
pub enum ClusterLocator {
    /// Listed in config.
    Config(Vec<ClusterDetails>),
    /// `kubectl proxy` on localhost:8001.
    LocalKubectlProxy,
    /// Resource entities of `spec.type: kubernetes-cluster`.
    Catalog {
        /// Hosts exempt from the public-address rule (`*.example.com` patterns).
        allowed_hosts: Vec<String>,
        /// Honour `kubernetes.io/skip-tls-verify`.
        allow_skip_tls_verify: bool,
        /// `allowedAssumeRoles`: the role ARNs a catalog cluster's `kubernetes.io/aws-assume-role`
        /// may name (none by default: catalog clusters use the portal's base AWS identity).
        allowed_assume_roles: Vec<String>,
    },
}

/// The whole `kubernetes:` block.
#[derive(Debug, Clone, PartialEq)]
pub struct KubernetesConfig {
    /// Service locator.
    pub service_locator: ServiceLocator,
    /// Cluster locators, in order.
    pub locators: Vec<ClusterLocator>,
    /// Object types to fetch (defaults, or as narrowed/extended by objectTypes), overrides applied.
    pub object_types: Vec<ObjectType>,
    /// Global custom resources.
    pub custom_resources: Vec<CustomResource>,
    /// Keep going when a locator fails.
    pub continue_on_error: bool,
    /// Deadline per cluster.
    pub timeout: Duration,
    /// How often the tab refreshes (`kubernetes.frontend.refreshIntervalMs`, default 10 s).
    pub refresh_interval_ms: u64,
    /// The watch cache (`kubernetes.cache`, Greenroom's own block).
    pub cache: CacheConfig,
    /// Caps on the work one request can cause (Greenroom's own keys).
    pub limits: Limits,
}

/// Caps on the work one request or one client can cause.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// `kubernetes.podLogs.maxBytes` (default 2 MiB): the most of a container log read at once
    /// (sent as `limitBytes`; a longer log is cut and marked truncated).
    pub max_log_bytes: u64,
    /// `kubernetes.live.maxSubscribers` (default 2000): open live streams at once; more get 503.
    pub max_live_subscribers: usize,
    /// `kubernetes.live.maxSubscribersPerUser` (default 20): live views and followed logs one
    /// signed-in user (or static token) may hold open at once; more get 429.
    pub max_live_subscribers_per_user: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_log_bytes: 2 * 1024 * 1024,
            max_live_subscribers: 2000,
            max_live_subscribers_per_user: 20,
        }
    }
}

/// Custom resources one `POST /resources/custom/query` may ask for.
pub const MAX_CUSTOM_RESOURCES_PER_REQUEST: usize = 20;

/// `kubernetes.cache`: how objects are kept in memory between lookups.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheConfig {
    /// `enabled` (default true): false lists on every lookup, as Backstage does.
    pub enabled: bool,
    /// `idleTimeoutMs` (default 300000): a watch nobody has read for this long is stopped.
    pub idle_timeout: Duration,
    /// `clusterWide` (default true): one informer per object type over the whole cluster,
    /// selected in memory through a label index; false: one per object type and namespace a
    /// lookup names (for clusters too big to hold whole).
    pub cluster_wide: bool,
    /// `warmUpTimeoutMs` (default 60000): how long readiness waits at boot for the configured
    /// clusters' first lists.
    pub warm_up_timeout: Duration,
    /// `metricsIntervalMs` (default: the refresh interval): pod metrics are fetched at most
    /// once per cluster and namespace per interval, shared by every viewer.
    pub metrics_interval: Duration,
    /// `maxWatchesPerCluster` (default 1000): distinct watches one cluster may have; past it
    /// the least recently used idle one is stopped, and if all are in use a lookup that needs a
    /// new one gets a clear error.
    pub max_watches_per_cluster: usize,
}

impl CacheConfig {
    /// The defaults, for a given refresh interval.
    pub fn defaults(refresh_interval_ms: u64) -> Self {
        Self {
            enabled: true,
            idle_timeout: Duration::from_secs(300),
            cluster_wide: true,
            warm_up_timeout: Duration::from_secs(60),
            metrics_interval: Duration::from_millis(refresh_interval_ms),
            max_watches_per_cluster: 1000,
        }
    }
}

/// A whole number at `key`, at least `min`, else the default (errors collected).
fn count(c: &Config, key: &str, min: f64, default: u64, errors: &mut Vec<ConfigError>) -> u64 {
    match c.get_optional_number(key) {
        Ok(Some(n)) if n >= min && n.fract() == 0.0 => n as u64,
        Ok(Some(_)) => {
            errors.push(c.invalid_value(key, format!("must be a whole number, at least {min}")));
            default
        }
        Ok(None) => default,
        Err(e) => {
            errors.push(e);
            default
        }
    }
}

fn read_limits(k: &Config, errors: &mut Vec<ConfigError>) -> Limits {
    let d = Limits::default();
    Limits {
        max_log_bytes: count(k, "podLogs.maxBytes", 1024.0, d.max_log_bytes, errors),
        max_live_subscribers: count(
            k,
            "live.maxSubscribers",
            1.0,
            d.max_live_subscribers as u64,
            errors,
        ) as usize,
        max_live_subscribers_per_user: count(
            k,
            "live.maxSubscribersPerUser",
            1.0,
            d.max_live_subscribers_per_user as u64,
            errors,
        ) as usize,
    }
}

/// A number of milliseconds at `key`, at least `min`, else the default (errors collected).
fn millis(c: &Config, key: &str, min: f64, default: u64, errors: &mut Vec<ConfigError>) -> u64 {
    match c.get_optional_number(key) {
        Ok(Some(n)) if n >= min => n as u64,
        Ok(Some(_)) => {
            errors.push(c.invalid_value(key, format!("must be at least {min} (milliseconds)")));
            default
        }
        Ok(None) => default,
        Err(e) => {
            errors.push(e);
            default
        }
    }
}

fn read_cache(k: &Config, refresh_interval_ms: u64, errors: &mut Vec<ConfigError>) -> CacheConfig {
    let d = CacheConfig::defaults(refresh_interval_ms);
    let flag = |key: &str, default: bool, errors: &mut Vec<ConfigError>| {
        k.get_optional_bool(key)
            .unwrap_or_else(|e| {
                errors.push(e);
                None
            })
            .unwrap_or(default)
    };
    CacheConfig {
        enabled: flag("cache.enabled", d.enabled, errors),
        cluster_wide: flag("cache.clusterWide", d.cluster_wide, errors),
        idle_timeout: Duration::from_millis(millis(
            k,
            "cache.idleTimeoutMs",
            1000.0,
            300_000,
            errors,
        )),
        warm_up_timeout: Duration::from_millis(millis(
            k,
            "cache.warmUpTimeoutMs",
            0.0,
            60_000,
            errors,
        )),
        metrics_interval: Duration::from_millis(millis(
            k,
            "cache.metricsIntervalMs",
            1000.0,
            refresh_interval_ms,
            errors,
        )),
        max_watches_per_cluster: count(
            k,
            "cache.maxWatchesPerCluster",
            1.0,
            d.max_watches_per_cluster as u64,
            errors,
        ) as usize,
    }
}

/// Reads `kubernetes:`; `Ok(None)` when the block is absent. Relative `caFile`s resolve
/// against `cwd`.
pub fn read(config: &Config, cwd: &Path) -> Result<Option<KubernetesConfig>, Vec<ConfigError>> {
    let k = match config.get_optional_config("kubernetes") {
        Ok(Some(k)) => k,
        Ok(None) => return Ok(None),
        Err(e) => return Err(vec![e]),
    };
    let mut errors = Vec::new();
    let mut service_locator = ServiceLocator::MultiTenant;
    match k.get_string("serviceLocatorMethod.type") {
        Ok(t) => match t.as_str() {
            "multiTenant" => service_locator = ServiceLocator::MultiTenant,
            "singleTenant" => service_locator = ServiceLocator::SingleTenant,
            "catalogRelation" => service_locator = ServiceLocator::CatalogRelation,
            other => errors.push(k.invalid_value("serviceLocatorMethod.type", format!("unsupported service locator method '{other}' (expected multiTenant, singleTenant or catalogRelation)"))),
        },
        Err(e) => errors.push(e),
    }
    let mut locators = Vec::new();
    let mut names: Vec<String> = Vec::new();
    match k.get_config_array("clusterLocatorMethods") {
        Ok(methods) => {
            for m in &methods {
                let ty = match m.get_string("type") {
                    Ok(t) => t,
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                };
                match ty.as_str() {
                    "config" => {
                        let mut clusters = Vec::new();
                        match m.get_optional_config_array("clusters") {
                            Ok(items) => {
                                for c in items.unwrap_or_default() {
                                    if let Ok(Some(name)) = c.get_optional_string("name") {
                                        if names.contains(&name) {
                                            errors.push(c.invalid_value("name", format!("duplicate cluster name '{name}'")));
                                            continue;
                                        }
                                        names.push(name);
                                    }
                                    match read_cluster(&c, cwd) {
                                        Ok(d) => clusters.push(d),
                                        Err(mut e) => errors.append(&mut e),
                                    }
                                }
                            }
                            Err(e) => errors.push(e),
                        }
                        locators.push(ClusterLocator::Config(clusters));
                    }
                    "localKubectlProxy" => locators.push(ClusterLocator::LocalKubectlProxy),
                    "catalog" => {
                        let allowed_hosts = m.get_optional_string_array("dangerouslyAllowClusterUrls").unwrap_or_else(|e| {
                            errors.push(e);
                            None
                        });
                        let allow_skip = m.get_optional_bool("dangerouslyAllowSkipTLSVerify").unwrap_or_else(|e| {
                            errors.push(e);
                            None
                        });
                        let roles = m.get_optional_string_array("allowedAssumeRoles").unwrap_or_else(|e| {
                            errors.push(e);
                            None
                        });
                        locators.push(ClusterLocator::Catalog { allowed_hosts: allowed_hosts.unwrap_or_default(), allow_skip_tls_verify: allow_skip.unwrap_or(false), allowed_assume_roles: roles.unwrap_or_default() });
                    }
                    other => errors.push(m.invalid_value("type", format!("unsupported cluster locator method '{other}' (expected config, localKubectlProxy or catalog)"))),
                }
            }
        }
        Err(e) => errors.push(e),
    }
    let custom_resources = read_custom_resources(&k, "customResources", &mut errors);
    let mut object_types = match k.get_optional_string_array("objectTypes") {
        Ok(Some(list)) => {
            let all = all_object_types();
            for name in &list {
                if name != "customresources" && !all.iter().any(|t| &t.object_type == name) {
                    errors.push(k.invalid_value(
                        "objectTypes",
                        format!(
                                "unknown object type '{name}' (expected one of {})",
                                all.iter()
                                    .map(|t| t.object_type.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                    ));
                }
            }
            all.into_iter()
                .filter(|t| list.contains(&t.object_type))
                .collect()
        }
        Ok(None) => default_object_types(),
        Err(e) => {
            errors.push(e);
            default_object_types()
        }
    };
    match k.get_optional_config("apiVersionOverrides") {
        Ok(Some(o)) => {
            for key in o.keys() {
                match o.get_string(&key) {
                    Ok(v) => match Version::parse("apiVersion", &v) {
                        Ok(v) => {
                            for t in object_types.iter_mut().filter(|t| t.object_type == key) {
                                *t = t.clone().with_version(v.clone());
                            }
                        }
                        Err(e) => errors.push(o.invalid_value(&key, e.rule)),
                    },
                    Err(e) => errors.push(e),
                }
            }
        }
        Ok(None) => {}
        Err(e) => errors.push(e),
    }
    let continue_on_error = k
        .get_optional_bool("clusterLocatorContinueOnError")
        .unwrap_or_else(|e| {
            errors.push(e);
            None
        });
    let timeout_ms = match k.get_optional_number("fetchTimeoutMs") {
        Ok(Some(n)) if n > 0.0 => n,
        Ok(Some(_)) => {
            errors.push(k.invalid_value(
                "fetchTimeoutMs",
                "must be a positive number of milliseconds",
            ));
            5000.0
        }
        Ok(None) => 5000.0,
        Err(e) => {
            errors.push(e);
            5000.0
        }
    };
    let refresh_interval_ms = millis(
        &k,
        "frontend.refreshIntervalMs",
        1000.0,
        10_000,
        &mut errors,
    );
    let cache = read_cache(&k, refresh_interval_ms, &mut errors);
    let limits = read_limits(&k, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Some(KubernetesConfig {
        refresh_interval_ms,
        cache,
        limits,
        service_locator,
        locators,
        object_types,
        custom_resources,
        continue_on_error: continue_on_error.unwrap_or(false),
        timeout: Duration::from_millis(timeout_ms as u64),
    }))
}

fn read_custom_resources(
    c: &Config,
    key: &str,
    errors: &mut Vec<ConfigError>,
) -> Vec<CustomResource> {
    let mut out = Vec::new();
    match c.get_optional_config_array(key) {
        Ok(Some(items)) => {
            for item in items {
                match (
                    item.get_string("group"),
                    item.get_string("apiVersion"),
                    item.get_string("plural"),
                ) {
                    (Ok(group), Ok(api_version), Ok(plural)) => {
                        match CustomResource::parse("", &group, &api_version, &plural) {
                            Ok(cr) => out.push(cr),
                            Err(e) => errors.push(item.invalid_value(
                                e.field.trim_start_matches('.'),
                                format!("'{}' {}", e.value, e.rule),
                            )),
                        }
                    }
                    (g, v, p) => errors.extend([g.err(), v.err(), p.err()].into_iter().flatten()),
                }
            }
        }
        Ok(None) => {}
        Err(e) => errors.push(e),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn cfg(v: Value) -> Config {
        Config::from_json_layers(vec![("app-config.yaml".to_string(), v)])
    }

    fn errors(v: Value) -> Vec<String> {
        match read(&cfg(v), Path::new("/")) {
            Ok(_) => Vec::new(),
            Err(e) => e.iter().map(ToString::to_string).collect(),
        }
    }

    fn cluster(extra: Value) -> Value {
        let mut c = json!({"url": "https://127.0.0.1:6443", "name": "c1", "authProvider": "serviceAccount"});
        if let (Some(o), Some(e)) = (c.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                if v.is_null() {
                    o.remove(k);
                } else {
                    o.insert(k.clone(), v.clone());
                }
            }
        }
        c
    }

    fn with_clusters(clusters: Vec<Value>) -> Value {
        json!({"kubernetes": {"serviceLocatorMethod": {"type": "multiTenant"}, "clusterLocatorMethods": [{"type": "config", "clusters": clusters}]}})
    }

    #[test]
    fn the_seed_blocks_parse() {
        let aws = json!({"kubernetes": {"serviceLocatorMethod": {"type": "multiTenant"}, "clusterLocatorMethods": [{"type": "config", "clusters": [
            {"url": "https://XXXXXXXXXXXXXXX.abc.us-east-1.eks.amazonaws.com", "name": "backstage-tutorial-cluster", "authProvider": "aws", "caData": null}]}]}});
        let k = read(&cfg(aws), Path::new("/"))
            .unwrap_or_else(|e| panic!("{e:?}"))
            .unwrap_or_else(|| panic!("present"));
        let ClusterLocator::Config(list) = &k.locators[0] else {
            panic!("config locator")
        };
        assert_eq!(list[0].auth_provider(), "aws");
        assert_eq!(k.object_types.len(), 13);
        assert_eq!(k.timeout, Duration::from_secs(5));
        let sa = with_clusters(vec![cluster(
            json!({"skipTLSVerify": true, "skipMetricsLookup": true, "serviceAccountToken": "t"}),
        )]);
        let k = read(&cfg(sa), Path::new("/"))
            .unwrap_or_else(|e| panic!("{e:?}"))
            .unwrap_or_else(|| panic!("present"));
        let ClusterLocator::Config(list) = &k.locators[0] else {
            panic!("config locator")
        };
        assert!(list[0].skip_tls_verify && list[0].skip_metrics_lookup);
        assert_eq!(list[0].service_account_token.as_deref(), Some("t"));
        assert!(
            !format!("{:?}", list[0]).contains("\"t\""),
            "Debug hides the token"
        );
        assert_eq!(read(&cfg(json!({})), Path::new("/")).ok(), Some(None));
    }

    #[test]
    fn every_config_error_names_its_key() {
        let one = |extra: Value| errors(with_clusters(vec![cluster(extra)]));
        let has = |errs: Vec<String>, key: &str, words: &str| {
            assert!(
                errs.iter().any(|e| e.contains(key) && e.contains(words)),
                "expected {key} / {words} in {errs:?}"
            );
        };
        has(
            one(json!({"authProvider": null})),
            "clusters[0].authProvider",
            "has no auth provider configured",
        );
        has(
            one(json!({"authProvider": "kerberos"})),
            "clusters[0].authProvider",
            "unknown authProvider 'kerberos'",
        );
        has(
            one(json!({"url": null})),
            "clusters[0].url",
            "has no url (is its environment variable set?)",
        );
        has(
            one(json!({"url": "ftp://x"})),
            "clusters[0].url",
            "must start with https://",
        );
        has(
            one(json!({"url": "https://user:pw@host"})),
            "clusters[0].url",
            "must not contain credentials",
        );
        has(
            one(json!({"caFile": "/nonexistent/ca.crt"})),
            "clusters[0].caFile",
            "cannot read /nonexistent/ca.crt",
        );
        has(
            one(json!({"caData": "bm90IGEgY2VydA=="})),
            "clusters[0].caData",
            "no certificate",
        );
        has(
            errors(with_clusters(vec![cluster(json!({})), cluster(json!({}))])),
            "clusters[1].name",
            "duplicate cluster name 'c1'",
        );
        has(
            errors(
                json!({"kubernetes": {"serviceLocatorMethod": {"type": "http"}, "clusterLocatorMethods": []}}),
            ),
            "serviceLocatorMethod.type",
            "unsupported service locator method 'http'",
        );
        has(
            errors(
                json!({"kubernetes": {"serviceLocatorMethod": {"type": "multiTenant"}, "clusterLocatorMethods": [{"type": "gke"}]}}),
            ),
            "clusterLocatorMethods[0].type",
            "unsupported cluster locator method 'gke'",
        );
        has(
            errors(
                json!({"kubernetes": {"serviceLocatorMethod": {"type": "multiTenant"}, "clusterLocatorMethods": [], "objectTypes": ["pods", "widgets"]}}),
            ),
            "objectTypes",
            "unknown object type 'widgets'",
        );
        has(
            errors(json!({"kubernetes": {"clusterLocatorMethods": []}})),
            "serviceLocatorMethod.type",
            "",
        );
        // Several problems at once are all reported.
        assert!(
            errors(with_clusters(vec![cluster(
                json!({"url": null, "authProvider": null})
            )]))
            .len()
                >= 2
        );
        // Unsupported (but known) providers are accepted here and fail per cluster at request time.
        assert!(one(json!({"authProvider": "google"})).is_empty());
    }

    #[test]
    fn custom_resource_and_version_names_are_validated() {
        let errs = errors(
            json!({"kubernetes": {"serviceLocatorMethod": {"type": "multiTenant"}, "clusterLocatorMethods": [],
            "apiVersionOverrides": {"deployments": "v1/../../api/v1/secrets"},
            "customResources": [{"group": "argoproj.io", "apiVersion": "v1alpha1", "plural": "rollouts?labelSelector="}]}}),
        );
        let has = |errs: Vec<String>, key: &str, words: &str| {
            assert!(
                errs.iter().any(|e| e.contains(key) && e.contains(words)),
                "expected {key} / {words} in {errs:?}"
            );
        };
        has(
            errs.clone(),
            "customResources[0].plural",
            "'rollouts?labelSelector=' must be a DNS-1123 label",
        );
        has(errs, "apiVersionOverrides.deployments", "DNS-1123 label");
    }

    #[test]
    fn object_types_narrow_extend_and_override() {
        let k = read(&cfg(json!({"kubernetes": {"serviceLocatorMethod": {"type": "singleTenant"}, "clusterLocatorMethods": [],
            "objectTypes": ["deployments", "pods", "secrets"], "apiVersionOverrides": {"deployments": "v1beta1"},
            "customResources": [{"group": "argoproj.io", "apiVersion": "v1alpha1", "plural": "rollouts"}], "fetchTimeoutMs": 1500}})), Path::new("/"))
        .unwrap_or_else(|e| panic!("{e:?}"))
        .unwrap_or_else(|| panic!("present"));
        let names: Vec<&str> = k
            .object_types
            .iter()
            .map(|t| t.object_type.as_str())
            .collect();
        assert_eq!(
            names,
            vec!["secrets", "pods", "deployments"],
            "Backstage's order, not the config's"
        );
        assert_eq!(k.object_types[2].api_version, "v1beta1");
        assert_eq!(k.custom_resources[0].plural, "rollouts");
        assert_eq!(k.service_locator, ServiceLocator::SingleTenant);
        assert_eq!(k.timeout, Duration::from_millis(1500));
    }

    fn read_cache(extra: Value) -> Result<CacheConfig, Vec<String>> {
        let mut k = json!({"serviceLocatorMethod": {"type": "multiTenant"}, "clusterLocatorMethods": [{"type": "config", "clusters": []}], "frontend": {"refreshIntervalMs": 4000}});
        if let (Some(o), Some(e)) = (k.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        let c = Config::from_json_layers(vec![(
            "app-config.yaml".to_string(),
            json!({ "kubernetes": k }),
        )]);
        match read(&c, Path::new("/")) {
            Ok(Some(k)) => Ok(k.cache),
            Ok(None) => Err(vec!["no block".into()]),
            Err(e) => Err(e.iter().map(ToString::to_string).collect()),
        }
    }

    #[test]
    fn watches_are_renewed_when_a_cluster_s_connection_or_credentials_change() {
        let a = ClusterDetails::new("c", "https://a.example", "serviceAccount");
        let mut b = a.clone();
        b.title = Some("Renamed".into());
        assert_eq!(
            a.watch_identity(),
            b.watch_identity(),
            "display settings only"
        );
        for change in [
            |c: &mut ClusterDetails| c.url = "https://b.example".into(),
            |c: &mut ClusterDetails| c.service_account_token = Some("t2".into()),
            |c: &mut ClusterDetails| c.ca_data = Some("Y2E=".into()),
            |c: &mut ClusterDetails| {
                c.auth_metadata
                    .insert("kubernetes.io/aws-assume-role".into(), "arn".into());
            },
        ] {
            let mut c = a.clone();
            change(&mut c);
            assert_ne!(a.watch_identity(), c.watch_identity(), "{c:?}");
        }
    }

    #[test]
    fn the_cache_is_on_by_default_and_its_keys_are_checked() {
        let d = read_cache(json!({})).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            d,
            CacheConfig {
                enabled: true,
                idle_timeout: Duration::from_secs(300),
                cluster_wide: true,
                warm_up_timeout: Duration::from_secs(60),
                metrics_interval: Duration::from_millis(4000),
                max_watches_per_cluster: 1000,
            }
        );
        let set = read_cache(json!({"cache": {"enabled": false, "idleTimeoutMs": 60000, "clusterWide": false, "warmUpTimeoutMs": 0, "metricsIntervalMs": 30000}}))
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(!set.enabled && !set.cluster_wide);
        assert_eq!(set.warm_up_timeout, Duration::ZERO);
        assert_eq!(set.idle_timeout, Duration::from_secs(60));
        assert_eq!(set.metrics_interval, Duration::from_secs(30));
        let bad = read_cache(json!({"cache": {"enabled": "maybe", "idleTimeoutMs": 10}}))
            .err()
            .unwrap_or_default();
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert!(
            bad.iter().any(|e| e.contains("kubernetes.cache.enabled")),
            "{bad:?}"
        );
        assert!(
            bad.iter().any(
                |e| e.contains("kubernetes.cache.idleTimeoutMs") && e.contains("at least 1000")
            ),
            "{bad:?}"
        );
    }
}
