//! Folding points or rollups into epoch-aligned windows, and reading aggregations out of them.
//! Pure: the query module feeds it from redb.

use super::rollup::{Rollup, bucket_start};
use std::collections::BTreeMap;
use switchyard_core::metrics::{Aggregation, MetricValue};

/// A row before its time is made a `DateTime`: µs since the epoch, and a value per key.
pub(crate) type RowAt = (i64, BTreeMap<String, MetricValue>);

/// Windows of a numeric series. Values are kept only when a percentile is asked for, since only
/// percentiles need more than a [`Rollup`].
///
/// Windows are a vector in time order: a range scan yields keys in order, so each point lands in
/// the last window or opens the next one, with no map lookup or per-window allocation. Anything
/// out of order still lands in its window (found by binary search), only slower.
#[derive(Debug)]
pub(crate) struct NumericWindows {
    window_us: i64,
    keep_values: bool,
    windows: Vec<NumericWindow>,
    values_kept: usize,
}

#[derive(Debug)]
struct NumericWindow {
    start: i64,
    rollup: Rollup,
    /// Empty unless values are kept (an empty `Vec` does not allocate).
    values: Vec<f64>,
}

impl NumericWindows {
    /// `expected_windows` only sizes the first allocation; the caller bounds it (the query's
    /// window count, at most [`super::MAX_WINDOWS`]).
    pub fn new(window_us: i64, keep_values: bool, expected_windows: usize) -> Self {
        NumericWindows {
            window_us,
            keep_values,
            windows: Vec::with_capacity(expected_windows),
            values_kept: 0,
        }
    }

    /// The window starting at `start`, opened with `opening` if there is none yet.
    fn window(&mut self, start: i64, opening: Rollup) -> (&mut NumericWindow, bool) {
        let found = match self.windows.last() {
            None => Err(0),
            Some(last) if last.start == start => Ok(self.windows.len() - 1),
            Some(last) if last.start < start => Err(self.windows.len()),
            Some(_) => self.windows.binary_search_by_key(&start, |w| w.start),
        };
        let (i, opened) = match found {
            Ok(i) => (i, false),
            Err(i) => {
                self.windows.insert(
                    i,
                    NumericWindow {
                        start,
                        rollup: opening,
                        values: Vec::new(),
                    },
                );
                (i, true)
            }
        };
        (&mut self.windows[i], opened)
    }

    pub fn add_point(&mut self, ts_us: i64, value: f64) {
        let point = Rollup::of(ts_us, value);
        let keep = self.keep_values;
        let (window, opened) = self.window(bucket_start(ts_us, self.window_us), point);
        if !opened {
            window.rollup.merge(&point);
        }
        if keep {
            window.values.push(value);
            self.values_kept += 1;
        }
    }

    /// A rollup bucket counts in full toward the window holding its start.
    pub fn add_rollup(&mut self, bucket_start_us: i64, bucket: &Rollup) {
        let (window, opened) = self.window(bucket_start(bucket_start_us, self.window_us), *bucket);
        if !opened {
            window.rollup.merge(bucket);
        }
    }

    /// Points held in memory for percentiles, so the caller can bound them.
    pub fn values_kept(&self) -> usize {
        self.values_kept
    }

