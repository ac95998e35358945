use crate::Dirs;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use switchyard_core::EntityKind;
use switchyard_core::storage::{Storage, StorageError, WriteOp};
use switchyard_storage::conformance::{self, persistence::Shutdown};
use switchyard_storage::{EmbeddedConfig, EmbeddedStorage, embedded};

async fn open(dir: &Path) -> Arc<dyn Storage> {
    Arc::new(
        EmbeddedStorage::open(dir, &EmbeddedConfig::default())
            .await
            .unwrap(),
    )
}

#[tokio::test]
async fn conforms() {
    let dirs = Dirs::new();
    conformance::run_all(|| {
        let dir = dirs.fresh();
        async move { open(&dir).await }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conforms_on_many_threads() {
    let dirs = Dirs::new();
    let s = open(&dirs.fresh()).await;
    conformance::concurrency::concurrent_writers_of_distinct_ids(s).await;
    let s = open(&dirs.fresh()).await;
    conformance::concurrency::concurrent_writers_of_one_id(s).await;
}

#[tokio::test]
async fn acknowledged_writes_survive_a_drop_without_close() {
    let dirs = Dirs::new();
    let dir = dirs.fresh();
    conformance::persistence::survives_reopen(|| open(&dir), Shutdown::Drop).await;
}

#[tokio::test]
async fn survives_close_and_reopen() {
    let dirs = Dirs::new();
    let dir = dirs.fresh();
    conformance::persistence::survives_reopen(|| open(&dir), Shutdown::Close).await;
}

#[tokio::test]
async fn a_tiny_queue_only_slows_writers_down() {
    let dirs = Dirs::new();
    let config = EmbeddedConfig {
        queue_capacity: 1,
        max_batch: 1,
    };
    let s: Arc<dyn Storage> =
        Arc::new(EmbeddedStorage::open(&dirs.fresh(), &config).await.unwrap());
    conformance::concurrency::concurrent_writers_of_distinct_ids(s).await;
}

/// The file layout is a promise to anyone inspecting or migrating the data: one table per
/// entity kind, id → JSON.
#[tokio::test]
async fn the_file_holds_one_json_table_per_kind() {
    use redb::{ReadableDatabase, ReadableTable, TableDefinition};
    let dirs = Dirs::new();
    let dir = dirs.fresh();
    let s = open(&dir).await;
    s.upsert(
        EntityKind::ForwardPayload,
        json!({"id": "fp1", "payload": "{{value}}"}),
    )
    .await
    .unwrap();
    s.close().await.unwrap();

    let db = redb::Database::open(dir.join(embedded::FILE_NAME)).unwrap();
    let txn = db.begin_read().unwrap();
    let table: redb::ReadOnlyTable<&str, &[u8]> = txn
        .open_table(TableDefinition::new("forward_payload"))
        .unwrap();
    let rows: Vec<(String, Value)> = table
        .iter()
        .unwrap()
        .map(|row| {
            let (k, v) = row.unwrap();
            (
                k.value().to_string(),
                serde_json::from_slice(v.value()).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [(
            "fp1".to_string(),
            json!({"id": "fp1", "payload": "{{value}}"})
        )]
    );
}

#[tokio::test]
async fn a_damaged_file_is_an_error_not_a_crash() {
    let dirs = Dirs::new();
    let dir = dirs.fresh();
    std::fs::create_dir_all(&dir).unwrap();
    let garbage: Vec<u8> = (0..64 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(dir.join(embedded::FILE_NAME), garbage).unwrap();
    let err = EmbeddedStorage::open(&dir, &EmbeddedConfig::default())
        .await
        .err();
    let err = err.expect("opening garbage must fail");
    assert!(matches!(err, StorageError::Backend(_)), "{err:?}");
    assert!(
        err.to_string().contains(embedded::FILE_NAME),
        "names the file: {err}"
    );
}

#[tokio::test]
async fn a_second_open_of_the_same_file_is_refused() {
    let dirs = Dirs::new();
    let dir = dirs.fresh();
    let first = open(&dir).await;
    let second = EmbeddedStorage::open(&dir, &EmbeddedConfig::default()).await;
    assert!(second.is_err(), "two writers on one file would corrupt it");
    first.close().await.unwrap();
    open(&dir).await.close().await.unwrap();
}

/// redb panics on some damage inside a file that was shut down cleanly; that must reach the
/// user as an error naming the file, not take the process down.
#[tokio::test]
async fn a_file_damaged_inside_is_an_error_not_a_crash() {
    let dirs = Dirs::new();
    let dir = dirs.fresh();
    let s = open(&dir).await;
    let ops = (0..2000)
        .map(|i| {
            WriteOp::Upsert(
                EntityKind::Node,
                json!({"id": format!("n{i}"), "pad": "x".repeat(100)}),
            )
        })
        .collect();
    s.apply(ops).await.unwrap();
    s.close().await.unwrap();
    let path = dir.join(embedded::FILE_NAME);
    let mut bytes = std::fs::read(&path).unwrap();
    let len = bytes.len();
    for b in &mut bytes[len / 4..len * 3 / 4] {
        *b ^= 0x5a;
    }
    std::fs::write(&path, bytes).unwrap();
    let err = EmbeddedStorage::open(&dir, &EmbeddedConfig::default())
        .await
        .err();
    let err = err.expect("opening a damaged file must fail").to_string();
    assert!(err.contains(embedded::FILE_NAME), "{err}");
}

const CRASH_DIR: &str = "SWITCHYARD_STORAGE_CRASH_DIR";
const CRASH_TEST: &str = "embedded::writes_acknowledged_before_a_sigkill_survive_it";

/// The embedded backend's promise, tested as a user would meet it: the process is SIGKILLed
/// while writers are busy, and every write acknowledged before the kill is there afterwards.
/// Run normally this test is the parent; it re-runs itself (this one test) as the writer child.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_acknowledged_before_a_sigkill_survive_it() {
    if let Some(dir) = std::env::var_os(CRASH_DIR) {
        return write_until_killed(Path::new(&dir)).await;
    }
    use tokio::io::AsyncBufReadExt;
    let dirs = Dirs::new();
    let dir = dirs.fresh();
    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", CRASH_TEST, "--nocapture"])
        .env(CRASH_DIR, &dir)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acknowledged = Vec::new();
    while acknowledged.len() < 500 {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("the child stopped early");
        if let Some(id) = line.strip_prefix("ack ") {
            acknowledged.push(id.to_string());
        }
    }
    child.kill().await.unwrap();

    let s = open(&dir).await;
    for id in &acknowledged {
        let doc = s.get(EntityKind::Node, id).await.unwrap();
        assert_eq!(
            doc,
            Some(json!({"id": id, "body": id.repeat(10)})),
            "lost {id}"
        );
    }
    s.close().await.unwrap();
}

async fn write_until_killed(dir: &Path) {
    let s = open(dir).await;
    let writers: Vec<_> = (0..8)
        .map(|t| {
            let s = s.clone();
            tokio::spawn(async move {
                for i in 0.. {
                    let id = format!("t{t}-{i}");
                    let doc = json!({"id": id, "body": id.repeat(10)});
                    s.upsert(EntityKind::Node, doc).await.unwrap();
                    println!("ack {id}");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
}

/// `get_shared` hands out the cached document: the same content as `get`, and a later write
/// gives a new one without changing the one handed out.
#[tokio::test]
async fn shared_reads_see_writes_and_stay_unchanged() {
    let dirs = Dirs::new();
    let dir = dirs.fresh();
    let s = open(&dir).await;
    let id = "gw.1.2.t";
    s.upsert(EntityKind::Field, json!({"id": id, "v": 1}))
        .await
        .unwrap();
    let first = s.get_shared(EntityKind::Field, id).await.unwrap().unwrap();
    assert_eq!(*first, json!({"id": id, "v": 1}));
    s.upsert(EntityKind::Field, json!({"id": id, "v": 2}))
        .await
        .unwrap();
    let second = s.get_shared(EntityKind::Field, id).await.unwrap().unwrap();
    assert_eq!(*second, json!({"id": id, "v": 2}));
    assert_eq!(*first, json!({"id": id, "v": 1}));
    assert_eq!(
        s.get(EntityKind::Field, id).await.unwrap(),
        Some(json!({"id": id, "v": 2}))
    );
    s.close().await.unwrap();
    // Reopened: nothing cached, read from the file.
    let s = open(&dir).await;
    let third = s.get_shared(EntityKind::Field, id).await.unwrap().unwrap();
    assert_eq!(*third, json!({"id": id, "v": 2}));
    assert!(
        s.get_shared(EntityKind::Field, "gw.1.2.x")
            .await
            .unwrap()
            .is_none()
    );
    s.close().await.unwrap();
}
