//! What the UI shows, computed from a [`Snapshot`]: the catalog list page with its facets, the
//! entity page, and the problems list. Plain functions over the snapshot: the server functions
//! call these, and unit tests call them directly.

use std::collections::BTreeMap;

use app::wire::{
    ApiDefinition, CatalogFilters, CatalogListPage, EntityDetail, EntityLink, ExternalLink,
    FacetValues, ImportAnalysis, ImportEntity, ProblemView, RegisteredLocation, RelationGroup,
};
use serde_json::Value;

use crate::catalog::refs::parse_ref;
use crate::catalog::rows::tags_of;
pub use crate::catalog::rows::{entity_href, first_relation, link_to, row, str_at};
use crate::catalog::service::list::list_query;
use crate::catalog::store::Snapshot;
use crate::permission::conditions::Resource;
use crate::permission::Decision;

/// Rows per page of the catalog list.
pub const PAGE_SIZE: usize = 25;

/// One page of the catalog list, with facet counts (see [`list_query`] for what is counted).
///
/// Only what `scope` (the viewer's `catalog.entity.read` decision) permits is listed or
/// counted. `ownership_refs` are the viewer's, for the "Owned" filter (`user=owned`), which
/// applies before the facets as Backstage's user filter does.
pub fn catalog_list(
    snapshot: &Snapshot,
    filters: &CatalogFilters,
    scope: &Decision,
    ownership_refs: &[String],
) -> CatalogListPage {
    let result = list_query(snapshot, filters, scope, ownership_refs);
    let total = result.positions.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = filters.page.clamp(1, pages);
    let rows = result
        .positions
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .filter_map(|&i| snapshot.entities.get(i as usize))
        .map(|e| row(snapshot, e))
        .collect();
    let facet = |d: usize| FacetValues {
        values: result.facets[d]
            .iter()
            .map(|(v, n)| (v.clone(), *n))
            .collect(),
    };
    CatalogListPage {
        rows,
        total,
        page,
        page_size: PAGE_SIZE,
        kinds: facet(0),
        types: facet(1),
        owners: facet(2),
        lifecycles: facet(3),
        tags: facet(4),
        namespaces: facet(5),
        problem_count: problem_count(snapshot, scope),
        owned_count: result.owned_count,
        all_count: result.all_count,
        health_refresh_ms: 0,
    }
}

