//! The storage backends on their own, below the processor: one field upserted, one read by id, a
//! list filtered by gateway and node, and a batch of upserts in one atomic write, each against a
//! store already holding [`FIELDS`] field documents. One run per backend: `embedded` (redb, every
//! write fsynced before it is acknowledged) and `memory` (RAM, dumped once a minute).
//!
//! Each backend's store is filled once and shared by the benches (the writes replace existing
//! fields, so it always holds [`FIELDS`]); filling one per bench made the smoke run too slow.

use chrono::Utc;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use switchyard_core::EntityKind;
use switchyard_core::filter::{Filter, Query};
use switchyard_core::model::{Field, FieldValue, MetricType};
use switchyard_core::storage::{Storage, WriteOp};
use switchyard_storage::{MemoryConfig, StorageConfig};
use tokio::runtime::Runtime;

const GATEWAYS: usize = 2;
const NODES: usize = 50;
const SOURCES: usize = 10;
/// Fields per source.
const FIELDS_PER_SOURCE: usize = 10;
/// Fields in the store before each bench: 2 gateways × 50 nodes × 10 sources × 10 fields.
const FIELDS: usize = GATEWAYS * NODES * SOURCES * FIELDS_PER_SOURCE;
/// Upserts in one atomic write (`batched_upsert`).
const BATCH: usize = 100;
/// Writes per transaction while filling the store.
const FILL_CHUNK: usize = 1_000;

const BACKENDS: [&str; 2] = ["embedded", "memory"];

/// The filled stores, by backend; emptied before exit so their directories are removed.
static RIGS: Mutex<BTreeMap<&str, Arc<Rig>>> = Mutex::new(BTreeMap::new());

fn main() {
    divan::main();
    RIGS.lock().unwrap().clear();
}

/// `backend`'s store, filled on first use.
fn rig(backend: &'static str) -> Arc<Rig> {
    RIGS.lock()
        .unwrap()
        .entry(backend)
        .or_insert_with(|| Arc::new(Rig::new(backend)))
        .clone()
}

struct Rig {
    rt: Runtime,
    storage: Arc<dyn Storage>,
    _dir: tempfile::TempDir,
}

