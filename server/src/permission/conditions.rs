//! Conditions of conditional policies, as Red Hat Developer Hub writes them in
//! `permission.rbac.conditionalPoliciesFile`: a tree of `allOf` / `anyOf` / `not` over rules,
//! each rule with the resource type it applies to and its `params`.
//!
//! Rules of `catalog-entity` (Backstage's catalog permission rules): `IS_ENTITY_OWNER`
//! (`claims`), `IS_ENTITY_KIND` (`kinds`), `HAS_ANNOTATION` (`annotation`, optional `value`),
//! `HAS_LABEL` (`label`), `HAS_METADATA` and `HAS_SPEC` (`key`, optional `value`). They are
//! evaluated on the same lower-cased keys the catalog's `filter` parameter uses, so a rule and
//! the equivalent filter always agree.
//!
//! Greenroom adds the resource type `kubernetes-cluster` with one rule, `IS_CLUSTER`
//! (`clusterNames`), so a policy can say which clusters a role sees.
//!
//! In `claims`, `$currentUser` stands for the signed-in user's ref and `$ownerRefs` for its
//! ownership refs (RHDH's aliases); they are replaced when a decision is made for a user.

use serde_json::Value;

use crate::catalog::query::search::SearchKeys;

/// Backstage's catalog resource type.
pub const CATALOG_ENTITY: &str = "catalog-entity";
/// Greenroom's resource type for a configured cluster.
pub const KUBERNETES_CLUSTER: &str = "kubernetes-cluster";
/// How deep a condition tree may nest.
const MAX_DEPTH: usize = 16;

/// A condition tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// Every one holds (an empty list holds).
    AllOf(Vec<Condition>),
    /// At least one holds (an empty list does not).
    AnyOf(Vec<Condition>),
    /// The inner one does not hold.
    Not(Box<Condition>),
    /// A rule.
    Rule(Rule),
}

/// A permission rule with its parameters (lower-cased where the comparison ignores case).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    /// `IS_ENTITY_OWNER`: owned by one of `claims` (`relations.ownedBy`).
    IsEntityOwner { claims: Vec<String> },
    /// `IS_ENTITY_KIND`: `kind` is one of `kinds`.
    IsEntityKind { kinds: Vec<String> },
    /// `HAS_ANNOTATION`: `metadata.annotations.<annotation>` exists (and equals `value`).
    HasAnnotation {
        annotation: String,
        value: Option<String>,
    },
    /// `HAS_LABEL`: `metadata.labels.<label>` exists.
    HasLabel { label: String },
    /// `HAS_METADATA`: `metadata.<key>` exists (and equals `value`).
    HasMetadata { key: String, value: Option<String> },
    /// `HAS_SPEC`: `spec.<key>` exists (and equals `value`).
    HasSpec { key: String, value: Option<String> },
    /// `IS_CLUSTER` (Greenroom's): the cluster is one of `names`.
    IsCluster { names: Vec<String> },
}