/// The entity page for `kind:namespace/name` (case-insensitive), or `None`.
pub fn entity_detail(
    snapshot: &Snapshot,
    scope: &Decision,
    namespace: &str,
    kind: &str,
    name: &str,
) -> Option<EntityDetail> {
    let canonical = format!("{kind}:{namespace}/{name}").to_lowercase();
    // An entity the viewer may not read is not found (as Backstage's catalog answers).
    let e = snapshot
        .get(&canonical)
        .filter(|e| scope.permits(Resource::Entity(&e.keys)))?;
    let parsed = e.value();
    let v = &parsed;
    let ns = e.parts.namespace.as_str();
    let system = first_relation(e, "partOf").filter(|r| r.starts_with("system:"));
    let domain = if e.parts.kind.eq_ignore_ascii_case("system") {
        first_relation(e, "partOf").filter(|r| r.starts_with("domain:"))
    } else {
        system
            .as_deref()
            .and_then(|s| snapshot.get(s))
            .and_then(|s| first_relation(s, "partOf"))
            .filter(|r| r.starts_with("domain:"))
    };
    let mut groups: BTreeMap<String, Vec<EntityLink>> = BTreeMap::new();
    if let Some(rels) = v.get("relations").and_then(Value::as_array) {
        for r in rels {
            if let (Some(t), Some(target)) = (
                r.get("type").and_then(Value::as_str),
                r.get("targetRef").and_then(Value::as_str),
            ) {
                groups
                    .entry(t.to_string())
                    .or_default()
                    .push(link_to(snapshot, target, ns));
            }
        }
    }
    let pairs = |pointer: &str| -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = v
            .pointer(pointer)
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, val)| {
                        (
                            k.clone(),
                            val.as_str().map_or_else(|| val.to_string(), str::to_string),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    };
    let annotations = pairs("/metadata/annotations");
    let has_kubernetes_annotation = annotations.iter().any(|(k, _)| {
        k == "backstage.io/kubernetes-id" || k == "backstage.io/kubernetes-label-selector"
    });
    let definition = if e.parts.kind.eq_ignore_ascii_case("api") {
        v.pointer("/spec/definition").map(|d| {
            // Rendering parses the whole definition: once per snapshot, not once per view.
            let cached = snapshot.query_cache.get_or_compute(
                &format!("definition:{}", e.entity_ref),
                || {
                    let read = crate::catalog::definition::render(
                        str_at(v, "/spec/type").unwrap_or("unknown"),
                        d.as_str().map_or_else(
                            || serde_json::to_string_pretty(d).unwrap_or_default(),
                            str::to_string,
                        ),
                    );
                    ApiDefinition {
                        html: read.rendered.map(app::pages::api_definition::rendered_html),
                        api_type: read.api_type,
                        text: read.text,
                        problem: read.problem,
                    }
                },
            );
            ApiDefinition::clone(&cached)
        })
    } else {
        None
    };
    let kind_detail = crate::catalog::kind_views::kind_detail(snapshot, scope, e, v);
    Some(EntityDetail {
        link: EntityLink {
            entity_ref: e.entity_ref.clone(),
            label: e.parts.name.clone(),
            href: entity_href(&e.entity_ref),
            exists: true,
        },
        kind: e.parts.kind.clone(),
        namespace: e.parts.namespace.clone(),
        name: e.parts.name.clone(),
        title: str_at(v, "/metadata/title").map(str::to_string),
        description: str_at(v, "/metadata/description").map(str::to_string),
        entity_type: str_at(v, "/spec/type").map(str::to_string),
        lifecycle: str_at(v, "/spec/lifecycle").map(str::to_string),
        owner: first_relation(e, "ownedBy").map(|r| link_to(snapshot, &r, ns)),
        system: system.map(|s| link_to(snapshot, &s, ns)),
        domain: domain.map(|d| link_to(snapshot, &d, ns)),
        tags: tags_of(v),
        links: v
            .pointer("/metadata/links")
            .and_then(Value::as_array)
            .map(|links| {
                links
                    .iter()
                    .filter_map(|l| {
                        let url = l.get("url")?.as_str()?.to_string();
                        Some(ExternalLink {
                            title: l
                                .get("title")
                                .and_then(Value::as_str)
                                .unwrap_or(&url)
                                .to_string(),
                            icon: l.get("icon").and_then(Value::as_str).map(str::to_string),
                            url,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default(),
        labels: pairs("/metadata/labels"),
        annotations,
        relations: groups
            .into_iter()
            .map(|(relation_type, targets)| RelationGroup {
                relation_type,
                targets,
            })
            .collect(),
        definition,
        has_kubernetes_annotation,
        kind_detail,
        registered_location: None,
    })
}

/// Whether the viewer may see a problem: with `scope` allowing every entity, all of them;
/// otherwise those of entities it may read (a problem without one, e.g. an unreadable file,
/// could be anyone's).
fn problem_visible(snapshot: &Snapshot, scope: &Decision, p: &crate::catalog::Problem) -> bool {
    match scope {
        Decision::Allow => true,
        _ => p
            .entity_ref
            .as_deref()
            .is_some_and(|r| scope.permits_entity(snapshot, r)),
    }
}

/// How many problems the viewer may see.
fn problem_count(snapshot: &Snapshot, scope: &Decision) -> usize {
    snapshot
        .errors
        .iter()
        .chain(&snapshot.warnings)
        .filter(|p| problem_visible(snapshot, scope, p))
        .count()
}

/// The registered location `entity_ref` was read through, with every readable entity that goes
/// with it, if it came from one.
pub fn registered_location(
    snapshot: &Snapshot,
    scope: &Decision,
    entity_ref: &str,
) -> Option<RegisteredLocation> {
    const ORIGIN: &str = "/metadata/annotations/backstage.io~1managed-by-origin-location";
    let entity = snapshot.get(entity_ref)?;
    let origin = entity.value().pointer(ORIGIN)?.as_str()?.to_string();
    let (location_type, target) = origin.split_once(':')?;
    let location = snapshot
        .locations
        .iter()
        .find(|l| l.registered && l.location_type == location_type && l.target == target)?;
    // The generated Location entity goes too, but is not something a user registered.
    let root = crate::catalog::location::generated_location_ref(&origin);
    let entities = snapshot
        .entities
        .iter()
        .filter(|e| e.entity_ref != root)
        .filter(|e| scope.permits(Resource::Entity(&e.keys)))
        .filter(|e| e.value().pointer(ORIGIN).and_then(Value::as_str) == Some(origin.as_str()))
        .map(|e| link_to(snapshot, &e.entity_ref, "default"))
        .collect();
    Some(RegisteredLocation {
        id: location.id.clone(),
        target: location.target.clone(),
        entities,
    })
}

/// The register page's analysis of `target`, from `read` (the catalog as registering it alone
/// would make it) against `current` (what is served now).
pub fn import_analysis(
    read: &Snapshot,
    current: &Snapshot,
    scope: &Decision,
    target: &str,
    registered: bool,
) -> ImportAnalysis {
    let root = crate::catalog::location::generated_location_ref(&format!("url:{target}"));
    let mut entities: Vec<ImportEntity> = read
        .entities
        .iter()
        .filter(|e| e.entity_ref != root)
        .map(|e| {
            let v = e.value();
            ImportEntity {
                entity_ref: e.entity_ref.clone(),
                kind: e.parts.kind.clone(),
                label: str_at(&v, "/metadata/title")
                    .unwrap_or(&e.parts.name)
                    .to_string(),
                existing: current
                    .get(&e.entity_ref)
                    .filter(|c| scope.permits(Resource::Entity(&c.keys)))
                    .map(|c| link_to(current, &c.entity_ref, "default")),
                errors: Vec::new(),
            }
        })
        .collect();
    let mut problems = Vec::new();
    for p in &read.errors {
        let reason = match &p.field {
            Some(f) => format!("{f}: {}", p.reason),
            None => p.reason.clone(),
        };
        match p.entity_ref.as_ref() {
            Some(r) => match entities.iter_mut().find(|e| &e.entity_ref == r) {
                Some(e) => e.errors.push(reason),
                None => entities.push(ImportEntity {
                    entity_ref: r.clone(),
                    kind: r.split(':').next().unwrap_or_default().to_string(),
                    label: r.rsplit('/').next().unwrap_or(r).to_string(),
                    existing: None,
                    errors: vec![reason],
                }),
            },
            None => problems.push(reason),
        }
    }
    ImportAnalysis {
        target: target.to_string(),
        registered,
        entities,
        problems,
    }
}

/// Every problem the viewer may see (`scope`: its `catalog.entity.read` decision), errors
/// first.
pub fn problems(snapshot: &Snapshot, scope: &Decision) -> Vec<ProblemView> {
    let view = |p: &crate::catalog::Problem, is_error: bool| ProblemView {
        location: p.location.clone(),
        entity_ref: p.entity_ref.clone(),
        field: p.field.clone(),
        reason: p.reason.clone(),
        is_error,
    };
    snapshot
        .errors
        .iter()
        .map(|p| (p, true))
        .chain(snapshot.warnings.iter().map(|p| (p, false)))
        .filter(|(p, _)| problem_visible(snapshot, scope, p))
        .map(|(p, is_error)| view(p, is_error))
        .collect()
}

/// Parses a ref typed by a user (e.g. an owner filter) into canonical form, if valid.
pub fn canonical_ref(input: &str, default_kind: &str) -> Option<String> {
    parse_ref(input, Some(default_kind), "default")
        .ok()
        .map(|r| r.canonical())
}
