//! S4's shape (one field's history at 1-minute windows, with gaps) answered from the minute
//! rollups and from raw points, against the naive computation over the points written.

use super::aggregation::{assert_matches, naive};
use crate::support::{Rng, manual_flush_config, now_truncated, number, open, rows, window_query};
use chrono::{DateTime, TimeDelta, Utc};
use std::time::Duration;
use switchyard_core::metrics::{Aggregation, MetricStore};
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

/// `hours` of points from `start`, mostly every 30 s, some exactly on a minute edge or 1 ms
/// before one, and gaps of up to 3 hours with no point at all. Times are distinct.
async fn write_with_gaps(
    store: &EmbeddedMetricStore,
    rng: &mut Rng,
    start: DateTime<Utc>,
    hours: i64,
) -> Vec<(i64, f64)> {
    let end = start + TimeDelta::hours(hours);
    let mut points = Vec::new();
    let mut t = start;
    while t < end {
        points.push((t, rng.value()));
        let ms = t.timestamp_millis();
        let to_edge = 60_000 - ms.rem_euclid(60_000);
        t += TimeDelta::milliseconds(match rng.below(200) {
            0..=9 => to_edge,
            10..=19 if to_edge > 1 => to_edge - 1,
            20 => (1 + rng.below(180)) as i64 * 60_000,
            _ => 30_000,
        });
    }
    for chunk in points.chunks(2_000) {
        let batch = chunk
            .iter()
            .map(|(t, v)| number("history", *t, *v))
            .collect();
        store.write(batch).await.unwrap();
        store.flush().await.unwrap();
    }
    points
        .iter()
        .map(|(t, v)| (t.timestamp_micros(), *v))
        .collect()
}

#[tokio::test]
async fn one_minute_windows_over_days_with_gaps_match_the_naive_answer() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), &manual_flush_config()).await;
    let mut rng = Rng::new(0x54);
    let minute = Duration::from_secs(60);
    let today = now_truncated(TimeDelta::minutes(1));

    // 20 days ago is past the raw retention (7 days): the minute rollups answer.
    let old = today - TimeDelta::days(20);
    let written = write_with_gaps(&store, &mut rng, old, 72).await;
    let (start, stop) = (old + TimeDelta::minutes(7), old + TimeDelta::hours(71));
    for aggregations in [&SUMMARIES[..], &[Aggregation::Mean]] {
        let want = naive(&written, start, stop, minute, aggregations);
        assert!(want.len() > 1_000, "{} windows", want.len());
        let got = rows(
            &store,
            &window_query("history", start, stop, minute, aggregations),
        )
        .await;
        assert_matches(&got, &want, "minute rollups at 1-minute windows");
    }
    // The empty windows of a gap are absent, not zero rows.
    let got = rows(
        &store,
        &window_query("history", start, stop, minute, &[Aggregation::Count]),
    )
    .await;
    assert!(got.len() < ((stop - start).num_minutes()) as usize);

    // Within the raw retention: the raw points answer, percentiles included.
    let recent = today - TimeDelta::days(2);
    let written = write_with_gaps(&store, &mut rng, recent, 24).await;
    let (start, stop) = (
        recent + TimeDelta::seconds(90),
        recent + TimeDelta::hours(23) + TimeDelta::milliseconds(1),
    );
    let mut every_kind = SUMMARIES.to_vec();
    every_kind.extend([Aggregation::Percentile(50), Aggregation::Percentile(95)]);
    let got = rows(
        &store,
        &window_query("history", start, stop, minute, &every_kind),
    )
    .await;
    assert_matches(
        &got,
        &naive(&written, start, stop, minute, &every_kind),
        "raw points at 1-minute windows",
    );
    store.close().await.unwrap();
}