    pub fn rows(self, aggregations: &[Aggregation]) -> Vec<RowAt> {
        // Named once: formatting an aggregation's name per row was a third of a long query.
        let named: Vec<(Aggregation, String)> =
            aggregations.iter().map(|a| (*a, a.to_string())).collect();
        self.windows
            .into_iter()
            .map(|mut w| {
                if !w.values.is_empty() {
                    w.values.sort_by(f64::total_cmp);
                }
                let mut row = BTreeMap::new();
                for (a, name) in &named {
                    let v = numeric_value(*a, &w.rollup, &w.values);
                    row.insert(name.clone(), MetricValue::Number(v));
                }
                (w.start, row)
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
        let named: Vec<(Aggregation, String)> =
            aggregations.iter().map(|a| (*a, a.to_string())).collect();
        self.windows
            .into_iter()
            .map(|(start, w)| {
                let mut row = BTreeMap::new();
                for (a, name) in &named {
                    let v = match a {
                        Aggregation::Count => MetricValue::Number(w.count as f64),
                        Aggregation::First => MetricValue::Text(w.first.clone()),
                        Aggregation::Last => MetricValue::Text(w.last.clone()),
                        _ => continue,
                    };
                    row.insert(name.clone(), v);
                }
                (start, row)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::rollup::MINUTE_US;

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
        let mut from_points = NumericWindows::new(60, true, 0);
        for (ts, v) in points {
            from_points.add_point(ts, v);
        }
        let mut from_rollups = NumericWindows::new(60, false, 0);
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

    const EVERY_KIND: [Aggregation; 10] = [
        Aggregation::Mean,
        Aggregation::Min,
        Aggregation::Max,
        Aggregation::Sum,
        Aggregation::Count,
        Aggregation::First,
        Aggregation::Last,
        Aggregation::Percentile(1),
        Aggregation::Percentile(50),
        Aggregation::Percentile(99),
    ];

    /// The aggregation of points as the map-per-window code computed it before windows became a
    /// vector: group by window start, then read each kind off the window's points by time.
    fn reference(points: &[(i64, f64)], window_us: i64, kinds: &[Aggregation]) -> Vec<RowAt> {
        let mut windows: BTreeMap<i64, Vec<(i64, f64)>> = BTreeMap::new();
        for &(ts, v) in points {
            windows
                .entry(ts.div_euclid(window_us) * window_us)
                .or_default()
                .push((ts, v));
        }
        windows
            .into_iter()
            .map(|(start, mut pts)| {
                // Stable: of equal times the first added is first, the last added is last.
                pts.sort_by_key(|p| p.0);
                let mut sorted: Vec<f64> = pts.iter().map(|p| p.1).collect();
                sorted.sort_by(f64::total_cmp);
                let n = pts.len();
                let sum: f64 = pts.iter().map(|p| p.1).sum();
                let row = kinds
                    .iter()
                    .map(|a| {
                        let v = match a {
                            Aggregation::Mean => sum / n as f64,
                            Aggregation::Min => sorted[0],
                            Aggregation::Max => sorted[n - 1],
                            Aggregation::Sum => sum,
                            Aggregation::Count => n as f64,
                            Aggregation::First => pts[0].1,
                            Aggregation::Last => pts[n - 1].1,
                            Aggregation::Percentile(p) => nearest_rank(&sorted, *p),
                        };
                        (a.to_string(), MetricValue::Number(v))
                    })
                    .collect();
                (start, row)
            })
            .collect()
    }

    /// SplitMix64, so the cases are reproducible without a dependency.
    fn random(seed: &mut u64) -> u64 {
        *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Points in time order with gaps of many empty windows, times on and beside window edges,
    /// before the epoch and after it; values in halves so every sum is exact.
    fn points(seed: &mut u64, n: usize, window_us: i64) -> Vec<(i64, f64)> {
        let mut ts = -3 * window_us - 1;
        (0..n)
            .map(|_| {
                ts += match random(seed) % 8 {
                    0 => 0,
                    1 => 1,
                    2 => window_us - ts.rem_euclid(window_us), // onto the next edge
                    3 => window_us - ts.rem_euclid(window_us) - 1, // just before it
                    4 => (5 + (random(seed) % 50) as i64) * window_us, // a gap
                    _ => (random(seed) % window_us as u64) as i64,
                };
                (ts, (random(seed) % 4001) as f64 / 2.0 - 1000.0)
            })
            .collect()
    }

    #[test]
    fn numeric_windows_equal_the_reference_for_every_kind() {
        let mut seed = 7;
        for window_us in [1, 7, 60, 1_000, MINUTE_US] {
            for n in [0, 1, 2, 50, 3_000] {
                let points = points(&mut seed, n, window_us);
                let want = reference(&points, window_us, &EVERY_KIND);
                let mut windows = NumericWindows::new(window_us, true, want.len());
                for &(ts, v) in &points {
                    windows.add_point(ts, v);
                }
                assert_eq!(windows.values_kept(), n);
                assert_eq!(
                    windows.rows(&EVERY_KIND),
                    want,
                    "window {window_us} µs, {n} points"
                );
            }
        }
    }

    /// A range scan yields points in order; anything else must still land in its window, and
    /// first/last still follow time, not arrival.
    #[test]
    fn out_of_order_points_and_rollups_land_in_their_windows() {
        let mut seed = 11;
        let window_us = 60;
        let mut points = points(&mut seed, 2_000, window_us);
        // Distinct times, so first and last do not depend on arrival among equal times.
        points.sort_by_key(|p| p.0);
        points.dedup_by_key(|p| p.0);
        let want = reference(&points, window_us, &EVERY_KIND);
        let mut shuffled = points.clone();
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, (random(&mut seed) % (i as u64 + 1)) as usize);
        }
        let mut windows = NumericWindows::new(window_us, true, 0);
        for &(ts, v) in &shuffled {
            windows.add_point(ts, v);
        }
        assert_eq!(windows.rows(&EVERY_KIND), want);

        let summaries = &EVERY_KIND[..7];
        let mut from_rollups = NumericWindows::new(window_us, false, 0);
        for &(ts, v) in shuffled.iter().rev() {
            from_rollups.add_rollup(ts, &Rollup::of(ts, v));
        }
        assert_eq!(
            from_rollups.rows(summaries),
            reference(&points, window_us, summaries)
        );
    }

    /// Minute buckets folded into wider windows: whole buckets, each toward the window that
    /// holds its start, as the raw points they summarise would be.
    #[test]
    fn minute_rollups_fold_into_wider_windows_as_their_points_would() {
        let mut seed = 3;
        let points = points(&mut seed, 5_000, MINUTE_US / 7);
        let mut buckets: BTreeMap<i64, Rollup> = BTreeMap::new();
        for &(ts, v) in &points {
            buckets
                .entry(bucket_start(ts, MINUTE_US))
                .and_modify(|r| r.add(ts, v))
                .or_insert_with(|| Rollup::of(ts, v));
        }
        let summaries = &EVERY_KIND[..7];
        for window_us in [MINUTE_US, 5 * MINUTE_US, 60 * MINUTE_US] {
            let mut windows = NumericWindows::new(window_us, false, 0);
            for (start, bucket) in &buckets {
                windows.add_rollup(*start, bucket);
            }
            assert_eq!(
                windows.rows(summaries),
                reference(&points, window_us, summaries),
                "window {window_us} µs"
            );
        }
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
