//! Relations derived from entity spec fields, the way Backstage's default
//! `BuiltinKindsEntityProcessor` emits them, and the per-entity `relations` list that its
//! stitcher writes (`relations[] = {type, targetRef}`; catalog-backend 4.0 no longer emits the
//! old `target: {kind, namespace, name}` object).
//!
//! Every ref-holding spec field emits a forward relation from the entity and the reverse relation
//! from the target back to it, so `group:default/team-e` (which names `boxoffice` as parent) gets
//! `childOf` and `boxoffice` gets `parentOf` even though `boxoffice` does not list it. Short refs
//! take the field's default kind and the entity's own namespace; a relation whose target does not
//! exist is still listed.
//!
//! Beyond the built-in kinds, `AiResource` (an alpha kind that Backstage knows only through its
//! opt-in catalog model layer, whose `ModelProcessor` replaces the built-in processor) gets the
//! relations of that layer: `spec.owner` (`ownedBy`), `spec.system` (`partOf`), and per `spec.type`
//! `spec.dependsOn` (skill, `dependsOn`), `spec.skills` (plugin, `hasPart`) and `spec.plugins`
//! (marketplace, `hasPart`), targets restricted to the layer's allowed kinds. As in that layer,
//! these are forward-only: no well-known relation pair starts at `AiResource`, so the targets get
//! no reverse relation (a group's `ownerOf` does not list AI resources).
//!
//! A value that is not a valid ref makes Backstage fail the whole entity's processing; here the
//! value is skipped and reported ([`outgoing_checked`]) while the entity's other relations stay.
//! A falsy field (`""`, `null`, `false`, `0`) is ignored, as in Backstage.
//!
//! This module does not validate entities: a kind with no rules (e.g. `Location`, or a
//! lower-case `component`, which Backstage's validators reject) simply has no spec relations.

use std::collections::hash_map::{Entry, HashMap};
use std::ops::Range;

use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use crate::catalog::refs::{
    entity_ref_parts, parse_ref_parts, EntityRef, RefError, RefParts, DEFAULT_NAMESPACE,
};

/// One entry of an entity's `relations` list, as Backstage serves it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Relation {
    /// The relation type, e.g. `ownedBy` (case as in Backstage's constants).
    #[serde(rename = "type")]
    pub relation_type: String,
    /// The target entity, canonical lower-case `kind:namespace/name`.
    #[serde(rename = "targetRef")]
    pub target_ref: String,
}

/// Why a value in a ref-holding spec field produced no relation.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RelationError {
    /// The string is not an entity reference (Backstage fails the entity's processing here).
    #[error("{field}: {source}")]
    InvalidRef {
        /// The spec field, e.g. `spec.dependsOn`.
        field: &'static str,
        /// What is wrong with the reference.
        source: RefError,
    },
    /// The field (or an element of it) is neither a string nor a list of strings.
    #[error("{field}: expected an entity reference string, found {found}")]
    NotAString {
        /// The spec field, e.g. `spec.owner`.
        field: &'static str,
        /// The offending value as JSON.
        found: String,
    },
}

impl RelationError {
    /// The spec field the error is about, as a dotted path.
    pub fn field(&self) -> &'static str {
        match self {
            RelationError::InvalidRef { field, .. } | RelationError::NotAString { field, .. } => {
                field
            }
        }
    }
}

/// The relations an entity declares through its spec, plus the values that could not be used.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outgoing {
    /// `(relation type, target)` in field order, then value order; targets keep their case.
    pub relations: Vec<(String, EntityRef)>,
    /// Values that were skipped, one per bad value.
    pub errors: Vec<RelationError>,
}

/// One ref-holding spec field: which relation it emits, and the reverse one on the target.
struct Rule {
    /// Dotted path of the field, always under `spec.`.
    path: &'static str,
    relation: &'static str,
    /// The relation the target gets back; `None` for forward-only (model-layer) rules.
    reverse: Option<&'static str>,
    default_kind: Option<&'static str>,
    /// Lower-case target kinds allowed; others are skipped silently (model-layer rules only).
    allowed_kinds: Option<&'static [&'static str]>,
}

impl Rule {
    /// The key of the field inside `spec`.
    fn key(&self) -> &'static str {
        self.path.strip_prefix("spec.").unwrap_or(self.path)
    }
}

