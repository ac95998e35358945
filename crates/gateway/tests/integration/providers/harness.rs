//! The whole pipeline on loopback (embedded bus, storage and metrics, the real processor, the
//! gateway service) with the providers of this folder registered.

use serde_json::Value;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use switchyard_bus::{EmbeddedBus, EmbeddedBusConfig};
use switchyard_core::bus::{Bus, BusExt};
use switchyard_core::metrics::MetricStore;
use switchyard_core::model::{Field, Gateway, Node, State, Status};
use switchyard_core::store::Store;
use switchyard_core::{Message, topics};
use switchyard_gateway::service::GatewayServiceStats;
use switchyard_gateway::{GatewayService, GatewayStatsSnapshot, ProviderRegistry};
use switchyard_processor::{Processor, ProcessorConfig};
use tokio_util::sync::CancellationToken;

pub const WAIT: Duration = Duration::from_secs(20);

/// The providers of this build, plus any this folder tests before it is registered.
pub fn registry() -> ProviderRegistry {
    ProviderRegistry::builtin()
}

pub fn gateway(id: &str, provider: Value) -> Gateway {
    Gateway {
        id: id.into(),
        reconnect_delay: "1s".into(),
        provider: provider.as_object().cloned().unwrap_or_default(),
        ..Default::default()
    }
}

pub struct Harness {
    pub bus: Arc<dyn Bus>,
    pub store: Store,
    pub stats: GatewayServiceStats,
    pub metrics: Arc<dyn MetricStore>,
    cancel: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
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
        )
        .start(cancel.child_token())
        .await
        .unwrap();
        let service = GatewayService::new(bus.clone(), store.clone(), registry(), dir.path());
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

    /// The data directory the gateway service was given (what providers keep between runs).
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

    pub async fn wait_status(&self, id: &str, status: Status) -> State {
        eventually(&format!("gateway {id} {status:?}"), || async {
            let s = self.gateway_state(id).await;
            (s.status == status).then_some(s)
        })
        .await
    }

    pub async fn node(&self, id: &str) -> Option<Node> {
        self.store.get::<Node>(id).await.unwrap()
    }

    pub async fn wait_node(&self, id: &str, what: &str, check: impl Fn(&Node) -> bool) -> Node {
        eventually(&format!("node {id}: {what}"), || async {
            self.node(id).await.filter(|n| check(n))
        })
        .await
    }

    pub async fn field(&self, id: &str) -> Option<Field> {
        self.store.get::<Field>(id).await.unwrap()
    }

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
        let mut msg = msg.clone();
        msg.gateway_id = gateway_id.into();
        self.bus
            .publish_json(&topics::to_gateway(gateway_id), &msg)
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

/// A peer the test needs is missing: fails under `CI=true`, otherwise prints `SKIPPED`.
pub fn peer_missing(why: &str) -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why} (CI=true: the test script must provide it)");
    }
    println!("SKIPPED: {why}");
    true
}

pub fn listening(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

pub fn fixture(path: &str) -> Value {
    let full = format!("{}/tests/data/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_json::from_str(&text).unwrap()
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}{:06X}", rand::random::<u32>() & 0xFF_FFFF)
}
