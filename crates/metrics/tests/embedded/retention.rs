//! Retention deletes old raw points while the rollups keep answering for the old range.

use super::aggregation::{assert_matches, naive};
use crate::support::{
    Rng, manual_flush_config, now_truncated, number, open, raw_query, rows, window_query,
};
use chrono::{DateTime, TimeDelta, Utc};
use std::time::Duration;
use switchyard_core::metrics::{Aggregation, MetricError, MetricStore};
use switchyard_metrics::EmbeddedMetricStore;

const SUMMARIES: [Aggregation; 7] = [
    Aggregation::Mean,
    Aggregation::Min,
    Aggregation::Max,
    Aggregation::Sum,
    Aggregation::Count,
    Aggregation::First,
    Aggregation::Last,
];

async fn write_every_7s(
    store: &EmbeddedMetricStore,
    rng: &mut Rng,
    series: &str,
    start: DateTime<Utc>,
    hours: i64,
) -> Vec<(i64, f64)> {
    let points: Vec<(DateTime<Utc>, f64)> = (0..hours * 3600 / 7)
        .map(|i| (start + TimeDelta::seconds(i * 7), rng.value()))
        .collect();
    // Committed in small batches, so rollup buckets are merged with what is already stored.
    for chunk in points.chunks(37) {
        let batch = chunk.iter().map(|(t, v)| number(series, *t, *v)).collect();
        store.write(batch).await.unwrap();
        store.flush().await.unwrap();
    }
    points
        .iter()
        .map(|(t, v)| (t.timestamp_micros(), *v))
        .collect()
}

#[tokio::test]
async fn old_ranges_are_answered_from_rollups_after_raw_points_expire() {
    let dir = tempfile::tempdir().unwrap();
    // Defaults: raw 7d, minute 90d, hour forever.
    let store = open(dir.path(), &manual_flush_config()).await;
    let mut rng = Rng::new(7);
    let hour = now_truncated(TimeDelta::hours(1));
    let weeks_ago = hour - TimeDelta::days(20);
    let months_ago = hour - TimeDelta::days(120);
    let recent = hour - TimeDelta::days(1);
    let by_minute = write_every_7s(&store, &mut rng, "s", weeks_ago, 3).await;
    let by_hour = write_every_7s(&store, &mut rng, "s", months_ago, 5).await;
    let by_raw = write_every_7s(&store, &mut rng, "s", recent, 1).await;
    store.flush().await.unwrap();

    let weeks_range = (weeks_ago, weeks_ago + TimeDelta::hours(3));
    let months_range = (months_ago, months_ago + TimeDelta::hours(5));
    let raw_before = rows(&store, &raw_query("s", weeks_range.0, weeks_range.1)).await;
    assert_eq!(
        raw_before.len(),
        by_minute.len(),
        "raw kept until a retention pass"
    );

    let removed = store.enforce_retention(Utc::now()).await.unwrap();
    assert!(removed > 0);
    assert!(
        rows(&store, &raw_query("s", weeks_range.0, weeks_range.1))
            .await
            .is_empty()
    );
    assert!(
        rows(&store, &raw_query("s", months_range.0, months_range.1))
            .await
            .is_empty()
    );
    let recent_raw = rows(&store, &raw_query("s", recent, hour)).await;
    assert_eq!(
        recent_raw.len(),
        by_raw.len(),
        "raw points within retention stay"
    );

    // 20 days ago: minute rollups, for any window of whole minutes.
    for window in [Duration::from_secs(600), Duration::from_secs(3600)] {
        let (start, stop) = weeks_range;
        let q = window_query("s", start, stop, window, &SUMMARIES);
        let want = naive(&by_minute, start, stop, window, &SUMMARIES);
        assert_matches(
            &rows(&store, &q).await,
            &want,
            &format!("minute rollups, {window:?}"),
        );
    }

    // 120 days ago: the minute rollups are gone too; hour rollups answer hourly windows.
    let (start, stop) = months_range;
    let hourly = Duration::from_secs(3600);
    let q = window_query("s", start, stop, hourly, &SUMMARIES);
    let want = naive(&by_hour, start, stop, hourly, &SUMMARIES);
    assert_matches(&rows(&store, &q).await, &want, "hour rollups");
    // Finer windows there can only be as fine as an hour.
    let q = window_query(
        "s",
        start,
        stop,
        Duration::from_secs(600),
        &[Aggregation::Count],
    );
    let got = rows(&store, &q).await;
    assert_eq!(got.len(), 5);
    assert!(got.iter().all(|r| r.timestamp.timestamp() % 3600 == 0));

    let p95 = window_query("s", start, stop, hourly, &[Aggregation::Percentile(95)]);
    match store.query(&p95).await {
        Err(MetricError::InvalidQuery(m)) => {
            assert!(m.contains("percentile_95") && m.contains("raw"), "{m}")
        }
        other => panic!("expected InvalidQuery, got {other:?}"),
    }
}

#[tokio::test]
async fn retention_forever_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = manual_flush_config();
    config.retention.raw = "0".into();
    let store = open(dir.path(), &config).await;
    let old = now_truncated(TimeDelta::hours(1)) - TimeDelta::days(400);
    store.write(vec![number("s", old, 1.0)]).await.unwrap();
    store.flush().await.unwrap();
    store.enforce_retention(Utc::now()).await.unwrap();
    let q = raw_query("s", old, old + TimeDelta::seconds(1));
    assert_eq!(rows(&store, &q).await.len(), 1);
}