const fn rule(
    path: &'static str,
    relation: &'static str,
    reverse: &'static str,
    default_kind: Option<&'static str>,
) -> Rule {
    Rule {
        path,
        relation,
        reverse: Some(reverse),
        default_kind,
        allowed_kinds: None,
    }
}

const OWNER: Rule = rule("spec.owner", "ownedBy", "ownerOf", Some("Group"));
const SYSTEM: Rule = rule("spec.system", "partOf", "hasPart", Some("System"));
const DEPENDS_ON: Rule = rule("spec.dependsOn", "dependsOn", "dependencyOf", None);
const DEPENDENCY_OF: Rule = rule("spec.dependencyOf", "dependencyOf", "dependsOn", None);

const COMPONENT: &[Rule] = &[
    OWNER,
    rule(
        "spec.subcomponentOf",
        "partOf",
        "hasPart",
        Some("Component"),
    ),
    rule(
        "spec.providesApis",
        "providesApi",
        "apiProvidedBy",
        Some("API"),
    ),
    rule(
        "spec.consumesApis",
        "consumesApi",
        "apiConsumedBy",
        Some("API"),
    ),
    DEPENDS_ON,
    DEPENDENCY_OF,
    SYSTEM,
];
const API: &[Rule] = &[OWNER, SYSTEM];
const RESOURCE: &[Rule] = &[OWNER, DEPENDS_ON, DEPENDENCY_OF, SYSTEM];
const USER: &[Rule] = &[rule(
    "spec.memberOf",
    "memberOf",
    "hasMember",
    Some("Group"),
)];
const GROUP: &[Rule] = &[
    rule("spec.parent", "childOf", "parentOf", Some("Group")),
    rule("spec.children", "parentOf", "childOf", Some("Group")),
    rule("spec.members", "hasMember", "memberOf", Some("User")),
];
const SYSTEM_KIND: &[Rule] = &[
    OWNER,
    rule("spec.domain", "partOf", "hasPart", Some("Domain")),
];
const DOMAIN: &[Rule] = &[
    OWNER,
    rule("spec.subdomainOf", "partOf", "hasPart", Some("Domain")),
];

const AI_OWNER: Rule = Rule {
    reverse: None,
    allowed_kinds: Some(&["group", "user"]),
    ..OWNER
};
const AI_SYSTEM: Rule = Rule {
    reverse: None,
    allowed_kinds: Some(&["system"]),
    ..SYSTEM
};
const AI_BASE: &[Rule] = &[AI_OWNER, AI_SYSTEM];
const AI_SKILL: &[Rule] = &[
    AI_OWNER,
    AI_SYSTEM,
    Rule {
        reverse: None,
        allowed_kinds: Some(&["airesource"]),
        ..rule(
            "spec.dependsOn",
            "dependsOn",
            "dependencyOf",
            Some("AiResource"),
        )
    },
];
const AI_PLUGIN: &[Rule] = &[
    AI_OWNER,
    AI_SYSTEM,
    Rule {
        reverse: None,
        allowed_kinds: Some(&["airesource"]),
        ..rule("spec.skills", "hasPart", "partOf", Some("AiResource"))
    },
];
const AI_MARKETPLACE: &[Rule] = &[
    AI_OWNER,
    AI_SYSTEM,
    Rule {
        reverse: None,
        allowed_kinds: Some(&["airesource"]),
        ..rule("spec.plugins", "hasPart", "partOf", Some("AiResource"))
    },
];

/// The most rules any kind has (Component).
const MAX_RULES: usize = COMPONENT.len();

/// The rules for an entity; kinds compare case-sensitively, as in Backstage.
fn rules_for(entity: &Value) -> &'static [Rule] {
    match entity.get("kind").and_then(Value::as_str) {
        Some("Component") => COMPONENT,
        Some("API") => API,
        Some("Resource") => RESOURCE,
        Some("User") => USER,
        Some("Group") => GROUP,
        Some("System") => SYSTEM_KIND,
        Some("Domain") => DOMAIN,
        Some("AiResource") => match entity.pointer("/spec/type").and_then(Value::as_str) {
            Some("skill") => AI_SKILL,
            Some("plugin") => AI_PLUGIN,
            Some("marketplace") => AI_MARKETPLACE,
            _ => AI_BASE,
        },
        _ => &[],
    }
}

