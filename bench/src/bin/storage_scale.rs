//! S3 of the benchmarks (docs/benchmarks.md) for the embedded storage alone: 100,000 fields,
//! then a fresh process opens them and reads, writes and lists as the server does.
//!
//! ```text
//! cargo run --release -p switchyard-bench --bin storage_scale -- fill /tmp/s3
//! cargo run --release -p switchyard-bench --bin storage_scale -- open /tmp/s3
//! ```
//!
//! Two commands: `open` must start in a process that never held the documents.

use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use switchyard_core::EntityKind::{Field, Node, Source};
use switchyard_core::filter::{Filter, Query};
use switchyard_core::storage::{Storage, WriteOp};
use switchyard_storage::{EmbeddedConfig, EmbeddedStorage};

const NODES: usize = 100;
const SOURCES: usize = 200;
const TYPES: [&str; 5] = ["V_TEMP", "V_HUM", "V_PRESSURE", "V_LEVEL", "V_VOLTAGE"];
const GATEWAY: &str = "mysensors-1";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match (args.first().map(String::as_str), args.get(1)) {
        (Some("fill"), Some(dir)) => fill(PathBuf::from(dir)).await,
        (Some("open"), Some(dir)) => open(PathBuf::from(dir)).await,
        _ => anyhow::bail!("usage: storage_scale fill|open <directory>"),
    }
}

/// A field as the MySensors provider stores one (`switchyard_core::model::Field`).
fn field(node: usize, source: usize, kind: &str) -> Value {
    let now = "2026-11-25T03:00:00.123456Z";
    json!({
        "id": format!("{GATEWAY}.{node}.{source}.{kind}"),
        "gatewayId": GATEWAY, "nodeId": node.to_string(), "sourceId": source.to_string(),
        "fieldId": kind, "name": kind, "metricType": "gauge_float",
        "current": {"value": 21.5, "isReceived": true, "timestamp": now},
        "previous": {"value": 21.4, "isReceived": true, "timestamp": now},
        "formatter": {}, "unit": "", "labels": {}, "others": {},
        "noChangeSince": now, "lastSeen": now, "modifiedOn": now,
    })
}

fn rss_kib(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn fill(dir: PathBuf) -> anyhow::Result<()> {
    let s = EmbeddedStorage::open(&dir, &EmbeddedConfig::default()).await?;
    let started = Instant::now();
    for node in 1..=NODES {
        let mut ops = vec![WriteOp::Upsert(
            Node,
            json!({"id": format!("{GATEWAY}.{node}"), "gatewayId": GATEWAY,
                   "nodeId": node.to_string(), "name": format!("node {node}"),
                   "labels": {}, "others": {}, "state": {"status": "up"}}),
        )];
        for source in 0..SOURCES {
            ops.push(WriteOp::Upsert(
                Source,
                json!({"id": format!("{GATEWAY}.{node}.{source}"), "gatewayId": GATEWAY,
                       "nodeId": node.to_string(), "sourceId": source.to_string(),
                       "name": format!("S_MULTIMETER {source}"), "labels": {}, "others": {}}),
            ));
            for kind in TYPES {
                ops.push(WriteOp::Upsert(Field, field(node, source, kind)));
            }
        }
        s.apply(ops).await?;
    }
    s.close().await?;
    let fields = NODES * SOURCES * TYPES.len();
    println!("filled {fields} fields in {:?}", started.elapsed());
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn open(dir: PathBuf) -> anyhow::Result<()> {
    let before = rss_kib("VmRSS:");
    let started = Instant::now();
    let s = EmbeddedStorage::open(&dir, &EmbeddedConfig::default()).await?;
    let opened = started.elapsed();
    let after_open = rss_kib("VmRSS:");
    // The processor's pattern: read a field, write it back.
    let started = Instant::now();
    for i in 0..2000 {
        let (node, source) = (i % NODES + 1, i % SOURCES);
        let id = format!("{GATEWAY}.{node}.{source}.V_TEMP");
        let doc = s
            .get(Field, &id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("{id} missing: run `fill` first"))?;
        s.upsert(Field, doc).await?;
    }
    let get_put = started.elapsed() / 2000;
    let mut lists = Vec::new();
    for i in 0..200 {
        let q = Query::all()
            .filter(Filter::eq("gatewayId", GATEWAY))
            .filter(Filter::eq("nodeId", (i % NODES + 1).to_string()))
            .page(50, (i * 50 % 1000) as u64);
        let started = Instant::now();
        let page = s.find(Field, &q).await?;
        lists.push(started.elapsed());
        anyhow::ensure!(
            page.count == (SOURCES * TYPES.len()) as u64 && page.data.len() == 50,
            "a node's page holds {} of {}",
            page.data.len(),
            page.count
        );
    }
    lists.sort();
    let started = Instant::now();
    let all = s.find(Field, &Query::all().page(50, 50_000)).await?;
    let unfiltered = started.elapsed();
    let started = Instant::now();
    let scan = s
        .find(
            Field,
            &Query::all().filter(Filter::eq("name", "V_HUM")).page(50, 0),
        )
        .await?;
    let scanned = started.elapsed();
    println!(
        "open {:.1} ms; RSS {} → {} KiB after open, {} KiB at the end (peak {} KiB)",
        opened.as_secs_f64() * 1000.0,
        before,
        after_open,
        rss_kib("VmRSS:"),
        rss_kib("VmHWM:")
    );
    println!(
        "get + upsert {:.3} ms each; list gatewayId+nodeId limit 50 p50 {:.2} / p99 {:.2} / max {:.2} ms",
        get_put.as_secs_f64() * 1000.0,
        percentile(&lists, 0.5),
        percentile(&lists, 0.99),
        percentile(&lists, 1.0),
    );
    println!(
        "unfiltered page at offset 50,000 of {}: {:.2} ms; scan by name ({} matches): {:.0} ms",
        all.count,
        unfiltered.as_secs_f64() * 1000.0,
        scan.count,
        scanned.as_secs_f64() * 1000.0
    );
    s.close().await?;
    Ok(())
}
