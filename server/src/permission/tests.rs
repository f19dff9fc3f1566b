//! Policy decisions as a table: users of a small catalog against RHDH-style policy files.

use super::*;
use serde_json::json;

fn catalog() -> Arc<CatalogStore> {
    let group = |name: &str, parent: Option<&str>| {
        let mut spec = json!({"type": "team", "children": []});
        if let Some(p) = parent {
            spec["parent"] = json!(p);
        }
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
               "metadata": {"name": name}, "spec": spec})
    };
    let user = |name: &str, groups: &[&str]| {
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "User",
               "metadata": {"name": name}, "spec": {"memberOf": groups}})
    };
    let component = |name: &str, owner: &str, lifecycle: &str| {
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
               "metadata": {"name": name},
               "spec": {"type": "service", "lifecycle": lifecycle, "owner": owner}})
    };
    let entities = vec![
        group("engineering", None),
        group("platform", Some("engineering")),
        group("team-a", None),
        user("ada", &["platform"]),
        user("diego", &["team-a"]),
        user("erin", &[]),
        user("frank", &[]),
        user("root", &[]),
        component("billing", "platform", "production"),
        component("checkout", "team-a", "experimental"),
    ];
    Arc::new(CatalogStore::new(crate::catalog::store::snapshot_of(
        entities,
    )))
}

const CSV: &str = "\
p, role:default/developer, kubernetes.clusters.read, read, allow
p, role:default/developer, kubernetes.resources.read, read, allow
p, role:default/developer, kubernetes.proxy, use, allow
p, role:default/developer, catalog-entity, read, allow
p, role:default/contractor, catalog-entity, read, allow
p, role:default/contractor, catalog.entity.read, read, deny
g, group:default/engineering, role:default/developer
g, group:default/team-a, role:default/developer
g, group:default/team-a, role:default/team-a-clusters
g, user:default/erin, role:default/contractor
";

const CONDITIONAL: &str = "\
result: CONDITIONAL
roleEntityRef: role:default/developer
pluginId: kubernetes
resourceType: catalog-entity
permissionMapping: [use]
conditions:
  rule: IS_ENTITY_OWNER
  resourceType: catalog-entity
  params: { claims: ['$ownerRefs'] }
---
result: CONDITIONAL
roleEntityRef: role:default/team-a-clusters
pluginId: kubernetes
resourceType: kubernetes-cluster
permissionMapping: [read]
conditions:
  rule: IS_CLUSTER
  resourceType: kubernetes-cluster
  params: { clusterNames: [dev] }
";

