//! Folding points or rollups into epoch-aligned windows, and reading aggregations out of them.
//! Pure: the query module feeds it from redb.

use super::rollup::{Rollup, bucket_start};
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use switchyard_core::metrics::{Aggregation, MetricValue};

/// A row before its time is made a `DateTime`: µs since the epoch, and a value per key.
pub(crate) type RowAt = (i64, BTreeMap<String, MetricValue>);

/// Windows of a numeric series. Values are kept only when a percentile is asked for, since only
/// percentiles need more than a [`Rollup`].
#[derive(Debug)]
pub(crate) struct NumericWindows {
    window_us: i64,
    keep_values: bool,
    windows: BTreeMap<i64, (Rollup, Vec<f64>)>,
    values_kept: usize,
}

impl NumericWindows {
    pub fn new(window_us: i64, keep_values: bool) -> Self {
        NumericWindows {
            window_us,
            keep_values,
            windows: BTreeMap::new(),
            values_kept: 0,
        }
    }

    pub fn add_point(&mut self, ts_us: i64, value: f64) {
        let start = bucket_start(ts_us, self.window_us);
        let (_, values) = match self.windows.entry(start) {
            Entry::Vacant(e) => e.insert((Rollup::of(ts_us, value), Vec::new())),
            Entry::Occupied(e) => {
                let window = e.into_mut();
                window.0.add(ts_us, value);
                window
            }
        };
        if self.keep_values {
            values.push(value);
            self.values_kept += 1;
        }
    }

    /// A rollup bucket counts in full toward the window holding its start.
    pub fn add_rollup(&mut self, bucket_start_us: i64, bucket: &Rollup) {
        let start = bucket_start(bucket_start_us, self.window_us);
        self.windows
            .entry(start)
            .and_modify(|(r, _)| r.merge(bucket))
            .or_insert((*bucket, Vec::new()));
    }

    /// Points held in memory for percentiles, so the caller can bound them.
    pub fn values_kept(&self) -> usize {
        self.values_kept
    }

    pub fn rows(self, aggregations: &[Aggregation]) -> Vec<RowAt> {
        self.windows
            .into_iter()
            .map(|(start, (rollup, mut values))| {
                values.sort_by(f64::total_cmp);
                let row = aggregations
                    .iter()
                    .map(|a| {
                        let v = numeric_value(*a, &rollup, &values);
                        (a.to_string(), MetricValue::Number(v))
                    })
                    .collect();
                (start, row)
            })
            .collect()
    }
}

fn numeric_value(aggregation: Aggregation, r: &Rollup, sorted: &[f64]) -> f64 {
    match aggregation {
        Aggregation::Mean => r.mean(),
        Aggregation::Min => r.min,
        Aggregation::Max => r.max,
        Aggregation::Sum => r.sum,
        Aggregation::Count => r.count as f64,
        Aggregation::First => r.first,
        Aggregation::Last => r.last,
        Aggregation::Percentile(p) => nearest_rank(sorted, p),
    }
}

/// The nearest-rank percentile (as InfluxQL's `PERCENTILE`): the smallest value with at least
/// `p`% of the values at or below it. `sorted` is never empty for a stored window.
pub(crate) fn nearest_rank(sorted: &[f64], p: u8) -> f64 {
    let rank = (usize::from(p) * sorted.len()).div_ceil(100).max(1);
    sorted
        .get(rank - 1)
        .or(sorted.last())
        .copied()
        .unwrap_or(f64::NAN)
}

/// Windows of a text series: only count, first and last mean anything for text.
#[derive(Debug)]
pub(crate) struct TextWindows {
    window_us: i64,
    windows: BTreeMap<i64, TextWindow>,
}

#[derive(Debug)]
struct TextWindow {
    count: u64,
    first: String,
    last: String,
}

impl TextWindows {
    pub fn new(window_us: i64) -> Self {
        TextWindows {
            window_us,
            windows: BTreeMap::new(),
        }
    }

    /// Points must come in time order (as a range scan yields them).
    pub fn add_point(&mut self, ts_us: i64, value: &str) {
        let start = bucket_start(ts_us, self.window_us);
        self.windows
            .entry(start)
            .and_modify(|w| {
                w.count += 1;
                value.clone_into(&mut w.last);
            })
            .or_insert_with(|| TextWindow {
                count: 1,
                first: value.to_string(),
                last: value.to_string(),
            });
    }

    /// `aggregations` must hold only count, first and last (checked by the query).
    pub fn rows(self, aggregations: &[Aggregation]) -> Vec<RowAt> {
        self.windows
            .into_iter()
            .map(|(start, w)| {
                let row = aggregations
                    .iter()
                    .filter_map(|a| {
                        let v = match a {
                            Aggregation::Count => MetricValue::Number(w.count as f64),
                            Aggregation::First => MetricValue::Text(w.first.clone()),
                            Aggregation::Last => MetricValue::Text(w.last.clone()),
                            _ => return None,
                        };
                        Some((a.to_string(), v))
                    })
                    .collect();
                (start, row)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(nearest_rank(&v, 50), 5.0);
        assert_eq!(nearest_rank(&v, 95), 10.0);
        assert_eq!(nearest_rank(&v, 1), 1.0);
        assert_eq!(nearest_rank(&v, 99), 10.0);
        assert_eq!(nearest_rank(&[4.0], 50), 4.0);
    }

    #[test]
    fn numeric_windows_from_points_and_rollups_agree() {
        let points = [(5, 1.0), (59, 3.0), (60, 10.0), (61, -2.0), (130, 7.0)];
        let mut from_points = NumericWindows::new(60, true);
        for (ts, v) in points {
            from_points.add_point(ts, v);
        }
        let mut from_rollups = NumericWindows::new(60, false);
        for (ts, v) in points {
            from_rollups.add_rollup(ts, &Rollup::of(ts, v));
        }
        let all = [
            Aggregation::Mean,
            Aggregation::Min,
            Aggregation::Max,
            Aggregation::Sum,
            Aggregation::Count,
            Aggregation::First,
            Aggregation::Last,
        ];
        let a = from_points.rows(&all);
        assert_eq!(a, from_rollups.rows(&all));
        assert_eq!(
            a.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
            vec![0, 60, 120]
        );
        let second = &a[1].1;
        assert_eq!(second["mean"], MetricValue::Number(4.0));
        assert_eq!(second["first"], MetricValue::Number(10.0));
        assert_eq!(second["last"], MetricValue::Number(-2.0));
        assert_eq!(second["count"], MetricValue::Number(2.0));
    }

    #[test]
    fn text_windows_count_first_last() {
        let mut w = TextWindows::new(10);
        for (ts, v) in [(0, "a"), (3, "b"), (9, "c"), (10, "d")] {
            w.add_point(ts, v);
        }
        let rows = w.rows(&[Aggregation::Count, Aggregation::First, Aggregation::Last]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].1["count"], MetricValue::Number(3.0));
        assert_eq!(rows[0].1["first"], MetricValue::Text("a".into()));
        assert_eq!(rows[0].1["last"], MetricValue::Text("c".into()));
        assert_eq!(rows[1].1["last"], MetricValue::Text("d".into()));
    }
}
