//! At the buffer's bound, points that do not fit are dropped and counted; the rest are kept.

use crate::support::{number, open, raw_query, rows};
use chrono::{TimeDelta, Utc};
use switchyard_core::metrics::{MetricStore, MetricValue};
use switchyard_metrics::EmbeddedMetricsConfig;

#[tokio::test]
async fn a_full_buffer_drops_and_counts_what_does_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    // No waiting for room, and a writer that would only commit after an hour: the writer cannot
    // make room within the write, so exactly the overflow is dropped.
    let config = EmbeddedMetricsConfig {
        buffer_size: 10,
        max_wait: "0s".into(),
        flush_interval: "1h".into(),
        ..Default::default()
    };
    let store = open(dir.path(), &config).await;
    let base = Utc::now() - TimeDelta::minutes(5);
    let points = (0..25)
        .map(|i| number("s", base + TimeDelta::seconds(i), i as f64))
        .collect();
    store.write(points).await.unwrap();
    assert_eq!(store.stats().dropped, 15);

    store.flush().await.unwrap();
    let kept = rows(&store, &raw_query("s", base, Utc::now())).await;
    let values: Vec<MetricValue> = kept.iter().map(|r| r.values["value"].clone()).collect();
    let first_ten: Vec<MetricValue> = (0..10).map(|i| MetricValue::Number(i as f64)).collect();
    assert_eq!(values, first_ten, "the oldest points are kept");
    assert_eq!(store.stats().written, 10);
    assert_eq!(store.stats().buffered, 0);
}

#[tokio::test]
async fn points_that_cannot_be_kept_are_counted_as_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), &EmbeddedMetricsConfig::default()).await;
    let now = Utc::now();
    store
        .write(vec![number("s", now, f64::NAN), number("s", now, 2.0)])
        .await
        .unwrap();
    store.flush().await.unwrap();
    assert_eq!(store.stats().dropped, 1);
    let kept = rows(&store, &raw_query("s", now, now + TimeDelta::seconds(1))).await;
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].values["value"], MetricValue::Number(2.0));
}
