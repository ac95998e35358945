//! Many writers at once: nothing lost, nothing torn.

use serde_json::json;
use std::sync::Arc;
use switchyard_core::EntityKind::Node;
use switchyard_core::filter::Query;
use switchyard_core::storage::Storage;

type Backend = Arc<dyn Storage>;

const TASKS: usize = 16;

pub async fn concurrent_writers_of_distinct_ids(s: Backend) {
    const EACH: usize = 200;
    let writers: Vec<_> = (0..TASKS)
        .map(|t| {
            let s = s.clone();
            tokio::spawn(async move {
                for i in 0..EACH {
                    let doc = json!({"id": format!("t{t}-{i}"), "task": t, "i": i});
                    s.upsert(Node, doc).await.unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let all = s.find(Node, &Query::all()).await.unwrap();
    assert_eq!(all.count, (TASKS * EACH) as u64);
    for doc in &all.data {
        let expected = format!("t{}-{}", doc["task"], doc["i"]);
        assert_eq!(doc["id"], expected.as_str());
    }
    s.close().await.unwrap();
}

pub async fn concurrent_writers_of_one_id(s: Backend) {
    const EACH: usize = 50;
    let writers: Vec<_> = (0..TASKS)
        .map(|t| {
            let s = s.clone();
            tokio::spawn(async move {
                for i in 0..EACH {
                    let doc = json!({"id": "same", "task": t, "i": i, "check": format!("{t}/{i}")});
                    s.upsert(Node, doc).await.unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let doc = s.get(Node, "same").await.unwrap().unwrap();
    let (task, i) = (doc["task"].as_u64().unwrap(), doc["i"].as_u64().unwrap());
    assert!(task < TASKS as u64, "{doc}");
    // The last write applied is some writer's last write.
    assert_eq!(i, EACH as u64 - 1, "{doc}");
    assert_eq!(
        doc["check"],
        format!("{task}/{i}").as_str(),
        "one whole version: {doc}"
    );
    assert_eq!(s.find(Node, &Query::all()).await.unwrap().count, 1);
    s.close().await.unwrap();
}
