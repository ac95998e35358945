use chrono::{DateTime, Utc};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use switchyard_automation::{AutomationConfig, Clock, Context};
use switchyard_bus::{EmbeddedBus, EmbeddedBusConfig};
use switchyard_core::bus::{Bus, BusExt, Subscription};
use switchyard_core::storage::Storage;
use switchyard_core::store::Store;
use switchyard_core::{Event, EventType, Resource};
use switchyard_storage::StorageConfig;
use tokio_util::sync::CancellationToken;

pub struct Harness {
    #[allow(dead_code)]
    pub storage: Arc<dyn Storage>,
    pub store: Store,
    pub bus: Arc<dyn Bus>,
    pub clock: Clock,
    pub dir: tempfile::TempDir,
    pub cancel: CancellationToken,
}

impl Harness {
    /// Memory storage (no I/O threads, so paused time only moves when every task waits on a
    /// timer), an embedded bus, and a clock that starts at `start` and follows tokio time.
    pub async fn new(start: DateTime<Utc>) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let storage = switchyard_storage::open(
            &serde_norway::from_str::<StorageConfig>("type: memory\ndump_interval: 1h\n").unwrap(),
            dir.path(),
        )
        .await
        .unwrap();
        let bus: Arc<dyn Bus> = Arc::new(
            EmbeddedBus::new(&EmbeddedBusConfig {
                subscriber_capacity: 4096,
                publish_wait: "10s".into(),
            })
            .unwrap(),
        );
        Harness {
            store: Store::new(storage.clone()),
            storage,
            bus,
            clock: Clock::starting_at(start),
            dir,
            cancel: CancellationToken::new(),
        }
    }

    pub fn context(&self, tz: &str) -> Arc<Context> {
        let cfg = AutomationConfig {
            timezone: tz.into(),
            ..Default::default()
        };
        Context::new(
            self.store.clone(),
            self.bus.clone(),
            cfg,
            self.dir.path().to_path_buf(),
            self.clock.clone(),
        )
        .unwrap()
    }

    /// Stores a resource and announces it, as the API does.
    pub async fn put<T: Resource>(&self, r: &T) {
        let existed = self.store.get::<T>(r.id()).await.unwrap().is_some();
        self.store.upsert(r).await.unwrap();
        let doc = switchyard_core::store::to_document(r).unwrap();
        let t = if existed {
            EventType::Updated
        } else {
            EventType::Created
        };
        let e = Event::new(t, T::KIND, r.id(), doc);
        self.bus.publish_json(&e.subject(), &e).await.unwrap();
    }

    pub async fn sub(&self, pattern: &str) -> Subscription {
        self.bus.subscribe(pattern).await.unwrap()
    }
}

/// The next message within `wait` (tokio time), as JSON.
pub async fn next_json(sub: &mut Subscription, wait: Duration) -> Option<Value> {
    tokio::time::timeout(wait, sub.next())
        .await
        .ok()
        .flatten()
        .map(|m| m.json::<Value>().unwrap())
}

/// Polls `check` on the store until it holds (real or paused time), up to `wait`.
pub async fn eventually<F, Fut>(wait: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Lets every ready task run without moving paused time.
pub async fn settle() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}