/// What a condition is evaluated on.
#[derive(Clone, Copy, Debug)]
pub enum Resource<'a> {
    /// A catalog entity, by its filter keys.
    Entity(&'a SearchKeys),
    /// A cluster, by name.
    Cluster(&'a str),
}

impl Condition {
    /// Whether the condition holds for `resource`. A rule of another resource type never holds.
    pub fn holds(&self, resource: Resource<'_>) -> bool {
        match self {
            Condition::AllOf(all) => all.iter().all(|c| c.holds(resource)),
            Condition::AnyOf(any) => any.iter().any(|c| c.holds(resource)),
            Condition::Not(c) => !c.holds(resource),
            Condition::Rule(r) => r.holds(resource),
        }
    }

    /// The condition with `$currentUser` and `$ownerRefs` replaced for this user.
    pub fn for_user(&self, user: &str, ownership_refs: &[String]) -> Condition {
        match self {
            Condition::AllOf(all) => Condition::AllOf(
                all.iter()
                    .map(|c| c.for_user(user, ownership_refs))
                    .collect(),
            ),
            Condition::AnyOf(any) => Condition::AnyOf(
                any.iter()
                    .map(|c| c.for_user(user, ownership_refs))
                    .collect(),
            ),
            Condition::Not(c) => Condition::Not(Box::new(c.for_user(user, ownership_refs))),
            Condition::Rule(Rule::IsEntityOwner { claims }) => {
                let mut out = Vec::new();
                for c in claims {
                    match c.as_str() {
                        "$currentuser" => out.push(user.to_lowercase()),
                        "$ownerrefs" => out.extend(ownership_refs.iter().map(|r| r.to_lowercase())),
                        other => out.push(other.to_string()),
                    }
                }
                Condition::Rule(Rule::IsEntityOwner { claims: out })
            }
            Condition::Rule(r) => Condition::Rule(r.clone()),
        }
    }
}

impl Rule {
    fn holds(&self, resource: Resource<'_>) -> bool {
        let key_is = |keys: &SearchKeys, key: &str, value: &Option<String>| match value {
            None => keys.has_key(key),
            Some(v) => keys.values(key).any(|x| x == v),
        };
        match (self, resource) {
            (Rule::IsEntityOwner { claims }, Resource::Entity(k)) => k
                .values("relations.ownedby")
                .any(|o| claims.iter().any(|c| c == o)),
            (Rule::IsEntityKind { kinds }, Resource::Entity(k)) => {
                k.values("kind").any(|v| kinds.iter().any(|w| w == v))
            }
            (Rule::HasAnnotation { annotation, value }, Resource::Entity(k)) => {
                key_is(k, &format!("metadata.annotations.{annotation}"), value)
            }
            (Rule::HasLabel { label }, Resource::Entity(k)) => {
                k.has_key(&format!("metadata.labels.{label}"))
            }
            (Rule::HasMetadata { key, value }, Resource::Entity(k)) => {
                key_is(k, &format!("metadata.{key}"), value)
            }
            (Rule::HasSpec { key, value }, Resource::Entity(k)) => {
                key_is(k, &format!("spec.{key}"), value)
            }
            (Rule::IsCluster { names }, Resource::Cluster(c)) => names.iter().any(|n| n == c),
            _ => false,
        }
    }
}

/// A mistake in a condition tree: where in the policy document, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {problem}")]
pub struct ConditionError {
    /// The path in the document (`document 2: conditions.allOf[1]`).
    pub at: String,
    /// What is wrong there.
    pub problem: Problem,
}

/// What is wrong with a condition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("conditions nest deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("a condition must be a mapping (rule, allOf, anyOf or not)")]
    NotMapping,
    #[error("must be a list of conditions")]
    NotList,
    #[error(
        "a condition needs `rule` (with `resourceType` and `params`), `allOf`, `anyOf` or `not`"
    )]
    NoRule,
    /// The rule, its resource type, the policy's.
    #[error("rule {0} is for resource type '{1}', but the policy's resourceType is '{2}'")]
    OtherResourceType(String, String, String),
    #[error("every item must be a string")]
    ItemNotString,
    /// The rule and the parameter.
    #[error("rule {0} needs params.{1}, a non-empty list of strings")]
    NeedsStrings(String, &'static str),
    /// The rule and the parameter.
    #[error("rule {0} needs params.{1}, a string")]
    NeedsString(String, &'static str),
    #[error("must be a string")]
    NotString,
    /// The rule and the policy's resource type.
    #[error("rule {0} applies to {CATALOG_ENTITY}, not to '{1}'")]
    EntityRule(String, String),
    #[error("rule IS_CLUSTER needs params.clusterNames, a non-empty list of cluster names")]
    NeedsClusterNames,
    /// The policy's resource type.
    #[error("rule IS_CLUSTER applies to {KUBERNETES_CLUSTER}, not to '{0}'")]
    ClusterRule(String),
    #[error("unknown rule '{0}' (rules of {CATALOG_ENTITY}: IS_ENTITY_OWNER, IS_ENTITY_KIND, HAS_ANNOTATION, HAS_LABEL, HAS_METADATA, HAS_SPEC; of {KUBERNETES_CLUSTER}: IS_CLUSTER)")]
    UnknownRule(String),
}

fn fail<T>(at: impl Into<String>, problem: Problem) -> Result<T, ConditionError> {
    Err(ConditionError {
        at: at.into(),
        problem,
    })
}

/// Parses a condition tree for `resource_type`; errors name the path in the tree (`at`).
pub fn parse(v: &Value, resource_type: &str, at: &str) -> Result<Condition, ConditionError> {
    parse_at(v, resource_type, at, 0)
}

fn parse_at(
    v: &Value,
    resource_type: &str,
    at: &str,
    depth: usize,
) -> Result<Condition, ConditionError> {
    if depth > MAX_DEPTH {
        return fail(at, Problem::TooDeep);
    }
    let Some(obj) = v.as_object() else {
        return fail(at, Problem::NotMapping);
    };
    let list = |key: &str, items: &Value| -> Result<Vec<Condition>, ConditionError> {
        let Some(items) = items.as_array() else {
            return fail(format!("{at}.{key}"), Problem::NotList);
        };
        items
            .iter()
            .enumerate()
            .map(|(i, c)| parse_at(c, resource_type, &format!("{at}.{key}[{i}]"), depth + 1))
            .collect()
    };
    if let Some(items) = obj.get("allOf") {
        return list("allOf", items).map(Condition::AllOf);
    }
    if let Some(items) = obj.get("anyOf") {
        return list("anyOf", items).map(Condition::AnyOf);
    }
    if let Some(inner) = obj.get("not") {
        return parse_at(inner, resource_type, &format!("{at}.not"), depth + 1)
            .map(|c| Condition::Not(Box::new(c)));
    }
    let Some(rule) = obj.get("rule").and_then(Value::as_str) else {
        return fail(at, Problem::NoRule);
    };
    if let Some(rt) = obj.get("resourceType").and_then(Value::as_str) {
        if rt != resource_type {
            return fail(
                at,
                Problem::OtherResourceType(rule.into(), rt.into(), resource_type.into()),
            );
        }
    }
    let params = obj.get("params").cloned().unwrap_or(Value::Null);
    parse_rule(rule, &params, resource_type, at).map(Condition::Rule)
}

fn strings(
    params: &Value,
    key: &'static str,
    rule: &str,
    at: &str,
) -> Result<Vec<String>, ConditionError> {
    match params.get(key) {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|i| match i.as_str() {
                Some(s) => Ok(s.to_lowercase()),
                None => fail(format!("{at}.params.{key}"), Problem::ItemNotString),
            })
            .collect(),
        _ => fail(at, Problem::NeedsStrings(rule.into(), key)),
    }
}

