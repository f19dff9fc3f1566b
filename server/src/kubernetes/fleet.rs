//! Fleet health: for a Group, System or Domain, the health of each of its components with
//! Kubernetes annotations — pods ready of total, restarts, the worst detected error — from the
//! same per-component views as the Kubernetes tab. Those are read from the shared watch cache,
//! so a fleet view costs no API-server request, however many components or viewers.
//!
//! Which components: a Group's own (`ownerOf`), a System's parts (`hasPart`), a Domain's
//! systems' parts. At most [`MAX_COMPONENTS`]; components the viewer may not read are left
//! out, and one whose resources the viewer may not see is "unknown" with the reason.

use app::wire::clusters::RowHealth;
use app::wire::kubernetes::{ComponentHealth, FleetHealth, HealthState, KubernetesView, PodRow};
use serde_json::Value;

use crate::catalog::kind_views::targets;
use crate::catalog::rows::kubernetes_annotated;
use crate::catalog::store::Snapshot;
use crate::permission::KubernetesAccess;

use super::service::{Held, KubernetesService};
use super::LookupError;

/// Most components in one fleet view.
pub const MAX_COMPONENTS: usize = 200;

/// The components (canonical refs) a fleet view of `entity` covers, with the annotations.
pub fn components_of(snapshot: &Snapshot, entity: &Value) -> Vec<String> {
    let kind = entity["kind"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let candidates: Vec<String> = match kind.as_str() {
        "group" => targets(entity, "ownerOf"),
        "system" => targets(entity, "hasPart"),
        "domain" => targets(entity, "hasPart")
            .iter()
            .filter(|r| r.starts_with("system:"))
            .filter_map(|s| snapshot.get(s))
            .flat_map(|s| targets(&s.value(), "hasPart"))
            .collect(),
        _ => Vec::new(),
    };
    let mut out: Vec<String> = candidates
        .into_iter()
        .filter(|r| r.starts_with("component:"))
        .filter(|r| snapshot.get(r).is_some_and(kubernetes_annotated))
        .collect();
    out.sort();
    out.dedup();
    out.truncate(MAX_COMPONENTS);
    out
}

fn pods(view: &KubernetesView) -> Vec<&PodRow> {
    fn of<'a>(w: &'a app::wire::kubernetes::Workload, out: &mut Vec<&'a PodRow>) {
        out.extend(w.pods.iter());
        for job in &w.jobs {
            of(job, out);
        }
    }
    let mut out = Vec::new();
    for c in &view.clusters {
        for w in &c.workloads {
            of(w, &mut out);
        }
    }
    out
}

/// How healthy a component is, from its Kubernetes tab's view:
/// - **failing**: it has pods and none is ready, or an error of high severity (8 and up);
/// - **degraded**: some pods are not ready, any error is detected, or a cluster could not be
///   read in full;
/// - **unknown**: no pods anywhere (and nothing wrong that says why), or the viewer may not see
///   them;
/// - **healthy**: otherwise.
pub fn assess(view: &KubernetesView) -> (HealthState, String, usize, usize, i64, Option<String>) {
    if let Some(denied) = &view.access_denied {
        return (HealthState::Unknown, denied.clone(), 0, 0, 0, None);
    }
    let pods = pods(view);
    let total = pods.len();
    let ready = pods
        .iter()
        .filter(|p| p.total > 0 && p.ready == p.total)
        .count();
    let restarts = pods.iter().map(|p| p.restarts).sum();
    let worst = view
        .errors
        .iter()
        .max_by_key(|e| e.severity)
        .map(|e| format!("{} {}: {}", e.kind, e.name, e.message));
    let problem = view
        .clusters
        .iter()
        .flat_map(|c| {
            c.problems
                .iter()
                .map(move |p| format!("{}: {}", c.name, p.message))
        })
        .next();
    let high = view.errors.iter().any(|e| e.severity >= 8);
    let (state, reason) = if total == 0 && view.errors.is_empty() {
        (
            HealthState::Unknown,
            problem.unwrap_or_else(|| "No pods found in any cluster".into()),
        )
    } else if (total > 0 && ready == 0) || high {
        let why = if total > 0 && ready == 0 {
            format!("No pod is ready (0 of {total})")
        } else {
            "A high-severity problem was detected".to_string()
        };
        (HealthState::Failing, why)
    } else if ready < total || !view.errors.is_empty() || problem.is_some() {
        let mut why = format!("{ready} of {total} pods ready");
        if let Some(n) = (!view.errors.is_empty()).then_some(view.errors.len()) {
            why.push_str(&format!(", {n} problem(s) detected"));
        }
        if let Some(p) = &problem {
            why.push_str(&format!("; {p}"));
        }
        (HealthState::Degraded, why)
    } else {
        (HealthState::Healthy, format!("All {total} pods ready"))
    };
    (state, reason, ready, total, restarts, worst)
}

