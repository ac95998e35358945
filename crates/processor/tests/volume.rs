use crate::common::Harness;
use chrono::{TimeZone, Utc};
use serde_json::json;
use switchyard_core::filter::Query;
use switchyard_core::metrics::{MetricQuery, MetricValue};
use switchyard_core::model::Field;
use switchyard_core::{Message, MessageType, Payload};

const NODES: usize = 250;
const SOURCES: usize = 10;
const FIELDS: usize = 10;
const ROUNDS: usize = 4;

fn value(node: usize, source: usize, field: usize, round: usize) -> f64 {
    (node * 1000 + source * 100 + field * 10 + round) as f64 / 4.0
}

/// 100,000 `set` messages (25,000 fields × 4 values) through the embedded bus: every field's last
/// and previous value is stored, and every value is a metric point.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_thousand_sets_lose_nothing() {
    let h = Harness::start().await;
    let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    for round in 0..ROUNDS {
        for node in 0..NODES {
            for source in 0..SOURCES {
                for field in 0..FIELDS {
                    let mut m =
                        Message::new(MessageType::Set, "gw", node.to_string(), source.to_string())
                            .with_payload(
                                Payload::new(
                                    format!("f{field}"),
                                    value(node, source, field, round).to_string(),
                                )
                                .with_metric_type("gauge_float"),
                            )
                            .received();
                    m.timestamp = Some(t0 + chrono::Duration::seconds(round as i64));
                    h.send(&m).await;
                }
            }
        }
    }
    let total = (NODES * SOURCES * FIELDS * ROUNDS) as u64;
    h.settle(total, 0).await;
    assert_eq!(h.bus.stats().dropped, 0);
    h.metrics.flush().await.unwrap();

    let fields = h.store.find::<Field>(&Query::all()).await.unwrap();
    assert_eq!(fields.count, (NODES * SOURCES * FIELDS) as u64);
    for node in 0..NODES {
        for source in 0..SOURCES {
            for field in 0..FIELDS {
                let id = format!("gw.{node}.{source}.f{field}");
                let f: Field = h.store.get(&id).await.unwrap().unwrap();
                assert_eq!(
                    f.current.value,
                    json!(value(node, source, field, ROUNDS - 1)),
                    "{id}"
                );
                assert_eq!(
                    f.previous.value,
                    json!(value(node, source, field, ROUNDS - 2)),
                    "{id}"
                );
                let rows = h
                    .metrics
                    .query(&MetricQuery {
                        series: format!("field:{id}"),
                        start: t0,
                        stop: t0 + chrono::Duration::minutes(1),
                        window: None,
                        aggregations: vec![],
                    })
                    .await
                    .unwrap();
                let got: Vec<_> = rows
                    .into_iter()
                    .map(|r| r.values["value"].clone())
                    .collect();
                let want: Vec<_> = (0..ROUNDS)
                    .map(|r| MetricValue::Number(value(node, source, field, r)))
                    .collect();
                assert_eq!(got, want, "{id}");
            }
        }
    }
    h.stop().await;
}
