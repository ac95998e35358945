//! A batch interrupted after its journal entry was written (the process died mid-batch) is
//! completed when the storage is opened again: all of it, not part.

use crate::Server;
use mongodb::bson::{Bson, Document, doc};
use serde_json::json;
use switchyard_core::EntityKind::{Field, Node};
use switchyard_core::storage::{Storage, WriteOp};
use switchyard_storage_mongodb::MongodbStorage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_batch_is_completed_on_open() {
    let Some(server) = Server::connect("an_interrupted_batch_is_completed_on_open").await else {
        return;
    };
    let database = server.fresh_database();
    let config = server.config(&database);
    let s = MongodbStorage::open(&config).await.unwrap();
    s.apply(vec![
        WriteOp::Upsert(Node, json!({"id": "n1", "v": 1})),
        WriteOp::Upsert(Node, json!({"id": "gone"})),
    ])
    .await
    .unwrap();
    s.close().await.unwrap();

    // What a batch leaves in the journal before it touches the collections; the process then
    // dies: only its first write reached the collection.
    let db = server.admin().database(&database);
    db.collection::<Document>("sy_journal")
        .insert_one(doc! {
            "_id": mongodb::bson::oid::ObjectId::new(),
            "writes": [
                { "kind": "node", "id": "n1", "json": r#"{"id":"n1","v":2}"# },
                { "kind": "node", "id": "gone", "json": Bson::Null },
                { "kind": "field", "id": "f1", "json": r#"{"id":"f1","on":true}"# },
            ],
        })
        .await
        .unwrap();
    db.collection::<Document>("sy_node")
        .update_one(
            doc! { "_id": "n1" },
            doc! { "$set": { "json": r#"{"id":"n1","v":2}"# } },
        )
        .await
        .unwrap();

    let s = MongodbStorage::open(&config).await.unwrap();
    assert_eq!(
        s.get(Node, "n1").await.unwrap(),
        Some(json!({"id": "n1", "v": 2}))
    );
    assert_eq!(s.get(Node, "gone").await.unwrap(), None);
    assert_eq!(
        s.get(Field, "f1").await.unwrap(),
        Some(json!({"id": "f1", "on": true}))
    );
    let left = db
        .collection::<Document>("sy_journal")
        .count_documents(doc! {})
        .await
        .unwrap();
    assert_eq!(left, 0, "the journal entry is removed once applied");
    s.close().await.unwrap();
    server.cleanup().await;
}
