//! Answering a query from one read transaction, at the finest resolution still kept for its range.
//! Reads never wait for the writer: redb read transactions see the last commit.

use super::aggregate::{NumericWindows, RowAt, TextWindows};
use super::error::EmbeddedError;
use super::rollup::MINUTE_US;
use super::tables::{HOUR_ROLLUPS, MINUTE_ROLLUPS, RAW_NUMBERS, RAW_TEXTS, SERIES};
use crate::config::Retention;
use chrono::{DateTime, Utc};
use redb::{Database, ReadableDatabase};
use std::collections::BTreeMap;
use std::time::Duration;
use switchyard_core::metrics::{Aggregation, MetricQuery, MetricRow, MetricValue};
use switchyard_core::model::MetricType;

/// Most windows one query may ask for; beyond it the query is refused rather than answered with
/// an unbounded number of rows.
pub const MAX_WINDOWS: i64 = 100_000;
/// Most points one query may hold in memory: raw rows returned, or values kept for percentiles.
pub const MAX_POINTS: usize = 1_000_000;

const NUMERIC_DEFAULT: [Aggregation; 3] = [Aggregation::Mean, Aggregation::Min, Aggregation::Max];
const TEXT_DEFAULT: [Aggregation; 3] = [Aggregation::Count, Aggregation::First, Aggregation::Last];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolution {
    Raw,
    Minute,
    Hour,
}

/// Raw while the range starts within the raw retention; then minute rollups for windows of a
/// minute or more still within their retention; then hour rollups.
pub(crate) fn resolution(
    start_us: i64,
    window_us: i64,
    retention: &Retention,
    now_us: i64,
) -> Resolution {
    let kept = |keep: Option<Duration>| {
        keep.is_none_or(|d| {
            let d_us = i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
            start_us >= now_us.saturating_sub(d_us)
        })
    };
    if kept(retention.raw) {
        Resolution::Raw
    } else if window_us >= MINUTE_US && kept(retention.minute) {
        Resolution::Minute
    } else {
        Resolution::Hour
    }
}

/// A query checked and in µs.
struct Plan {
    start_us: i64,
    stop_us: i64,
    window_us: Option<i64>,
    /// Windows between start and stop (0 without a window), at most [`MAX_WINDOWS`].
    windows: usize,
}

impl Plan {
    fn new(q: &MetricQuery) -> Result<Plan, EmbeddedError> {
        let invalid = |m: String| Err(EmbeddedError::InvalidQuery(m));
        let (start_us, stop_us) = (q.start.timestamp_micros(), q.stop.timestamp_micros());
        if stop_us <= start_us {
            return invalid(format!(
                "stop ({}) must be after start ({})",
                q.stop, q.start
            ));
        }
        for a in &q.aggregations {
            if let Aggregation::Percentile(p) = a
                && !(1..=99).contains(p)
            {
                return invalid(format!("percentile {p} is outside 1..=99"));
            }
        }
        let mut window_count = 0;
        let window_us = match q.window {
            None => None,
            Some(w) => {
                let w_us = i64::try_from(w.as_micros()).unwrap_or(i64::MAX);
                if w_us <= 0 {
                    return invalid("window must be at least 1µs".into());
                }
                let first = start_us.div_euclid(w_us) * w_us;
                let span = i128::from(stop_us) - i128::from(first);
                let windows = (span + i128::from(w_us) - 1) / i128::from(w_us);
                if windows > i128::from(MAX_WINDOWS) {
                    return invalid(format!(
                        "{windows} windows of {w:?} between start and stop; at most {MAX_WINDOWS} \
                         per query — use a longer window or a shorter range"
                    ));
                }
                window_count = usize::try_from(windows).unwrap_or(0);
                Some(w_us)
            }
        };
        Ok(Plan {
            start_us,
            stop_us,
            window_us,
            windows: window_count,
        })
    }
}

