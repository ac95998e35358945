use crate::common::*;
use serde_json::json;
use std::time::Duration;
use switchyard_automation::Context;
use switchyard_automation::ForwardPayloadService;
use switchyard_core::bus::BusExt;
use switchyard_core::filter::{Page, Query};
use switchyard_core::model::{
    Field, FieldValue, ForwardPayload, ForwardTransform, Node, find_cycle, node_labels,
};
use switchyard_core::storage::{Snapshot, Storage, StorageError, WriteOp};
use switchyard_core::store::Store;
use switchyard_core::{EntityKind, Event, EventType};

fn field(gw: &str, id: &str, value: serde_json::Value) -> Field {
    Field {
        id: format!("{gw}.1.1.{id}"),
        gateway_id: gw.into(),
        node_id: "1".into(),
        source_id: "1".into(),
        field_id: id.into(),
        current: FieldValue {
            value,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn fp(id: &str, src: &str, dst: &str) -> ForwardPayload {
    ForwardPayload {
        id: id.into(),
        enabled: true,
        src_field_id: src.into(),
        dst_field_id: dst.into(),
        ..Default::default()
    }
}

#[tokio::test(start_paused = true)]
async fn copies_a_value_to_another_gateway_with_a_transform() {
    let h = Harness::new(utc("2026-01-01T00:00:00Z")).await;
    h.put(&fp("a", "field:gw1.1.1.temp", "field:gw2.1.1.display"))
        .await;
    let mut t = fp("b", "field:gw1.1.1.temp", "field:gw3.1.1.text");
    t.transform = ForwardTransform {
        transform_type: "template".into(),
        source: "{{ value }} °C".into(),
    };
    h.put(&t).await;
    let mut to_gw = h.sub("message.to_gateway.>").await;
    tokio::spawn(ForwardPayloadService::new(h.context("UTC")).run(h.cancel.clone()));
    settle().await;
    h.put(&field("gw1", "temp", json!(21.5))).await;
    let mut got = Vec::new();
    for _ in 0..2 {
        got.push(next_json(&mut to_gw, Duration::from_secs(5)).await.unwrap());
    }
    got.sort_by_key(|m| m["gatewayId"].as_str().unwrap().to_string());
    assert_eq!(got[0]["gatewayId"], "gw2");
    assert_eq!(
        got[0]["payloads"][0],
        json!({"key": "display", "value": "21.5", "metricType": "", "unit": "", "labels": {}, "others": {}})
    );
    assert_eq!(got[1]["payloads"][0]["value"], "21.5 °C");
}

#[tokio::test(start_paused = true)]
async fn a_cycle_is_refused_at_creation_and_stopped_at_run_time() {
    let existing = vec![fp("ab", "field:gw1.1.1.a", "field:gw2.1.1.b")];
    assert!(find_cycle(&existing, &fp("ba", "field:gw2.1.1.b", "field:gw1.1.1.a")).is_some());

    // One that slipped through (written straight into storage, skipping the API's check) is
    // still skipped when loaded; a chain through devices that echo is stopped by the hop limit.
    let h = Harness::new(utc("2026-01-01T00:00:00Z")).await;
    for f in [
        fp("1", "field:g.1.1.a", "field:g.1.1.b"),
        fp("2", "field:g.1.1.b", "field:g.1.1.c"),
        fp("3", "field:g.1.1.c", "field:g.1.1.d"),
        fp("4", "field:g.1.1.d", "field:g.1.1.e"),
        fp("5", "field:g.1.1.e", "field:g.1.1.f"),
        fp("6", "field:g.1.1.f", "field:g.1.1.a"),
    ] {
        h.store.upsert(&f).await.unwrap();
    }
    let svc = ForwardPayloadService::new(h.context("UTC"));
    let stopped = svc.stopped_by_hop_limit();
    let mut to_gw = h.sub("message.to_gateway.g").await;
    tokio::spawn(svc.run(h.cancel.clone()));
    settle().await;
    // Devices echo every set as an update: a → b → c → d → e (hop limit 4).
    h.put(&field("g", "a", json!(1))).await;
    let mut hops = Vec::new();
    while let Some(m) = next_json(&mut to_gw, Duration::from_secs(1)).await {
        let key = m["payloads"][0]["key"].as_str().unwrap().to_string();
        hops.push(key.clone());
        h.put(&field("g", &key, json!(1))).await;
    }
    assert_eq!(hops, ["b", "c", "d", "e"]);
    assert_eq!(stopped.load(std::sync::atomic::Ordering::Relaxed), 1);
}

fn node(gw: &str, labels: &[(&str, &str)]) -> Node {
    let mut n = Node {
        id: format!("{gw}.1"),
        gateway_id: gw.into(),
        node_id: "1".into(),
        ..Default::default()
    };
    for (k, v) in labels {
        n.labels.insert(k.to_string(), v.to_string());
    }
    n
}

/// The destination's field and node are read once and then kept from their events: what a
/// forward sends follows the destination's changes (unit, a toggle's current value, the node's
/// sleep label) without a storage read per forward.
#[tokio::test(start_paused = true)]
async fn the_destination_follows_its_field_and_node_events() {
    let h = Harness::new(utc("2026-01-01T00:00:00Z")).await;
    h.put(&fp("a", "field:gw1.1.1.cmd", "field:gw2.1.1.relay"))
        .await;
    let mut relay = field("gw2", "relay", json!(false));
    relay.unit = "bool".into();
    h.put(&relay).await;
    h.put(&node("gw2", &[])).await;
    let mut to_gw = h.sub("message.to_gateway.gw2").await;
    tokio::spawn(ForwardPayloadService::new(h.context("UTC")).run(h.cancel.clone()));
    settle().await;

    h.put(&field("gw1", "cmd", json!("toggle"))).await;
    let m = next_json(&mut to_gw, Duration::from_secs(5)).await.unwrap();
    assert_eq!(m["payloads"][0]["value"], "1");
    assert_eq!(m["payloads"][0]["unit"], "bool");
    assert_eq!(m["isSleepNode"], false);

    // The device echoes (the field now holds true), its unit and its node's label change.
    relay.current.value = json!(true);
    relay.unit = "state".into();
    h.put(&relay).await;
    h.put(&node("gw2", &[(node_labels::SLEEP_NODE, "true")]))
        .await;
    settle().await;
    h.put(&field("gw1", "cmd", json!("toggle"))).await;
    let m = next_json(&mut to_gw, Duration::from_secs(5)).await.unwrap();
    assert_eq!(m["payloads"][0]["value"], "0");
    assert_eq!(m["payloads"][0]["unit"], "state");
    assert_eq!(m["isSleepNode"], true);

    // A change written without an event (a dropped one) is picked up once the cache expires.
    relay.unit = "written quietly".into();
    h.store.upsert(&relay).await.unwrap();
    tokio::time::advance(Duration::from_secs(6)).await;
    h.put(&field("gw1", "cmd", json!("on"))).await;
    let m = next_json(&mut to_gw, Duration::from_secs(5)).await.unwrap();
    assert_eq!(m["payloads"][0]["unit"], "written quietly");

    // A deleted destination field is forgotten: the set goes out without its unit.
    h.store
        .apply(vec![WriteOp::Delete(EntityKind::Field, relay.id.clone())])
        .await
        .unwrap();
    h.bus
        .publish_json(
            "event.field.deleted",
            &Event::new(
                EventType::Deleted,
                EntityKind::Field,
                relay.id.clone(),
                json!(relay),
            ),
        )
        .await
        .unwrap();
    settle().await;
    h.put(&field("gw1", "cmd", json!("off"))).await;
    let m = next_json(&mut to_gw, Duration::from_secs(5)).await.unwrap();
    assert_eq!(m["payloads"][0]["value"], "off");
    assert_eq!(m["payloads"][0]["unit"], "");
}

/// A backend that counts the documents read, per kind.
struct CountingReads {
    inner: std::sync::Arc<dyn Storage>,
    reads: std::sync::Mutex<std::collections::HashMap<EntityKind, usize>>,
}

#[async_trait::async_trait]
impl Storage for CountingReads {
    fn name(&self) -> &'static str {
        "counting"
    }
    async fn apply(&self, ops: Vec<WriteOp>) -> Result<(), StorageError> {
        self.inner.apply(ops).await
    }
    async fn get(
        &self,
        kind: EntityKind,
        id: &str,
    ) -> Result<Option<serde_json::Value>, StorageError> {
        *self.reads.lock().unwrap().entry(kind).or_default() += 1;
        self.inner.get(kind, id).await
    }
    async fn find(
        &self,
        kind: EntityKind,
        query: &Query,
    ) -> Result<Page<serde_json::Value>, StorageError> {
        self.inner.find(kind, query).await
    }
    async fn clear(&self) -> Result<(), StorageError> {
        self.inner.clear().await
    }
    async fn export(&self) -> Result<Snapshot, StorageError> {
        self.inner.export().await
    }
    async fn import(&self, snapshot: Snapshot) -> Result<(), StorageError> {
        self.inner.import(snapshot).await
    }
    async fn flush(&self) -> Result<(), StorageError> {
        self.inner.flush().await
    }
    async fn close(&self) -> Result<(), StorageError> {
        self.inner.close().await
    }
}

/// A stream of forwards to a device that echoes each set (S2 of the benchmarks) reads the
/// destination's field and node once, not twice per forward.
#[tokio::test(start_paused = true)]
async fn forwards_do_not_read_the_destination_each_time() {
    let h = Harness::new(utc("2026-01-01T00:00:00Z")).await;
    h.put(&fp("a", "field:gw1.1.1.temp", "field:gw2.1.1.display"))
        .await;
    h.put(&field("gw2", "display", json!("0"))).await;
    h.put(&node("gw2", &[])).await;
    let counting = std::sync::Arc::new(CountingReads {
        inner: h.storage.clone(),
        reads: Default::default(),
    });
    let ctx = Context::new(
        Store::new(counting.clone()),
        h.bus.clone(),
        Default::default(),
        h.dir.path().to_path_buf(),
        h.clock.clone(),
    )
    .unwrap();
    let mut to_gw = h.sub("message.to_gateway.gw2").await;
    tokio::spawn(ForwardPayloadService::new(ctx).run(h.cancel.clone()));
    settle().await;
    for i in 0..50 {
        h.put(&field("gw1", "temp", json!(i))).await;
        let m = next_json(&mut to_gw, Duration::from_secs(5)).await.unwrap();
        assert_eq!(m["payloads"][0]["value"], i.to_string());
        // The device's echo, stored and announced like any set.
        h.put(&field("gw2", "display", json!(i.to_string()))).await;
    }
    let reads = counting.reads.lock().unwrap().clone();
    assert_eq!(reads.get(&EntityKind::Field), Some(&1), "{reads:?}");
    assert_eq!(reads.get(&EntityKind::Node), Some(&1), "{reads:?}");
}

/// Many forwards in a row on the embedded storage the server uses, the destination echoing each
/// set: every one goes out with its own value, in order. It also prints the time per forward
/// (S2 of docs/benchmarks.md; not asserted): for a figure run it in release with more forwards,
/// `SWITCHYARD_FORWARDS=20000 cargo test --release -p switchyard-automation --test integration
/// forward_rate -- --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_rate() {
    let h = Harness::new(utc("2026-01-01T00:00:00Z")).await;
    let storage = switchyard_storage::open(
        &serde_norway::from_str::<switchyard_storage::StorageConfig>("type: embedded").unwrap(),
        &h.dir.path().join("embedded"),
    )
    .await
    .unwrap();
    let store = Store::new(storage);
    let pairs = 10;
    for n in 0..pairs {
        let f = fp(
            &n.to_string(),
            &format!("field:gw.{n}.1.temp"),
            &format!("field:gw.{}.1.temp", n + 100),
        );
        store.upsert(&f).await.unwrap();
        let mut dst = field("gw", "temp", json!("0"));
        dst.id = format!("gw.{}.1.temp", n + 100);
        dst.node_id = (n + 100).to_string();
        store.upsert(&dst).await.unwrap();
        let mut nd = node("gw", &[]);
        nd.id = format!("gw.{}", n + 100);
        store.upsert(&nd).await.unwrap();
    }
    let ctx = Context::new(
        store,
        h.bus.clone(),
        Default::default(),
        h.dir.path().to_path_buf(),
        h.clock.clone(),
    )
    .unwrap();
    let mut to_gw = h.sub("message.to_gateway.gw").await;
    tokio::spawn(ForwardPayloadService::new(ctx).run(h.cancel.clone()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let event = |id: String, value: serde_json::Value| {
        let mut f = field("gw", "temp", value);
        f.id = id.clone();
        Event::new(EventType::Updated, EntityKind::Field, id, json!(f))
    };
    let count: usize = std::env::var("SWITCHYARD_FORWARDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let start = std::time::Instant::now();
    for i in 0..count {
        let n = i % pairs;
        h.bus
            .publish_json(
                "event.field.updated",
                &event(format!("gw.{n}.1.temp"), json!(i)),
            )
            .await
            .unwrap();
        let m = next_json(&mut to_gw, Duration::from_secs(5)).await.unwrap();
        assert_eq!(m["payloads"][0]["value"], i.to_string());
        h.bus
            .publish_json(
                "event.field.updated",
                &event(format!("gw.{}.1.temp", n + 100), json!(i.to_string())),
            )
            .await
            .unwrap();
    }
    let spent = start.elapsed();
    println!(
        "{count} forwards (each with its echo event) in {spent:?}: {:.1} µs each",
        spent.as_secs_f64() * 1e6 / count as f64
    );
    h.cancel.cancel();
}
