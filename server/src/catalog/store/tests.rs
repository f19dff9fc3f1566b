//! The whole pipeline (ingest → validate → stitch) on real catalogs nobody here wrote.

use std::path::PathBuf;

use crate::catalog::config::CatalogConfig;
use crate::catalog::fixtures_dir;
use crate::catalog::location::{HttpUrlReader, LocationSpec, LocationType};
use crate::catalog::reload::load;
use crate::catalog::rules::{default_rules, Rule};

fn file(path: PathBuf, rules: Vec<Rule>) -> LocationSpec {
    LocationSpec {
        kind: LocationType::File,
        target: path.display().to_string(),
        rules,
        optional: false,
    }
}

#[test]
fn backstage_examples_yield_exactly_the_expected_refs() {
    let f = fixtures_dir();
    let every_kind = Rule::allowing(&[
        "Component",
        "API",
        "Location",
        "Resource",
        "System",
        "Domain",
        "Group",
        "User",
        "AiResource",
        "Template",
    ]);
    let config = CatalogConfig {
        locations: vec![
            file(f.join("backstage-examples/all.yaml"), Vec::new()),
            file(f.join("backstage-examples/acme-corp.yaml"), Vec::new()),
        ],
        rules: vec![every_kind],
    };
    let snapshot = load(&config, &HttpUrlReader);
    let mut refs: Vec<&str> = snapshot
        .entities
        .iter()
        .map(|e| e.entity_ref.as_str())
        .filter(|r| !r.starts_with("location:default/generated-"))
        .collect();
    refs.sort_unstable();
    let expected_text =
        std::fs::read_to_string(f.join("expected-entity-refs.txt")).expect("expected refs");
    let expected: Vec<&str> = expected_text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(refs, expected);
    let generated = snapshot
        .entities
        .iter()
        .filter(|e| e.entity_ref.starts_with("location:default/generated-"))
        .count();
    assert_eq!(
        generated, 2,
        "one generated Location per configured location"
    );

    // The three remote `$text` definitions cannot be fetched here: reported, entities kept.
    assert_eq!(snapshot.errors.len(), 3, "{:#?}", snapshot.errors);
    assert!(snapshot
        .errors
        .iter()
        .all(|p| p.field.as_deref() == Some("spec.definition")));
    // Dangling references are kept as relations and flagged as warnings.
    let order = snapshot
        .get("component:default/playback-order")
        .expect("playback-order");
    assert!(order.value()["relations"]
        .as_array()
        .expect("relations")
        .iter()
        .any(|r| r["targetRef"] == "group:default/guest"));
    assert!(snapshot
        .warnings
        .iter()
        .any(|w| w.reason.contains("group:default/guest")));
    // team-e names boxoffice as parent; boxoffice does not list it, yet both directions exist.
    let boxoffice = snapshot.get("group:default/boxoffice").expect("boxoffice");
    assert!(boxoffice.value()["relations"]
        .as_array()
        .expect("relations")
        .iter()
        .any(|r| r["type"] == "parentOf" && r["targetRef"] == "group:default/team-e"));
}

#[test]
fn invalid_example_is_reported_with_its_field_and_the_rest_is_served() {
    let f = fixtures_dir();
    let config = CatalogConfig {
        locations: vec![
            file(
                f.join("backstage-examples-invalid/components/invalid-component.yaml"),
                Vec::new(),
            ),
            file(f.join("create-app-examples/entities.yaml"), Vec::new()),
        ],
        rules: default_rules(),
    };
    let snapshot = load(&config, &HttpUrlReader);
    let name_error = snapshot
        .errors
        .iter()
        .find(|p| p.field.as_deref() == Some("metadata.name"))
        .expect("name error");
    assert!(
        name_error.location.ends_with("invalid-component.yaml"),
        "{name_error:?}"
    );
    assert!(snapshot
        .entities
        .iter()
        .any(|e| e.entity_ref == "component:default/example-website"));
}

#[test]
fn create_app_examples_ingest_under_create_app_rules() {
    let f = fixtures_dir().join("create-app-examples");
    let config = CatalogConfig {
        locations: vec![
            file(f.join("entities.yaml"), Vec::new()),
            file(
                f.join("template/template.yaml"),
                vec![Rule::allowing(&["Template"])],
            ),
            file(f.join("org.yaml"), vec![Rule::allowing(&["User", "Group"])]),
        ],
        rules: vec![Rule::allowing(&[
            "Component",
            "System",
            "API",
            "Resource",
            "Location",
        ])],
    };
    let snapshot = load(&config, &HttpUrlReader);
    assert!(snapshot.errors.is_empty(), "{:#?}", snapshot.errors);
    let kinds: std::collections::BTreeSet<&str> = snapshot
        .entities
        .iter()
        .map(|e| e.parts.kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "API",
            "Component",
            "Group",
            "Location",
            "System",
            "Template",
            "User"
        ]
        .into_iter()
        .collect()
    );
}