/// Without a window the answer is raw points only, so a range older than the raw retention
/// answers empty: ask with a window to get the rollups. A rollup bucket counts in full toward the
/// window holding its start, and only if that start is in `[start, stop)`; windows that are not
/// whole minutes (or hours, past the minute retention) are therefore approximate there.
pub(crate) fn run(
    db: &Database,
    retention: &Retention,
    q: &MetricQuery,
    now: DateTime<Utc>,
) -> Result<Vec<MetricRow>, EmbeddedError> {
    let plan = Plan::new(q)?;
    let txn = db.begin_read()?;
    let stored = txn
        .open_table(SERIES)?
        .get(q.series.as_str())?
        .map(|g| (g.value().0, g.value().1.parse::<MetricType>()));
    let (id, metric_type) = match stored {
        None => return Ok(Vec::new()),
        Some((id, Ok(t))) => (id, t),
        // Written by us from `MetricType::as_str`; read as text rather than fail the query.
        Some((id, Err(_))) => (id, MetricType::String),
    };
    let range = (id, plan.start_us)..(id, plan.stop_us);
    let rows = if !metric_type.is_numeric() {
        let table = txn.open_table(RAW_TEXTS)?;
        let points = table
            .range(range)?
            .map(|entry| entry.map(|(k, v)| (k.value().1, v.value().to_string())));
        match plan.window_us {
            None => raw_rows(points.map(|p| p.map(|(t, v)| (t, MetricValue::Text(v)))))?,
            Some(w) => {
                let aggregations = text_aggregations(&q.aggregations)?;
                let mut windows = TextWindows::new(w);
                for point in points {
                    let (ts, v) = point?;
                    windows.add_point(ts, &v);
                }
                windows.rows(&aggregations)
            }
        }
    } else {
        let Some(w) = plan.window_us else {
            let table = txn.open_table(RAW_NUMBERS)?;
            let points = table.range(range)?;
            return rows_at(raw_rows(points.map(|entry| {
                entry.map(|(k, v)| (k.value().1, MetricValue::Number(v.value())))
            }))?);
        };
        let aggregations = if q.aggregations.is_empty() {
            NUMERIC_DEFAULT.to_vec()
        } else {
            q.aggregations.clone()
        };
        let wants_percentile = aggregations
            .iter()
            .any(|a| matches!(a, Aggregation::Percentile(_)));
        let now_us = now.timestamp_micros();
        let resolution = resolution(plan.start_us, w, retention, now_us);
        let mut windows = NumericWindows::new(w, wants_percentile, plan.windows);
        match resolution {
            Resolution::Raw => {
                for entry in txn.open_table(RAW_NUMBERS)?.range(range)? {
                    let (k, v) = entry?;
                    windows.add_point(k.value().1, v.value());
                    if windows.values_kept() > MAX_POINTS {
                        return Err(too_many_points());
                    }
                }
            }
            Resolution::Minute | Resolution::Hour => {
                if let Some(p) = aggregations
                    .iter()
                    .find(|a| matches!(a, Aggregation::Percentile(_)))
                {
                    return Err(EmbeddedError::InvalidQuery(format!(
                        "{p} needs raw points, which are kept for {}; this range starts before \
                         that and only per-minute/per-hour summaries remain — ask for mean, min, \
                         max, sum, count, first or last, or start later",
                        human(retention.raw)
                    )));
                }
                let table = if resolution == Resolution::Minute {
                    MINUTE_ROLLUPS
                } else {
                    HOUR_ROLLUPS
                };
                for entry in txn.open_table(table)?.range(range)? {
                    let (k, v) = entry?;
                    windows.add_rollup(k.value().1, &v.value());
                }
            }
        }
        windows.rows(&aggregations)
    };
    rows_at(rows)
}

fn raw_rows(
    points: impl Iterator<Item = Result<(i64, MetricValue), redb::StorageError>>,
) -> Result<Vec<RowAt>, EmbeddedError> {
    let mut rows = Vec::new();
    for point in points {
        let (ts, v) = point?;
        if rows.len() >= MAX_POINTS {
            return Err(too_many_points());
        }
        rows.push((ts, BTreeMap::from([("value".to_string(), v)])));
    }
    Ok(rows)
}

