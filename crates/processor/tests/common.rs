use std::sync::Arc;
use std::time::Duration;
use switchyard_bus::{EmbeddedBus, EmbeddedBusConfig};
use switchyard_core::bus::{Bus, BusExt};
use switchyard_core::metrics::MetricStore;
use switchyard_core::model::Gateway;
use switchyard_core::store::Store;
use switchyard_core::{Message, topics};
use switchyard_metrics::MetricsConfig;
use switchyard_processor::{Processor, ProcessorConfig, ProcessorStats};
use switchyard_storage::StorageConfig;
use tokio_util::sync::CancellationToken;

pub struct Harness {
    pub bus: Arc<dyn Bus>,
    pub store: Store,
    pub metrics: Arc<dyn MetricStore>,
    pub stats: Arc<ProcessorStats>,
    pub cancel: CancellationToken,
    pub task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// A processor with a gateway `gw` configured. The bus lets publishers wait long, so a test
    /// about completeness never loses a message to the overload policy.
    pub async fn start() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let bus: Arc<dyn Bus> = Arc::new(
            EmbeddedBus::new(&EmbeddedBusConfig {
                subscriber_capacity: 4096,
                publish_wait: "60s".into(),
            })
            .unwrap(),
        );
        let storage = switchyard_storage::open(&StorageConfig::default(), dir.path())
            .await
            .unwrap();
        let store = Store::new(storage);
        let metrics = switchyard_metrics::open(&MetricsConfig::default(), dir.path())
            .await
            .unwrap();
        store
            .upsert(&Gateway {
                id: "gw".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let processor = Processor::new(
            bus.clone(),
            store.clone(),
            metrics.clone(),
            ProcessorConfig::default(),
        );
        let stats = processor.stats();
        let cancel = CancellationToken::new();
        let task = processor.start(cancel.clone()).await.unwrap();
        Harness {
            bus,
            store,
            metrics,
            stats,
            cancel,
            task: Some(task),
            _dir: dir,
        }
    }

    pub async fn send(&self, msg: &Message) {
        self.bus
            .publish_json(topics::TO_PROCESSOR, msg)
            .await
            .unwrap();
    }

    /// Waits until the processor has handled `processed` messages and refused `rejected`.
    pub async fn settle(&self, processed: u64, rejected: u64) {
        let total = |s: &ProcessorStats| {
            switchyard_processor::Rejection::ALL
                .iter()
                .map(|r| s.rejected_count(*r))
                .sum::<u64>()
        };
        for _ in 0..12_000 {
            if self.stats.processed_count() >= processed && total(&self.stats) >= rejected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "processor did not settle: {:?}, wanted {processed} processed and {rejected} rejected",
            self.stats.snapshot()
        );
    }

    pub async fn stop(mut self) {
        self.cancel.cancel();
        if let Some(t) = self.task.take() {
            t.await.unwrap();
        }
        self.metrics.close().await.unwrap();
        self.store.backend().close().await.unwrap();
    }
}
