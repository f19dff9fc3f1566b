//! End-to-end checks on Backstage's example catalog (`shared/fixtures/backstage-examples`):
//! relations derived over the whole set, then searched, filtered, ordered and projected.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{json, Value};

use super::*;
use crate::catalog::fixtures_dir;
use crate::catalog::refs::entity_ref_of;
use crate::catalog::relations::{derive_all, Relation};

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.to_string_lossy().to_string();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if name.ends_with(".yaml") && !name.ends_with(".oas.yaml") {
            out.push(path);
        }
    }
}

/// Every entity document of the example catalog, de-duplicated by ref (some files are included
/// by several locations in upstream layouts), with `relations` filled in.
fn example_catalog() -> Vec<Value> {
    let mut files = Vec::new();
    yaml_files(&fixtures_dir().join("backstage-examples"), &mut files);
    let mut entities: Vec<Value> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let value = Value::deserialize(doc).unwrap();
            let Some(r) = entity_ref_of(&value) else {
                continue;
            };
            if seen.insert(r.canonical()) {
                entities.push(value);
            }
        }
    }
    let refs: Vec<&Value> = entities.iter().collect();
    let relations = derive_all(&refs);
    for (entity, list) in entities.iter_mut().zip(relations) {
        entity["relations"] = serde_json::to_value(list).unwrap();
    }
    entities
}

fn find<'a>(catalog: &'a [Value], canonical: &str) -> &'a Value {
    catalog
        .iter()
        .find(|e| entity_ref_of(e).map(|r| r.canonical()).as_deref() == Some(canonical))
        .unwrap_or_else(|| panic!("{canonical} not in the example catalog"))
}

fn relations_of(catalog: &[Value], canonical: &str) -> Vec<Relation> {
    let list = find(catalog, canonical)["relations"].as_array().unwrap();
    list.iter()
        .map(|r| Relation {
            relation_type: r["type"].as_str().unwrap().to_owned(),
            target_ref: r["targetRef"].as_str().unwrap().to_owned(),
        })
        .collect()
}

fn rel(t: &str, target: &str) -> Relation {
    Relation {
        relation_type: t.into(),
        target_ref: target.into(),
    }
}

#[test]
fn example_catalog_has_the_expected_entities() {
    let catalog = example_catalog();
    let mut refs: Vec<String> = catalog
        .iter()
        .filter_map(entity_ref_of)
        .map(|r| r.canonical())
        .collect();
    refs.sort();
    let expected =
        std::fs::read_to_string(fixtures_dir().join("expected-entity-refs.txt")).unwrap();
    let expected: Vec<&str> = expected.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(refs, expected);
}

#[test]
fn example_catalog_relations() {
    let catalog = example_catalog();
    // team-e names boxoffice as parent; boxoffice does not list it as a child.
    assert!(relations_of(&catalog, "group:default/team-e")
        .contains(&rel("childOf", "group:default/boxoffice")));
    assert!(relations_of(&catalog, "group:default/boxoffice")
        .contains(&rel("parentOf", "group:default/team-e")));
    // Dangling owner kept.
    assert!(relations_of(&catalog, "component:default/playback-order")
        .contains(&rel("ownedBy", "group:default/guest")));
    // Reverse ownership on a group, and the lists are sorted.
    let team_a = relations_of(&catalog, "group:default/team-a");
    assert!(team_a.contains(&rel("ownerOf", "component:default/artist-lookup")));
    let mut sorted = team_a.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(team_a, sorted);
    // AiResource parts, dangling skills included; forward-only, as in Backstage's model layer.
    assert_eq!(
        relations_of(&catalog, "airesource:default/code-review-plugin"),
        vec![
            rel("hasPart", "airesource:default/security-review"),
            rel("hasPart", "airesource:default/typescript-best-practices"),
            rel("ownedBy", "group:default/team-a"),
            rel("partOf", "system:default/artist-engagement-portal"),
        ]
    );
    assert!(!team_a
        .iter()
        .any(|r| r.target_ref.starts_with("airesource:")));
}

#[test]
fn example_catalog_queries() {
    let catalog = example_catalog();
    let keys: Vec<SearchKeys> = catalog.iter().map(SearchKeys::new).collect();
    let select = |filters: &[&str]| -> Vec<String> {
        let params: Vec<String> = filters.iter().map(|s| s.to_string()).collect();
        let filter = parse_filters(&params).unwrap().unwrap();
        let mut hits: Vec<&SearchKeys> = keys.iter().filter(|k| filter.matches(k)).collect();
        hits.sort_by(|a, b| compare(a, b, &[]));
        hits.iter().map(|k| k.entity_ref().to_owned()).collect()
    };
    assert_eq!(
        select(&["kind=user,relations.memberOf=group:default/team-a"]),
        select(&["kind=User,relations.memberof=Group:Default/Team-A"]),
    );
    assert!(!select(&["kind=user,relations.memberOf=group:default/team-a"]).is_empty());
    let namespaced = select(&["metadata.namespace=development"]);
    assert_eq!(namespaced, vec!["user:development/guest".to_owned()]);
    let both = select(&["kind=domain", "kind=system"]);
    assert_eq!(both.len(), 6);
    assert!(select(&["kind=component,spec.type=website"])
        .iter()
        .all(|r| r.starts_with("component:")));

    let projected = project(
        find(&catalog, "component:default/artist-lookup"),
        &parse_fields(&["kind,metadata.name".to_owned()]).unwrap(),
    );
    assert_eq!(
        projected,
        json!({"kind": "Component", "metadata": {"name": "artist-lookup"}})
    );
}

#[test]
fn synthetic_entities_are_related_and_queryable() {
    let entities = synthetic_entities(500);
    assert_eq!(entities.len(), 500);
    let refs: Vec<&Value> = entities.iter().collect();
    let relations = derive_all(&refs);
    let kinds: std::collections::BTreeSet<&str> =
        entities.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        vec![
            "API",
            "Component",
            "Domain",
            "Group",
            "Resource",
            "System",
            "User"
        ]
    );
    // Every group owns something or has members: the reverse relations resolved.
    let owner_of = relations
        .iter()
        .filter(|list| list.iter().any(|r| r.relation_type == "ownerOf"))
        .count();
    assert!(owner_of > 0);
    let unique: std::collections::HashSet<String> = entities
        .iter()
        .filter_map(entity_ref_of)
        .map(|r| r.canonical())
        .collect();
    assert_eq!(unique.len(), 500);
}
