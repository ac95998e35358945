//! Messages per second through the message processor: `set` messages published on the embedded
//! bus until each is stored (field, source, node), its metric point buffered and its events out.
//! One run per storage backend; the metric store is the embedded one in both.

use std::sync::Arc;
use std::time::Duration;
use switchyard_bus::{EmbeddedBus, EmbeddedBusConfig};
use switchyard_core::bus::{Bus, BusExt};
use switchyard_core::model::Gateway;
use switchyard_core::store::Store;
use switchyard_core::{Message, MessageType, Payload, topics};
use switchyard_metrics::MetricsConfig;
use switchyard_processor::{Processor, ProcessorConfig, ProcessorStats};
use switchyard_storage::{MemoryConfig, StorageConfig};
use tokio::runtime::Runtime;

/// Messages per iteration, spread over 100 nodes × 10 fields.
const BATCH: u64 = 2_000;

fn main() {
    divan::main();
}

struct Rig {
    rt: Runtime,
    bus: Arc<dyn Bus>,
    stats: Arc<ProcessorStats>,
    _dir: tempfile::TempDir,
}

fn rig(storage: StorageConfig) -> Rig {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (bus, stats) = rt.block_on(async {
        let bus: Arc<dyn Bus> = Arc::new(
            EmbeddedBus::new(&EmbeddedBusConfig {
                subscriber_capacity: 4096,
                publish_wait: "60s".into(),
            })
            .unwrap(),
        );
        let store = Store::new(
            switchyard_storage::open(&storage, dir.path())
                .await
                .unwrap(),
        );
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
        let p = Processor::new(bus.clone(), store, metrics, ProcessorConfig::default());
        let stats = p.stats();
        // Runs until the runtime is dropped with the rig.
        p.start(tokio_util::sync::CancellationToken::new())
            .await
            .unwrap();
        (bus, stats)
    });
    Rig {
        rt,
        bus,
        stats,
        _dir: dir,
    }
}

fn run_batch(rig: &Rig, round: u64) {
    rig.rt.block_on(async {
        let target = rig.stats.processed_count() + BATCH;
        for i in 0..BATCH {
            let m = Message::new(MessageType::Set, "gw", (i % 100).to_string(), "1")
                .with_payload(
                    Payload::new(
                        format!("f{}", (i / 100) % 10),
                        (round * BATCH + i).to_string(),
                    )
                    .with_metric_type("gauge_float"),
                )
                .received();
            rig.bus
                .publish_json(topics::TO_PROCESSOR, &m)
                .await
                .unwrap();
        }
        while rig.stats.processed_count() < target {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    });
}

fn bench(bencher: divan::Bencher, storage: StorageConfig) {
    let rig = rig(storage);
    let mut round = 0;
    bencher
        .counter(divan::counter::ItemsCount::new(BATCH))
        .bench_local(|| {
            round += 1;
            run_batch(&rig, round)
        });
}

/// Every write fsynced before it is acknowledged (group commit).
#[divan::bench(sample_count = 10, sample_size = 1)]
fn embedded_storage(bencher: divan::Bencher) {
    bench(bencher, StorageConfig::default());
}

/// MyController's mode: RAM, dumped once a minute.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn memory_storage(bencher: divan::Bencher) {
    bench(bencher, StorageConfig::Memory(MemoryConfig::default()));
}