fn files(dir: &str) -> (PathBuf, PathBuf) {
    let dir =
        std::env::temp_dir().join(format!("greenroom-permission-{dir}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let csv = dir.join("rbac-policy.csv");
    let cond = dir.join("conditional.yaml");
    std::fs::write(&csv, CSV).expect("write");
    std::fs::write(&cond, CONDITIONAL).expect("write");
    (csv, cond)
}

async fn service(max_depth: Option<usize>) -> Permissions {
    let (csv, cond) = files(&format!("depth{max_depth:?}"));
    let config = PermissionConfig {
        enabled: true,
        policies_file: Some(csv),
        conditional_file: Some(cond),
        max_depth,
        super_users: vec!["user:default/root".into()],
        ..PermissionConfig::default()
    };
    Permissions::load(config, catalog())
        .await
        .expect("valid policy")
}

fn viewer(user: &str, store: &CatalogStore) -> Viewer {
    let facts = crate::auth::resolve::user_facts(&store.snapshot(), user);
    Viewer {
        entity_ref: user.into(),
        ownership_refs: facts.ownership_refs,
        provider: "oidc".into(),
        sign_in_required: true,
        ..Viewer::default()
    }
}

/// What a decision allows among the catalog's two components and two clusters.
fn outcome(p: &Permissions, d: &Decision) -> String {
    let snapshot = p.store.snapshot();
    let mut out = Vec::new();
    for e in ["component:default/billing", "component:default/checkout"] {
        if d.permits_entity(&snapshot, e) {
            out.push(e.trim_start_matches("component:default/").to_string());
        }
    }
    for c in ["dev", "prod"] {
        if d.permits(Resource::Cluster(c)) {
            out.push(format!("cluster {c}"));
        }
    }
    out.join(" ")
}

#[tokio::test]
async fn decisions_follow_the_policy_files() {
    let p = service(None).await;
    let all = "billing checkout cluster dev cluster prod";
    let table: &[(&str, Permission, &str)] = &[
        // ada: platform → engineering (parent) → developer; logs only of what platform owns.
        ("user:default/ada", CATALOG_ENTITY_READ, all),
        ("user:default/ada", KUBERNETES_CLUSTERS_READ, all),
        ("user:default/ada", KUBERNETES_RESOURCES_READ, all),
        ("user:default/ada", KUBERNETES_PROXY, "billing"),
        // diego: team-a → developer and team-a-clusters: only the dev cluster.
        (
            "user:default/diego",
            KUBERNETES_CLUSTERS_READ,
            "cluster dev",
        ),
        ("user:default/diego", KUBERNETES_PROXY, "checkout"),
        ("user:default/diego", CATALOG_ENTITY_READ, all),
        // erin: the resource type allows, the named deny wins for catalog.entity.read.
        ("user:default/erin", CATALOG_ENTITY_READ, ""),
        ("user:default/erin", KUBERNETES_RESOURCES_READ, ""),
        // frank: in the catalog, no role.
        ("user:default/frank", CATALOG_ENTITY_READ, ""),
        ("user:default/frank", KUBERNETES_PROXY, ""),
        // root: a super user.
        ("user:default/root", KUBERNETES_PROXY, all),
        // not in the catalog: denied, whatever the policy says.
        ("user:default/ghost", CATALOG_ENTITY_READ, ""),
    ];
    for (user, permission, expected) in table {
        let v = viewer(user, &p.store);
        let d = p.decide(Some(&v), permission);
        assert_eq!(
            outcome(&p, &d),
            *expected,
            "{user} {}: {d:?}",
            permission.name
        );
    }
    assert_eq!(p.decide(None, &CATALOG_ENTITY_READ), Decision::Deny);
    let service_token = Viewer {
        provider: "static".into(),
        display_name: "ci".into(),
        ..Viewer::default()
    };
    assert_eq!(
        p.decide(Some(&service_token), &KUBERNETES_PROXY),
        Decision::Allow
    );
}

#[tokio::test]
async fn max_depth_limits_inherited_roles() {
    let ada = |p: &Permissions| {
        let v = viewer("user:default/ada", &p.store);
        outcome(p, &p.decide(Some(&v), &KUBERNETES_RESOURCES_READ))
    };
    assert_eq!(
        ada(&service(Some(0)).await),
        "",
        "engineering is platform's parent"
    );
    assert_eq!(
        ada(&service(Some(1)).await),
        "billing checkout cluster dev cluster prod"
    );
}

#[tokio::test]
async fn disabled_allows_everyone_signed_in() {
    let p = Permissions::disabled();
    let v = viewer("user:default/frank", &catalog());
    assert_eq!(p.decide(Some(&v), &KUBERNETES_PROXY), Decision::Allow);
}

#[tokio::test]
async fn admins_read_the_catalog() {
    let (csv, _) = files("admins");
    let config = PermissionConfig {
        enabled: true,
        policies_file: Some(csv),
        admins: vec!["user:default/frank".into()],
        ..PermissionConfig::default()
    };
    let p = Permissions::load(config, catalog()).await.expect("valid");
    let v = viewer("user:default/frank", &p.store);
    assert_eq!(p.decide(Some(&v), &CATALOG_ENTITY_READ), Decision::Allow);
    assert_eq!(p.decide(Some(&v), &KUBERNETES_PROXY), Decision::Deny);
}

#[tokio::test]
async fn a_broken_file_is_reported_with_its_line() {
    let dir = std::env::temp_dir().join(format!("greenroom-permission-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let csv = dir.join("p.csv");
    std::fs::write(
        &csv,
        "p, role:default/x, kubernetes.proxy, use, allow\np, x\n",
    )
    .expect("write");
    let config = PermissionConfig {
        enabled: true,
        policies_file: Some(csv),
        conditional_file: Some(dir.join("missing.yaml")),
        ..PermissionConfig::default()
    };
    let errors = Permissions::load(config, catalog())
        .await
        .expect_err("invalid");
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("p.csv line 2: a p line has 5 fields"),
        "{errors:?}"
    );
    assert!(
        errors[1].starts_with("permission.rbac.conditionalPoliciesFile:")
            && errors[1].contains("missing.yaml"),
        "{errors:?}"
    );
}

#[test]
fn catalog_problems_are_shown_only_for_readable_entities() {
    let component = |name: &str, owner: &str| {
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
               "metadata": {"name": name},
               "spec": {"type": "service", "lifecycle": "production", "owner": owner,
                        "dependsOn": [format!("component:default/missing-{name}")]}})
    };
    let group = |name: &str| {
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
               "metadata": {"name": name}, "spec": {"type": "team", "children": []}})
    };
    let snapshot = crate::catalog::store::snapshot_of(vec![
        component("mine", "team-a"),
        component("theirs", "team-b"),
        group("team-a"),
        group("team-b"),
    ]);
    let refs = |d: &Decision| -> Vec<String> {
        crate::catalog::views::problems(&snapshot, d)
            .into_iter()
            .filter_map(|p| p.entity_ref)
            .collect()
    };
    let all = refs(&Decision::Allow);
    assert!(
        all.contains(&"component:default/mine".to_string())
            && all.contains(&"component:default/theirs".to_string()),
        "dangling dependsOn are warnings of both: {all:?}"
    );
    let team_a = Decision::Conditional(Condition::Rule(conditions::Rule::IsEntityOwner {
        claims: vec!["group:default/team-a".into()],
    }));
    let mine = refs(&team_a);
    assert!(
        mine.contains(&"component:default/mine".to_string()),
        "{mine:?}"
    );
    assert!(
        !mine.contains(&"component:default/theirs".to_string()),
        "{mine:?}"
    );
    assert!(refs(&Decision::Deny).is_empty());
}