/// The fleet view of `entity_ref` (a Group, System or Domain) as `access` lets its viewer see it.
pub async fn fleet(
    service: &KubernetesService,
    entity_ref: &str,
    access: &KubernetesAccess,
) -> Result<FleetHealth, LookupError> {
    let snapshot = service.catalog_store().snapshot();
    let key = entity_ref.to_lowercase();
    if !access.catalog.permits_entity(&snapshot, &key) {
        return Err(LookupError::UnknownEntity(key));
    }
    let entity = service.entity(&key)?;
    let refs: Vec<String> = components_of(&snapshot, &entity)
        .into_iter()
        .filter(|r| access.catalog.permits_entity(&snapshot, r))
        .collect();
    if service.cache().is_none() {
        let reason = NO_CACHE.to_string();
        return Ok(FleetHealth {
            refresh_interval_ms: service.config().refresh_interval_ms,
            components: refs
                .iter()
                .map(|r| {
                    let link = crate::catalog::rows::link_to(&snapshot, r, "default");
                    ComponentHealth {
                        tab_href: format!("{}/kubernetes", link.href),
                        link,
                        state: HealthState::Unknown,
                        reason: reason.clone(),
                        pods_ready: 0,
                        pods_total: 0,
                        restarts: 0,
                        worst_error: None,
                    }
                })
                .collect(),
        });
    }
    let held = Held::cache_only();
    let views =
        futures_util::future::join_all(refs.iter().map(|r| service.view_holding(r, &held, access)))
            .await;
    let components = refs
        .iter()
        .zip(views)
        .map(|(r, view)| {
            let link = crate::catalog::rows::link_to(&snapshot, r, "default");
            let tab_href = format!("{}/kubernetes", link.href);
            let (state, reason, ready, total, restarts, worst_error) = match view {
                Ok(v) => assess(&v),
                Err(e) => (HealthState::Unknown, e.to_string(), 0, 0, 0, None),
            };
            ComponentHealth {
                link,
                tab_href,
                state,
                reason,
                pods_ready: ready,
                pods_total: total,
                restarts,
                worst_error,
            }
        })
        .collect();
    Ok(FleetHealth {
        refresh_interval_ms: service.config().refresh_interval_ms,
        components,
    })
}

/// Most rows the catalog list's health column assesses at once (a page of the list).
pub const MAX_ROWS: usize = 100;

/// Longest entity ref the health column looks up.
const MAX_REF: usize = 512;

/// Why a health view says nothing without the cache.
const NO_CACHE: &str =
    "Health is read from the watch cache, which is off (kubernetes.cache.enabled: false)";

