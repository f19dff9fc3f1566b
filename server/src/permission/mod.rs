//! Permissions: what a signed-in user may see, decided from policy files as Red Hat Developer
//! Hub's RBAC plugin decides it (see [`config`] for the keys and files).
//!
//! Permissions keep Backstage's names: `catalog.entity.read`, `catalog.location.read`,
//! `catalog.location.create`, `catalog.location.delete`, `catalog.location.analyze`,
//! `catalog.entity.delete`,
//! `catalog.entity.refresh`,
//! `kubernetes.clusters.read`, `kubernetes.resources.read` (the tab's data) and
//! `kubernetes.proxy` (a pod's YAML, events and logs). A decision is [`Decision::Allow`], [`Decision::Deny`] or
//! [`Decision::Conditional`]: a condition the resource (an entity, a cluster) must meet.
//!
//! How a decision is made for a user:
//!
//! 1. `permission.enabled: false` (the default), or a service calling with a static token:
//!    allow, as in Backstage.
//! 2. A `superUsers` member (the user or one of its groups): allow.
//! 3. A user that is not in the catalog: deny (RHDH's rule: roles come from the catalog).
//! 4. The user's roles are its `g` lines and those of its groups and their parent groups (up to
//!    `maxDepth` levels), resolved by Casbin's role manager over the catalog's `memberOf` and
//!    `childOf` relations. Conditional policies of those roles for the permission's plugin,
//!    resource type and action win (RHDH's default precedence); several are combined with
//!    `anyOf`.
//! 5. Otherwise Casbin decides with RHDH's model (`some allow and no deny`), on the permission
//!    name, or on its resource type when no policy of the user's roles names the permission.
//!
//! Backstage's Kubernetes permissions are basic (no resource), so they cannot say "only an
//! entity's owners may read its logs" or "this group sees these clusters". Greenroom treats
//! `kubernetes.resources.read` and `kubernetes.proxy` as permissions on the entity (plugin
//! `kubernetes`, resource type `catalog-entity`) and `kubernetes.clusters.read` as a permission
//! on each cluster (resource type `kubernetes-cluster`, rule `IS_CLUSTER`), so conditional
//! policies can. A CSV policy that names them keeps its Backstage meaning.
//!
//! The compiled policy is rebuilt when the catalog's memberships change and, with
//! `policyFileReload`, when a policy file changes; a file that no longer parses is reported and
//! the last good policy stays in force.

mod access;
pub mod conditions;
pub mod config;

pub use access::{Access, KubernetesAccess};

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use app::wire::Viewer;
use casbin::{
    CoreApi, DefaultModel, DefaultRoleManager, Enforcer, MemoryAdapter, MgmtApi, RbacApi,
};

use crate::catalog::store::{CatalogStore, Snapshot};

use self::conditions::{Condition, Resource};
use self::config::{PermissionConfig, PolicyFiles};

/// RHDH's Casbin model.
const MODEL: &str = "\
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act, eft

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
";

/// The role RHDH gives `permission.rbac.admin.users`.
pub const ADMIN_ROLE: &str = "role:default/rbac_admin";
/// How often memberships and files are checked for changes.
const CHECK_EVERY: Duration = Duration::from_secs(2);
/// Parent-group levels when `maxDepth` is unset.
const UNLIMITED_DEPTH: usize = 64;
/// Links Casbin follows from a user: to a group or role, and from a group to a role.
const ROLE_LEVELS: usize = 4;

/// A permission, with Backstage's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permission {
    /// `catalog.entity.read`, ...
    pub name: &'static str,
    /// The plugin conditional policies name (`pluginId`).
    pub plugin: &'static str,
    /// The resource type its conditions apply to (empty for a basic permission, which has no
    /// resource and so no conditions).
    pub resource_type: &'static str,
    /// `read` or `use`.
    pub action: &'static str,
    /// Whether a CSV policy on the resource type (instead of the name) grants it: true where
    /// Backstage has a resource permission (`catalog-entity` grants `catalog.entity.read`).
    pub csv_by_resource_type: bool,
}

