//! Writes: the meaning of each op, atomic batches, deletes, clear, export/import, close.

use super::{id_set, ids};
use serde_json::json;
use std::sync::Arc;
use switchyard_core::EntityKind::{self, Field, Gateway, Node, User};
use switchyard_core::filter::{Filter, Query};
use switchyard_core::storage::{Snapshot, Storage, StorageError, WriteOp};

type Backend = Arc<dyn Storage>;

fn exists(kind: EntityKind, doc: serde_json::Value) -> WriteOp {
    WriteOp::Upsert(kind, doc)
}

pub async fn insert_rejects_duplicates(s: Backend) {
    let doc = json!({"id": "gw1", "name": "serial", "labels": {"location": "attic"}});
    s.insert(Gateway, doc.clone()).await.unwrap();
    assert_eq!(s.get(Gateway, "gw1").await.unwrap(), Some(doc.clone()));
    let err = s
        .insert(Gateway, json!({"id": "gw1", "name": "other"}))
        .await;
    assert!(
        matches!(&err, Err(StorageError::AlreadyExists { kind: Gateway, id }) if id == "gw1"),
        "duplicate insert: {err:?}"
    );
    assert_eq!(
        s.get(Gateway, "gw1").await.unwrap(),
        Some(doc),
        "kept the first"
    );
    s.close().await.unwrap();
}

pub async fn upsert_creates_and_replaces(s: Backend) {
    s.upsert(Node, json!({"id": "n1", "name": "first", "old": true}))
        .await
        .unwrap();
    s.upsert(Node, json!({"id": "n1", "name": "second"}))
        .await
        .unwrap();
    assert_eq!(
        s.get(Node, "n1").await.unwrap(),
        Some(json!({"id": "n1", "name": "second"})),
        "an upsert replaces the whole document"
    );
    assert_eq!(s.find(Node, &Query::all()).await.unwrap().count, 1);
    s.close().await.unwrap();
}

pub async fn update_needs_an_existing_id(s: Backend) {
    let err = s.update(Node, json!({"id": "ghost"})).await;
    assert!(
        matches!(&err, Err(StorageError::NotFound { kind: Node, id }) if id == "ghost"),
        "update of a missing id: {err:?}"
    );
    assert_eq!(s.get(Node, "ghost").await.unwrap(), None, "created nothing");
    s.insert(Node, json!({"id": "n1", "v": 1})).await.unwrap();
    s.update(Node, json!({"id": "n1", "v": 2})).await.unwrap();
    assert_eq!(
        s.get(Node, "n1").await.unwrap(),
        Some(json!({"id": "n1", "v": 2}))
    );
    s.close().await.unwrap();
}

pub async fn get_of_a_missing_id_is_none(s: Backend) {
    assert_eq!(s.get(Node, "nothing").await.unwrap(), None);
    s.upsert(Node, json!({"id": "n1"})).await.unwrap();
    assert_eq!(s.get(Node, "N1").await.unwrap(), None, "ids are exact");
    assert_eq!(s.get(Field, "n1").await.unwrap(), None, "ids are per kind");
    s.close().await.unwrap();
}

pub async fn documents_need_a_string_id(s: Backend) {
    let bad = [
        json!({"name": "no id"}),
        json!({"id": 42}),
        json!({"id": ""}),
        json!({"id": null}),
        json!(["id"]),
    ];
    for doc in bad {
        for op in [
            WriteOp::Insert(Node, doc.clone()),
            WriteOp::Upsert(Node, doc.clone()),
            WriteOp::Update(Node, doc.clone()),
        ] {
            let err = s.apply(vec![op]).await;
            assert!(
                matches!(err, Err(StorageError::InvalidDocument(_))),
                "{doc}: {err:?}"
            );
        }
    }
    assert_eq!(s.export().await.unwrap(), Snapshot::new(), "stored nothing");
    s.close().await.unwrap();
}

