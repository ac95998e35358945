use serde_json::json;
use switchyard_core::EntityKind::Node;
use switchyard_storage::{StorageConfig, open};

#[tokio::test]
async fn the_default_is_the_embedded_backend_under_storage() {
    let data = tempfile::tempdir().unwrap();
    let s = open(&StorageConfig::default(), data.path()).await.unwrap();
    assert_eq!(s.name(), "embedded");
    s.upsert(Node, json!({"id": "n1"})).await.unwrap();
    s.close().await.unwrap();
    assert!(data.path().join("storage/switchyard.redb").is_file());
}

#[tokio::test]
async fn a_memory_section_opens_the_memory_backend() {
    let data = tempfile::tempdir().unwrap();
    let config: StorageConfig =
        serde_norway::from_str("type: memory\ndump_interval: 5m\ndump_format: json\n").unwrap();
    let s = open(&config, data.path()).await.unwrap();
    assert_eq!(s.name(), "memory");
    s.upsert(Node, json!({"id": "n1"})).await.unwrap();
    s.close().await.unwrap();
    let text = std::fs::read_to_string(data.path().join("storage/node.json")).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).unwrap(),
        json!([{"id": "n1"}])
    );
}

#[tokio::test]
async fn a_bad_section_is_an_error() {
    let data = tempfile::tempdir().unwrap();
    let config: StorageConfig = serde_norway::from_str("type: embedded\nmax_batch: 0\n").unwrap();
    assert!(open(&config, data.path()).await.is_err());
}