/// Reading an entity of the catalog (Backstage's).
pub const CATALOG_ENTITY_READ: Permission = Permission {
    name: "catalog.entity.read",
    plugin: "catalog",
    resource_type: conditions::CATALOG_ENTITY,
    action: "read",
    csv_by_resource_type: true,
};
/// Listing the catalog's locations (Backstage's; a basic permission: no resource).
pub const CATALOG_LOCATION_READ: Permission = Permission {
    name: "catalog.location.read",
    plugin: "catalog",
    resource_type: "",
    action: "read",
    csv_by_resource_type: false,
};
/// Registering a location (Backstage's; basic).
pub const CATALOG_LOCATION_CREATE: Permission = Permission {
    name: "catalog.location.create",
    plugin: "catalog",
    resource_type: "",
    action: "create",
    csv_by_resource_type: false,
};
/// Unregistering a location (Backstage's; basic).
pub const CATALOG_LOCATION_DELETE: Permission = Permission {
    name: "catalog.location.delete",
    plugin: "catalog",
    resource_type: "",
    action: "delete",
    csv_by_resource_type: false,
};
/// Analysing a location before registering it (Backstage's; basic).
pub const CATALOG_LOCATION_ANALYZE: Permission = Permission {
    name: "catalog.location.analyze",
    plugin: "catalog",
    resource_type: "",
    action: "read",
    csv_by_resource_type: false,
};
/// Deleting an entity by uid (Backstage's; a resource permission on the entity).
pub const CATALOG_ENTITY_DELETE: Permission = Permission {
    name: "catalog.entity.delete",
    plugin: "catalog",
    resource_type: conditions::CATALOG_ENTITY,
    action: "delete",
    csv_by_resource_type: true,
};
/// Asking for an entity to be processed again (Backstage's; a resource permission).
pub const CATALOG_ENTITY_REFRESH: Permission = Permission {
    name: "catalog.entity.refresh",
    plugin: "catalog",
    resource_type: conditions::CATALOG_ENTITY,
    action: "update",
    csv_by_resource_type: true,
};
/// Seeing a cluster: its name in `/clusters` and its section in the tab.
pub const KUBERNETES_CLUSTERS_READ: Permission = Permission {
    name: "kubernetes.clusters.read",
    plugin: "kubernetes",
    resource_type: conditions::KUBERNETES_CLUSTER,
    action: "read",
    csv_by_resource_type: true,
};
/// The Kubernetes tab's data of an entity (workloads, pods, services).
pub const KUBERNETES_RESOURCES_READ: Permission = Permission {
    name: "kubernetes.resources.read",
    plugin: "kubernetes",
    resource_type: conditions::CATALOG_ENTITY,
    action: "read",
    csv_by_resource_type: false,
};
/// A pod's YAML, events and logs (Backstage's proxy permission).
pub const KUBERNETES_PROXY: Permission = Permission {
    name: "kubernetes.proxy",
    plugin: "kubernetes",
    resource_type: conditions::CATALOG_ENTITY,
    action: "use",
    csv_by_resource_type: false,
};

/// The answer for one user and permission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Allowed on every resource.
    Allow,
    /// Allowed on none.
    Deny,
    /// Allowed on the resources for which the condition holds.
    Conditional(Condition),
}

impl Decision {
    /// Whether the decision allows `resource`.
    pub fn permits(&self, resource: Resource<'_>) -> bool {
        match self {
            Decision::Allow => true,
            Decision::Deny => false,
            Decision::Conditional(c) => c.holds(resource),
        }
    }

    /// Whether the decision allows the entity `entity_ref` of `snapshot` (false when absent).
    pub fn permits_entity(&self, snapshot: &Snapshot, entity_ref: &str) -> bool {
        match self {
            Decision::Allow => true,
            Decision::Deny => false,
            Decision::Conditional(c) => snapshot
                .get(entity_ref)
                .is_some_and(|e| c.holds(Resource::Entity(&e.keys))),
        }
    }

    /// A key that tells decisions apart (for caches of filtered results).
    pub fn cache_key(&self) -> String {
        match self {
            Decision::Allow => String::new(),
            Decision::Deny => "deny".into(),
            Decision::Conditional(c) => format!("{c:?}"),
        }
    }
}

/// The compiled policy.
struct Compiled {
    enforcer: Enforcer,
    files: PolicyFiles,
    memberships: Vec<(String, String)>,
}

/// What the change check compares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Stamps(Vec<(PathBuf, Option<SystemTime>, u64)>);

/// The permission service of the process.
pub struct Permissions {
    config: PermissionConfig,
    store: Arc<CatalogStore>,
    current: RwLock<Option<Arc<Compiled>>>,
    /// How many times the policy in force was replaced (files reloaded, memberships changed):
    /// open streams re-check their viewer when it moves.
    changes: tokio::sync::watch::Sender<u64>,
}

impl std::fmt::Debug for Permissions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Permissions")
            .field("enabled", &self.config.enabled)
            .finish_non_exhaustive()
    }
}