/// The catalog list's health column: the health of each of `refs` (in order; at most
/// [`MAX_ROWS`]: the rest are not answered), from the watch cache only. `refs` may come from a
/// browser: each is checked as any lookup is (unknown or unreadable entities are "unknown"), and
/// only an entity with the Kubernetes annotations is looked up. `None` when the watch cache is
/// off (the column then is not shown: without the cache a health read would be a list per
/// viewer).
pub async fn row_health(
    service: &KubernetesService,
    refs: &[String],
    access: &KubernetesAccess,
) -> Option<Vec<RowHealth>> {
    service.cache()?;
    let snapshot = service.catalog_store().snapshot();
    let held = Held::cache_only();
    let held = &held;
    // Unknown, unreadable and unannotated entities get the same answer (nothing tells one
    // from another).
    let views = futures_util::future::join_all(refs.iter().take(MAX_ROWS).map(|r| {
        let key = r.to_lowercase();
        let annotated = r.len() <= MAX_REF
            && access.catalog.permits_entity(&snapshot, &key)
            && snapshot.get(&key).is_some_and(kubernetes_annotated);
        async move {
            if !annotated {
                return Err("No such entity with Kubernetes annotations".to_string());
            }
            service
                .view_holding(r, held, access)
                .await
                .map_err(|e| e.to_string())
        }
    }))
    .await;
    Some(
        views
            .into_iter()
            .map(|view| {
                let (state, reason) = match view {
                    Ok(v) => {
                        let (state, reason, ..) = assess(&v);
                        (state, reason)
                    }
                    Err(e) => (HealthState::Unknown, e),
                };
                RowHealth { state, reason }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use app::wire::kubernetes::{
        ClusterProblem, ClusterView, DetectedError, HealthState, KubernetesView, PodRow, Workload,
    };

    use super::{assess, components_of};
    use crate::http::tests::bundled_catalog;

    fn pod(ready: usize, total: usize, restarts: i64) -> PodRow {
        PodRow {
            ready,
            total,
            restarts,
            ..PodRow::default()
        }
    }

    fn view(
        pods: Vec<PodRow>,
        errors: Vec<DetectedError>,
        problems: Vec<ClusterProblem>,
    ) -> KubernetesView {
        KubernetesView {
            configured: true,
            clusters: vec![ClusterView {
                name: "c1".into(),
                problems,
                workloads: vec![Workload {
                    pods,
                    ..Workload::default()
                }],
                ..ClusterView::default()
            }],
            errors,
            ..KubernetesView::default()
        }
    }

    fn error(severity: u8) -> DetectedError {
        DetectedError {
            severity,
            cluster: "c1".into(),
            kind: "Pod".into(),
            name: "p".into(),
            namespace: "ns".into(),
            error_type: "ContainersRestarting".into(),
            message: "containers restarting".into(),
            occurrence_count: 1,
            fix: None,
        }
    }

    #[test]
    fn health_from_pods_errors_and_cluster_problems() {
        let (s, reason, ready, total, restarts, worst) =
            assess(&view(vec![pod(1, 1, 0), pod(2, 2, 0)], vec![], vec![]));
        assert_eq!(
            (s, reason.as_str(), ready, total, restarts, worst),
            (HealthState::Healthy, "All 2 pods ready", 2, 2, 0, None)
        );
        let (s, reason, _, _, restarts, worst) = assess(&view(
            vec![pod(1, 1, 3), pod(1, 1, 0)],
            vec![error(4)],
            vec![],
        ));
        assert_eq!(s, HealthState::Degraded);
        assert_eq!(reason, "2 of 2 pods ready, 1 problem(s) detected");
        assert_eq!(restarts, 3);
        assert_eq!(worst.as_deref(), Some("Pod p: containers restarting"));
        assert_eq!(
            assess(&view(vec![pod(0, 1, 0)], vec![], vec![])).0,
            HealthState::Failing
        );
        assert_eq!(
            assess(&view(vec![pod(1, 1, 0)], vec![error(8)], vec![])).0,
            HealthState::Failing
        );
        let problem = ClusterProblem {
            message: "the token was refused".into(),
            detail: String::new(),
        };
        let (s, reason, ..) = assess(&view(vec![], vec![], vec![problem.clone()]));
        assert_eq!(
            (s, reason.as_str()),
            (HealthState::Unknown, "c1: the token was refused")
        );
        assert_eq!(
            assess(&view(vec![pod(1, 1, 0)], vec![], vec![problem])).0,
            HealthState::Degraded
        );
        assert_eq!(
            assess(&view(vec![], vec![], vec![])).1,
            "No pods found in any cluster"
        );
        let denied = KubernetesView {
            access_denied: Some("You may not see the resources".into()),
            ..KubernetesView::default()
        };
        assert_eq!(assess(&denied).0, HealthState::Unknown);
    }

    #[test]
    fn the_components_of_a_group_system_and_domain() {
        let snap = bundled_catalog();
        let of = |r: &str| components_of(&snap, &snap.get(r).expect(r).value());
        assert_eq!(
            of("system:default/payment-processing"),
            [
                "component:default/checkout-service",
                "component:default/fraud-scoring",
                "component:default/legacy-checkout",
                "component:default/payment-gateway"
            ]
        );
        assert_eq!(
            of("group:default/payments"),
            of("system:default/payment-processing")
        );
        let commerce = of("domain:default/commerce");
        assert!(commerce.contains(&"component:default/checkout-service".to_string()));
        assert!(
            commerce.contains(&"component:default/storefront-web".to_string()),
            "{commerce:?}"
        );
        // web-ui-kit has no annotations.
        assert!(
            !of("group:default/storefront").contains(&"component:default/web-ui-kit".to_string())
        );
        assert!(of("component:default/checkout-service").is_empty());
    }
}