fn string(
    params: &Value,
    key: &'static str,
    rule: &str,
    at: &str,
) -> Result<String, ConditionError> {
    match params.get(key).and_then(Value::as_str) {
        Some(s) if !s.trim().is_empty() => Ok(s.trim().to_lowercase()),
        _ => fail(at, Problem::NeedsString(rule.into(), key)),
    }
}

fn optional(params: &Value, key: &str, at: &str) -> Result<Option<String>, ConditionError> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.to_lowercase())),
        Some(_) => fail(format!("{at}.params.{key}"), Problem::NotString),
    }
}

fn parse_rule(
    rule: &str,
    p: &Value,
    resource_type: &str,
    at: &str,
) -> Result<Rule, ConditionError> {
    let entity_rule = |r: Rule| {
        if resource_type == CATALOG_ENTITY {
            Ok(r)
        } else {
            fail(at, Problem::EntityRule(rule.into(), resource_type.into()))
        }
    };
    match rule {
        "IS_ENTITY_OWNER" => entity_rule(Rule::IsEntityOwner {
            claims: strings(p, "claims", rule, at)?,
        }),
        "IS_ENTITY_KIND" => entity_rule(Rule::IsEntityKind {
            kinds: strings(p, "kinds", rule, at)?,
        }),
        "HAS_ANNOTATION" => entity_rule(Rule::HasAnnotation {
            annotation: string(p, "annotation", rule, at)?,
            value: optional(p, "value", at)?,
        }),
        "HAS_LABEL" => entity_rule(Rule::HasLabel {
            label: string(p, "label", rule, at)?,
        }),
        "HAS_METADATA" => entity_rule(Rule::HasMetadata {
            key: string(p, "key", rule, at)?,
            value: optional(p, "value", at)?,
        }),
        "HAS_SPEC" => entity_rule(Rule::HasSpec {
            key: string(p, "key", rule, at)?,
            value: optional(p, "value", at)?,
        }),
        "IS_CLUSTER" if resource_type == KUBERNETES_CLUSTER => {
            let names = match p.get("clusterNames") {
                Some(Value::Array(items)) if !items.is_empty() => items
                    .iter()
                    .map(|i| match i.as_str() {
                        Some(s) => Ok(s.to_string()),
                        None => fail(format!("{at}.params.clusterNames"), Problem::ItemNotString),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                _ => return fail(at, Problem::NeedsClusterNames),
            };
            Ok(Rule::IsCluster { names })
        }
        "IS_CLUSTER" => fail(at, Problem::ClusterRule(resource_type.into())),
        other => fail(at, Problem::UnknownRule(other.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys(v: Value) -> SearchKeys {
        SearchKeys::new(&v)
    }

    fn entity() -> SearchKeys {
        keys(json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {
                "name": "checkout",
                "namespace": "default",
                "annotations": {"backstage.io/kubernetes-id": "checkout"},
                "labels": {"tier": "web"}
            },
            "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"},
            "relations": [{"type": "ownedBy", "targetRef": "group:default/team-a"}]
        }))
    }

    fn cond(v: Value, rt: &str) -> Result<Condition, String> {
        parse(&v, rt, "conditions").map_err(|e| e.to_string())
    }

    #[test]
    fn catalog_rules_evaluate_like_the_catalog_filter() {
        let e = entity();
        let cases = [
            (
                json!({"rule": "IS_ENTITY_OWNER", "resourceType": "catalog-entity", "params": {"claims": ["group:default/team-a"]}}),
                true,
            ),
            (
                json!({"rule": "IS_ENTITY_OWNER", "params": {"claims": ["group:default/team-b"]}}),
                false,
            ),
            (
                json!({"rule": "IS_ENTITY_KIND", "params": {"kinds": ["Component"]}}),
                true,
            ),
            (
                json!({"rule": "IS_ENTITY_KIND", "params": {"kinds": ["api"]}}),
                false,
            ),
            (
                json!({"rule": "HAS_ANNOTATION", "params": {"annotation": "backstage.io/kubernetes-id"}}),
                true,
            ),
            (
                json!({"rule": "HAS_ANNOTATION", "params": {"annotation": "backstage.io/kubernetes-id", "value": "other"}}),
                false,
            ),
            (
                json!({"rule": "HAS_LABEL", "params": {"label": "tier"}}),
                true,
            ),
            (
                json!({"rule": "HAS_METADATA", "params": {"key": "namespace", "value": "default"}}),
                true,
            ),
            (
                json!({"rule": "HAS_SPEC", "params": {"key": "lifecycle", "value": "production"}}),
                true,
            ),
            (
                json!({"rule": "HAS_SPEC", "params": {"key": "lifecycle", "value": "experimental"}}),
                false,
            ),
            (
                json!({"not": {"rule": "IS_ENTITY_KIND", "params": {"kinds": ["api"]}}}),
                true,
            ),
            (
                json!({"allOf": [
                {"rule": "IS_ENTITY_KIND", "params": {"kinds": ["component"]}},
                {"rule": "HAS_SPEC", "params": {"key": "type", "value": "website"}}]}),
                false,
            ),
            (
                json!({"anyOf": [
                {"rule": "IS_ENTITY_KIND", "params": {"kinds": ["api"]}},
                {"rule": "HAS_SPEC", "params": {"key": "type", "value": "service"}}]}),
                true,
            ),
            (json!({"anyOf": []}), false),
            (json!({"allOf": []}), true),
        ];
        for (c, expected) in cases {
            let parsed = cond(c.clone(), CATALOG_ENTITY).expect("valid");
            assert_eq!(parsed.holds(Resource::Entity(&e)), expected, "{c}");
            // A catalog rule never matches a cluster.
            if matches!(parsed, Condition::Rule(_)) {
                assert!(!parsed.holds(Resource::Cluster("checkout")), "{c}");
            }
        }
    }

    #[test]
    fn aliases_become_the_users_refs() {
        let c = cond(
            json!({"rule": "IS_ENTITY_OWNER", "params": {"claims": ["$currentUser", "$ownerRefs"]}}),
            CATALOG_ENTITY,
        )
        .expect("valid");
        let e = entity();
        assert!(!c.holds(Resource::Entity(&e)));
        let ada = c.for_user(
            "user:default/ada",
            &["user:default/ada".into(), "group:default/Team-A".into()],
        );
        assert!(ada.holds(Resource::Entity(&e)));
        let diego = c.for_user("user:default/diego", &["user:default/diego".into()]);
        assert!(!diego.holds(Resource::Entity(&e)));
    }

    #[test]
    fn cluster_rule() {
        let c = cond(
            json!({"rule": "IS_CLUSTER", "resourceType": "kubernetes-cluster", "params": {"clusterNames": ["dev", "staging"]}}),
            KUBERNETES_CLUSTER,
        )
        .expect("valid");
        assert!(c.holds(Resource::Cluster("dev")));
        assert!(!c.holds(Resource::Cluster("production")));
        assert!(!c.holds(Resource::Entity(&entity())));
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            (
                json!({"rule": "IS_OWNER", "params": {}}),
                CATALOG_ENTITY,
                "unknown rule 'IS_OWNER'",
            ),
            (
                json!({"rule": "IS_ENTITY_OWNER", "params": {"claims": []}}),
                CATALOG_ENTITY,
                "params.claims",
            ),
            (
                json!({"rule": "IS_ENTITY_OWNER", "resourceType": "kubernetes-cluster", "params": {"claims": ["x"]}}),
                CATALOG_ENTITY,
                "resource type 'kubernetes-cluster'",
            ),
            (
                json!({"rule": "IS_CLUSTER", "params": {"clusterNames": ["a"]}}),
                CATALOG_ENTITY,
                "applies to kubernetes-cluster",
            ),
            (
                json!({"rule": "HAS_LABEL", "params": {"label": "x"}}),
                KUBERNETES_CLUSTER,
                "applies to catalog-entity",
            ),
            (
                json!({"anyOf": {"rule": "HAS_LABEL"}}),
                CATALOG_ENTITY,
                "conditions.anyOf: must be a list",
            ),
            (
                json!({"allOf": [{"rule": "HAS_LABEL", "params": {}}]}),
                CATALOG_ENTITY,
                "conditions.allOf[0]: rule HAS_LABEL needs params.label",
            ),
            (
                json!("IS_ENTITY_OWNER"),
                CATALOG_ENTITY,
                "must be a mapping",
            ),
        ];
        for (c, rt, want) in cases {
            let e = cond(c.clone(), rt).expect_err("invalid");
            assert!(e.contains(want), "{c}: {e}");
        }
        let mut deep = json!({"rule": "HAS_LABEL", "params": {"label": "x"}});
        for _ in 0..20 {
            deep = json!({ "not": deep });
        }
        assert!(cond(deep, CATALOG_ENTITY)
            .expect_err("too deep")
            .contains("deeper"));
    }
}