impl Permissions {
    /// Permissions off: everyone who passed the sign-in gate may do everything.
    pub fn disabled() -> Self {
        Permissions {
            config: PermissionConfig::default(),
            store: Arc::default(),
            current: RwLock::new(None),
            changes: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Loads the policy files and compiles them against the current catalog.
    pub async fn load(
        config: PermissionConfig,
        store: Arc<CatalogStore>,
    ) -> Result<Self, Vec<String>> {
        let p = Permissions {
            current: RwLock::new(None),
            changes: tokio::sync::watch::Sender::new(0),
            store,
            config,
        };
        if !p.config.enabled {
            return Ok(p);
        }
        let files = config::read_files(&p.config)?;
        let memberships = memberships(&p.store.snapshot(), p.config.max_depth);
        let compiled = p.compile(files, memberships).await.map_err(|e| vec![e])?;
        *p.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(compiled));
        Ok(p)
    }

    /// Whether permissions are enforced.
    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    async fn compile(
        &self,
        files: PolicyFiles,
        memberships: Vec<(String, String)>,
    ) -> Result<Compiled, String> {
        let fail = |e: casbin::Error| format!("permission: cannot compile the policy: {e}");
        let model = DefaultModel::from_str(MODEL).await.map_err(fail)?;
        let mut enforcer = Enforcer::new(model, MemoryAdapter::default())
            .await
            .map_err(fail)?;
        // user → group (memberships are flattened, see [`memberships`]) → role.
        enforcer
            .set_role_manager(Arc::new(parking_lot::RwLock::new(DefaultRoleManager::new(
                ROLE_LEVELS,
            ))))
            .map_err(fail)?;
        let mut policies: Vec<Vec<String>> = files
            .policies
            .iter()
            .map(|p| {
                vec![
                    p.role.clone(),
                    p.object.clone(),
                    p.action.clone(),
                    p.effect.clone(),
                ]
            })
            .collect();
        let mut roles: Vec<Vec<String>> = files
            .roles
            .iter()
            .chain(memberships.iter())
            .map(|(a, b)| vec![a.clone(), b.clone()])
            .collect();
        if !self.config.admins.is_empty() {
            // RHDH's admin role: the RBAC plugin's policy entities and reading the catalog.
            for action in ["read", "create", "update", "delete"] {
                policies.push(vec![
                    ADMIN_ROLE.into(),
                    "policy-entity".into(),
                    action.into(),
                    "allow".into(),
                ]);
            }
            policies.push(vec![
                ADMIN_ROLE.into(),
                conditions::CATALOG_ENTITY.into(),
                "read".into(),
                "allow".into(),
            ]);
            roles.extend(
                self.config
                    .admins
                    .iter()
                    .map(|a| vec![a.clone(), ADMIN_ROLE.to_string()]),
            );
        }
        dedup(&mut policies);
        dedup(&mut roles);
        if !policies.is_empty() {
            enforcer.add_policies(policies).await.map_err(fail)?;
        }
        if !roles.is_empty() {
            enforcer.add_grouping_policies(roles).await.map_err(fail)?;
        }
        Ok(Compiled {
            enforcer,
            files,
            memberships,
        })
    }

    /// Moves each time decisions may have changed: the policy in force was replaced, or the
    /// catalog (owners, memberships, users) changed.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn compiled(&self) -> Option<Arc<Compiled>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The decision for `viewer` (None: nobody signed in) on `permission`.
    pub fn decide(&self, viewer: Option<&Viewer>, permission: &Permission) -> Decision {
        if !self.config.enabled {
            return Decision::Allow;
        }
        let Some(v) = viewer else {
            return Decision::Deny;
        };
        if v.provider == "static" && v.entity_ref.is_empty() {
            // A service with a backend.auth.externalAccess token (Backstage allows those).
            return Decision::Allow;
        }
        let user = v.entity_ref.to_lowercase();
        let refs: Vec<String> = v.ownership_refs.iter().map(|r| r.to_lowercase()).collect();
        let Some(compiled) = self.compiled() else {
            return Decision::Deny;
        };
        let roles = compiled.enforcer.get_implicit_roles_for_user(&user, None);
        let is_member = |list: &[String]| {
            list.iter()
                .any(|m| *m == user || refs.contains(m) || roles.contains(m))
        };
        if is_member(&self.config.super_users) {
            return Decision::Allow;
        }
        if !self.store.snapshot().contains(&user) {
            return Decision::Deny;
        }
        let roles: Vec<&String> = roles.iter().filter(|r| r.starts_with("role:")).collect();
        let mut conditions: Vec<Condition> = compiled
            .files
            .conditional
            .iter()
            .filter(|c| {
                roles.contains(&&c.role)
                    && c.plugin == permission.plugin
                    && c.resource_type == permission.resource_type
                    && c.actions.iter().any(|a| a == permission.action)
            })
            .map(|c| c.conditions.for_user(&user, &refs))
            .collect();
        if !conditions.is_empty() {
            return Decision::Conditional(if conditions.len() == 1 {
                conditions.swap_remove(0)
            } else {
                Condition::AnyOf(conditions)
            });
        }
        let named = compiled.files.policies.iter().any(|p| {
            p.object == permission.name && p.action == permission.action && roles.contains(&&p.role)
        }) || !permission.csv_by_resource_type;
        let object = if named {
            permission.name
        } else {
            permission.resource_type
        };
        match compiled
            .enforcer
            .enforce((user.as_str(), object, permission.action))
        {
            Ok(true) => Decision::Allow,
            Ok(false) => Decision::Deny,
            Err(e) => {
                tracing::warn!(error = %e, permission = permission.name, "permission check failed; denied");
                Decision::Deny
            }
        }
    }

    fn stamps(&self) -> Stamps {
        Stamps(
            [&self.config.policies_file, &self.config.conditional_file]
                .into_iter()
                .flatten()
                .map(|p| {
                    let meta = std::fs::metadata(p).ok();
                    (
                        p.clone(),
                        meta.as_ref().and_then(|m| m.modified().ok()),
                        meta.map_or(0, |m| m.len()),
                    )
                })
                .collect(),
        )
    }

    /// Keeps the compiled policy current (run as a task; returns at once when disabled).
    pub async fn watch(self: Arc<Self>) {
        if !self.config.enabled {
            return;
        }
        let mut stamps = self.stamps();
        let mut snapshot = self.store.snapshot();
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            let Some(current) = self.compiled() else {
                continue;
            };
            let now_snapshot = self.store.snapshot();
            let catalog_changed = !Arc::ptr_eq(&now_snapshot, &snapshot);
            snapshot = now_snapshot;
            if catalog_changed {
                // Decisions read the catalog too (owners, memberships, users that left).
                self.changes.send_modify(|n| *n += 1);
            }
            let now_stamps = self.stamps();
            let files_changed = self.config.reload && now_stamps != stamps;
            let members = if catalog_changed {
                memberships(&snapshot, self.config.max_depth)
            } else {
                current.memberships.clone()
            };
            if !files_changed && members == current.memberships {
                continue;
            }
            let files = if files_changed {
                stamps = now_stamps;
                match config::read_files(&self.config) {
                    Ok(f) => {
                        tracing::info!("permission: policy files reloaded");
                        f
                    }
                    Err(errors) => {
                        for e in &errors {
                            tracing::error!("permission: {e}");
                        }
                        tracing::error!(
                            "permission: the policy files have {} problem(s); the last good policy stays in force",
                            errors.len()
                        );
                        current.files.clone()
                    }
                }
            } else {
                current.files.clone()
            };
            match self.compile(files, members).await {
                Ok(c) => {
                    *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(c));
                    self.changes.send_modify(|n| *n += 1);
                }
                Err(e) => tracing::error!("{e}; the last good policy stays in force"),
            }
        }
    }
}

