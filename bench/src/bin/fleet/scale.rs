//! S3 scale: `--scale-fields` fields (100,000 by default) created over MQTT, then the server
//! restarted on them: time from start to API ready, RSS idle and under 1k msg/s, and
//! `GET /api/field` filtered by node and paged, timed.

use super::server::Server;
use super::{GATEWAY, Latency, Run, mqtt};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// MySensors children per node and value types per child: 1,000 fields a node.
const CHILDREN: u64 = 200;
const TYPES: u64 = 5;
/// Numeric V_ types: TEMP, HUM, PERCENTAGE, PRESSURE, RAIN.
const TYPE_IDS: [u64; TYPES as usize] = [0, 1, 3, 4, 6];
const PER_NODE: u64 = CHILDREN * TYPES;
/// Rate the fields are created at, and list requests timed.
const CREATE_RATE: u64 = 5_000;
const LIST_REQUESTS: usize = 200;
const PAGE: u64 = 50;

/// Topic of the `k`-th field: node, child and V_ type.
fn topic(out: &str, k: u64) -> String {
    format!(
        "{out}/{}/{}/1/0/{}",
        k / PER_NODE + 1,
        k % PER_NODE / TYPES,
        TYPE_IDS[(k % TYPES) as usize]
    )
}

/// Publishes a value to each of the first `fields` fields at [`CREATE_RATE`].
async fn publish_all(run: &mut Run, fields: u64, name: &str) -> anyhow::Result<()> {
    let recorder = mqtt::Recorder::new();
    let (client, eventloop) = mqtt::connect(&run.broker, &format!("{}-{name}", run.prefix));
    let task = mqtt::drive(eventloop, |_, _| {});
    let out = format!("{}-out", run.prefix);
    let first = run.seqs(0);
    run.next_seq += fields;
    let seconds = fields.div_ceil(CREATE_RATE) as f64;
    mqtt::generate(
        &client,
        &recorder,
        fields.min(CREATE_RATE),
        Duration::from_secs_f64(seconds.max(1.0)),
        first,
        |seq| topic(&out, (seq - first) % fields),
    )
    .await?;
    // `publish` only queues: let the event loop write the tail before it is stopped.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = client.disconnect().await;
    task.abort();
    Ok(())
}

