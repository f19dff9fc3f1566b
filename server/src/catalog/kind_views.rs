//! What each kind's entity page shows beyond the common header and about card
//! ([`KindDetail`]): a Group's profile, members and ownership, a User's groups and what they own,
//! a System's parts, a Domain's systems, a Resource's dependents, an API's providers and
//! consumers, a Component's APIs and dependencies, and every `spec` field of a kind the portal
//! has no page for.
//!
//! Everything comes from the entity's own relations (Backstage's stitched `relations`), so a page
//! costs lookups of its related entities and nothing more. Related entities the viewer may not
//! read are left out, as the catalog API leaves them out.

use std::collections::BTreeMap;

use app::wire::{EntityLink, EntityRow, KindDetail, Member, Ownership, OwnershipCount, Profile};
use serde_json::Value;

use crate::catalog::rows::{entity_href, link_to, row, str_at};
use crate::catalog::store::{Snapshot, StoredEntity};
use crate::permission::conditions::Resource;
use crate::permission::Decision;

/// Most related entities listed in one table or list of a page.
pub const MAX_RELATED: usize = 500;
/// Most `spec` fields shown for a kind without its own page.
const MAX_SPEC_FIELDS: usize = 200;
/// Longest `spec` value shown, in characters.
const MAX_SPEC_VALUE: usize = 500;