fn dedup(v: &mut Vec<Vec<String>>) {
    let mut seen = BTreeSet::new();
    v.retain(|x| seen.insert(x.clone()));
}

/// The catalog's memberships as Casbin grouping lines: each user → every group it is in, directly
/// (`memberOf`) or through up to `max_depth` levels of parent groups (`childOf`). Flattened per
/// user, so the depth limit holds whichever way Casbin walks the graph, and a cycle of parents
/// ends.
fn memberships(snapshot: &Snapshot, max_depth: Option<usize>) -> Vec<(String, String)> {
    let max_depth = max_depth.unwrap_or(UNLIMITED_DEPTH);
    let related = |e: &crate::catalog::store::StoredEntity, relation: &str| -> Vec<String> {
        e.keys
            .values(relation)
            .filter(|t| t.starts_with("group:"))
            .map(String::from)
            .collect()
    };
    let parents: std::collections::HashMap<&str, Vec<String>> = snapshot
        .entities
        .iter()
        .filter(|e| e.entity_ref.starts_with("group:"))
        .map(|e| (e.entity_ref.as_str(), related(e, "relations.childof")))
        .collect();
    let mut out = Vec::new();
    for user in snapshot
        .entities
        .iter()
        .filter(|e| e.entity_ref.starts_with("user:"))
    {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut level = related(user, "relations.memberof");
        let mut depth = 0;
        while !level.is_empty() {
            let mut next = Vec::new();
            for g in level {
                if seen.insert(g.clone()) && depth < max_depth {
                    next.extend(parents.get(g.as_str()).into_iter().flatten().cloned());
                }
            }
            if depth >= max_depth {
                break;
            }
            depth += 1;
            level = next;
        }
        out.extend(seen.into_iter().map(|g| (user.entity_ref.clone(), g)));
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests;
