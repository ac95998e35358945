use crate::Dirs;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::EntityKind::{Field, Node};
use switchyard_core::storage::{Storage, StorageError};
use switchyard_storage::conformance::{self, persistence::Shutdown};
use switchyard_storage::{DumpFormat, MemoryConfig, MemoryStorage};

fn config(interval: &str, format: DumpFormat) -> MemoryConfig {
    MemoryConfig {
        dump_interval: interval.into(),
        dump_format: format,
    }
}

async fn open(dir: &Path, config: &MemoryConfig) -> Arc<dyn Storage> {
    Arc::new(MemoryStorage::open(dir, config).await.unwrap())
}

fn read_yaml(file: &Path) -> Option<Vec<Value>> {
    let text = std::fs::read_to_string(file).ok()?;
    Some(serde_norway::from_str(&text).unwrap())
}

fn read_json(file: &Path) -> Option<Vec<Value>> {
    let text = std::fs::read_to_string(file).ok()?;
    Some(serde_json::from_str(&text).unwrap())
}

/// Waits (in paused time: instantly) until `check` holds, for at most `within`.
async fn eventually(within: Duration, check: impl Fn() -> bool) -> bool {
    let step = Duration::from_millis(100);
    let mut waited = Duration::ZERO;
    while waited <= within {
        if check() {
            return true;
        }
        tokio::time::sleep(step).await;
        waited += step;
    }
    false
}

#[tokio::test]
async fn conforms() {
    let dirs = Dirs::new();
    let yaml = config("1m", DumpFormat::Yaml);
    conformance::run_all(|| {
        let dir = dirs.fresh();
        let yaml = yaml.clone();
        async move { open(&dir, &yaml).await }
    })
    .await;
}

#[tokio::test]
async fn survives_close_and_reopen_in_both_formats() {
    let dirs = Dirs::new();
    for format in [DumpFormat::Yaml, DumpFormat::Json] {
        let dir = dirs.fresh();
        let config = config("1h", format);
        conformance::persistence::survives_reopen(|| open(&dir, &config), Shutdown::Close).await;
    }
}

#[tokio::test(start_paused = true)]
async fn dumps_every_interval_only_what_changed() {
    let dirs = Dirs::new();
    let dir = dirs.fresh();
    let s = open(&dir, &config("10s", DumpFormat::Json)).await;
    let nodes = dir.join("node.json");
    s.upsert(Node, json!({"id": "n1"})).await.unwrap();
    tokio::time::sleep(Duration::from_secs(9)).await;
    assert!(!nodes.exists(), "no dump before the interval");
    let dumped = eventually(Duration::from_secs(2), || {
        read_json(&nodes) == Some(vec![json!({"id": "n1"})])
    });
    assert!(dumped.await, "dumped at the interval");
    assert!(
        !dir.join("field.json").exists(),
        "unchanged kinds are not written"
    );

    std::fs::remove_file(&nodes).unwrap();
    tokio::time::sleep(Duration::from_secs(25)).await;
    assert!(!nodes.exists(), "nothing changed, so nothing was dumped");

    s.upsert(Node, json!({"id": "n2"})).await.unwrap();
    let dumped = eventually(Duration::from_secs(11), || {
        read_json(&nodes) == Some(vec![json!({"id": "n1"}), json!({"id": "n2"})])
    });
    assert!(
        dumped.await,
        "the next change is dumped at the next interval"
    );
    s.close().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_failed_dump_is_retried() {
    let dirs = Dirs::new();
    let dir = dirs.fresh();
    let s = open(&dir, &config("10s", DumpFormat::Yaml)).await;
    std::fs::remove_dir_all(&dir).unwrap();
    s.upsert(Node, json!({"id": "n1"})).await.unwrap();
    let err = s.flush().await;
    assert!(matches!(err, Err(StorageError::Backend(_))), "{err:?}");
    tokio::time::sleep(Duration::from_secs(11)).await;
    std::fs::create_dir_all(&dir).unwrap();
    let nodes = dir.join("node.yaml");
    let dumped = eventually(Duration::from_secs(11), || read_yaml(&nodes).is_some());
    assert!(
        dumped.await,
        "the kind stayed unsaved and was written once possible"
    );
    s.close().await.unwrap();
}

#[tokio::test]
async fn flush_and_close_dump_in_the_configured_format() {
    let dirs = Dirs::new();
    let dir = dirs.fresh();
    let s = open(&dir, &config("1h", DumpFormat::Yaml)).await;
    let node =
        json!({"id": "n1", "name": "kitchen: sensor", "labels": {"room": "kitchen"}, "n": 1.5});
    s.upsert(Node, node.clone()).await.unwrap();
    s.flush().await.unwrap();
    let text = std::fs::read_to_string(dir.join("node.yaml")).unwrap();
    let docs: Vec<Value> = serde_norway::from_str(&text).unwrap();
    assert_eq!(docs, std::slice::from_ref(&node), "{text}");

    s.upsert(Field, json!({"id": "f1", "value": 3}))
        .await
        .unwrap();
    s.close().await.unwrap();
    assert_eq!(
        read_yaml(&dir.join("field.yaml")),
        Some(vec![json!({"id": "f1", "value": 3})])
    );
    assert_eq!(read_yaml(&dir.join("node.yaml")), Some(vec![node]));
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn a_drop_without_close_keeps_only_what_was_dumped() {
    let dirs = Dirs::new();
    let dir = dirs.fresh();
    let config = config("1h", DumpFormat::Json);
    let s = open(&dir, &config).await;
    s.upsert(Node, json!({"id": "dumped"})).await.unwrap();
    s.flush().await.unwrap();
    s.upsert(Node, json!({"id": "lost"})).await.unwrap();
    drop(s);
    let s = open(&dir, &config).await;
    assert!(s.get(Node, "dumped").await.unwrap().is_some());
    assert_eq!(s.get(Node, "lost").await.unwrap(), None);
    s.close().await.unwrap();
}

#[tokio::test]
async fn a_bad_dump_file_stops_the_open_and_names_the_file() {
    let dirs = Dirs::new();
    let cases = [
        ("node.yaml", "- id: [unclosed\n"),
        ("node.yaml", "id: not-a-list\n"),
        ("field.yaml", "- name: no id\n"),
        ("user.yaml", "- id: twice\n- id: twice\n"),
    ];
    for (file, text) in cases {
        let dir = dirs.fresh();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(file), text).unwrap();
        let err = MemoryStorage::open(&dir, &config("1m", DumpFormat::Yaml))
            .await
            .err();
        let err = err.expect("a bad dump must not load").to_string();
        assert!(err.contains(file), "{file}: {err}");
    }
}

#[tokio::test]
async fn dumps_of_the_other_format_are_not_silently_ignored() {
    let dirs = Dirs::new();
    let dir = dirs.fresh();
    let s = open(&dir, &config("1h", DumpFormat::Json)).await;
    s.upsert(Node, json!({"id": "n1"})).await.unwrap();
    s.close().await.unwrap();
    let err = MemoryStorage::open(&dir, &config("1h", DumpFormat::Yaml))
        .await
        .err();
    let err = err.expect("json dumps with dump_format yaml").to_string();
    assert!(
        err.contains("node.json") && err.contains("dump_format"),
        "{err}"
    );
}

#[tokio::test]
async fn a_bad_interval_is_refused() {
    let dirs = Dirs::new();
    for interval in ["0s", "often"] {
        let err = MemoryStorage::open(&dirs.fresh(), &config(interval, DumpFormat::Yaml)).await;
        let err = err.err().expect("bad interval").to_string();
        assert!(err.contains("dump_interval"), "{err}");
    }
}
