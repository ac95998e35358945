//! The server drops every connection of ours (as a restart does) while writes go on: writes
//! retry, and every write that was acknowledged is there afterwards.

use crate::Server;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::EntityKind::Node;
use switchyard_core::filter::Query;
use switchyard_core::storage::Storage;
use switchyard_storage_postgres::PostgresStorage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_dropped_connections() {
    let Some(server) = Server::connect("acknowledged_writes_survive_dropped_connections").await
    else {
        return;
    };
    let schema = server.fresh_schema();
    let app = format!("sytest_reconnect_{}", std::process::id());
    let mut config = server.config(&schema);
    config.url = format!("{}?application_name={app}", crate::url());
    let storage = Arc::new(PostgresStorage::open(&config).await.unwrap());

    let writer = {
        let storage = storage.clone();
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0..400 {
                let id = format!("n{i}");
                match storage.upsert(Node, json!({"id": id, "i": i})).await {
                    Ok(()) => acknowledged.push(id),
                    // Only a failure during COMMIT may surface; it is not acknowledged.
                    Err(e) => eprintln!("write {i} failed: {e}"),
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            acknowledged
        })
    };
    let mut terminated = 0;
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let row: (i64,) = sqlx::query_as(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1) t",
        )
        .bind(&app)
        .fetch_one(server.admin())
        .await
        .unwrap();
        terminated += row.0;
    }
    let acknowledged = writer.await.unwrap();
    assert!(terminated > 0, "the test dropped no connection");
    assert!(
        acknowledged.len() >= 395,
        "writes retried across dropped connections: {} of 400 acknowledged",
        acknowledged.len()
    );
    for id in &acknowledged {
        assert!(
            storage.get(Node, id).await.unwrap().is_some(),
            "acknowledged {id} is missing"
        );
    }
    let count = storage.find(Node, &Query::all()).await.unwrap().count;
    assert!(count >= acknowledged.len() as u64);
    storage.close().await.unwrap();
    server.cleanup().await;
}