/// The namespace short refs resolve in: the entity's own (Backstage's `getCompoundEntityRef`).
fn own_namespace(entity: &Value) -> &str {
    entity
        .get("metadata")
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        .filter(|ns| !ns.is_empty())
        .unwrap_or(DEFAULT_NAMESPACE)
}

/// Visits every (rule, parsed target) of an entity; bad values go to `errors`.
fn for_each_target<'a>(
    entity: &'a Value,
    errors: &mut Vec<RelationError>,
    mut emit: impl FnMut(&'static Rule, RefParts<'a>),
) {
    let rules = rules_for(entity);
    if rules.is_empty() {
        return;
    }
    let Some(spec) = entity.get("spec").and_then(Value::as_object) else {
        return;
    };
    // One pass over `spec` finds every rule's value: cheaper than a map lookup per rule, since
    // most keys differ from every rule key in length.
    let mut found: [Option<&'a Value>; MAX_RULES] = [None; MAX_RULES];
    for (key, value) in spec {
        if let Some(i) = rules.iter().position(|r| r.key() == key) {
            found[i] = Some(value);
        }
    }
    let namespace = own_namespace(entity);
    for (rule, value) in rules.iter().zip(found) {
        let Some(value) = value else {
            continue;
        };
        let field = rule.path;
        // Backstage skips a falsy field (`if (!targets) return`) and flattens one level.
        let items: &[Value] = match value {
            Value::Null | Value::Bool(false) => continue,
            Value::String(s) if s.is_empty() => continue,
            Value::Number(n) if n.as_f64() == Some(0.0) => continue,
            Value::Array(items) => items,
            single => std::slice::from_ref(single),
        };
        for item in items {
            let target = match item {
                Value::String(s) => parse_ref_parts(s, rule.default_kind, namespace),
                Value::Null => Err(RefError::Empty),
                other => {
                    errors.push(RelationError::NotAString {
                        field,
                        found: other.to_string(),
                    });
                    continue;
                }
            };
            match target {
                Ok(target) => {
                    let allowed = rule.allowed_kinds.is_none_or(|kinds| {
                        kinds.iter().any(|k| k.eq_ignore_ascii_case(target.kind))
                    });
                    if allowed {
                        emit(rule, target);
                    }
                }
                Err(source) => errors.push(RelationError::InvalidRef { field, source }),
            }
        }
    }
}

/// The relations an entity declares through its spec, with the values that were skipped.
pub fn outgoing_checked(entity: &Value) -> Outgoing {
    let mut out = Outgoing::default();
    for_each_target(entity, &mut out.errors, |rule, target| {
        out.relations
            .push((rule.relation.to_owned(), target.to_entity_ref()));
    });
    out
}

/// The relations an entity declares through its spec, `(relation type, target)`; values that
/// are not valid refs are skipped (use [`outgoing_checked`] to see them).
pub fn outgoing(entity: &Value) -> Vec<(String, EntityRef)> {
    outgoing_checked(entity).relations
}

/// Every entity's full `relations` list, in input order: its own spec relations plus the reverse
/// of every relation another entity points at it (matched by canonical ref, so case does not
/// matter). Each list is de-duplicated and sorted by type, then target ref (byte order), which is
/// the `ORDER BY type, target_entity_ref` of Backstage's stitcher.
///
/// Entities without a kind or name still get their own spec relations but cannot be a target.
/// Invalid refs are skipped; ingest reports them through [`outgoing_checked`].
pub fn derive_all(entities: &[&Value]) -> Vec<Vec<Relation>> {
    const NONE: usize = usize::MAX;
    // One pass over the (large, cache-cold) documents collects every canonical ref into one
    // buffer: each entity's own ref and its forward targets. Everything after works on that.
    let mut text = String::with_capacity(entities.len() * 64);
    let mut self_refs: Vec<Option<Range<usize>>> = Vec::with_capacity(entities.len());
    let mut forward: Vec<(usize, &'static Rule, Range<usize>)> =
        Vec::with_capacity(entities.len() * 4);
    let mut skipped = 0usize;
    let mut errors = Vec::new();
    for (i, entity) in entities.iter().enumerate() {
        self_refs.push(entity_ref_parts(entity).map(|r| {
            let start = text.len();
            r.push_canonical(&mut text);
            start..text.len()
        }));
        for_each_target(entity, &mut errors, |rule, target| {
            let start = text.len();
            target.push_canonical(&mut text);
            forward.push((i, rule, start..text.len()));
        });
        skipped += errors.len();
        errors.clear();
    }
    if skipped > 0 {
        tracing::debug!(skipped, "relation values skipped: not valid entity refs");
    }
    let text = text.as_str();
    let slice = |range: &Range<usize>| text.get(range.clone()).unwrap_or_default();

    // Canonical ref -> first entity with it; `next_same` chains any others with the same ref.
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(entities.len());
    let mut next_same = vec![NONE; entities.len()];
    for (i, r) in self_refs.iter().enumerate() {
        let Some(r) = r else { continue };
        match first.entry(slice(r)) {
            Entry::Occupied(head) => {
                let head = *head.get();
                next_same[i] = next_same[head];
                next_same[head] = i;
            }
            Entry::Vacant(vacant) => {
                vacant.insert(i);
            }
        }
    }

    let mut lists: Vec<Vec<(&'static str, &str)>> = vec![Vec::new(); entities.len()];
    for (i, rule, target) in &forward {
        let target = slice(target);
        lists[*i].push((rule.relation, target));
        if let (Some(reverse), Some(own)) = (rule.reverse, &self_refs[*i]) {
            let own = slice(own);
            let mut j = first.get(target).copied().unwrap_or(NONE);
            while j != NONE {
                lists[j].push((reverse, own));
                j = next_same[j];
            }
        }
    }
    lists
        .into_iter()
        .map(|mut list| {
            list.sort_unstable();
            list.dedup();
            list.into_iter()
                .map(|(relation_type, target_ref)| Relation {
                    relation_type: relation_type.to_owned(),
                    target_ref: target_ref.to_owned(),
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `(type, canonical target)` of an entity's spec relations.
    fn out(entity: &Value) -> Vec<(String, String)> {
        outgoing(entity)
            .into_iter()
            .map(|(t, r)| (t, r.canonical()))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(t, r)| (t.to_string(), r.to_string()))
            .collect()
    }

    fn entity(kind: &str, namespace: &str, spec: Value) -> Value {
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": kind,
               "metadata": {"name": "me", "namespace": namespace}, "spec": spec})
    }

    /// (kind, spec, expected `(type, target)` pairs).
    type Case = (&'static str, Value, Vec<(&'static str, &'static str)>);

    #[test]
    fn each_spec_field_with_its_default_kind() {
        // (kind, spec, expected outgoing) — short refs resolve in the entity's namespace "ns".
        let cases: Vec<Case> = vec![
            (
                "Component",
                json!({"owner": "team-a"}),
                vec![("ownedBy", "group:ns/team-a")],
            ),
            (
                "Component",
                json!({"owner": "user:jdoe"}),
                vec![("ownedBy", "user:ns/jdoe")],
            ),
            (
                "Component",
                json!({"system": "x"}),
                vec![("partOf", "system:ns/x")],
            ),
            (
                "Component",
                json!({"subcomponentOf": "y"}),
                vec![("partOf", "component:ns/y")],
            ),
            (
                "Component",
                json!({"providesApis": ["b-api", "other/a-api"]}),
                vec![
                    ("providesApi", "api:ns/b-api"),
                    ("providesApi", "api:other/a-api"),
                ],
            ),
            (
                "Component",
                json!({"consumesApis": ["c"]}),
                vec![("consumesApi", "api:ns/c")],
            ),
            (
                "Component",
                json!({"dependsOn": ["resource:db", "Component:default/Lib"]}),
                vec![
                    ("dependsOn", "resource:ns/db"),
                    ("dependsOn", "component:default/lib"),
                ],
            ),
            (
                "Component",
                json!({"dependencyOf": ["component:app"]}),
                vec![("dependencyOf", "component:ns/app")],
            ),
            (
                "API",
                json!({"owner": "t", "system": "s"}),
                vec![("ownedBy", "group:ns/t"), ("partOf", "system:ns/s")],
            ),
            (
                "Resource",
                json!({"owner": "t", "dependsOn": ["resource:r2"], "dependencyOf": ["component:c"], "system": "s"}),
                vec![
                    ("ownedBy", "group:ns/t"),
                    ("dependsOn", "resource:ns/r2"),
                    ("dependencyOf", "component:ns/c"),
                    ("partOf", "system:ns/s"),
                ],
            ),
            (
                "System",
                json!({"owner": "t", "domain": "d"}),
                vec![("ownedBy", "group:ns/t"), ("partOf", "domain:ns/d")],
            ),
            (
                "Domain",
                json!({"owner": "t", "subdomainOf": "top"}),
                vec![("ownedBy", "group:ns/t"), ("partOf", "domain:ns/top")],
            ),
            (
                "Group",
                json!({"parent": "org", "children": ["c1"], "members": ["u1", "other/u2"]}),
                vec![
                    ("childOf", "group:ns/org"),
                    ("parentOf", "group:ns/c1"),
                    ("hasMember", "user:ns/u1"),
                    ("hasMember", "user:other/u2"),
                ],
            ),
            (
                "User",
                json!({"memberOf": ["g1", "default/g2"]}),
                vec![
                    ("memberOf", "group:ns/g1"),
                    ("memberOf", "group:default/g2"),
                ],
            ),
            (
                "AiResource",
                json!({"type": "plugin", "owner": "t", "skills": ["s1", "component:not-allowed"]}),
                vec![("ownedBy", "group:ns/t"), ("hasPart", "airesource:ns/s1")],
            ),
            (
                "AiResource",
                json!({"type": "skill", "dependsOn": ["s0"]}),
                vec![("dependsOn", "airesource:ns/s0")],
            ),
            // Kinds without rules, and Backstage's case-sensitive kind match.
            (
                "Location",
                json!({"owner": "t", "targets": ["./a.yaml"]}),
                vec![],
            ),
            ("component", json!({"owner": "t"}), vec![]),
        ];
        for (kind, spec, want) in cases {
            let e = entity(kind, "ns", spec.clone());
            assert_eq!(out(&e), pairs(&want), "{kind} {spec}");
        }
    }

    #[test]
    fn bad_values_are_skipped_and_reported() {
        let e = entity(
            "Component",
            "default",
            json!({"owner": "", "dependsOn": ["db", "resource:db", 7, null], "system": ":x"}),
        );
        let got = outgoing_checked(&e);
        assert_eq!(
            got.relations,
            vec![(
                "dependsOn".to_string(),
                EntityRef {
                    kind: "resource".into(),
                    namespace: "default".into(),
                    name: "db".into()
                }
            )]
        );
        let messages: Vec<String> = got.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            vec![
                "spec.dependsOn: Entity reference \"db\" had missing or empty kind (e.g. did not \
                 start with \"component:\" or similar)",
                "spec.dependsOn: expected an entity reference string, found 7",
                "spec.dependsOn: Entity reference must not be empty",
                "spec.system: Entity reference \":x\" was not on the form \
                 [<kind>:][<namespace>/]<name>",
            ]
        );
        assert_eq!(got.errors[0].field(), "spec.dependsOn");
    }

    #[test]
    fn derive_all_adds_reverse_relations_sorted_and_deduplicated() {
        let api = json!({"kind": "API", "metadata": {"name": "Pets"}, "spec": {"owner": "team-a"}});
        let svc = json!({"kind": "Component", "metadata": {"name": "svc"},
            "spec": {"owner": "Team-A", "providesApis": ["pets", "PETS"], "dependsOn": ["resource:db"]}});
        let team =
            json!({"kind": "Group", "metadata": {"name": "team-a"}, "spec": {"children": []}});
        let all = derive_all(&[&api, &svc, &team]);
        let rel = |t: &str, r: &str| Relation {
            relation_type: t.into(),
            target_ref: r.into(),
        };
        assert_eq!(
            all[0],
            vec![
                rel("apiProvidedBy", "component:default/svc"),
                rel("ownedBy", "group:default/team-a"),
            ]
        );
        assert_eq!(
            all[1],
            vec![
                rel("dependsOn", "resource:default/db"),
                rel("ownedBy", "group:default/team-a"),
                rel("providesApi", "api:default/pets"),
            ]
        );
        assert_eq!(
            all[2],
            vec![
                rel("ownerOf", "api:default/pets"),
                rel("ownerOf", "component:default/svc"),
            ]
        );
        let wire = serde_json::to_value(&all[2][0]).unwrap();
        assert_eq!(
            wire,
            json!({"type": "ownerOf", "targetRef": "api:default/pets"})
        );
    }
}
