//! The Clusters page (`/clusters`): each cluster's health as the watch cache sees it, its
//! namespaces, and the workloads there that **no catalog entity claims** — catalog coverage.
//!
//! Everything is read from the watch cache: the page costs no API-server request, and it does
//! not start watches either (a cluster found in the catalog that no lookup has used yet is "not
//! watched yet"). A workload is a Deployment, StatefulSet, DaemonSet, CronJob, or a Job that
//! nothing owns (a CronJob's Jobs belong to it). An entity claims a workload when the workload's
//! labels match the entity's label selector (its `backstage.io/kubernetes-label-selector`, else
//! `backstage.io/kubernetes-id=<id>`), in one of the entity's namespaces
//! (`backstage.io/kubernetes-namespace`, else any), on a cluster its service locator picks: the
//! same rule the Kubernetes tab selects with.
//!
//! Cost (catalog files and clusters are untrusted, so both are bounded): the claims are built
//! once per catalog snapshot; identical claims (same selector and namespaces) are kept once and
//! shared by every cluster; each is indexed by its most selective requirement (an equality, or an
//! `in` of at most [`MAX_INDEXED_VALUES`] values, else a key's existence), so a workload is checked
//! only against the claims that could match it. A cluster's coverage is one pass over its
//! workloads, copied out of the informers first (the watch loop is not held up) and run off the
//! async workers, and kept until the catalog or a workload informer changes (one slot per
//! cluster).
//!
//! Who sees what: clusters the viewer may read (`kubernetes.clusters.read`) with their health;
//! their namespaces, workload counts and unclaimed workloads only with an unconditional
//! `kubernetes.resources.read` (a conditional one is about entities, and these belong to none).
//! Claims are computed over the whole catalog, so a workload some entity claims is not listed
//! even if the viewer may not read that entity.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use app::wire::clusters::{ClusterHealth, ClustersOverview, NamespaceCoverage, UnclaimedWorkload};
use app::wire::kubernetes::HealthState;

use super::cache::{Entry, Health, WatchCache};
use super::config::ClusterDetails;
use super::lookup;
use super::names::Namespace;
use super::selector::LabelSelector;
use super::service::KubernetesService;
use super::service_locator;
use super::types::Stored;
use crate::catalog::store::Snapshot;
use crate::permission::{Decision, KubernetesAccess};

/// The object types whose objects are workloads, with the kind shown.
pub const WORKLOAD_TYPES: [(&str, &str); 5] = [
    ("deployments", "Deployment"),
    ("statefulsets", "StatefulSet"),
    ("daemonsets", "DaemonSet"),
    ("cronjobs", "CronJob"),
    ("jobs", "Job"),
];

/// Most unclaimed workloads listed per cluster (all are counted).
pub const MAX_UNCLAIMED: usize = 200;

/// Most namespaces listed per cluster (all are counted).
pub const MAX_NAMESPACES: usize = 500;

/// Most values of an `in` requirement a claim is indexed under (a longer set is indexed by its
/// key's existence instead).
pub const MAX_INDEXED_VALUES: usize = 8;

/// One entity's claim: what it selects, where.
struct Claim {
    selector: LabelSelector,
    namespaces: Option<Vec<Namespace>>,
}

/// Every claim on one cluster, indexed by a label each match must carry.
#[derive(Default)]
pub struct Claims {
    all: Vec<Arc<Claim>>,
    /// Claims requiring `key=value` (or `key in (…)`, a few values), by key and value.
    by_label: HashMap<String, HashMap<String, Vec<usize>>>,
    /// Claims whose most selective requirement is that `key` exists (or has one of many values).
    by_key: HashMap<String, Vec<usize>>,
    /// Claims with no positive requirement (`!key`, `key notin (…)`): checked on every workload.
    scan: Vec<usize>,
}

impl Claims {
    fn add(&mut self, claim: Arc<Claim>) {
        let i = self.all.len();
        let terms = claim.selector.terms();
        let indexed = terms
            .iter()
            .filter_map(|t| t.values.as_ref().map(|v| (t, v)))
            .filter(|(_, v)| v.len() <= MAX_INDEXED_VALUES)
            .min_by_key(|(_, v)| v.len());
        match (indexed, terms.first()) {
            (Some((t, values)), _) => {
                for v in values {
                    self.by_label
                        .entry(t.key.clone())
                        .or_default()
                        .entry(v.clone())
                        .or_default()
                        .push(i);
                }
            }
            (None, Some(t)) => self.by_key.entry(t.key.clone()).or_default().push(i),
            (None, None) => self.scan.push(i),
        }
        self.all.push(claim);
    }

