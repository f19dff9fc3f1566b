//! The `permission:` block, with the keys of Backstage and of Red Hat Developer Hub's RBAC
//! plugin, so an RHDH app-config and its policy files carry over:
//!
//! ```yaml
//! permission:
//!   enabled: true
//!   rbac:
//!     policies-csv-file: ./rbac-policy.csv
//!     conditionalPoliciesFile: ./rbac-conditional-policies.yaml
//!     policyFileReload: true
//!     maxDepth: 8
//!     admin:
//!       users: [{ name: user:default/ada }]
//!       superUsers: [{ name: group:default/platform }]
//! ```
//!
//! The policy file is Casbin CSV as RHDH reads it: `p, <role>, <permission or resource type>,
//! <action>, <allow|deny>` and `g, <user or group>, <role>`. Each line is split at commas and
//! trimmed, which is how Casbin's own file adapter reads it (no quoting: no field of a valid
//! line can contain a comma), so no CSV crate is needed. The conditional policies file is
//! RHDH's YAML, one policy per document. Every mistake names the file, the line or document and
//! why; `greenroom validate` lists them all.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::{Config, ConfigError};

use super::conditions::{self, Condition};

/// The actions a policy may name.
pub const ACTIONS: [&str; 5] = ["create", "read", "update", "delete", "use"];
/// The largest policy file read.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Everything `permission:` configures.
#[derive(Clone, Debug, Default)]
pub struct PermissionConfig {
    /// `permission.enabled` (default false: every signed-in user may do everything).
    pub enabled: bool,
    /// `permission.rbac.policies-csv-file`, resolved.
    pub policies_file: Option<PathBuf>,
    /// `permission.rbac.conditionalPoliciesFile`, resolved.
    pub conditional_file: Option<PathBuf>,
    /// `permission.rbac.policyFileReload`.
    pub reload: bool,
    /// `permission.rbac.maxDepth`: how many levels of parent groups pass their roles down
    /// (unset: all).
    pub max_depth: Option<usize>,
    /// `permission.rbac.admin.users[].name`: RBAC admins (users or groups).
    pub admins: Vec<String>,
    /// `permission.rbac.admin.superUsers[].name`: allowed everything (users or groups).
    pub super_users: Vec<String>,
}

/// A `p` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `role:<namespace>/<name>`, lower-cased.
    pub role: String,
    /// A permission name (`kubernetes.proxy`) or a resource type (`catalog-entity`).
    pub object: String,
    /// One of [`ACTIONS`].
    pub action: String,
    /// `allow` or `deny`.
    pub effect: String,
}

/// The policy files' contents.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyFiles {
    /// `p` lines.
    pub policies: Vec<Policy>,
    /// `g` lines: (user or group, role), lower-cased.
    pub roles: Vec<(String, String)>,
    /// The conditional policies.
    pub conditional: Vec<ConditionalPolicy>,
}

/// One document of the conditional policies file.
#[derive(Clone, Debug, PartialEq)]
pub struct ConditionalPolicy {
    /// `roleEntityRef`, lower-cased.
    pub role: String,
    /// `pluginId` (`catalog`, `kubernetes`).
    pub plugin: String,
    /// `resourceType` (`catalog-entity`, `kubernetes-cluster`).
    pub resource_type: String,
    /// `permissionMapping`: the actions it governs.
    pub actions: Vec<String>,
    /// `conditions`.
    pub conditions: Condition,
}

