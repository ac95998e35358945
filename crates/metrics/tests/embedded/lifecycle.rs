//! Flush, close, reopen, and a store filled through `write` by many series at once.

use crate::support::{as_number, manual_flush_config, number, open, raw_query, rows, text};
use chrono::{TimeDelta, Utc};
use std::time::Duration;
use switchyard_core::metrics::{MetricError, MetricStore, MetricValue};
use switchyard_metrics::{EmbeddedMetricsConfig, MetricsConfig};

#[tokio::test]
async fn flush_makes_buffered_points_visible() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), &manual_flush_config()).await;
    let now = Utc::now();
    store.write(vec![number("s", now, 1.0)]).await.unwrap();
    let q = raw_query("s", now, now + TimeDelta::seconds(1));
    assert!(rows(&store, &q).await.is_empty(), "not yet committed");
    assert_eq!(store.stats().buffered, 1);
    store.flush().await.unwrap();
    assert_eq!(rows(&store, &q).await.len(), 1);
    assert_eq!(store.stats().written, 1);
    assert_eq!(store.stats().buffered, 0);
}

#[tokio::test]
async fn points_persist_across_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let t = Utc::now() - TimeDelta::minutes(10);
    let store = open(dir.path(), &manual_flush_config()).await;
    store
        .write(vec![number("a", t, 1.5), text("b", t, "hello")])
        .await
        .unwrap();
    store.close().await.unwrap();
    assert!(dir.path().join("metrics/metrics.redb").is_file());

    let store = open(dir.path(), &manual_flush_config()).await;
    // New points to a known series and to a new one must not collide with the stored ids.
    store
        .write(vec![
            number("a", t + TimeDelta::seconds(1), 2.5),
            number("c", t, 9.0),
        ])
        .await
        .unwrap();
    store.flush().await.unwrap();
    let q = |s: &str| raw_query(s, t, t + TimeDelta::seconds(2));
    let a: Vec<f64> = rows(&store, &q("a"))
        .await
        .iter()
        .map(|r| as_number(&r.values["value"]))
        .collect();
    assert_eq!(a, vec![1.5, 2.5]);
    assert_eq!(
        rows(&store, &q("b")).await[0].values["value"],
        MetricValue::Text("hello".into())
    );
    let c: Vec<f64> = rows(&store, &q("c"))
        .await
        .iter()
        .map(|r| as_number(&r.values["value"]))
        .collect();
    assert_eq!(c, vec![9.0]);
    store.close().await.unwrap();
}

#[tokio::test]
async fn a_closed_store_refuses_every_call() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), &manual_flush_config()).await;
    store.close().await.unwrap();
    let now = Utc::now();
    assert!(matches!(
        store.write(vec![number("s", now, 1.0)]).await,
        Err(MetricError::Closed)
    ));
    assert!(matches!(
        store
            .query(&raw_query("s", now, now + TimeDelta::seconds(1)))
            .await,
        Err(MetricError::Closed)
    ));
    assert!(matches!(store.flush().await, Err(MetricError::Closed)));
    assert!(matches!(store.close().await, Err(MetricError::Closed)));
    assert!(matches!(
        store.enforce_retention(now).await,
        Err(MetricError::Closed)
    ));
}

#[tokio::test]
async fn open_builds_the_configured_backend() {
    let dir = tempfile::tempdir().unwrap();
    let store = switchyard_metrics::open(&MetricsConfig::default(), dir.path())
        .await
        .unwrap();
    assert_eq!(store.name(), "embedded");
    assert!(dir.path().join("metrics/metrics.redb").is_file());
    store.close().await.unwrap();

    let bad = MetricsConfig::Embedded(EmbeddedMetricsConfig {
        max_wait: "a while".into(),
        ..Default::default()
    });
    match switchyard_metrics::open(&bad, dir.path()).await {
        Err(e) => assert!(e.to_string().contains("max_wait"), "{e}"),
        Ok(_) => panic!("an invalid config must be refused"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_series_of_a_thousand_points_are_all_queryable() {
    let dir = tempfile::tempdir().unwrap();
    // Defaults: the background writer commits batches while the writes go on.
    let store = open(dir.path(), &EmbeddedMetricsConfig::default()).await;
    let base = Utc::now() - TimeDelta::hours(3);
    let series = |s: usize| format!("gw1.{s}.1.V_TEMP");
    // Interleaved as devices report: each write carries one point of every series.
    for i in 0..1000 {
        let t = base + TimeDelta::seconds(i);
        let batch = (0..100)
            .map(|s| number(&series(s), t, (s * 1000 + i as usize) as f64))
            .collect();
        store.write(batch).await.unwrap();
    }
    store.flush().await.unwrap();
    let stats = store.stats();
    assert_eq!(
        (stats.written, stats.dropped, stats.buffered),
        (100_000, 0, 0)
    );
    for s in 0..100 {
        let got = rows(
            &store,
            &raw_query(&series(s), base, base + TimeDelta::seconds(1000)),
        )
        .await;
        assert_eq!(got.len(), 1000, "series {s}");
        let expected: Vec<f64> = (0..1000).map(|i| (s * 1000 + i) as f64).collect();
        let values: Vec<f64> = got.iter().map(|r| as_number(&r.values["value"])).collect();
        assert_eq!(values, expected, "series {s}");
    }
    let q = crate::support::window_query(
        &series(42),
        base,
        base + TimeDelta::seconds(1000),
        Duration::from_secs(1000),
        &[switchyard_core::metrics::Aggregation::Count],
    );
    let counted: f64 = rows(&store, &q)
        .await
        .iter()
        .map(|r| as_number(&r.values["count"]))
        .sum();
    assert_eq!(counted, 1000.0);
    store.close().await.unwrap();
}
