//! For backends that persist: what was acknowledged is there after a reopen.

use serde_json::json;
use std::future::Future;
use std::sync::Arc;
use switchyard_core::EntityKind::{Field, Node, Settings, User};
use switchyard_core::storage::{Snapshot, Storage, WriteOp};

/// How the first instance ends before the reopen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// A clean `close()`.
    Close,
    /// Dropped without `close()`, as after a crash: only a backend that makes every write
    /// durable before acknowledging it can pass with this.
    Drop,
}

/// `open` opens the same location on every call.
pub async fn survives_reopen<F, Fut>(open: F, shutdown: Shutdown)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Storage>>,
{
    let s = open().await;
    s.insert(Node, json!({"id": "n1", "labels": {"room": "hall"}}))
        .await
        .unwrap();
    s.apply(vec![
        WriteOp::Upsert(Field, json!({"id": "f1", "value": 21.5})),
        WriteOp::Upsert(Field, json!({"id": "f2", "value": true})),
        WriteOp::Insert(User, json!({"id": "admin", "name": "Ädmin ✓"})),
    ])
    .await
    .unwrap();
    s.update(Field, json!({"id": "f1", "value": 22}))
        .await
        .unwrap();
    s.delete_ids(Field, &["f2".into()]).await.unwrap();
    for i in 0..50 {
        s.upsert(Node, json!({"id": format!("bulk{i}"), "i": i}))
            .await
            .unwrap();
    }
    let before = s.export().await.unwrap();
    end(s, shutdown).await;

    let s = open().await;
    assert_eq!(s.export().await.unwrap(), before, "after the first reopen");
    // The reopened store keeps writing on top of what it loaded, and a clear persists too.
    s.clear().await.unwrap();
    s.upsert(Settings, json!({"id": "system", "language": "en"}))
        .await
        .unwrap();
    let before = s.export().await.unwrap();
    assert_eq!(
        before,
        Snapshot::from([(Settings, vec![json!({"id": "system", "language": "en"})])])
    );
    end(s, shutdown).await;

    let s = open().await;
    assert_eq!(s.export().await.unwrap(), before, "after the second reopen");
    s.close().await.unwrap();
}

async fn end(s: Arc<dyn Storage>, shutdown: Shutdown) {
    match shutdown {
        Shutdown::Close => s.close().await.unwrap(),
        Shutdown::Drop => drop(s),
    }
}
