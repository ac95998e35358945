//! InfluxDB 1.x (`influxd` from Debian's `influxdb` package) on loopback: every metric type,
//! windowed aggregations against a naive computation, and a 30 s outage during ingest.

use crate::point;
use crate::servers::{Server, require};
use chrono::{DurationRound, TimeDelta, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use switchyard_core::metrics::{Aggregation, MetricQuery, MetricStore, MetricValue};
use switchyard_core::model::MetricType;
use switchyard_metrics::{InfluxConfig, InfluxVersion};
use switchyard_metrics_influxdb::InfluxMetricStore;

fn config(url: &str) -> InfluxConfig {
    InfluxConfig {
        url: url.into(),
        version: InfluxVersion::V1,
        database: "sytest".into(),
        flush_interval: "200ms".into(),
        ..InfluxConfig::default()
    }
}

fn query(series: &str, window: Option<u64>, aggs: &[Aggregation]) -> MetricQuery {
    let now = Utc::now();
    MetricQuery {
        series: series.into(),
        start: now - TimeDelta::days(3),
        stop: now + TimeDelta::minutes(1),
        window: window.map(Duration::from_secs),
        aggregations: aggs.to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_type_round_trips() {
    let Some(influxd) = require("influxd", "every_metric_type_round_trips") else {
        return;
    };
    let server = Server::influxd(influxd).await;
    let store = InfluxMetricStore::open(&config(&server.url)).await.unwrap();
    let t = Utc::now().duration_trunc(TimeDelta::seconds(1)).unwrap() - TimeDelta::hours(1);
    let cases = [
        ("g", MetricType::Gauge, MetricValue::Number(21.0)),
        ("gf", MetricType::GaugeFloat, MetricValue::Number(21.5)),
        ("c", MetricType::Counter, MetricValue::Number(1e12)),
        ("b", MetricType::Binary, MetricValue::Number(1.0)),
        (
            "s",
            MetricType::String,
            MetricValue::Text("open \"door\", now".into()),
        ),
        (
            "geo",
            MetricType::Geo,
            MetricValue::Text("52.1;4.3;7".into()),
        ),
        (
            "n",
            MetricType::None,
            MetricValue::Text("kept as text".into()),
        ),
    ];
    let points = cases
        .iter()
        .map(|(s, ty, v)| point(s, *ty, t, v.clone()))
        .collect();
    store.write(points).await.unwrap();
    store.flush().await.unwrap();
    for (series, _, value) in &cases {
        let rows = store.query(&query(series, None, &[])).await.unwrap();
        assert_eq!(rows.len(), 1, "{series}");
        assert_eq!(rows[0].timestamp, t, "{series}");
        assert_eq!(&rows[0].values["value"], value, "{series}");
    }
    // A fresh store (no remembered types) finds the series' measurement on the server.
    let again = InfluxMetricStore::open(&config(&server.url)).await.unwrap();
    let rows = again.query(&query("geo", Some(3600), &[])).await.unwrap();
    assert_eq!(rows[0].values["count"], MetricValue::Number(1.0));
    assert_eq!(
        rows[0].values["last"],
        MetricValue::Text("52.1;4.3;7".into())
    );
    let err = again
        .query(&query("s", Some(60), &[Aggregation::Mean]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("text series"), "{err}");
    assert!(
        again
            .query(&query("unknown", None, &[]))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.stats().written, 7);
    store.close().await.unwrap();
    again.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windowed_aggregations_match_a_naive_computation() {
    let Some(influxd) = require("influxd", "windowed_aggregations_match_a_naive_computation")
    else {
        return;
    };
    let server = Server::influxd(influxd).await;
    let store = InfluxMetricStore::open(&config(&server.url)).await.unwrap();
    let base = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap() - TimeDelta::hours(30);
    // Distinct millisecond times (InfluxDB keeps one value per series and time).
    let mut seed = 0x5eed_u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        seed >> 33
    };
    let mut times = BTreeSet::new();
    while times.len() < 3000 {
        times.insert(next() % (6 * 3_600_000));
    }
    let points: Vec<(i64, f64)> = times
        .into_iter()
        .map(|ms| (ms as i64, (next() % 200_000) as f64 / 100.0 - 1000.0))
        .collect();
    for chunk in points.chunks(700) {
        let batch = chunk
            .iter()
            .map(|(ms, v)| {
                point(
                    "t",
                    MetricType::GaugeFloat,
                    base + TimeDelta::milliseconds(*ms),
                    MetricValue::Number(*v),
                )
            })
            .collect();
        store.write(batch).await.unwrap();
    }
    store.flush().await.unwrap();
    let all = [
        Aggregation::Mean,
        Aggregation::Min,
        Aggregation::Max,
        Aggregation::Sum,
        Aggregation::Count,
        Aggregation::First,
        Aggregation::Last,
        Aggregation::Percentile(95),
    ];
    let start = base + TimeDelta::seconds(13 * 60 + 30);
    let stop = base + TimeDelta::hours(5) + TimeDelta::milliseconds(7);
    for window in [60u64, 420, 3600] {
        let q = MetricQuery {
            series: "t".into(),
            start,
            stop,
            window: Some(Duration::from_secs(window)),
            aggregations: all.to_vec(),
        };
        let got = store.query(&q).await.unwrap();
        // The naive answer: epoch-aligned windows over [start, stop).
        let w_ms = window as i64 * 1000;
        let mut windows: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
        for (ms, v) in &points {
            let t = (base + TimeDelta::milliseconds(*ms)).timestamp_millis();
            if t >= start.timestamp_millis() && t < stop.timestamp_millis() {
                windows.entry(t - t.rem_euclid(w_ms)).or_default().push(*v);
            }
        }
        assert_eq!(got.len(), windows.len(), "window {window}");
        for (row, (w_start, values)) in got.iter().zip(&windows) {
            assert_eq!(
                row.timestamp.timestamp_millis(),
                *w_start,
                "window {window}"
            );
            let n = values.len();
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let sum: f64 = values.iter().sum();
            // InfluxQL's percentile: the value at rank floor(n·p/100 + 0.5).
            let rank = ((n as f64) * 0.95 + 0.5).floor() as usize;
            let want = [
                ("mean", sum / n as f64),
                ("min", sorted[0]),
                ("max", sorted[n - 1]),
                ("sum", sum),
                ("count", n as f64),
                ("first", values[0]),
                ("last", values[n - 1]),
                ("percentile_95", sorted[rank - 1]),
            ];
            for (name, want) in want {
                let MetricValue::Number(got) = row.values[name] else {
                    panic!("{name} is not a number");
                };
                assert!(
                    (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                    "{name} at {}: got {got}, want {want} (window {window})",
                    row.timestamp
                );
            }
        }
    }
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_30_second_outage_during_ingest_loses_nothing() {
    let Some(influxd) = require("influxd", "a_30_second_outage_during_ingest_loses_nothing") else {
        return;
    };
    let mut server = Server::influxd(influxd).await;
    let store = InfluxMetricStore::open(&config(&server.url)).await.unwrap();
    let base = Utc::now().duration_trunc(TimeDelta::seconds(1)).unwrap() - TimeDelta::hours(2);
    let mut n = 0i64;
    let mut batch = |count: i64| {
        let points: Vec<_> = (n..n + count)
            .map(|i| {
                point(
                    "o",
                    MetricType::Counter,
                    base + TimeDelta::milliseconds(i),
                    MetricValue::Number(i as f64),
                )
            })
            .collect();
        n += count;
        points
    };
    for _ in 0..10 {
        store.write(batch(50)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.stop();
    // 30 s down while points keep coming (the writer retries with backoff meanwhile).
    for _ in 0..30 {
        store.write(batch(100)).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(store.stats().buffered >= 3000, "{:?}", store.stats());
    server.start().await;
    store.write(batch(100)).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while store.stats().buffered > 0 {
        assert!(std::time::Instant::now() < deadline, "{:?}", store.stats());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    store.flush().await.unwrap();
    let rows = store.query(&query("o", None, &[])).await.unwrap();
    assert_eq!(
        rows.len() as i64,
        n,
        "every point written during the outage is there"
    );
    let values: Vec<f64> = rows
        .iter()
        .map(|r| match r.values["value"] {
            MetricValue::Number(v) => v,
            _ => f64::NAN,
        })
        .collect();
    assert_eq!(values, (0..n).map(|i| i as f64).collect::<Vec<_>>());
    assert_eq!(store.stats().dropped, 0);
    assert_eq!(store.stats().written, n as u64);
    store.close().await.unwrap();
}

#[tokio::test]
async fn past_the_buffer_points_are_dropped_and_counted() {
    // Nothing listens on this port: every write fails and points stay buffered.
    let url = format!("http://127.0.0.1:{}", crate::servers::free_port());
    let config = InfluxConfig {
        buffer_size: 10,
        request_timeout: "1s".into(),
        ..config(&url)
    };
    let store = InfluxMetricStore::open(&config).await.unwrap();
    let t = Utc::now();
    let points = (0..25)
        .map(|i| {
            point(
                "d",
                MetricType::Gauge,
                t + TimeDelta::seconds(i),
                MetricValue::Number(i as f64),
            )
        })
        .collect();
    store.write(points).await.unwrap();
    let stats = store.stats();
    assert_eq!((stats.buffered, stats.dropped), (10, 15));
    assert!(store.flush().await.is_err(), "flush reports the outage");
    assert_eq!(store.stats().buffered, 10, "and keeps the points");
    let nan = point("d", MetricType::Gauge, t, MetricValue::Number(f64::NAN));
    store.write(vec![nan]).await.unwrap();
    assert_eq!(
        store.stats().dropped,
        16,
        "a point InfluxDB cannot hold is counted"
    );
    assert!(store.close().await.is_err());
    assert_eq!(
        store.stats().dropped,
        26,
        "closing with the server down loses the buffer"
    );
}
