//! Raw answers, text series, and the queries that are refused.

use crate::support::{
    manual_flush_config, now_truncated, number, open, raw_query, rows, text, window_query,
};
use chrono::{TimeDelta, Utc};
use std::collections::BTreeMap;
use std::time::Duration;
use switchyard_core::metrics::{Aggregation, MetricError, MetricPoint, MetricStore, MetricValue};
use switchyard_core::model::MetricType;

#[tokio::test]
async fn raw_query_returns_every_point_even_with_equal_times() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), &manual_flush_config()).await;
    let t = Utc::now() - TimeDelta::hours(1);
    let start = t - TimeDelta::seconds(10);
    let stop = t + TimeDelta::seconds(10);
    store
        .write(vec![
            number("s", start, 0.5),
            number("s", t, 1.0),
            number("s", t, 2.0),
            number("s", stop, 99.0),
        ])
        .await
        .unwrap();
    store.flush().await.unwrap();
    // Same time again, in a later batch.
    store.write(vec![number("s", t, 3.0)]).await.unwrap();
    store.flush().await.unwrap();

    let got = rows(&store, &raw_query("s", start, stop)).await;
    let got: Vec<(i64, MetricValue)> = got
        .into_iter()
        .map(|r| (r.timestamp.timestamp_micros(), r.values["value"].clone()))
        .collect();
    let us = t.timestamp_micros();
    assert_eq!(
        got,
        vec![
            (start.timestamp_micros(), MetricValue::Number(0.5)),
            (us, MetricValue::Number(1.0)),
            (us + 1, MetricValue::Number(2.0)),
            (us + 2, MetricValue::Number(3.0)),
        ],
        "start is included, stop is not, and equal times are all kept"
    );
}

#[tokio::test]
async fn unknown_series_answers_empty() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), &manual_flush_config()).await;
    let now = Utc::now();
    let q = window_query(
        "nope",
        now - TimeDelta::days(1),
        now,
        Duration::from_secs(60),
        &[],
    );
    assert!(store.query(&q).await.unwrap().is_empty());
}

#[tokio::test]
async fn bad_queries_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), &manual_flush_config()).await;
    let now = Utc::now();
    let invalid = |r: Result<_, MetricError>| match r {
        Err(MetricError::InvalidQuery(m)) => m,
        other => panic!("expected InvalidQuery, got {other:?}"),
    };
    let m = invalid(store.query(&raw_query("s", now, now)).await);
    assert!(m.contains("after start"), "{m}");
    let q = window_query("s", now - TimeDelta::hours(1), now, Duration::ZERO, &[]);
    invalid(store.query(&q).await);
    let q = window_query(
        "s",
        now - TimeDelta::days(365),
        now,
        Duration::from_secs(1),
        &[],
    );
    let m = invalid(store.query(&q).await);
    assert!(m.contains("100000"), "{m}");
}

#[tokio::test]
async fn text_series_keep_text_and_only_count_first_last() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), &manual_flush_config()).await;
    let base = now_truncated(TimeDelta::minutes(1)) - TimeDelta::hours(2);
    let geo = MetricPoint {
        metric_type: MetricType::Geo,
        ..text("gps", base, "52.1;4.3")
    };
    store
        .write(vec![
            text("door", base, "open"),
            text("door", base + TimeDelta::seconds(20), "closed"),
            text("door", base + TimeDelta::seconds(70), "open"),
            geo,
        ])
        .await
        .unwrap();
    store.flush().await.unwrap();

    let stop = base + TimeDelta::minutes(5);
    let raw = rows(&store, &raw_query("door", base, stop)).await;
    let values: Vec<&MetricValue> = raw.iter().map(|r| &r.values["value"]).collect();
    assert_eq!(
        values,
        [
            &MetricValue::Text("open".into()),
            &MetricValue::Text("closed".into()),
            &MetricValue::Text("open".into())
        ]
    );
    let gps = rows(&store, &raw_query("gps", base, stop)).await;
    assert_eq!(gps[0].values["value"], MetricValue::Text("52.1;4.3".into()));

    let minute = Duration::from_secs(60);
    let windows = rows(&store, &window_query("door", base, stop, minute, &[])).await;
    let first = BTreeMap::from([
        ("count".to_string(), MetricValue::Number(2.0)),
        ("first".to_string(), MetricValue::Text("open".into())),
        ("last".to_string(), MetricValue::Text("closed".into())),
    ]);
    assert_eq!(windows.len(), 2);
    assert_eq!(windows[0].timestamp, base);
    assert_eq!(windows[0].values, first);
    assert_eq!(windows[1].values["count"], MetricValue::Number(1.0));

    let mean = window_query("door", base, stop, minute, &[Aggregation::Mean]);
    match store.query(&mean).await {
        Err(MetricError::InvalidQuery(m)) => assert!(m.contains("text series"), "{m}"),
        other => panic!("expected InvalidQuery, got {other:?}"),
    }
}