    /// Whether some entity claims a workload with these labels in `namespace`.
    pub fn claims(&self, namespace: &str, labels: &BTreeMap<String, String>) -> bool {
        let hit = |i: &usize| {
            let c = &self.all[*i];
            c.namespaces
                .as_ref()
                .is_none_or(|nss| nss.iter().any(|n| n.as_str() == namespace))
                && c.selector.matches(labels)
        };
        if self.scan.iter().any(hit) {
            return true;
        }
        labels.iter().any(|(k, v)| {
            self.by_key.get(k).is_some_and(|l| l.iter().any(hit))
                || self
                    .by_label
                    .get(k)
                    .and_then(|m| m.get(v))
                    .is_some_and(|l| l.iter().any(hit))
        })
    }

    /// How many entities claim on this cluster.
    pub fn len(&self) -> usize {
        self.all.len()
    }

    /// Whether no entity claims on this cluster.
    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }
}

/// The claims of every entity with Kubernetes annotations, per cluster name (entities whose
/// annotations cannot be used claim nothing; the tab shows them their error).
pub fn claims_by_cluster(
    snapshot: &Snapshot,
    locator: super::config::ServiceLocator,
    names: &[&str],
) -> HashMap<String, Claims> {
    let mut per_cluster: Vec<Claims> = names.iter().map(|_| Claims::default()).collect();
    // One claim per distinct (selector, namespaces), shared by every cluster, each added to a
    // cluster once.
    type Distinct = (String, Option<Vec<String>>);
    let mut distinct: HashMap<Distinct, (Arc<Claim>, Vec<bool>)> = HashMap::new();
    for e in &snapshot.entities {
        if !crate::catalog::rows::kubernetes_annotated(e) {
            continue;
        }
        let entity = e.value();
        if !lookup::has_kubernetes_annotations(&entity) {
            continue;
        }
        let (Ok(selector), Ok(namespaces)) =
            (lookup::label_selector(&entity), lookup::namespaces(&entity))
        else {
            continue;
        };
        let key: Distinct = (
            selector.as_str().to_string(),
            namespaces
                .as_ref()
                .map(|l| l.iter().map(|n| n.as_str().to_string()).collect()),
        );
        let (claim, added) = distinct.entry(key).or_insert_with(|| {
            (
                Arc::new(Claim {
                    selector,
                    namespaces,
                }),
                vec![false; names.len()],
            )
        });
        for i in service_locator::picks(locator, &entity, names) {
            if !added[i] {
                added[i] = true;
                per_cluster[i].add(Arc::clone(claim));
            }
        }
    }
    names
        .iter()
        .map(|n| n.to_string())
        .zip(per_cluster)
        .collect()
}

/// `v` as a YAML scalar that reads back as the same string: plain when it starts with a letter
/// and is no YAML keyword (`true`, `null`, `no`…), else single-quoted (`v` holds no quote).
fn scalar(v: &str) -> String {
    const KEYWORDS: [&str; 12] = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf", "~",
    ];
    let plain = v.starts_with(|c: char| c.is_ascii_alphabetic())
        && !KEYWORDS.contains(&v.to_ascii_lowercase().as_str());
    if plain {
        v.to_string()
    } else {
        format!("'{v}'")
    }
}

/// The annotations that would make a catalog entity claim a workload with these labels, and
/// what else to do (when the workload has no label to select it by).
pub fn snippet(
    namespace: &str,
    name: &str,
    labels: &BTreeMap<String, String>,
) -> (String, Option<String>) {
    // Labels come from the cluster: only valid label keys and values go into a YAML snippet, so
    // nothing in it needs escaping (no quote, colon, hash, space or line break).
    let valid = |s: &str| {
        !s.is_empty()
            && s.len() <= 317
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
    };
    if let Some(id) = labels.get(lookup::KUBERNETES_ID).filter(|v| valid(v)) {
        return (format!("{}: {}", lookup::KUBERNETES_ID, scalar(id)), None);
    }
    for key in ["app.kubernetes.io/name", "app", "k8s-app", "name"] {
        if let Some(v) = labels.get(key).filter(|v| valid(v)) {
            let mut yaml = format!("{}: '{key}={v}'", lookup::LABEL_SELECTOR);
            if valid(namespace) {
                yaml.push_str(&format!("\n{}: {}", lookup::NAMESPACE, scalar(namespace)));
            }
            return (yaml, None);
        }
    }
    // A label value: at most 63 characters, alphanumeric at both ends.
    let id: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(63)
        .collect::<String>()
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    let id = if id.is_empty() {
        "my-service".to_string()
    } else {
        id
    };
    (
        format!("{}: {}", lookup::KUBERNETES_ID, scalar(&id)),
        Some(format!(
            "It has no label to select it by: also label the workload and its pod template with {}: {}.",
            lookup::KUBERNETES_ID,
            scalar(&id)
        )),
    )
}

