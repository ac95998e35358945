use std::sync::Arc;
use std::time::Duration;
use switchyard_bus::EmbeddedBus;
use switchyard_core::EntityKind;
use switchyard_core::bus::Bus;
use switchyard_core::storage::{Storage, StorageError};
use switchyard_remote::{RemoteStorage, ResourceService};
use switchyard_storage::{MemoryConfig, MemoryStorage};
use tokio_util::sync::CancellationToken;

/// A remote storage in front of a fresh memory backend, through a resource service on its bus.
async fn remote(dir: &std::path::Path, cancel: &CancellationToken) -> Arc<dyn Storage> {
    let bus: Arc<dyn Bus> = Arc::new(EmbeddedBus::default());
    let n = std::sync::atomic::AtomicUsize::new(0);
    let backend: Arc<dyn Storage> = Arc::new(
        MemoryStorage::open(
            &dir.join(format!("{}-{}", uuid_ish(), n.into_inner())),
            &MemoryConfig::default(),
        )
        .await
        .unwrap(),
    );
    ResourceService::new(bus.clone(), backend)
        .start(cancel.child_token())
        .await
        .unwrap();
    Arc::new(RemoteStorage::new(bus, Duration::from_secs(30)))
}

fn uuid_ish() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_storage_keeps_the_storage_promises() {
    let dir = tempfile::tempdir().unwrap();
    let cancel = CancellationToken::new();
    let c = &cancel;
    let d = dir.path();
    switchyard_storage::conformance::run_all(|| async move { remote(d, c).await }).await;
    cancel.cancel();
}

#[tokio::test]
async fn without_a_resource_service_a_call_fails_with_a_reason() {
    let bus: Arc<dyn Bus> = Arc::new(EmbeddedBus::default());
    let storage = RemoteStorage::new(bus, Duration::from_secs(30));
    let err = storage.get(EntityKind::Node, "gw.1").await.unwrap_err();
    assert!(
        matches!(&err, StorageError::Backend(m) if m.contains("resource service")),
        "{err}"
    );
}