/// The targets of the entity's relations of `relation` (as stitched: canonical refs).
pub fn targets(v: &Value, relation: &str) -> Vec<String> {
    v.get("relations")
        .and_then(Value::as_array)
        .map(|rels| {
            rels.iter()
                .filter(|r| r.get("type").and_then(Value::as_str) == Some(relation))
                .filter_map(|r| r.get("targetRef").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// What the page of `e` (parsed as `v`) adds for its kind.
pub fn kind_detail(
    snapshot: &Snapshot,
    scope: &Decision,
    e: &StoredEntity,
    v: &Value,
) -> KindDetail {
    let ns = e.parts.namespace.as_str();
    let rows = |relation: &str, kind: Option<&str>| {
        related_rows(snapshot, scope, &targets(v, relation), kind)
    };
    match e.parts.kind.to_ascii_lowercase().as_str() {
        "component" => KindDetail::Component {
            provided_apis: rows("providesApi", None),
            consumed_apis: rows("consumesApi", None),
            depends_on: rows("dependsOn", None),
            dependents: rows("dependencyOf", None),
        },
        "api" => KindDetail::Api {
            providers: rows("apiProvidedBy", None),
            consumers: rows("apiConsumedBy", None),
        },
        "group" => KindDetail::Group {
            profile: profile(v),
            parent: targets(v, "childOf")
                .first()
                .filter(|r| readable(snapshot, scope, r))
                .map(|r| link_to(snapshot, r, ns)),
            children: links(snapshot, scope, &targets(v, "parentOf"), ns),
            members: targets(v, "hasMember")
                .iter()
                .filter(|r| readable(snapshot, scope, r))
                .take(MAX_RELATED)
                .map(|r| Member {
                    link: link_to(snapshot, r, ns),
                    profile: snapshot
                        .get(r)
                        .map(|m| profile(&m.value()))
                        .unwrap_or_default(),
                })
                .collect(),
            ownership: ownership(snapshot, scope, e, v),
        },
        "user" => {
            let groups = targets(v, "memberOf");
            let mut owned = vec![ownership(snapshot, scope, e, v)];
            for g in groups.iter().take(MAX_RELATED) {
                if let Some(group) = snapshot
                    .get(g)
                    .filter(|g| scope.permits(Resource::Entity(&g.keys)))
                {
                    let o = ownership(snapshot, scope, group, &group.value());
                    if !o.counts.is_empty() {
                        owned.push(o);
                    }
                }
            }
            KindDetail::User {
                profile: profile(v),
                groups: links(snapshot, scope, &groups, ns),
                ownership: owned,
            }
        }
        "system" => {
            let parts = targets(v, "hasPart");
            KindDetail::System {
                components: related_rows(snapshot, scope, &parts, Some("component")),
                apis: related_rows(snapshot, scope, &parts, Some("api")),
                resources: related_rows(snapshot, scope, &parts, Some("resource")),
            }
        }
        "domain" => KindDetail::Domain {
            systems: related_rows(snapshot, scope, &targets(v, "hasPart"), Some("system")),
        },
        "resource" => KindDetail::Resource {
            dependents: rows("dependencyOf", None),
        },
        _ => KindDetail::Other {
            spec: flatten_spec(v),
        },
    }
}

fn readable(snapshot: &Snapshot, scope: &Decision, entity_ref: &str) -> bool {
    match snapshot.get(entity_ref) {
        Some(e) => scope.permits(Resource::Entity(&e.keys)),
        // A dangling reference names no one's data: shown as missing.
        None => true,
    }
}

fn links(snapshot: &Snapshot, scope: &Decision, refs: &[String], ns: &str) -> Vec<EntityLink> {
    refs.iter()
        .filter(|r| readable(snapshot, scope, r))
        .take(MAX_RELATED)
        .map(|r| link_to(snapshot, r, ns))
        .collect()
}

/// Rows for `refs` (of `kind` only, when given), readable ones, sorted by name; a dangling
/// reference gets a row marked missing.
fn related_rows(
    snapshot: &Snapshot,
    scope: &Decision,
    refs: &[String],
    kind: Option<&str>,
) -> Vec<EntityRow> {
    let mut out: Vec<EntityRow> = refs
        .iter()
        .filter(|r| kind.is_none_or(|k| r.split(':').next() == Some(k)))
        .filter(|r| readable(snapshot, scope, r))
        .take(MAX_RELATED)
        .map(|r| match snapshot.get(r) {
            Some(e) => row(snapshot, e),
            None => missing_row(r),
        })
        .collect();
    out.sort_by(|a, b| a.link.label.cmp(&b.link.label));
    out
}

fn missing_row(entity_ref: &str) -> EntityRow {
    let (kind, rest) = entity_ref.split_once(':').unwrap_or(("", entity_ref));
    let name = rest.rsplit('/').next().unwrap_or(rest);
    EntityRow {
        link: EntityLink {
            entity_ref: entity_ref.to_string(),
            label: name.to_string(),
            href: entity_href(entity_ref),
            exists: false,
        },
        title: None,
        kind: kind.to_string(),
        entity_type: None,
        owner: None,
        lifecycle: None,
        system: None,
        description: None,
        tags: Vec::new(),
        kubernetes: false,
        health: None,
    }
}

/// `spec.profile`; a picture that is not an http(s) URL is dropped.
fn profile(v: &Value) -> Profile {
    Profile {
        display_name: str_at(v, "/spec/profile/displayName").map(str::to_string),
        email: str_at(v, "/spec/profile/email").map(str::to_string),
        picture: str_at(v, "/spec/profile/picture")
            .filter(|p| p.starts_with("https://") || p.starts_with("http://"))
            .filter(|p| !p.chars().any(|c| c.is_control() || c.is_whitespace()))
            .map(str::to_string),
    }
}

/// What `owner` owns directly (`ownerOf`), counted by kind and type; each count links to the
/// catalog list filtered to that kind, type and owner.
fn ownership(snapshot: &Snapshot, scope: &Decision, owner: &StoredEntity, v: &Value) -> Ownership {
    let mut counts: BTreeMap<(String, String), (String, Option<String>, usize)> = BTreeMap::new();
    for r in targets(v, "ownerOf") {
        let Some(e) = snapshot
            .get(&r)
            .filter(|e| scope.permits(Resource::Entity(&e.keys)))
        else {
            continue;
        };
        let kind = e.parts.kind.clone();
        let entity_type = e
            .keys
            .original_values("spec.type")
            .next()
            .map(str::to_string);
        let key = (
            kind.to_ascii_lowercase(),
            entity_type
                .as_deref()
                .unwrap_or_default()
                .to_ascii_lowercase(),
        );
        counts.entry(key).or_insert((kind, entity_type, 0)).2 += 1;
    }
    let owner_ref = owner.entity_ref.clone();
    Ownership {
        owner: link_to(snapshot, &owner_ref, &owner.parts.namespace),
        counts: counts
            .into_iter()
            .map(|((kind_key, _), (kind, entity_type, count))| {
                let mut query = form_urlencoded::Serializer::new(String::new());
                query.append_pair("kind", &kind_key);
                if let Some(t) = &entity_type {
                    query.append_pair("type", t);
                }
                query.append_pair("owner", &owner_ref);
                OwnershipCount {
                    kind,
                    entity_type,
                    count,
                    href: format!("/catalog?{}", query.finish()),
                }
            })
            .collect(),
    }
}

/// `spec` as dotted paths and values, for a kind without its own page.
fn flatten_spec(v: &Value) -> Vec<(String, String)> {
    fn walk(prefix: &str, v: &Value, out: &mut Vec<(String, String)>, depth: usize) {
        if out.len() >= MAX_SPEC_FIELDS {
            return;
        }
        match v {
            Value::Object(m) if depth < 8 && !m.is_empty() => {
                for (k, child) in m {
                    walk(&format!("{prefix}.{k}"), child, out, depth + 1);
                }
            }
            Value::Array(a) if depth < 8 && !a.is_empty() => {
                for (i, child) in a.iter().enumerate() {
                    walk(&format!("{prefix}[{i}]"), child, out, depth + 1);
                }
            }
            other => {
                let mut text = other
                    .as_str()
                    .map_or_else(|| other.to_string(), str::to_string);
                if text.chars().count() > MAX_SPEC_VALUE {
                    text = text.chars().take(MAX_SPEC_VALUE).collect::<String>() + "…";
                }
                out.push((prefix.to_string(), text));
            }
        }
    }
    let mut out = Vec::new();
    if let Some(spec) = v.get("spec") {
        walk("spec", spec, &mut out, 0);
    }
    out
}

#[cfg(test)]
mod tests {
    use app::wire::KindDetail;

    use crate::catalog::views::entity_detail;
    use crate::http::tests::bundled_catalog;
    use crate::permission::conditions::{Condition, Rule};
    use crate::permission::Decision;

    fn detail(scope: &Decision, kind: &str, name: &str) -> KindDetail {
        entity_detail(&bundled_catalog(), scope, "default", kind, name)
            .expect("entity")
            .kind_detail
    }

    fn labels(rows: &[app::wire::EntityRow]) -> Vec<String> {
        rows.iter().map(|r| r.link.label.clone()).collect()
    }

    #[test]
    fn a_group_has_profile_tree_members_and_ownership_counts() {
        let KindDetail::Group {
            profile,
            parent,
            children,
            members,
            ownership,
        } = detail(&Decision::Allow, "group", "payments")
        else {
            panic!("not a group page")
        };
        assert_eq!(profile.display_name.as_deref(), Some("Payments"));
        assert_eq!(profile.email.as_deref(), Some("payments@acme.example"));
        assert_eq!(
            parent.map(|p| p.entity_ref).as_deref(),
            Some("group:default/acme")
        );
        assert!(children.is_empty());
        let names: Vec<_> = members
            .iter()
            .map(|m| m.profile.display_name.clone().unwrap_or_default())
            .collect();
        assert_eq!(names, ["Diego Ramírez", "Erin Walsh"]);
        let services = ownership
            .counts
            .iter()
            .find(|c| c.kind == "Component" && c.entity_type.as_deref() == Some("service"))
            .expect("services");
        assert_eq!(services.count, 4);
        assert_eq!(
            services.href,
            "/catalog?kind=component&type=service&owner=group%3Adefault%2Fpayments"
        );
        let parent_group = detail(&Decision::Allow, "group", "platform");
        let KindDetail::Group { children, .. } = parent_group else {
            panic!()
        };
        assert_eq!(
            children
                .iter()
                .map(|c| c.entity_ref.as_str())
                .collect::<Vec<_>>(),
            ["group:default/sre"]
        );
    }

    #[test]
    fn a_user_owns_through_each_group() {
        let KindDetail::User {
            profile,
            groups,
            ownership,
        } = detail(&Decision::Allow, "user", "ivan-petrov")
        else {
            panic!()
        };
        assert_eq!(profile.display_name.as_deref(), Some("Ivan Petrov"));
        assert_eq!(groups.len(), 2);
        // Nothing directly; then data's and platform's.
        assert!(ownership[0].counts.is_empty());
        let through: Vec<_> = ownership[1..]
            .iter()
            .map(|o| o.owner.entity_ref.clone())
            .collect();
        assert_eq!(through, ["group:default/data", "group:default/platform"]);
    }

    #[test]
    fn system_domain_resource_api_and_component_pages_list_their_relations() {
        let KindDetail::System {
            components,
            apis,
            resources,
        } = detail(&Decision::Allow, "system", "payment-processing")
        else {
            panic!()
        };
        assert_eq!(
            labels(&components),
            [
                "checkout-service",
                "fraud-scoring",
                "legacy-checkout",
                "payment-gateway"
            ]
        );
        assert_eq!(
            labels(&apis),
            ["checkout-v1", "order-events", "payments-grpc"]
        );
        assert_eq!(labels(&resources), ["payments-db"]);
        let KindDetail::Domain { systems } = detail(&Decision::Allow, "domain", "commerce") else {
            panic!()
        };
        assert_eq!(labels(&systems), ["online-store", "payment-processing"]);
        let KindDetail::Resource { dependents } =
            detail(&Decision::Allow, "resource", "payments-db")
        else {
            panic!()
        };
        assert_eq!(
            labels(&dependents),
            ["legacy-checkout", "payment-gateway", "warehouse-backfill"]
        );
        let KindDetail::Api {
            providers,
            consumers,
        } = detail(&Decision::Allow, "api", "order-events")
        else {
            panic!()
        };
        assert_eq!(labels(&providers), ["checkout-service"]);
        assert_eq!(consumers.len(), 2);
        let KindDetail::Component {
            provided_apis,
            consumed_apis,
            depends_on,
            ..
        } = detail(&Decision::Allow, "component", "checkout-service")
        else {
            panic!()
        };
        assert_eq!(labels(&provided_apis), ["order-events"]);
        assert_eq!(labels(&consumed_apis), ["cart-api", "payments-grpc"]);
        assert_eq!(labels(&depends_on), ["order-events-topic"]);
        let KindDetail::Other { spec } = detail(&Decision::Allow, "location", "acme-example")
        else {
            panic!()
        };
        assert_eq!(
            spec[0],
            ("spec.targets[0]".to_string(), "./org.yaml".to_string())
        );
    }

    #[test]
    fn related_entities_the_viewer_may_not_read_are_left_out() {
        // Only what storefront owns, and groups.
        let scope = Decision::Conditional(Condition::AnyOf(vec![
            Condition::Rule(Rule::IsEntityOwner {
                claims: vec!["group:default/storefront".into()],
            }),
            Condition::Rule(Rule::IsEntityKind {
                kinds: vec!["group".into(), "domain".into()],
            }),
        ]));
        let KindDetail::Domain { systems } = detail(&scope, "domain", "commerce") else {
            panic!()
        };
        assert_eq!(labels(&systems), ["online-store"]);
        let KindDetail::Group { ownership, .. } = detail(&scope, "group", "payments") else {
            panic!()
        };
        assert!(ownership.counts.is_empty(), "{ownership:?}");
    }
}