#[test]
fn a_duplicate_ref_is_a_conflict_and_the_first_location_wins() {
    let dir = std::env::temp_dir().join(format!("greenroom-dup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let entity = |desc: &str| {
        format!("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: Twin\n  description: {desc}\nspec:\n  type: service\n  lifecycle: x\n  owner: y\n")
    };
    std::fs::write(dir.join("a.yaml"), entity("first")).expect("write");
    std::fs::write(dir.join("b.yaml"), entity("second").replace("Twin", "twin")).expect("write");
    let config = CatalogConfig {
        locations: vec![
            file(dir.join("a.yaml"), Vec::new()),
            file(dir.join("b.yaml"), Vec::new()),
        ],
        rules: default_rules(),
    };
    let snapshot = load(&config, &HttpUrlReader);
    let twin = snapshot.get("component:default/twin").expect("twin");
    assert_eq!(twin.value()["metadata"]["description"], "first");
    let conflict = snapshot
        .errors
        .iter()
        .find(|p| p.reason.contains("conflicting entity ref"))
        .expect("conflict");
    assert!(conflict.location.ends_with("b.yaml"));
    assert!(conflict.reason.contains("a.yaml"), "{conflict:?}");
}

#[test]
fn query_cache_computes_once_per_key_and_keeps_the_most_recent() {
    use crate::catalog::store::QueryCache;
    let cache = QueryCache::default();
    let mut calls = 0;
    let a = cache.get_or_compute("a", || {
        calls += 1;
        vec![1, 2]
    });
    let again = cache.get_or_compute("a", || {
        calls += 1;
        vec![9]
    });
    assert_eq!(
        (calls, a.as_slice(), again.as_slice()),
        (1, &[1, 2][..], &[1, 2][..])
    );
    for i in 0..QueryCache::CAPACITY {
        cache.get_or_compute(&format!("k{i}"), Vec::<u32>::new);
    }
    let evicted = cache.get_or_compute("a", || vec![3]);
    assert_eq!(
        evicted.as_slice(),
        &[3],
        "'a' was the least recently used and was evicted"
    );
}

#[test]
fn relation_fields_of_spec_are_sorted_as_backstage_stores_them() {
    // catalog-backend 4.0.5 BuiltinKindsEntityProcessor.preProcessEntity: JavaScript's default
    // sort (UTF-16 code units: digits, upper case, `_`, lower case), duplicates kept, only the
    // seven relation fields; other arrays keep the file's order.
    let snapshot = super::snapshot_of(vec![serde_json::json!({
        "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
        "metadata": {"name": "sorted", "tags": ["b", "a"]},
        "spec": {
            "type": "service", "lifecycle": "production", "owner": "team-a",
            "dependsOn": ["resource:db", "component:b", "Component:a", "component:b", "component:_x", "component:10", "component:9"],
            "providesApis": ["zeta", "alpha"],
        }
    })]);
    let stored = snapshot
        .entities
        .iter()
        .map(|e| e.value())
        .find(|e| e["metadata"]["name"] == "sorted")
        .expect("stored");
    assert_eq!(
        stored["spec"]["dependsOn"],
        serde_json::json!([
            "Component:a",
            "component:10",
            "component:9",
            "component:_x",
            "component:b",
            "component:b",
            "resource:db"
        ])
    );
    assert_eq!(
        stored["spec"]["providesApis"],
        serde_json::json!(["alpha", "zeta"])
    );
    assert_eq!(stored["metadata"]["tags"], serde_json::json!(["b", "a"]));
}

#[test]
fn a_file_cannot_claim_another_locations_place_in_the_ancestry() {
    // Two roots: the platform's, whose Location `trusted` lists platform.yaml, and a team's,
    // whose file declares a Location under the same ref listing its own file. That Location is
    // a conflict (the first is kept), so the team's entities have no producer in the chain.
    let dir = std::env::temp_dir().join(format!("greenroom-ancestry-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("platform")).expect("dir");
    std::fs::create_dir_all(dir.join("team")).expect("dir");
    let component = |name: &str| {
        format!("---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: someone\n")
    };
    let location = "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: trusted\nspec:\n  targets: [./x.yaml]\n";
    std::fs::write(dir.join("platform/root.yaml"), location).expect("write");
    std::fs::write(dir.join("platform/x.yaml"), component("platform-thing")).expect("write");
    std::fs::write(dir.join("team/root.yaml"), location).expect("write");
    std::fs::write(dir.join("team/x.yaml"), component("team-thing")).expect("write");
    let config = CatalogConfig {
        locations: vec![
            file(dir.join("platform/root.yaml"), Vec::new()),
            file(dir.join("team/root.yaml"), Vec::new()),
        ],
        rules: vec![Rule::allowing(&["Component", "Location"])],
    };
    let snapshot = load(&config, &HttpUrlReader);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(snapshot.get("component:default/team-thing").is_some());
    assert_eq!(
        snapshot
            .parents
            .get("component:default/platform-thing")
            .map(String::as_str),
        Some("location:default/trusted")
    );
    assert_eq!(
        snapshot.parents.get("component:default/team-thing"),
        None,
        "{:?}",
        snapshot.parents
    );
}
