//! Cursor encoding and the by-query rules that differ from a plain list.

use super::*;
use crate::catalog::store::Snapshot;

#[test]
fn base64_matches_known_vectors_and_round_trips() {
    assert_eq!(base64_encode(b"hello"), "aGVsbG8=");
    assert_eq!(base64_encode(b"hi!"), "aGkh");
    assert_eq!(base64_encode(b"h"), "aA==");
    assert_eq!(base64_decode("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
    assert_eq!(base64_decode("not base64!"), None);
}

#[test]
fn cursor_round_trips_and_rejects_garbage() {
    let c = Cursor {
        filter: vec!["kind=component".into()],
        order_fields: vec!["metadata.name,desc".into()],
        full_text_term: Some("pay".into()),
        full_text_fields: Some(vec!["metadata.name".into()]),
        query: Some(serde_json::json!({"kind": "component"})),
        offset: 40,
        end: Some(7),
        first: 3,
        initial: false,
    };
    assert_eq!(Cursor::decode(&c.encode()), Ok(c));
    assert!(Cursor::decode("%%%").is_err());
    assert!(Cursor::decode(&base64_encode(b"[1,2]")).is_err());
}

/// The `metadata.name` of each item, in order.
fn item_names(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|i| serde_json::from_str::<serde_json::Value>(i.get()).expect("json"))
        .map(|e| {
            e["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

fn snapshot(entities: Vec<serde_json::Value>) -> Snapshot {
    crate::catalog::store::snapshot_of(entities)
}

fn component(name: &str, title: Option<&str>) -> serde_json::Value {
    let mut e = serde_json::json!({
        "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
        "metadata": { "name": name },
        "spec": { "type": "service", "lifecycle": "production", "owner": "team-a" }
    });
    if let Some(t) = title {
        e["metadata"]["title"] = serde_json::json!(t);
    }
    e
}

#[test]
fn ordering_by_a_field_leaves_out_entities_without_it_and_pages_both_ways() {
    let snap = snapshot(vec![
        component("c", Some("Charlie")),
        component("a", Some("Alpha")),
        component("b", None),
        component("d", Some("Delta")),
    ]);
    let first = Cursor {
        order_fields: vec!["metadata.title,desc".into()],
        initial: true,
        ..Cursor::default()
    };
    let page = query_entities(
        &snap,
        &Decision::Allow,
        &first,
        2,
        &["metadata.name".into()],
    )
    .expect("valid");
    assert_eq!(page.total_items, 3, "b has no title");
    assert_eq!(item_names(&page.items), ["d", "c"]);
    assert!(page.prev_cursor.is_none());
    let next = Cursor::decode(page.next_cursor.as_deref().expect("more")).expect("cursor");
    let page2 = query_entities(&snap, &Decision::Allow, &next, 2, &[]).expect("valid");
    assert_eq!(page2.items.len(), 1);
    let item: serde_json::Value = serde_json::from_str(page2.items[0].get()).expect("json");
    assert_eq!(item["metadata"]["name"], "a");
    assert!(page2.next_cursor.is_none());
    // One step back: the `limit` rows before the page, whatever limit is asked for now (the
    // cursor does not carry it, as in Backstage); it offers a next page, and no previous one
    // since it starts where the first page started.
    let prev = Cursor::decode(page2.prev_cursor.as_deref().expect("prev")).expect("cursor");
    let back = query_entities(&snap, &Decision::Allow, &prev, 200, &[]).expect("valid");
    assert_eq!(item_names(&back.items), ["d", "c"]);
    assert!(back.next_cursor.is_some());
    assert!(back.prev_cursor.is_none());
}

/// Backstage 4.0.5, observed (end2end/compat): `limit=0` reads nothing and offers no cursor but
/// counts; an initial `offset` page offers no `prevCursor`; ordering by a field with several
/// values (tags) gives a row per value while `totalItems` counts entities.
#[test]
fn limit_zero_offsets_and_multi_valued_order_fields_page_as_in_backstage() {
    let mut tagged = component("a", None);
    tagged["metadata"]["tags"] = serde_json::json!(["web", "go"]);
    let mut other = component("b", None);
    other["metadata"]["tags"] = serde_json::json!(["java"]);
    let snap = snapshot(vec![tagged, other, component("c", None)]);
    let first = |order: &str, offset: usize| Cursor {
        order_fields: vec![order.into()],
        offset,
        initial: true,
        ..Cursor::default()
    };
    let zero = query_entities(
        &snap,
        &Decision::Allow,
        &first("metadata.name,asc", 0),
        0,
        &[],
    )
    .expect("valid");
    assert!(zero.items.is_empty());
    assert_eq!(zero.total_items, 3);
    assert!(zero.next_cursor.is_none() && zero.prev_cursor.is_none());
    let offset = query_entities(
        &snap,
        &Decision::Allow,
        &first("metadata.name,asc", 1),
        1,
        &[],
    )
    .expect("valid");
    assert_eq!(offset.items.len(), 1);
    assert!(offset.prev_cursor.is_none() && offset.next_cursor.is_some());
    let tags = query_entities(
        &snap,
        &Decision::Allow,
        &first("metadata.tags,asc", 0),
        10,
        &[],
    )
    .expect("valid");
    assert_eq!(item_names(&tags.items), ["a", "b", "a"], "go, java, web");
    assert_eq!(tags.total_items, 2, "c has no tags");
}

#[test]
fn get_entities_pages_as_backstage_does() {
    let snap = snapshot(vec![
        component("c", Some("Charlie")),
        component("a", None),
        component("b", Some("Bravo")),
    ]);
    let order = crate::catalog::query::parse_order(&["asc:metadata.title".into()]).expect("order");
    let names = |items: Vec<Item>| item_names(&items);
    let fields: Vec<String> = Vec::new();
    // Unpaged: by-query's rules, so the entity without a title is left out.
    let (items, more) = list_entities(
        &snap,
        &Decision::Allow,
        None,
        &order,
        &fields,
        ListPaging::Unpaged,
    );
    assert_eq!(
        (names(items), more),
        (vec!["b".to_string(), "c".into()], false)
    );
    // Paged: everything, entities without the field last; `more` when rows follow.
    let paged = |offset, limit| {
        let (items, more) = list_entities(
            &snap,
            &Decision::Allow,
            None,
            &order,
            &fields,
            ListPaging::Paged { offset, limit },
        );
        (names(items), more)
    };
    assert_eq!(paged(0, Some(2)), (vec!["b".to_string(), "c".into()], true));
    assert_eq!(paged(2, Some(2)), (vec!["a".to_string()], false));
}

#[test]
fn after_cursors_read_and_write_as_backstage_does() {
    assert_eq!(encode_after(2, 5), "eyJsaW1pdCI6Miwib2Zmc2V0Ijo1fQ==");
    assert_eq!(
        decode_after("eyJsaW1pdCI6Miwib2Zmc2V0Ijo1fQ=="),
        Ok(After {
            limit: Some(2),
            offset: Some(5)
        })
    );
    assert_eq!(
        decode_after("notjson"),
        Err("Malformed after cursor, could not be parsed".into())
    );
    assert_eq!(
        decode_after(&base64_encode(br#"{"limit":"x"}"#)),
        Err("Malformed after cursor, limit was not an number".into())
    );
}

#[test]
fn full_text_searches_the_sort_field_by_default() {
    let snap = snapshot(vec![
        component("alpha-svc", Some("Billing")),
        component("beta-svc", Some("Payments")),
    ]);
    let c = Cursor {
        order_fields: vec!["metadata.title,asc".into()],
        full_text_term: Some("  PAY ".into()),
        ..Cursor::default()
    };
    let page = query_entities(&snap, &Decision::Allow, &c, 10, &[]).expect("valid");
    assert_eq!(page.total_items, 1);
    let item: serde_json::Value = serde_json::from_str(page.items[0].get()).expect("json");
    assert_eq!(item["metadata"]["name"], "beta-svc");
}

#[test]
fn invalid_order_field_is_an_input_error() {
    let snap = snapshot(vec![component("a", None)]);
    let c = Cursor {
        order_fields: vec!["metadata.name,sideways".into()],
        ..Cursor::default()
    };
    assert!(query_entities(&snap, &Decision::Allow, &c, 10, &[]).is_err());
}

#[test]
fn validate_reports_backstage_messages() {
    let bad = serde_json::json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "bad name"}, "spec": {"type": "service", "lifecycle": "x", "owner": "y"}});
    let errors = validate(&bad);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("metadata.name"), "{errors:?}");
    assert!(validate(&component("good", None)).is_empty());
}

#[test]
fn paged_order_equals_the_reference_comparator_on_a_mixed_catalog() {
    use crate::catalog::query::{compare, parse_order_fields, synthetic_entities};
    let snap = snapshot(synthetic_entities(400));
    for order in [
        "metadata.title,asc",
        "metadata.title,desc",
        "spec.type,desc",
        "metadata.name,asc",
    ] {
        let cursor = Cursor {
            order_fields: vec![order.into()],
            ..Cursor::default()
        };
        let page = query_entities(&snap, &Decision::Allow, &cursor, 10_000, &[]).expect("valid");
        let got: Vec<String> = page
            .items
            .iter()
            .map(|i| {
                let v: serde_json::Value = serde_json::from_str(i.get()).expect("json");
                crate::catalog::refs::entity_ref_of(&v)
                    .expect("ref")
                    .canonical()
            })
            .collect();
        let fields = parse_order_fields(&[order.to_string()]).expect("order");
        let mut expected: Vec<&crate::catalog::store::StoredEntity> = snap
            .entities
            .iter()
            .filter(|e| crate::catalog::query::order::has_sort_value(&e.keys, &fields[0].field))
            .collect();
        // Ties by canonical ref in the field's direction (Backstage: by entity id, likewise).
        let ascending = [OrderField::new(&fields[0].field, SortOrder::Asc)];
        expected.sort_by(|a, b| {
            let o = compare(&a.keys, &b.keys, &ascending);
            if fields[0].order == SortOrder::Desc {
                o.reverse()
            } else {
                o
            }
        });
        let expected: Vec<String> = expected.iter().map(|e| e.entity_ref.clone()).collect();
        assert!(!got.is_empty(), "{order}");
        assert_eq!(got, expected, "{order}");
    }
}

#[test]
fn indexed_filtering_agrees_with_the_reference_matcher() {
    use crate::catalog::query::{parse_filters, synthetic_entities};
    let snap = snapshot(synthetic_entities(300));
    let cases: &[&[&str]] = &[
        &["kind=component"],
        &["kind=component,spec.type=service"],
        &["kind=api", "kind=domain"],
        &["metadata.tags"],
        &["kind=component,spec.lifecycle=production,spec.lifecycle=experimental"],
        &["relations.ownedby"],
        &["kind=nothing"],
        &["KIND=Component,metadata.namespace=default", "kind=group"],
    ];
    for params in cases {
        let params: Vec<String> = params.iter().map(|p| p.to_string()).collect();
        let filter = parse_filters(&params).expect("valid");
        let bits = snap.filter_index.matching(filter.as_ref(), &snap.entities);
        let indexed: Vec<usize> = (0..snap.entities.len())
            .filter(|&i| bits.contains(i))
            .collect();
        let reference: Vec<usize> = snap
            .entities
            .iter()
            .enumerate()
            .filter(|(_, e)| filter.as_ref().is_none_or(|f| f.matches(&e.keys)))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(indexed, reference, "{params:?}");
    }
    let none = snap.filter_index.matching(None, &snap.entities);
    assert_eq!(
        (0..snap.entities.len())
            .filter(|&i| none.contains(i))
            .count(),
        snap.entities.len()
    );
}
