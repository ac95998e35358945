//! Windowed answers from raw points against a naive computation over the same random points.

use crate::support::{
    Rng, as_number, manual_flush_config, now_truncated, number, open, rows, window_query,
};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use switchyard_core::metrics::{Aggregation, MetricRow, MetricStore};

const ALL: [Aggregation; 9] = [
    Aggregation::Mean,
    Aggregation::Min,
    Aggregation::Max,
    Aggregation::Sum,
    Aggregation::Count,
    Aggregation::First,
    Aggregation::Last,
    Aggregation::Percentile(95),
    Aggregation::Percentile(50),
];

/// Points as (µs, value) in the order written.
pub fn naive(
    points: &[(i64, f64)],
    start: DateTime<Utc>,
    stop: DateTime<Utc>,
    window: Duration,
    aggregations: &[Aggregation],
) -> Vec<(i64, BTreeMap<String, f64>)> {
    let (start, stop) = (start.timestamp_micros(), stop.timestamp_micros());
    let w = window.as_micros() as i64;
    // The store moves a point whose time is taken 1 µs later, in the order written.
    let mut seen: HashMap<i64, i64> = HashMap::new();
    let mut windows: BTreeMap<i64, Vec<(i64, f64)>> = BTreeMap::new();
    for &(ts, v) in points {
        let shift = seen.entry(ts).or_insert(0);
        let ts = ts + *shift;
        *shift += 1;
        if ts >= start && ts < stop {
            let window_start = ts - ts.rem_euclid(w);
            windows.entry(window_start).or_default().push((ts, v));
        }
    }
    windows
        .into_iter()
        .map(|(window_start, mut pts)| {
            pts.sort_by_key(|p| p.0);
            let values: Vec<f64> = pts.iter().map(|p| p.1).collect();
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let n = values.len();
            let sum: f64 = values.iter().sum();
            let row = aggregations
                .iter()
                .map(|a| {
                    let v = match a {
                        Aggregation::Mean => sum / n as f64,
                        Aggregation::Min => sorted[0],
                        Aggregation::Max => sorted[n - 1],
                        Aggregation::Sum => sum,
                        Aggregation::Count => n as f64,
                        Aggregation::First => values[0],
                        Aggregation::Last => values[n - 1],
                        Aggregation::Percentile(p) => {
                            // Smallest rank r with r/n >= p/100.
                            let r = (1..=n).find(|r| r * 100 >= usize::from(*p) * n).unwrap();
                            sorted[r - 1]
                        }
                    };
                    (a.to_string(), v)
                })
                .collect();
            (window_start, row)
        })
        .collect()
}

pub fn assert_matches(got: &[MetricRow], want: &[(i64, BTreeMap<String, f64>)], context: &str) {
    let got_times: Vec<i64> = got.iter().map(|r| r.timestamp.timestamp_micros()).collect();
    let want_times: Vec<i64> = want.iter().map(|r| r.0).collect();
    assert_eq!(got_times, want_times, "window starts, {context}");
    for (row, (_, expected)) in got.iter().zip(want) {
        assert_eq!(
            row.values.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{context}"
        );
        for (key, want) in expected {
            let got = as_number(&row.values[key]);
            let close = if key == "mean" || key == "sum" {
                (got - want).abs() <= 1e-9 * want.abs().max(1.0)
            } else {
                got == *want
            };
            assert!(
                close,
                "{key} at {}: got {got}, want {want} ({context})",
                row.timestamp
            );
        }
    }
}

#[tokio::test]
async fn windowed_aggregations_match_a_naive_computation() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), &manual_flush_config()).await;
    let mut rng = Rng::new(0x5eed);
    // Millisecond times: a 1 µs move never crosses a window edge or meets another point.
    let base = now_truncated(TimeDelta::milliseconds(1)) - TimeDelta::days(2);
    let span_ms = 6 * 3_600_000;
    let mut points = Vec::new();
    let mut last = base;
    for _ in 0..5000 {
        let ts = if rng.below(10) == 0 {
            last
        } else {
            base + TimeDelta::milliseconds(rng.below(span_ms) as i64)
        };
        last = ts;
        points.push((ts, rng.value()));
    }
    for chunk in points.chunks(700) {
        let batch = chunk
            .iter()
            .map(|(ts, v)| number("gw1.1.1.V_TEMP", *ts, *v))
            .collect();
        store.write(batch).await.unwrap();
        // Another series in between must not leak into the answers.
        store
            .write(vec![number("gw1.1.2.V_TEMP", chunk[0].0, 1e6)])
            .await
            .unwrap();
    }
    store.flush().await.unwrap();
    let written: Vec<(i64, f64)> = points
        .iter()
        .map(|(t, v)| (t.timestamp_micros(), *v))
        .collect();

    let start = base + TimeDelta::seconds(13 * 60 + 30);
    let stop = base + TimeDelta::hours(5) + TimeDelta::milliseconds(7);
    for window in [60, 90, 7 * 60, 3600].map(Duration::from_secs) {
        let got = rows(
            &store,
            &window_query("gw1.1.1.V_TEMP", start, stop, window, &ALL),
        )
        .await;
        let want = naive(&written, start, stop, window, &ALL);
        assert!(!want.is_empty());
        assert_matches(&got, &want, &format!("window {window:?}"));
    }

    let defaults = [Aggregation::Mean, Aggregation::Min, Aggregation::Max];
    let window = Duration::from_secs(600);
    let got = rows(
        &store,
        &window_query("gw1.1.1.V_TEMP", start, stop, window, &[]),
    )
    .await;
    assert_matches(
        &got,
        &naive(&written, start, stop, window, &defaults),
        "defaults",
    );
}
