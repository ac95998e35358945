//! A whole gateway pipeline on loopback: embedded bus, embedded storage and metrics, the real
//! message processor, and the gateway service with the built-in providers.

use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use switchyard_bus::{EmbeddedBus, EmbeddedBusConfig};
use switchyard_core::bus::{Bus, BusExt};
use switchyard_core::metrics::MetricStore;
use switchyard_core::model::{Field, Gateway, State, Status};
use switchyard_core::store::{Store, to_document};
use switchyard_core::{EntityKind, Event, EventType, Message, topics};
use switchyard_gateway::service::GatewayServiceStats;
use switchyard_gateway::{GatewayService, GatewayStatsSnapshot, ProviderRegistry};
use switchyard_processor::{Processor, ProcessorConfig};
use tokio_util::sync::CancellationToken;

/// Upper bound for anything the tests wait for; a failing test waits this long, a passing one
/// only as long as the thing takes.
pub const WAIT: Duration = Duration::from_secs(20);

pub struct Harness {
    pub bus: Arc<dyn Bus>,
    pub store: Store,
    pub stats: GatewayServiceStats,
    metrics: Arc<dyn MetricStore>,
    cancel: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// A gateway running the `echo` provider over `protocol`, reconnecting after 1 s.
pub fn echo_gateway(id: &str, protocol: Value) -> Gateway {
    Gateway {
        id: id.into(),
        reconnect_delay: "1s".into(),
        provider:
            json!({"type": "echo", "protocol": protocol, "ackTimeout": "100ms", "retryCount": 1})
                .as_object()
                .cloned()
                .unwrap(),
        ..Default::default()
    }
}

impl Harness {
    pub async fn start(gateways: &[Gateway]) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let bus: Arc<dyn Bus> = Arc::new(
            EmbeddedBus::new(&EmbeddedBusConfig {
                subscriber_capacity: 4096,
                publish_wait: "10s".into(),
            })
            .unwrap(),
        );
        let storage = switchyard_storage::open(&Default::default(), dir.path())
            .await
            .unwrap();
        let store = Store::new(storage);
        let metrics = switchyard_metrics::open(&Default::default(), dir.path())
            .await
            .unwrap();
        for g in gateways {
            store.upsert(g).await.unwrap();
        }
        let cancel = CancellationToken::new();
        let processor = Processor::new(
            bus.clone(),
            store.clone(),
            metrics.clone(),
            ProcessorConfig::default(),
        );
        let processor = processor.start(cancel.child_token()).await.unwrap();
        let service = GatewayService::new(
            bus.clone(),
            store.clone(),
            ProviderRegistry::builtin(),
            dir.path(),
        );
        let stats = service.stats();
        let gateway = service.start(cancel.child_token()).await.unwrap();
        Harness {
            bus,
            store,
            stats,
            metrics,
            cancel,
            tasks: vec![gateway, processor],
            _dir: dir,
        }
    }

    /// The data directory the gateway service was given (firmware uploads live below it).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub async fn gateway_state(&self, id: &str) -> State {
        self.store
            .get::<Gateway>(id)
            .await
            .unwrap()
            .map(|g| g.state)
            .unwrap_or_default()
    }

    /// Waits until the stored state of gateway `id` has `status`.
    pub async fn wait_status(&self, id: &str, status: Status) -> State {
        eventually(&format!("gateway {id} {status:?}"), || async {
            let s = self.gateway_state(id).await;
            (s.status == status).then_some(s)
        })
        .await
    }

    pub async fn field(&self, id: &str) -> Option<Field> {
        self.store.get::<Field>(id).await.unwrap()
    }

    /// Waits until field `id` holds `value`.
    pub async fn wait_field(&self, id: &str, value: Value) -> Field {
        eventually(&format!("field {id} = {value}"), || async {
            self.field(id).await.filter(|f| f.current.value == value)
        })
        .await
    }

    pub fn gateway_stats(&self, id: &str) -> GatewayStatsSnapshot {
        self.stats.snapshot().get(id).copied().unwrap_or_default()
    }

    pub async fn send_to_gateway(&self, gateway_id: &str, msg: &Message) {
        self.bus
            .publish_json(&topics::to_gateway(gateway_id), msg)
            .await
            .unwrap();
    }

    /// Stores the gateway and announces it, as the API does.
    pub async fn save_gateway(&self, gateway: &Gateway) {
        let existed = self
            .store
            .get::<Gateway>(&gateway.id)
            .await
            .unwrap()
            .is_some();
        self.store.upsert(gateway).await.unwrap();
        let kind = if existed {
            EventType::Updated
        } else {
            EventType::Created
        };
        let event = Event::new(
            kind,
            EntityKind::Gateway,
            &gateway.id,
            to_document(gateway).unwrap(),
        );
        self.bus
            .publish_json(&event.subject(), &event)
            .await
            .unwrap();
    }

    pub async fn stop(mut self) {
        self.cancel.cancel();
        for t in self.tasks.drain(..) {
            t.await.unwrap();
        }
        self.metrics.close().await.unwrap();
        self.store.backend().close().await.unwrap();
    }
}

/// Polls `check` until it returns something, at most [`WAIT`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A peer (socat, Mosquitto) a test needs is missing: under `CI=true` that fails the test;
/// elsewhere the test says so and is skipped.
pub fn peer_missing(why: &str) -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why} (CI=true: the test script must provide it)");
    }
    println!("SKIPPED: {why}");
    true
}
