//! Does ingest pause while an online backup runs? Readings are stored continuously (one field
//! upsert every 2 ms into the embedded storage, each waiting for its fsync, as the processor
//! stores a reading) while the API's backup steps run on a store of 20,000 fields: the storage
//! export, sealing the secrets, writing the zip. For each phase (before, during the backups) it
//! reports the longest ingest latency (from when the reading was due to when it was stored) and
//! the longest gap between two consecutive stored readings.
//!
//! Run: `cargo bench -p switchyard-bench --bench backup_pause`. Not a divan bench: one long
//! measurement of tail latency, not a per-iteration time. Under `cargo test` (no `--bench`
//! argument) it runs once on a small store as a smoke test.

use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_api::backup::archive::{self, SecretsInfo};
use switchyard_api::backup::secrets::{ArchiveKey, ENCRYPTION};
use switchyard_core::EntityKind;
use switchyard_core::storage::{Storage, WriteOp};
use switchyard_storage::StorageConfig;

const TICK: Duration = Duration::from_millis(2);

/// Fields in the store, backups made, baseline length: the measurement, or a smoke test.
fn sizes() -> (usize, usize, Duration) {
    if std::env::args().any(|a| a == "--bench") {
        (20_000, 3, Duration::from_secs(3))
    } else {
        (500, 1, Duration::from_millis(200))
    }
}

fn field(i: usize, value: f64) -> serde_json::Value {
    json!({"id": format!("gw.{}.{}.temp", i / 10, i % 10), "gatewayId": "gw",
           "nodeId": (i / 10).to_string(), "sourceId": (i % 10).to_string(), "fieldId": "temp",
           "name": "temperature", "metricType": "gauge_float", "unit": "°C",
           "current": {"value": value, "timestamp": "2026-11-25T04:00:00Z"},
           "labels": {"room": "somewhere", "floor": "1"}})
}

/// Latencies (due → stored) and completion times of the readings of one phase.
#[derive(Default)]
struct Phase {
    latencies: Vec<Duration>,
    done: Vec<Instant>,
}

impl Phase {
    fn report(&mut self, name: &str) {
        self.done.sort();
        let gap = self
            .done
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or_default();
        self.latencies.sort();
        let pct = |p: f64| {
            self.latencies
                .get(((self.latencies.len() as f64 - 1.0) * p) as usize)
                .copied()
                .unwrap_or_default()
        };
        println!(
            "{name:<32} readings {:>6}  latency p50 {:>7.1?}  p99 {:>7.1?}  max {:>7.1?}  longest gap {:>7.1?}",
            self.latencies.len(),
            pct(0.5),
            pct(0.99),
            pct(1.0),
            gap
        );
    }
}

async fn backup(store: &Arc<dyn Storage>, dir: &std::path::Path, n: usize, blocking_export: bool) {
    let t = Instant::now();
    let mut snapshot = if blocking_export {
        let s = store.clone();
        let rt = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || rt.block_on(s.export()))
            .await
            .unwrap()
            .unwrap()
    } else {
        store.export().await.unwrap()
    };
    let exported = t.elapsed();
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let key = ArchiveKey::load_or_create(&dir).unwrap();
        key.seal(&mut snapshot).unwrap();
        let file = std::fs::File::create(dir.join(format!("b{n}.zip"))).unwrap();
        archive::write(
            std::io::BufWriter::new(&file),
            &archive::Backup {
                snapshot: &snapshot,
                firmware: &[],
                backend: "embedded",
                secrets: Some(SecretsInfo {
                    encryption: ENCRYPTION.into(),
                    key_id: key.id().into(),
                }),
                metrics: None,
            },
        )
        .unwrap();
        file.sync_all().unwrap();
    })
    .await
    .unwrap();
    println!(
        "  backup {n}: export {exported:.1?}, whole backup {:.1?}",
        t.elapsed()
    );
}

fn main() {
    let (fields, backups, baseline) = sizes();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = switchyard_storage::open(&StorageConfig::default(), dir.path())
            .await
            .unwrap();
        for chunk in (0..fields).collect::<Vec<_>>().chunks(1000) {
            let ops = chunk
                .iter()
                .map(|i| WriteOp::Upsert(EntityKind::Field, field(*i, 20.0)))
                .collect();
            store.apply(ops).await.unwrap();
        }
        for blocking_export in [false, true] {
            let phase = Arc::new(parking_lot::Mutex::new(0usize));
            // 0: before, 1: during the backups, 2: after (not reported).
            let phases: Arc<parking_lot::Mutex<[Phase; 3]>> = Arc::default();
            let stop = tokio_util::sync::CancellationToken::new();
            let ingest = {
                let (store, phase, phases, stop) =
                    (store.clone(), phase.clone(), phases.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut tick = tokio::time::interval(TICK);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                    let mut i = 0usize;
                    let mut writes = tokio::task::JoinSet::new();
                    while !stop.is_cancelled() {
                        let due = tick.tick().await.into_std();
                        i += 1;
                        let (store, phase, phases) = (store.clone(), phase.clone(), phases.clone());
                        writes.spawn(async move {
                            let p = *phase.lock();
                            let doc = field(i % fields, i as f64);
                            store
                                .apply(vec![WriteOp::Upsert(EntityKind::Field, doc)])
                                .await
                                .unwrap();
                            let now = Instant::now();
                            let mut phases = phases.lock();
                            phases[p].latencies.push(now - due);
                            phases[p].done.push(now);
                        });
                        while writes.try_join_next().is_some() {}
                    }
                    while writes.join_next().await.is_some() {}
                })
            };
            // Baseline as long as the backups take, roughly.
            tokio::time::sleep(baseline).await;
            *phase.lock() = 1;
            for n in 0..backups {
                backup(&store, dir.path(), n, blocking_export).await;
            }
            *phase.lock() = 2;
            stop.cancel();
            ingest.await.unwrap();
            let mut phases = phases.lock();
            let mode = if blocking_export {
                "export on a blocking thread"
            } else {
                "export on a runtime worker"
            };
            println!("{mode}:");
            phases[0].report("  ingest, no backup running");
            phases[1].report("  ingest during the backups");
        }
        store.close().await.unwrap();
    });
}