pub async fn apply_is_all_or_nothing(s: Backend) {
    s.apply(vec![
        exists(Node, json!({"id": "a", "v": 1})),
        exists(Node, json!({"id": "x"})),
        exists(Node, json!({"id": "y"})),
    ])
    .await
    .unwrap();
    let before = s.export().await.unwrap();
    let err = s
        .apply(vec![
            WriteOp::Insert(Node, json!({"id": "b"})),
            WriteOp::Upsert(Node, json!({"id": "a", "v": 2})),
            WriteOp::Upsert(Field, json!({"id": "f"})),
            WriteOp::Delete(Node, "x".into()),
            WriteOp::Insert(Node, json!({"id": "y"})),
        ])
        .await;
    assert!(
        matches!(err, Err(StorageError::AlreadyExists { .. })),
        "{err:?}"
    );
    assert_eq!(
        s.export().await.unwrap(),
        before,
        "a failed batch changes nothing"
    );
    let err = s
        .apply(vec![
            WriteOp::Insert(Node, json!({"id": "c"})),
            WriteOp::Upsert(Node, json!({"no": "id"})),
        ])
        .await;
    assert!(
        matches!(err, Err(StorageError::InvalidDocument(_))),
        "{err:?}"
    );
    assert_eq!(s.export().await.unwrap(), before);
    s.apply(Vec::new()).await.unwrap();
    assert_eq!(
        s.export().await.unwrap(),
        before,
        "an empty batch is a no-op"
    );
    s.close().await.unwrap();
}

pub async fn later_ops_see_earlier_ops_of_a_batch(s: Backend) {
    s.upsert(Node, json!({"id": "old"})).await.unwrap();
    s.apply(vec![
        WriteOp::Insert(Node, json!({"id": "new", "v": 1})),
        WriteOp::Update(Node, json!({"id": "new", "v": 2})),
        WriteOp::Delete(Node, "old".into()),
        WriteOp::Insert(Node, json!({"id": "old", "v": 3})),
    ])
    .await
    .unwrap();
    assert_eq!(
        s.get(Node, "new").await.unwrap(),
        Some(json!({"id": "new", "v": 2}))
    );
    assert_eq!(
        s.get(Node, "old").await.unwrap(),
        Some(json!({"id": "old", "v": 3}))
    );
    let twice = vec![
        WriteOp::Insert(Node, json!({"id": "twice"})),
        WriteOp::Insert(Node, json!({"id": "twice"})),
    ];
    assert!(matches!(
        s.apply(twice).await,
        Err(StorageError::AlreadyExists { .. })
    ));
    assert_eq!(s.get(Node, "twice").await.unwrap(), None);
    s.close().await.unwrap();
}

pub async fn delete_by_filters_counts(s: Backend) {
    for (id, room) in [
        ("n1", "kitchen"),
        ("n2", "hall"),
        ("n3", "Kitchen"),
        ("n4", "attic"),
    ] {
        s.upsert(Node, json!({"id": id, "labels": {"room": room}}))
            .await
            .unwrap();
    }
    s.upsert(Field, json!({"id": "f1", "labels": {"room": "kitchen"}}))
        .await
        .unwrap();
    let kitchen = [Filter::eq("labels.room", "kitchen")];
    assert_eq!(
        s.delete(Node, &kitchen).await.unwrap(),
        1,
        "eq is case-sensitive"
    );
    let regex = [Filter::new(
        "labels.room",
        switchyard_core::filter::Operator::Regex,
        "^k|^h",
    )];
    assert_eq!(s.delete(Node, &regex).await.unwrap(), 2);
    assert_eq!(
        s.delete(Node, &regex).await.unwrap(),
        0,
        "nothing left to match"
    );
    assert_eq!(ids(&*s, Node, Query::all()).await, ["n4"]);
    assert!(
        s.get(Field, "f1").await.unwrap().is_some(),
        "other kinds untouched"
    );
    assert_eq!(
        s.delete(Node, &[]).await.unwrap(),
        1,
        "no filters: everything"
    );
    s.close().await.unwrap();
}

pub async fn delete_ids_removes_only_those(s: Backend) {
    for id in ["a", "b", "c"] {
        s.upsert(Node, json!({"id": id})).await.unwrap();
    }
    s.delete_ids(Node, &["a".into(), "missing".into(), "c".into()])
        .await
        .unwrap();
    assert_eq!(id_set(&*s, Node, Query::all()).await, ["b"]);
    s.close().await.unwrap();
}