/// What a cluster's workloads say about coverage (kept per cluster until they or the catalog
/// change).
#[derive(Default)]
struct Coverage {
    /// Workloads and unclaimed workloads per namespace.
    per_namespace: BTreeMap<String, (usize, usize)>,
    workloads: usize,
    unclaimed: Vec<UnclaimedWorkload>,
    unclaimed_total: usize,
}

/// Whether a Job is owned by something (a CronJob's): read from its metadata only.
fn owned(o: &Stored) -> bool {
    #[derive(serde::Deserialize)]
    struct Meta {
        #[serde(default, rename = "ownerReferences")]
        owner_references: Vec<serde::de::IgnoredAny>,
    }
    #[derive(serde::Deserialize)]
    struct Head {
        metadata: Meta,
    }
    serde_json::from_str::<Head>(o.json.get())
        .is_ok_and(|h| !h.metadata.owner_references.is_empty())
}

/// One workload type's objects, copied out of its informer: (kind shown, objects by name).
type Workloads = (&'static str, Vec<(String, Arc<Stored>)>);

fn coverage(workloads: Vec<Workloads>, claims: Option<&Claims>) -> Coverage {
    let mut out = Coverage::default();
    let mut found: Vec<(&'static str, String, Arc<Stored>)> = Vec::new();
    for (kind, objects) in workloads {
        for (name, o) in objects {
            if kind == "Job" && owned(&o) {
                continue;
            }
            out.workloads += 1;
            let n = out.per_namespace.entry(o.namespace.clone()).or_default();
            n.0 += 1;
            if claims.is_some_and(|c| !c.claims(&o.namespace, &o.labels)) {
                n.1 += 1;
                found.push((kind, name, o));
            }
        }
    }
    out.unclaimed_total = found.len();
    found.sort_by(|a, b| (&a.2.namespace, a.0, &a.1).cmp(&(&b.2.namespace, b.0, &b.1)));
    out.unclaimed = found
        .into_iter()
        .take(MAX_UNCLAIMED)
        .map(|(kind, name, o)| {
            let (annotations, hint) = snippet(&o.namespace, &name, &o.labels);
            UnclaimedWorkload {
                kind: kind.to_string(),
                namespace: o.namespace.clone(),
                labels: o
                    .labels
                    .iter()
                    .take(12)
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect(),
                name,
                annotations,
                hint,
            }
        })
        .collect();
    out
}

/// A cluster's health from its informers' states.
fn health(entries: &[Arc<Entry>]) -> (HealthState, String) {
    if entries.is_empty() {
        return (
            HealthState::Unknown,
            "Not watched yet: its watches start with the first lookup of an entity on it".into(),
        );
    }
    let mut failing = Vec::new();
    let mut pending = 0;
    let mut objects = 0;
    for e in entries {
        match e.peek().health {
            Health::Ready => objects += e.size().0,
            Health::Pending => pending += 1,
            Health::Failing(f) => {
                failing.push((e.key.object_type.object_type.clone(), f.message()))
            }
        }
    }
    let ready = entries.len() - pending - failing.len();
    if let Some((t, why)) = failing.first() {
        let state = if ready == 0 {
            HealthState::Failing
        } else {
            HealthState::Degraded
        };
        let more = match failing.len() {
            1 => String::new(),
            n => format!(" (and {} more object types)", n - 1),
        };
        return (state, format!("Cannot read {t}: {why}{more}"));
    }
    if pending > 0 {
        return (
            HealthState::Unknown,
            format!(
                "Listing: {ready} of {} object types listed so far",
                entries.len()
            ),
        );
    }
    (
        HealthState::Healthy,
        format!(
            "Watching {ready} object types, {objects} objects{}",
            if entries.iter().any(|e| e.key.namespace.is_some()) {
                " (in the namespaces entities name)"
            } else {
                ""
            }
        ),
    )
}

/// The claims of the current snapshot, per cluster.
type ClaimMap = Arc<HashMap<String, Claims>>;

/// The last coverage computed per cluster: (what it was computed from, the claims it used, kept
/// alive so their address stays unique while they are part of the key, the result).
type Slot = (String, Option<ClaimMap>, Arc<Coverage>);

fn slots() -> &'static std::sync::Mutex<HashMap<String, Slot>> {
    static SLOTS: std::sync::OnceLock<std::sync::Mutex<HashMap<String, Slot>>> =
        std::sync::OnceLock::new();
    SLOTS.get_or_init(Default::default)
}

/// The clusters page for `access`'s viewer.
pub async fn overview(service: &KubernetesService, access: &KubernetesAccess) -> ClustersOverview {
    let all = service.clusters().await;
    let hidden_clusters = all.iter().filter(|c| !access.cluster(&c.name)).count();
    let full = access.resources == Decision::Allow;
    let Some(cache) = service.cache() else {
        return ClustersOverview {
            configured: true,
            clusters: all
                .iter()
                .filter(|c| access.cluster(&c.name))
                .map(|c| ClusterHealth {
                    name: c.name.clone(),
                    title: c.title.clone(),
                    dashboard_url: c.dashboard_url.clone(),
                    state: HealthState::Unknown,
                    reason: "The watch cache is off (kubernetes.cache.enabled: false): cluster health and coverage are read from it".into(),
                    ..ClusterHealth::default()
                })
                .collect(),
            hidden_clusters,
            unclaimed_note: None,
        };
    };
    let claims: Option<ClaimMap> = if full && cache.cluster_wide() {
        let snapshot = service.catalog_store().snapshot();
        let names: Vec<String> = all.iter().map(|c| c.name.clone()).collect();
        let locator = service.config().service_locator;
        // Parsing every annotated entity: off the async workers.
        tokio::task::spawn_blocking(move || {
            let key = format!("k8s-claims\u{0}{}", names.join("\u{0}"));
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            snapshot
                .query_cache
                .get_or_compute(&key, || claims_by_cluster(&snapshot, locator, &refs))
        })
        .await
        .ok()
    } else {
        None
    };
    let mut clusters = Vec::new();
    for c in all.iter().filter(|c| access.cluster(&c.name)) {
        clusters.push(one(cache, c, claims.clone(), full).await);
    }
    ClustersOverview {
        configured: true,
        clusters,
        hidden_clusters,
        unclaimed_note: (!full).then(|| {
            "Namespaces, workload counts and the workloads no entity claims are shown only to viewers who may read every Kubernetes resource (kubernetes.resources.read, unconditionally)."
                .to_string()
        }),
    }
}

async fn one(
    cache: &WatchCache,
    c: &ClusterDetails,
    claims: Option<ClaimMap>,
    full: bool,
) -> ClusterHealth {
    let mut out = ClusterHealth {
        name: c.name.clone(),
        title: c.title.clone(),
        dashboard_url: c.dashboard_url.clone(),
        ..ClusterHealth::default()
    };
    let identity = c.watch_identity();
    let mut entries: Vec<Arc<Entry>> = cache
        .entries()
        .into_iter()
        .filter(|e| e.key.cluster == c.name && e.key.identity == identity)
        .collect();
    entries.sort_by(|a, b| {
        (&a.key.object_type.object_type, &a.key.namespace)
            .cmp(&(&b.key.object_type.object_type, &b.key.namespace))
    });
    (out.state, out.reason) = health(&entries);
    if !full {
        return out;
    }
    out.counted = true;
    let claims = claims.filter(|m| m.contains_key(&c.name));
    out.claimed_by = claims
        .as_ref()
        .and_then(|m| m.get(&c.name))
        .map_or(0, Claims::len);
    let kind_of = |e: &Entry| {
        WORKLOAD_TYPES
            .iter()
            .find(|(t, _)| *t == e.key.object_type.object_type)
            .map(|(_, k)| *k)
    };
    if !cache.cluster_wide() {
        out.coverage_note = Some(
            "kubernetes.cache.clusterWide is false: only the namespaces entities name are watched, so the workloads no entity claims cannot be listed".into(),
        );
    } else if !entries.iter().any(|e| kind_of(e).is_some()) {
        out.coverage_note =
            Some("No workload type is watched on this cluster (objectTypes)".into());
    }
    // Namespaces and their pods: counted now (cheap).
    let mut per_ns: BTreeMap<String, NamespaceCoverage> = BTreeMap::new();
    for e in entries.iter().filter(|e| kind_of(e).is_none()) {
        let pods = e.key.object_type.object_type == "pods";
        for (name, n) in e.namespace_counts() {
            let row = per_ns
                .entry(name.clone())
                .or_insert_with(|| NamespaceCoverage {
                    name,
                    ..NamespaceCoverage::default()
                });
            if pods {
                row.pods = n;
            }
        }
    }
    // Workloads: from the last pass while neither they nor the catalog changed.
    let workload_entries: Vec<&Arc<Entry>> =
        entries.iter().filter(|e| kind_of(e).is_some()).collect();
    let key = format!(
        "{:x}:{}",
        claims.as_ref().map_or(0, |m| Arc::as_ptr(m) as usize),
        workload_entries
            .iter()
            .map(|e| format!("{}.{}", e.generation, e.peek().version))
            .collect::<Vec<_>>()
            .join(",")
    );
    let slot_name = format!("{}\u{0}{identity}", c.name);
    let kept = slots().lock().ok().and_then(|s| {
        s.get(&slot_name)
            .filter(|(k, ..)| *k == key)
            .map(|(.., v)| Arc::clone(v))
    });
    let counted = match kept {
        Some(v) => v,
        None => {
            // Copied out under each informer's read lock, matched without it, off the workers.
            let copied: Vec<Workloads> = workload_entries
                .iter()
                .filter_map(|e| {
                    let kind = kind_of(e)?;
                    let mut objects = Vec::with_capacity(e.size().0);
                    e.visit(|name, o| objects.push((name.to_string(), Arc::clone(o))));
                    Some((kind, objects))
                })
                .collect();
            let with = claims.clone();
            let name = c.name.clone();
            let computed = tokio::task::spawn_blocking(move || {
                Arc::new(coverage(copied, with.as_ref().and_then(|m| m.get(&name))))
            })
            .await
            .unwrap_or_default();
            if let Ok(mut s) = slots().lock() {
                s.insert(slot_name, (key, claims.clone(), Arc::clone(&computed)));
            }
            computed
        }
    };
    for (name, (workloads, unclaimed)) in &counted.per_namespace {
        let row = per_ns
            .entry(name.clone())
            .or_insert_with(|| NamespaceCoverage {
                name: name.clone(),
                ..NamespaceCoverage::default()
            });
        row.workloads = *workloads;
        row.unclaimed = *unclaimed;
    }
    out.namespaces_total = per_ns.len();
    out.namespaces = per_ns.into_values().take(MAX_NAMESPACES).collect();
    out.workloads = counted.workloads;
    if claims.is_some() {
        out.unclaimed = counted.unclaimed.clone();
        out.unclaimed_total = counted.unclaimed_total;
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use std::sync::Arc;

    use super::{claims_by_cluster, snippet, Claim, Claims};
    use crate::kubernetes::config::ServiceLocator;
    use crate::kubernetes::names::Namespace;
    use crate::kubernetes::selector::LabelSelector;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn claims(list: &[(&str, Option<&[&str]>)]) -> Claims {
        let mut c = Claims::default();
        for (sel, nss) in list {
            let nss = nss.map(|l| {
                l.iter()
                    .map(|n| Namespace::parse("test", n).expect("namespace"))
                    .collect()
            });
            c.add(Arc::new(Claim {
                selector: LabelSelector::parse(sel).expect("selector"),
                namespaces: nss,
            }));
        }
        c
    }

    #[test]
    fn a_workload_is_claimed_by_the_same_rule_the_tab_selects_with() {
        let c = claims(&[
            ("backstage.io/kubernetes-id=cart", None),
            ("app in (web, web-canary),tier!=test", Some(&["storefront"])),
            ("team", None),
            ("!legacy", Some(&["ops"])),
        ]);
        assert_eq!(c.len(), 4);
        let id = labels(&[("backstage.io/kubernetes-id", "cart")]);
        assert!(c.claims("anywhere", &id));
        assert!(!c.claims(
            "anywhere",
            &labels(&[("backstage.io/kubernetes-id", "carts")])
        ));
        // `in` with a namespace restriction, and a negative requirement checked in full.
        let web = labels(&[("app", "web-canary")]);
        assert!(c.claims("storefront", &web));
        assert!(!c.claims("payments", &web));
        let test = labels(&[("app", "web"), ("tier", "test")]);
        assert!(!c.claims("storefront", &test));
        // Existence, and a selector with no positive requirement (every workload is a candidate).
        assert!(c.claims("x", &labels(&[("team", "")])));
        assert!(c.claims("ops", &labels(&[("a", "b")])));
        assert!(!c.claims("ops", &labels(&[("legacy", "yes")])));
        assert!(!c.claims("kube-system", &labels(&[("k8s-app", "kube-dns")])));
    }

    #[test]
    fn a_claim_is_indexed_by_its_most_selective_requirement() {
        // The author put a common existence first: the equality is what is indexed.
        let many: Vec<String> = (0..40).map(|i| format!("v{i}")).collect();
        let c = claims(&[
            ("app.kubernetes.io/managed-by,app=cart", None),
            (&format!("tier in ({})", many.join(",")), None),
        ]);
        assert!(c.by_key.get("app.kubernetes.io/managed-by").is_none());
        assert_eq!(c.by_label["app"]["cart"], vec![0]);
        // A long `in` set is indexed by its key, and still matches by the whole selector.
        assert_eq!(c.by_key["tier"], vec![1]);
        assert!(c.claims("x", &labels(&[("tier", "v39")])));
        assert!(!c.claims("x", &labels(&[("tier", "v40")])));
        assert!(c.claims(
            "x",
            &labels(&[("app", "cart"), ("app.kubernetes.io/managed-by", "Helm")])
        ));
        assert!(!c.claims("x", &labels(&[("app", "cart")])));
    }

    #[test]
    fn the_bundled_catalog_claims_its_workloads_once_per_selector() {
        let snapshot = crate::http::tests::bundled_catalog();
        let claims = claims_by_cluster(
            &snapshot,
            ServiceLocator::MultiTenant,
            &["greenroom-demo", "demo-us"],
        );
        let demo = &claims["greenroom-demo"];
        assert!(demo.len() > 5, "{}", demo.len());
        assert_eq!(demo.len(), claims["demo-us"].len());
        // cart-service selects by `app=cart,tier=backend` in storefront.
        let cart = labels(&[("app", "cart"), ("tier", "backend")]);
        assert!(demo.claims("storefront", &cart));
        assert!(!demo.claims("kube-system", &labels(&[("k8s-app", "kube-dns")])));
        assert!(!demo.claims(
            "data",
            &labels(&[("backstage.io/kubernetes-id", "invoice-renderer")])
        ));
    }

    #[test]
    fn the_snippet_selects_by_the_best_label_and_never_carries_odd_text() {
        let (yaml, hint) = snippet(
            "ops",
            "x",
            &labels(&[("backstage.io/kubernetes-id", "old-reports")]),
        );
        assert_eq!(yaml, "backstage.io/kubernetes-id: old-reports");
        assert!(hint.is_none());
        let (yaml, hint) = snippet(
            "kube-system",
            "coredns",
            &labels(&[("k8s-app", "kube-dns"), ("app", "dns")]),
        );
        assert_eq!(
            yaml,
            "backstage.io/kubernetes-label-selector: 'app=dns'\nbackstage.io/kubernetes-namespace: kube-system"
        );
        assert!(hint.is_none());
        // A label value a real API server would refuse is not copied into YAML.
        let (yaml, hint) = snippet("ops", "batch-1", &labels(&[("app", "x'\n: y")]));
        assert_eq!(yaml, "backstage.io/kubernetes-id: batch-1");
        assert!(hint.expect("hint").contains("label the workload"));
        // Values YAML would read as something else than a string are quoted.
        let (yaml, _) = snippet(
            "ops",
            "x",
            &labels(&[("backstage.io/kubernetes-id", "1234")]),
        );
        assert_eq!(yaml, "backstage.io/kubernetes-id: '1234'");
        let (yaml, _) = snippet(
            "ops",
            "x",
            &labels(&[("backstage.io/kubernetes-id", "True")]),
        );
        assert_eq!(yaml, "backstage.io/kubernetes-id: 'True'");
        // A derived id is a valid label value.
        let (yaml, _) = snippet("ops", "-web_", &labels(&[]));
        assert_eq!(yaml, "backstage.io/kubernetes-id: web");
    }
}