/// Reads `permission:`; file paths resolve against `cwd`. The files themselves are read by
/// [`read_files`].
pub fn read(config: &Config, cwd: &Path) -> Result<PermissionConfig, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut out = PermissionConfig::default();
    fn push<T>(errors: &mut Vec<ConfigError>, r: Result<T, ConfigError>) -> Option<T> {
        r.map_err(|e| errors.push(e)).ok()
    }
    out.enabled = push(&mut errors, config.get_optional_bool("permission.enabled"))
        .flatten()
        .unwrap_or(false);
    let file = |v: Option<String>| v.map(|p| cwd.join(p));
    out.policies_file = file(
        push(
            &mut errors,
            config.get_optional_string("permission.rbac.policies-csv-file"),
        )
        .flatten(),
    );
    out.conditional_file = file(
        push(
            &mut errors,
            config.get_optional_string("permission.rbac.conditionalPoliciesFile"),
        )
        .flatten(),
    );
    out.reload = push(
        &mut errors,
        config.get_optional_bool("permission.rbac.policyFileReload"),
    )
    .flatten()
    .unwrap_or(false);
    if let Some(n) = push(
        &mut errors,
        config.get_optional_number("permission.rbac.maxDepth"),
    )
    .flatten()
    {
        if n >= 0.0 && n.fract() == 0.0 && n <= 64.0 {
            out.max_depth = Some(n as usize);
        } else {
            errors.push(config.invalid_value(
                "permission.rbac.maxDepth",
                "must be a whole number from 0 to 64",
            ));
        }
    }
    for (key, list) in [
        ("permission.rbac.admin.users", &mut out.admins),
        ("permission.rbac.admin.superUsers", &mut out.super_users),
    ] {
        let items = match config.get_optional_config_array(key) {
            Ok(items) => items.unwrap_or_default(),
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        for item in items {
            match item.get_string("name") {
                Ok(n) if is_ref(&n, &["user", "group"]) => list.push(n.to_lowercase()),
                Ok(n) => errors.push(item.invalid_value(
                    "name",
                    format!("'{n}' is not a user or group entity ref (user:default/jane, group:default/sre)"),
                )),
                Err(e) => errors.push(e),
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Whether `s` is a full entity ref `<kind>:<namespace>/<name>` of one of `kinds`.
fn is_ref(s: &str, kinds: &[&str]) -> bool {
    let Some((kind, rest)) = s.split_once(':') else {
        return false;
    };
    let Some((ns, name)) = rest.split_once('/') else {
        return false;
    };
    kinds.iter().any(|k| k.eq_ignore_ascii_case(kind))
        && !ns.is_empty()
        && !name.is_empty()
        && !rest.contains(char::is_whitespace)
        && !name.contains('/')
}

/// Reads and checks both policy files; every mistake is returned.
pub fn read_files(config: &PermissionConfig) -> Result<PolicyFiles, Vec<String>> {
    let mut errors = Vec::new();
    let mut files = PolicyFiles::default();
    if let Some(path) = &config.policies_file {
        match crate::files::read_text(path, MAX_FILE_BYTES) {
            Ok(text) => parse_csv(&text, &path.display().to_string(), &mut files, &mut errors),
            Err(e) => errors.push(format!("permission.rbac.policies-csv-file: {e}")),
        }
    }
    if let Some(path) = &config.conditional_file {
        match crate::files::read_text(path, MAX_FILE_BYTES) {
            Ok(text) => match parse_conditional(&text, &path.display().to_string()) {
                Ok(c) => files.conditional = c,
                Err(e) => errors.extend(e),
            },
            Err(e) => errors.push(format!("permission.rbac.conditionalPoliciesFile: {e}")),
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(errors)
    }
}

/// The permissions Greenroom checks, with their action (`name or resource type`, action).
const CHECKED: [(&str, &str); 7] = [
    ("catalog.entity.read", "read"),
    ("catalog-entity", "read"),
    ("catalog.location.read", "read"),
    ("kubernetes.clusters.read", "read"),
    ("kubernetes-cluster", "read"),
    ("kubernetes.resources.read", "read"),
    ("kubernetes.proxy", "use"),
];

/// Lines that parse but can have no effect here: a permission Greenroom never checks (a typo,
/// or another plugin's), or one named with an action it is not checked with. A mistyped `deny`
/// would otherwise do nothing without a word.
pub fn warnings(files: &PolicyFiles) -> Vec<String> {
    let mut out = Vec::new();
    for p in &files.policies {
        let line = format!("'p, {}, {}, {}, {}'", p.role, p.object, p.action, p.effect);
        match CHECKED.iter().find(|(name, _)| *name == p.object) {
            Some((_, action)) if *action != p.action => out.push(format!(
                "permission policy {line} has no effect: Greenroom checks {} with the action {action}",
                p.object
            )),
            Some(_) => {}
            None => out.push(format!(
                "permission policy {line} has no effect: Greenroom does not check '{}' (it checks {})",
                p.object,
                CHECKED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            )),
        }
    }
    for c in &files.conditional {
        let governs: &[&str] = match (c.plugin.as_str(), c.resource_type.as_str()) {
            ("catalog", conditions::CATALOG_ENTITY) => &["read"],
            ("kubernetes", conditions::CATALOG_ENTITY) => &["read", "use"],
            ("kubernetes", conditions::KUBERNETES_CLUSTER) => &["read"],
            _ => &[],
        };
        for a in &c.actions {
            if !governs.contains(&a.as_str()) {
                out.push(format!(
                    "conditional policy of {} (pluginId {}, resourceType {}) has no effect for the action {a}: Greenroom checks {} there",
                    c.role,
                    c.plugin,
                    c.resource_type,
                    if governs.is_empty() { "nothing".to_string() } else { governs.join(", ") }
                ));
            }
        }
    }
    out
}

/// Parses RHDH's policy CSV into `files`.
pub fn parse_csv(text: &str, file: &str, files: &mut PolicyFiles, errors: &mut Vec<String>) {
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("{file} line {}", i + 1);
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        match fields.as_slice() {
            ["p", role, object, action, effect] => {
                let mut ok = true;
                if !is_ref(role, &["role"]) {
                    errors.push(format!(
                        "{at}: '{role}' is not a role entity ref (role:default/<name>)"
                    ));
                    ok = false;
                }
                if object.is_empty() || object.contains(char::is_whitespace) {
                    errors.push(format!(
                        "{at}: the permission '{object}' must be a permission name (kubernetes.proxy) or a resource type (catalog-entity)"
                    ));
                    ok = false;
                }
                if !ACTIONS.contains(action) {
                    errors.push(format!(
                        "{at}: unknown action '{action}' (one of {})",
                        ACTIONS.join(", ")
                    ));
                    ok = false;
                }
                if !matches!(*effect, "allow" | "deny") {
                    errors.push(format!(
                        "{at}: the effect must be allow or deny, not '{effect}'"
                    ));
                    ok = false;
                }
                if ok {
                    files.policies.push(Policy {
                        role: role.to_lowercase(),
                        object: (*object).to_string(),
                        action: (*action).to_string(),
                        effect: (*effect).to_string(),
                    });
                }
            }
            ["g", member, role] => {
                let mut ok = true;
                if !is_ref(member, &["user", "group"]) {
                    errors.push(format!(
                        "{at}: '{member}' is not a user or group entity ref (user:default/jane, group:default/sre)"
                    ));
                    ok = false;
                }
                if !is_ref(role, &["role"]) {
                    errors.push(format!(
                        "{at}: '{role}' is not a role entity ref (role:default/<name>)"
                    ));
                    ok = false;
                }
                if ok {
                    files
                        .roles
                        .push((member.to_lowercase(), role.to_lowercase()));
                }
            }
            ["p", ..] => errors.push(format!(
                "{at}: a p line has 5 fields: p, <role>, <permission>, <action>, <allow|deny>"
            )),
            ["g", ..] => errors.push(format!(
                "{at}: a g line has 3 fields: g, <user or group>, <role>"
            )),
            [other, ..] => errors.push(format!(
                "{at}: a line starts with p (a policy) or g (a role assignment), not '{other}'"
            )),
            [] => {}
        }
    }
}

/// Parses RHDH's conditional policies YAML (documents separated by `---`).
pub fn parse_conditional(text: &str, file: &str) -> Result<Vec<ConditionalPolicy>, Vec<String>> {
    use serde::Deserialize;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let at = format!("{file} document {}", i + 1);
        let v = match Value::deserialize(doc) {
            Ok(Value::Null) => continue,
            Ok(v) => v,
            Err(e) => {
                errors.push(format!("{at}: not YAML: {e}"));
                // A syntax error ends the stream: later documents cannot be read reliably.
                break;
            }
        };
        match conditional_policy(&v, &at) {
            Ok(p) => out.push(p),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// A mistake in one conditional policy document: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The document and what is wrong with its fields.
    #[error("{0}: {1}")]
    Field(String, PolicyProblem),
    /// A mistake in its condition tree.
    #[error(transparent)]
    Condition(#[from] conditions::ConditionError),
}

/// What is wrong with a conditional policy's fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyProblem {
    #[error("`{0}` is required (a string)")]
    Required(&'static str),
    #[error("`result` must be CONDITIONAL, not '{0}'")]
    NotConditional(String),
    #[error("roleEntityRef '{0}' is not a role entity ref (role:default/<name>)")]
    NotRole(String),
    #[error("resourceType '{0}' has no rules here (supported: {entity}, {cluster})", entity = conditions::CATALOG_ENTITY, cluster = conditions::KUBERNETES_CLUSTER)]
    NoRules(String),
    /// The permissionMapping item, as written.
    #[error("permissionMapping lists actions ({actions}), not {0}", actions = ACTIONS.join(", "))]
    Action(String),
    #[error("`permissionMapping` is required: the actions the conditions govern ({actions})", actions = ACTIONS.join(", "))]
    NoMapping,
    #[error("`conditions` is required")]
    NoConditions,
}

fn conditional_policy(v: &Value, at: &str) -> Result<ConditionalPolicy, PolicyError> {
    let fail = |problem: PolicyProblem| PolicyError::Field(at.to_string(), problem);
    let s = |key: &'static str| {
        v.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| fail(PolicyProblem::Required(key)))
    };
    let result = s("result")?;
    if result != "CONDITIONAL" {
        return Err(fail(PolicyProblem::NotConditional(result.into())));
    }
    let role = s("roleEntityRef")?;
    if !is_ref(role, &["role"]) {
        return Err(fail(PolicyProblem::NotRole(role.into())));
    }
    let plugin = s("pluginId")?;
    let resource_type = s("resourceType")?;
    if ![conditions::CATALOG_ENTITY, conditions::KUBERNETES_CLUSTER].contains(&resource_type) {
        return Err(fail(PolicyProblem::NoRules(resource_type.into())));
    }
    let actions: Vec<String> = match v.get("permissionMapping") {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|i| {
                let a = i
                    .as_str()
                    .or_else(|| i.get("action").and_then(Value::as_str));
                match a {
                    Some(a) if ACTIONS.contains(&a) => Ok(a.to_string()),
                    _ => Err(fail(PolicyProblem::Action(i.to_string()))),
                }
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(fail(PolicyProblem::NoMapping)),
    };
    let Some(c) = v.get("conditions") else {
        return Err(fail(PolicyProblem::NoConditions));
    };
    let conditions = conditions::parse(c, resource_type, &format!("{at}: conditions"))?;
    Ok(ConditionalPolicy {
        role: role.to_lowercase(),
        plugin: plugin.to_string(),
        resource_type: resource_type.to_string(),
        actions,
        conditions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_and_their_mistakes() {
        let text = "\
# roles
p, role:default/sre, kubernetes.proxy, use, allow
p,role:default/sre,catalog-entity,read,deny
g, group:default/sre, role:default/sre
g, user:default/ada, role:default/sre

p, sre, kubernetes.proxy, use, allow
p, role:default/sre, kubernetes.proxy, watch, allow
p, role:default/sre, kubernetes.proxy, use, maybe
g, ada, role:default/sre
g, user:default/ada
x, y
";
        let mut files = PolicyFiles::default();
        let mut errors = Vec::new();
        parse_csv(text, "rbac.csv", &mut files, &mut errors);
        assert_eq!(files.policies.len(), 2);
        assert_eq!(files.policies[1].effect, "deny");
        assert_eq!(
            files.roles,
            vec![
                ("group:default/sre".into(), "role:default/sre".into()),
                ("user:default/ada".into(), "role:default/sre".into())
            ]
        );
        let want = [
            "rbac.csv line 7: 'sre' is not a role entity ref",
            "rbac.csv line 8: unknown action 'watch'",
            "rbac.csv line 9: the effect must be allow or deny",
            "rbac.csv line 10: 'ada' is not a user or group entity ref",
            "rbac.csv line 11: a g line has 3 fields",
            "rbac.csv line 12: a line starts with p",
        ];
        assert_eq!(errors.len(), want.len(), "{errors:#?}");
        for (e, w) in errors.iter().zip(want) {
            assert!(e.starts_with(w), "{e} should start with {w}");
        }
    }

    #[test]
    fn lines_without_effect_are_warned_about() {
        let mut files = PolicyFiles::default();
        let mut errors = Vec::new();
        parse_csv(
            "p, role:default/a, kubernetes.proxy, use, allow\n\
             p, role:default/a, kubernetes.proxy, read, deny\n\
             p, role:default/a, kubernetes.prxy, use, deny\n",
            "rbac.csv",
            &mut files,
            &mut errors,
        );
        files.conditional = parse_conditional(
            "result: CONDITIONAL\nroleEntityRef: role:default/a\npluginId: catalog\nresourceType: catalog-entity\npermissionMapping: [read, delete]\nconditions: { rule: HAS_LABEL, params: { label: x } }\n",
            "c.yaml",
        )
        .expect("valid");
        let w = warnings(&files);
        assert_eq!(w.len(), 3, "{w:#?}");
        assert!(
            w[0].contains("kubernetes.proxy with the action use"),
            "{}",
            w[0]
        );
        assert!(
            w[1].contains("does not check 'kubernetes.prxy'"),
            "{}",
            w[1]
        );
        assert!(w[2].contains("no effect for the action delete"), "{}", w[2]);
    }

    #[test]
    fn conditional_documents_and_their_mistakes() {
        let ok = "\
result: CONDITIONAL
roleEntityRef: 'role:default/developer'
pluginId: kubernetes
resourceType: catalog-entity
permissionMapping:
  - use
conditions:
  rule: IS_ENTITY_OWNER
  resourceType: catalog-entity
  params:
    claims: ['$ownerRefs']
---
result: CONDITIONAL
roleEntityRef: role:default/developer
pluginId: kubernetes
resourceType: kubernetes-cluster
permissionMapping: [read]
conditions:
  anyOf:
    - rule: IS_CLUSTER
      resourceType: kubernetes-cluster
      params: { clusterNames: [dev] }
";
        let parsed = parse_conditional(ok, "c.yaml").expect("valid");
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].actions, vec!["use".to_string()]);
        assert_eq!(parsed[1].resource_type, "kubernetes-cluster");

        let bad = "\
result: ALLOW
roleEntityRef: role:default/x
---
result: CONDITIONAL
roleEntityRef: developer
---
result: CONDITIONAL
roleEntityRef: role:default/x
pluginId: catalog
resourceType: catalog-entity
permissionMapping: [read, fly]
conditions: { rule: IS_ENTITY_OWNER, params: { claims: [x] } }
---
result: CONDITIONAL
roleEntityRef: role:default/x
pluginId: catalog
resourceType: catalog-entity
permissionMapping: [read]
conditions: { rule: IS_CLUSTER, params: { clusterNames: [x] } }
";
        let errors = parse_conditional(bad, "c.yaml").expect_err("invalid");
        let want = [
            "c.yaml document 1: `result` must be CONDITIONAL",
            "c.yaml document 2: roleEntityRef 'developer'",
            "c.yaml document 3: permissionMapping lists actions",
            "c.yaml document 4: conditions: rule IS_CLUSTER applies to kubernetes-cluster",
        ];
        assert_eq!(errors.len(), want.len(), "{errors:#?}");
        for (e, w) in errors.iter().zip(want) {
            assert!(e.starts_with(w), "{e} should start with {w}");
        }
        let syntax = parse_conditional("result: [", "c.yaml").expect_err("not yaml");
        assert!(
            syntax[0].starts_with("c.yaml document 1: not YAML"),
            "{syntax:?}"
        );
    }
}
