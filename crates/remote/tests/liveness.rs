use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use switchyard_bus::EmbeddedBus;
use switchyard_core::bus::{Bus, BusExt};
use switchyard_core::model::{Gateway, Status};
use switchyard_core::store::Store;
use switchyard_remote::liveness::{ANNOUNCE, Announcement, Processes, announce};
use switchyard_storage::{MemoryConfig, MemoryStorage};
use tokio_util::sync::CancellationToken;

async fn settle() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

/// A remote process runs gateway `pi1`; it stops announcing (killed), so the core marks the
/// gateway down after `down_after`; it announces again, and the gateway is up again.
#[tokio::test(start_paused = true)]
async fn a_quiet_process_has_its_gateways_marked_down_and_back_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(Arc::new(
        MemoryStorage::open(dir.path(), &MemoryConfig::default())
            .await
            .unwrap(),
    ));
    store
        .upsert(&Gateway {
            id: "pi1".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let bus: Arc<dyn Bus> = Arc::new(EmbeddedBus::default());
    let cancel = CancellationToken::new();
    let processes = Processes::new(store.clone(), Duration::from_secs(6));
    processes
        .clone()
        .start(bus.clone(), cancel.clone())
        .await
        .unwrap();

    let remote = CancellationToken::new();
    let describe = || Announcement {
        name: "pi".into(),
        services: vec!["gateway".into()],
        gateways: vec!["pi1".into()],
        started: Utc::now(),
    };
    let announcer = tokio::spawn(announce(
        bus.clone(),
        Duration::from_secs(2),
        describe,
        remote.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(5)).await;
    settle().await;
    let snapshot = processes.snapshot();
    assert_eq!(snapshot.len(), 1);
    assert!(snapshot[0].up);
    assert_eq!(snapshot[0].announcement.services, ["gateway"]);

    // Killed: no goodbye, just silence.
    announcer.abort();
    tokio::time::sleep(Duration::from_secs(5)).await;
    settle().await;
    let g: Gateway = store.get("pi1").await.unwrap().unwrap();
    assert_ne!(g.state.status, Status::Down, "not before down_after");
    tokio::time::sleep(Duration::from_secs(3)).await;
    settle().await;
    let g: Gateway = store.get("pi1").await.unwrap().unwrap();
    assert_eq!(g.state.status, Status::Down);
    assert!(
        g.state.message.contains("`pi` stopped announcing"),
        "{}",
        g.state.message
    );
    assert!(!processes.snapshot()[0].up);

    // Back.
    bus.publish_json(ANNOUNCE, &describe()).await.unwrap();
    settle().await;
    let g: Gateway = store.get("pi1").await.unwrap().unwrap();
    assert_eq!(g.state.status, Status::Up);
    assert!(processes.snapshot()[0].up);
    remote.cancel();
    cancel.cancel();
}
