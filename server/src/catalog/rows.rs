//! The small pieces every page's data is made of: links to entities, catalog-list rows, and
//! reading a field or a relation of a stored entity. Shared by [`crate::catalog::views`] (the
//! list and entity pages), [`crate::catalog::kind_views`] (what each kind adds) and
//! [`crate::catalog::search`].

use app::wire::{EntityLink, EntityRow};
use serde_json::Value;

use crate::catalog::store::{Snapshot, StoredEntity};

/// The `/catalog/:namespace/:kind/:name` path of a canonical ref.
pub fn entity_href(entity_ref: &str) -> String {
    let (kind, rest) = entity_ref.split_once(':').unwrap_or(("", entity_ref));
    let (namespace, name) = rest.split_once('/').unwrap_or(("default", rest));
    format!("/catalog/{namespace}/{kind}/{name}")
}

/// A link to the entity `entity_ref` (canonical), labelled relative to `context_namespace`.
pub fn link_to(snapshot: &Snapshot, entity_ref: &str, context_namespace: &str) -> EntityLink {
    let target = snapshot.get(entity_ref);
    let label = match target {
        Some(e) => {
            let title = e.title.as_deref();
            match title {
                Some(t) => t.to_string(),
                None if e.parts.namespace.eq_ignore_ascii_case(context_namespace) => {
                    e.parts.name.clone()
                }
                None => format!("{}/{}", e.parts.namespace, e.parts.name),
            }
        }
        None => entity_ref.to_string(),
    };
    EntityLink {
        entity_ref: entity_ref.to_string(),
        label,
        href: entity_href(entity_ref),
        exists: target.is_some(),
    }
}

/// `metadata.tags` as strings.
pub fn tags_of(v: &Value) -> Vec<String> {
    v.pointer("/metadata/tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The string at a JSON pointer.
pub fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// The first target of the entity's relations of a type (canonical, lower-case).
pub fn first_relation(e: &StoredEntity, relation: &str) -> Option<String> {
    let key = format!("relations.{}", relation.to_lowercase());
    let first = e.keys.values(&key).next().map(str::to_string);
    first
}

/// A catalog-list row for `e`.
pub fn row(snapshot: &Snapshot, e: &StoredEntity) -> EntityRow {
    let v = e.value();
    let ns = &e.parts.namespace;
    EntityRow {
        link: EntityLink {
            entity_ref: e.entity_ref.clone(),
            label: e.parts.name.clone(),
            href: entity_href(&e.entity_ref),
            exists: true,
        },
        title: str_at(&v, "/metadata/title").map(str::to_string),
        kind: e.parts.kind.clone(),
        entity_type: str_at(&v, "/spec/type").map(str::to_string),
        owner: first_relation(e, "ownedBy").map(|r| link_to(snapshot, &r, ns)),
        lifecycle: str_at(&v, "/spec/lifecycle").map(str::to_string),
        system: first_relation(e, "partOf")
            .filter(|r| r.starts_with("system:"))
            .map(|r| link_to(snapshot, &r, ns)),
        description: str_at(&v, "/metadata/description").map(str::to_string),
        tags: tags_of(&v),
        kubernetes: kubernetes_annotated(e),
        health: None,
    }
}

/// Whether the entity has `backstage.io/kubernetes-id` or `backstage.io/kubernetes-label-selector`
/// (from its filter keys, without parsing it).
pub fn kubernetes_annotated(e: &StoredEntity) -> bool {
    e.keys
        .has_key("metadata.annotations.backstage.io/kubernetes-id")
        || e.keys
            .has_key("metadata.annotations.backstage.io/kubernetes-label-selector")
}