/// Runs S3 on a server of its own; returns its JSON and appends its Markdown.
pub async fn run(
    run: &mut Run,
    binary: &std::path::Path,
    env: &[(String, String)],
    md: &mut String,
) -> anyhow::Result<Value> {
    let fields = run.args.scale_fields.max(1);
    let dir = tempfile::tempdir()?;
    let server = Server::start(binary, dir.path(), run.args.server_log, env).await?;
    let empty = server.stats();
    let empty_start = server.started_in;
    server
        .mysensors_gateway(GATEWAY, &run.prefix, run.args.max_in_flight)
        .await?;
    let created = Instant::now();
    let mut count = 0;
    for attempt in 0..3 {
        publish_all(run, fields, &format!("scale{attempt}")).await?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            count = server.field_count(GATEWAY).await?;
            if count >= fields || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        if count >= fields {
            break;
        }
        // A QoS 0 publish lost under load: publish again (existing fields are just updated).
        eprintln!("S3: {count} of {fields} fields after attempt {attempt}; publishing again");
    }
    let created = created.elapsed();
    anyhow::ensure!(
        count >= fields,
        "S3: only {count} of {fields} fields created"
    );
    let full = server.stats();
    server.stop().await;

    // Restarted on the same data: start time, idle, then under load.
    let server = Server::start(binary, dir.path(), run.args.server_log, env).await?;
    let start = server.started_in;
    server.wait_gateway_up(GATEWAY).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = server.stats();
    let rate = 1_000;
    let recorder = mqtt::Recorder::new();
    let (client, eventloop) = mqtt::connect(&run.broker, &format!("{}-scale-load", run.prefix));
    let task = mqtt::drive(eventloop, |_, _| {});
    let out = format!("{}-out", run.prefix);
    let first = run.seqs(rate);
    let before = server.stats();
    let loaded_for = run.step;
    let load = {
        let client = client.clone();
        let recorder = recorder.clone();
        tokio::spawn(async move {
            mqtt::generate(&client, &recorder, rate, loaded_for, first, |seq| {
                topic(&out, (seq - first) * 7919 % fields)
            })
            .await
        })
    };
    // The list requests run while the load does.
    let nodes = fields.div_ceil(PER_NODE);
    let mut samples = Vec::with_capacity(LIST_REQUESTS);
    let mut listed = 0;
    for i in 0..LIST_REQUESTS as u64 {
        let node = i * 37 % nodes + 1;
        let in_node = PER_NODE.min(fields - (node - 1) * PER_NODE);
        let offset = i * 131 % in_node.saturating_sub(PAGE).max(1);
        let (took, page) = server
            .timed_get(&format!(
                "/api/field?gatewayId={GATEWAY}&nodeId={node}&limit={PAGE}&offset={offset}"
            ))
            .await?;
        listed += page["data"].as_array().map_or(0, Vec::len);
        samples.push(took.as_micros() as u32);
    }
    load.await??;
    let loaded = server.stats();
    let _ = client.disconnect().await;
    task.abort();
    server.stop().await;
    let list = Latency::of(samples);

    let mib = |kib: u64| kib as f64 / 1024.0;
    let verdict = |ok: bool| if ok { "met" } else { "not met" };
    let _ = writeln!(
        md,
        "\n## S3 scale\n\n{fields} fields ({} nodes × {CHILDREN} children × {TYPES} types) created over MQTT in {:.1} s.\n",
        nodes,
        created.as_secs_f64()
    );
    let _ = writeln!(md, "| measure | value | target | |");
    let _ = writeln!(md, "| --- | --- | --- | --- |");
    let rows = [
        (
            "start to API ready, empty install".to_string(),
            format!("{} ms", empty_start.as_millis()),
            "–".to_string(),
            "".to_string(),
        ),
        (
            "idle RSS, empty install".into(),
            format!("{:.1} MiB", mib(empty.rss_kib)),
            "< 16 MB".into(),
            verdict(mib(empty.rss_kib) * 1.048_576 < 16.0).into(),
        ),
        (
            format!("start to API ready, {fields} fields"),
            format!("{} ms", start.as_millis()),
            "< 500 ms".into(),
            verdict(start.as_millis() < 500).into(),
        ),
        (
            format!("idle RSS after restart, {fields} fields"),
            format!("{:.1} MiB", mib(idle.rss_kib)),
            "< 64 MB".into(),
            verdict(mib(idle.rss_kib) * 1.048_576 < 64.0).into(),
        ),
        (
            format!(
                "RSS under {rate} msg/s, {fields} fields (CPU {:.0} %)",
                loaded.cpu_percent_since(&before)
            ),
            format!("{:.1} MiB", mib(loaded.rss_kib)),
            "< 64 MB".into(),
            verdict(mib(loaded.rss_kib) * 1.048_576 < 64.0).into(),
        ),
        (
            "RSS after creating the fields (before the restart)".into(),
            format!("{:.1} MiB", mib(full.rss_kib)),
            "–".into(),
            "".into(),
        ),
        (
            format!(
                "`GET /api/field` by node, {PAGE} a page, under load: p50 / p95 / p99 / max (ms)"
            ),
            Latency::cell(&list),
            "–".into(),
            "".into(),
        ),
    ];
    for (what, value, target, ok) in rows {
        let _ = writeln!(md, "| {what} | {value} | {target} | {ok} |");
    }
    Ok(json!({
        "fields": fields, "createSeconds": created.as_secs_f64(),
        "emptyStartMillis": empty_start.as_millis() as u64,
        "emptyIdleRssMiB": mib(empty.rss_kib),
        "startMillis": start.as_millis() as u64,
        "rssAfterCreateMiB": mib(full.rss_kib),
        "idleRssMiB": mib(idle.rss_kib),
        "loadRate": rate, "loadRssMiB": mib(loaded.rss_kib),
        "loadCpuPercent": loaded.cpu_percent_since(&before),
        "listRequests": LIST_REQUESTS, "listedFields": listed,
        "listLatencyMicros": list.as_ref().map(Latency::json),
    }))
}