pub async fn clear_removes_everything(s: Backend) {
    for kind in [Node, Field, User] {
        s.upsert(kind, json!({"id": "x"})).await.unwrap();
    }
    s.clear().await.unwrap();
    assert_eq!(s.export().await.unwrap(), Snapshot::new());
    assert_eq!(s.get(Field, "x").await.unwrap(), None);
    s.insert(Node, json!({"id": "x"})).await.unwrap();
    assert_eq!(
        s.find(Node, &Query::all()).await.unwrap().count,
        1,
        "usable after"
    );
    s.close().await.unwrap();
}

pub async fn kinds_are_kept_apart(s: Backend) {
    s.upsert(Node, json!({"id": "shared", "is": "node"}))
        .await
        .unwrap();
    s.upsert(Field, json!({"id": "shared", "is": "field"}))
        .await
        .unwrap();
    s.insert(Gateway, json!({"id": "shared"})).await.unwrap();
    assert_eq!(s.get(Node, "shared").await.unwrap().unwrap()["is"], "node");
    assert_eq!(
        s.get(Field, "shared").await.unwrap().unwrap()["is"],
        "field"
    );
    s.delete_ids(Node, &["shared".into()]).await.unwrap();
    assert_eq!(s.get(Node, "shared").await.unwrap(), None);
    assert!(s.get(Field, "shared").await.unwrap().is_some());
    for kind in EntityKind::ALL {
        let expected = u64::from(kind == Field || kind == Gateway);
        let count = s.find(kind, &Query::all()).await.unwrap().count;
        assert_eq!(count, expected, "{kind}");
    }
    s.close().await.unwrap();
}

pub async fn export_import_round_trip(source: Backend, target: Backend) {
    let mut expected = Snapshot::new();
    for kind in EntityKind::ALL {
        let docs: Vec<_> = (0..3)
            .map(|i| json!({"id": format!("{kind}-{i}"), "n": i, "nested": {"kind": kind}}))
            .collect();
        for doc in &docs {
            source.upsert(kind, doc.clone()).await.unwrap();
        }
        expected.insert(kind, docs);
    }
    let snapshot = source.export().await.unwrap();
    assert_eq!(sorted(snapshot.clone()), sorted(expected));

    target.upsert(Node, json!({"id": "stale"})).await.unwrap();
    let duplicate = Snapshot::from([(Node, vec![json!({"id": "d"}), json!({"id": "d"})])]);
    let err = target.import(duplicate).await;
    assert!(
        matches!(err, Err(StorageError::InvalidDocument(_))),
        "{err:?}"
    );
    assert!(
        target.get(Node, "stale").await.unwrap().is_some(),
        "a bad import changes nothing"
    );

    target.import(snapshot.clone()).await.unwrap();
    assert_eq!(sorted(target.export().await.unwrap()), sorted(snapshot));
    assert_eq!(
        target.get(Node, "stale").await.unwrap(),
        None,
        "import replaces"
    );
    source.close().await.unwrap();
    target.close().await.unwrap();
}

pub async fn closed_storage_refuses_calls(s: Backend) {
    s.upsert(Node, json!({"id": "n1"})).await.unwrap();
    s.close().await.unwrap();
    let closed = |r: Result<(), StorageError>| matches!(r, Err(StorageError::Closed));
    assert!(closed(s.upsert(Node, json!({"id": "n2"})).await));
    assert!(closed(s.clear().await));
    assert!(closed(s.import(Snapshot::new()).await));
    assert!(closed(s.flush().await));
    assert!(matches!(s.get(Node, "n1").await, Err(StorageError::Closed)));
    assert!(matches!(
        s.find(Node, &Query::all()).await,
        Err(StorageError::Closed)
    ));
    assert!(matches!(s.export().await, Err(StorageError::Closed)));
    s.close().await.expect("closing twice is harmless");
}

/// Export order within a kind is the backend's choice; compare by id.
fn sorted(mut snapshot: Snapshot) -> Snapshot {
    for docs in snapshot.values_mut() {
        docs.sort_by_key(super::id_of);
    }
    snapshot
}