impl Rig {
    /// A backend in a fresh directory holding [`FIELDS`] fields.
    fn new(backend: &str) -> Rig {
        let config = match backend {
            "embedded" => StorageConfig::default(),
            "memory" => StorageConfig::Memory(MemoryConfig::default()),
            other => panic!("no backend {other}"),
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let storage = rt.block_on(async {
            let storage = switchyard_storage::open(&config, dir.path()).await.unwrap();
            let all: Vec<usize> = (0..FIELDS).collect();
            for chunk in all.chunks(FILL_CHUNK) {
                let ops = chunk
                    .iter()
                    .map(|&i| WriteOp::Upsert(EntityKind::Field, field(i, 0)))
                    .collect();
                storage.apply(ops).await.unwrap();
            }
            storage
        });
        Rig {
            rt,
            storage,
            _dir: dir,
        }
    }
}

/// The ids a field's document is keyed by: gateway, node, source, field.
fn address(i: usize) -> [String; 4] {
    let field = i % FIELDS_PER_SOURCE;
    let source = (i / FIELDS_PER_SOURCE) % SOURCES;
    let node = (i / (FIELDS_PER_SOURCE * SOURCES)) % NODES;
    let gateway = i / (FIELDS_PER_SOURCE * SOURCES * NODES);
    [
        format!("gw{gateway}"),
        node.to_string(),
        source.to_string(),
        format!("V_TEMP_{field}"),
    ]
}

fn id(i: usize) -> String {
    address(i).join(".")
}

/// Field `i` as the processor stores it, with `round` as its current value.
fn field(i: usize, round: u64) -> Value {
    let [gateway_id, node_id, source_id, field_id] = address(i);
    let now = Some(Utc::now());
    let field = Field {
        id: id(i),
        name: field_id.clone(),
        gateway_id,
        node_id,
        source_id,
        field_id,
        metric_type: MetricType::GaugeFloat,
        current: FieldValue {
            value: format!("{}.5", round % 40).into(),
            is_received: true,
            timestamp: now,
        },
        previous: FieldValue {
            value: "20.5".into(),
            is_received: true,
            timestamp: now,
        },
        unit: "°C".into(),
        labels: [
            ("ms_type".to_string(), "0".to_string()),
            ("ms_type_string".to_string(), "V_TEMP".to_string()),
        ]
        .into(),
        last_seen: now,
        modified_on: now,
        ..Default::default()
    };
    serde_json::to_value(field).unwrap()
}

/// One field's new value written on its own (acknowledged once durable to the backend's promise).
#[divan::bench(args = BACKENDS, sample_count = 30)]
fn upsert_field(bencher: divan::Bencher, backend: &'static str) {
    let rig = rig(backend);
    let mut round = 0;
    bencher
        .with_inputs(|| {
            round += 1;
            field(round as usize % FIELDS, round)
        })
        .bench_local_values(|doc| {
            rig.rt
                .block_on(rig.storage.upsert(EntityKind::Field, doc))
                .unwrap()
        });
}

/// [`BATCH`] fields' new values in one atomic write, as the processor's workers commit.
#[divan::bench(args = BACKENDS, sample_count = 30)]
fn batched_upsert(bencher: divan::Bencher, backend: &'static str) {
    let rig = rig(backend);
    let mut round = 0;
    bencher
        .counter(divan::counter::ItemsCount::new(BATCH))
        .with_inputs(|| {
            round += 1;
            (0..BATCH)
                .map(|i| {
                    let at = (round as usize * BATCH + i) % FIELDS;
                    WriteOp::Upsert(EntityKind::Field, field(at, round))
                })
                .collect::<Vec<_>>()
        })
        .bench_local_values(|ops| rig.rt.block_on(rig.storage.apply(ops)).unwrap());
}

/// A copy of one field by id, cycling through all of them (so not always from a cache).
#[divan::bench(args = BACKENDS)]
fn get_by_id(bencher: divan::Bencher, backend: &'static str) {
    let rig = rig(backend);
    let mut next = 0;
    bencher
        .with_inputs(|| {
            next = (next + 7_919) % FIELDS;
            id(next)
        })
        .bench_local_refs(|id| {
            rig.rt
                .block_on(rig.storage.get(EntityKind::Field, id))
                .unwrap()
                .expect("every id was written")
        });
}

/// The fields of one node (100 of 10,000), as the console's node page lists them.
#[divan::bench(args = BACKENDS)]
fn find_by_node(bencher: divan::Bencher, backend: &'static str) {
    let rig = rig(backend);
    let mut next = 0;
    bencher
        .with_inputs(|| {
            next = (next + 1) % (GATEWAYS * NODES);
            Query::all()
                .filter(Filter::eq("gatewayId", format!("gw{}", next / NODES)))
                .filter(Filter::eq("nodeId", (next % NODES).to_string()))
        })
        .bench_local_refs(|query| {
            let page = rig
                .rt
                .block_on(rig.storage.find(EntityKind::Field, query))
                .unwrap();
            assert_eq!(page.count, (SOURCES * FIELDS_PER_SOURCE) as u64);
            page
        });
}

/// The first page (50) of one gateway's 5,000 fields, with the count of all of them.
#[divan::bench(args = BACKENDS)]
fn find_by_gateway_page(bencher: divan::Bencher, backend: &'static str) {
    let rig = rig(backend);
    let query = Query::all()
        .filter(Filter::eq("gatewayId", "gw1"))
        .page(50, 0);
    bencher.bench_local(|| {
        rig.rt
            .block_on(rig.storage.find(EntityKind::Field, &query))
            .unwrap()
    });
}