fn rows_at(rows: Vec<RowAt>) -> Result<Vec<MetricRow>, EmbeddedError> {
    rows.into_iter()
        .map(|(ts, values)| {
            let timestamp =
                DateTime::from_timestamp_micros(ts).ok_or(EmbeddedError::TimeOutOfRange(ts))?;
            Ok(MetricRow { timestamp, values })
        })
        .collect()
}

fn text_aggregations(asked: &[Aggregation]) -> Result<Vec<Aggregation>, EmbeddedError> {
    if asked.is_empty() {
        return Ok(TEXT_DEFAULT.to_vec());
    }
    if let Some(bad) = asked.iter().find(|a| !TEXT_DEFAULT.contains(a)) {
        return Err(EmbeddedError::InvalidQuery(format!(
            "{bad} does not apply to a text series; use count, first or last"
        )));
    }
    Ok(asked.to_vec())
}

fn too_many_points() -> EmbeddedError {
    EmbeddedError::InvalidQuery(format!(
        "more than {MAX_POINTS} points in range — use a window or a shorter range"
    ))
}

/// `7d`, `36h`, `90s`: retention as a user wrote it.
fn human(keep: Option<Duration>) -> String {
    let Some(d) = keep else {
        return "ever".into();
    };
    let secs = d.as_secs();
    match secs {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::embedded::rollup::HOUR_US;

    const DAY_US: i64 = 24 * HOUR_US;

    fn retention(raw: i64, minute: Option<i64>, hour: Option<i64>) -> Retention {
        let days = |d: i64| Duration::from_secs(d as u64 * 86_400);
        Retention {
            raw: Some(days(raw)),
            minute: minute.map(days),
            hour: hour.map(days),
        }
    }

    #[test]
    fn picks_the_finest_resolution_still_kept() {
        let r = retention(7, Some(90), None);
        let now = 1_000 * DAY_US;
        assert_eq!(resolution(now - 6 * DAY_US, 1, &r, now), Resolution::Raw);
        assert_eq!(resolution(now - 7 * DAY_US, 1, &r, now), Resolution::Raw);
        assert_eq!(
            resolution(now - 8 * DAY_US, MINUTE_US, &r, now),
            Resolution::Minute
        );
        assert_eq!(
            resolution(now - 8 * DAY_US, MINUTE_US - 1, &r, now),
            Resolution::Hour
        );
        assert_eq!(
            resolution(now - 91 * DAY_US, HOUR_US, &r, now),
            Resolution::Hour
        );
        let forever = Retention::default();
        assert_eq!(resolution(0, HOUR_US, &forever, now), Resolution::Raw);
    }

    #[test]
    fn plan_rejects_bad_queries() {
        let start = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let q = |stop_secs: i64, window: Option<Duration>| MetricQuery {
            series: "s".into(),
            start,
            stop: start + chrono::Duration::seconds(stop_secs),
            window,
            aggregations: vec![],
        };
        assert!(Plan::new(&q(0, None)).is_err());
        assert!(Plan::new(&q(-1, None)).is_err());
        assert!(Plan::new(&q(10, Some(Duration::ZERO))).is_err());
        assert!(Plan::new(&q(10, Some(Duration::from_nanos(10)))).is_err());
        assert!(Plan::new(&q(MAX_WINDOWS, Some(Duration::from_secs(1)))).is_ok());
        assert!(Plan::new(&q(MAX_WINDOWS + 1, Some(Duration::from_secs(1)))).is_err());
        let mut bad_p = q(10, Some(Duration::from_secs(1)));
        bad_p.aggregations = vec![Aggregation::Percentile(100)];
        assert!(Plan::new(&bad_p).is_err());
    }

    #[test]
    fn retention_reads_as_written() {
        assert_eq!(human(Some(Duration::from_secs(7 * 86_400))), "7d");
        assert_eq!(human(Some(Duration::from_secs(7200))), "2h");
        assert_eq!(human(Some(Duration::from_secs(90))), "90s");
        assert_eq!(human(None), "ever");
    }
}
