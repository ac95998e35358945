//! Per-minute and per-hour summaries of numeric series, kept in the same transaction as the raw
//! points so that downsampled history is always complete and needs no separate job.

use super::tables::PointKey;
use redb::{ReadableTable, StorageError, Table};
use std::collections::HashMap;

pub(crate) const MINUTE_US: i64 = 60 * 1_000_000;
pub(crate) const HOUR_US: i64 = 60 * MINUTE_US;

/// What a window keeps of its numeric points. `first` and `last` carry their times, so points
/// that arrive out of order (or in another batch) still update them correctly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rollup {
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub first_us: i64,
    pub first: f64,
    pub last_us: i64,
    pub last: f64,
}

impl Rollup {
    pub fn of(ts_us: i64, value: f64) -> Rollup {
        Rollup {
            count: 1,
            sum: value,
            min: value,
            max: value,
            first_us: ts_us,
            first: value,
            last_us: ts_us,
            last: value,
        }
    }

    pub fn add(&mut self, ts_us: i64, value: f64) {
        self.merge(&Rollup::of(ts_us, value));
    }

    pub fn merge(&mut self, other: &Rollup) {
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        if other.first_us < self.first_us {
            self.first_us = other.first_us;
            self.first = other.first;
        }
        if other.last_us >= self.last_us {
            self.last_us = other.last_us;
            self.last = other.last;
        }
    }

    pub fn mean(&self) -> f64 {
        self.sum / self.count as f64
    }
}

/// Start of the bucket of length `len_us` holding `ts_us`, aligned to the Unix epoch.
pub(crate) fn bucket_start(ts_us: i64, len_us: i64) -> i64 {
    ts_us.div_euclid(len_us) * len_us
}

/// A batch's contribution to one rollup table, merged in memory first so that a batch touches
/// each bucket row once instead of once per point.
#[derive(Debug)]
pub(crate) struct RollupDeltas {
    len_us: i64,
    buckets: HashMap<PointKey, Rollup>,
}

impl RollupDeltas {
    pub fn new(len_us: i64) -> Self {
        RollupDeltas {
            len_us,
            buckets: HashMap::new(),
        }
    }

    pub fn add(&mut self, series: u32, ts_us: i64, value: f64) {
        let key = (series, bucket_start(ts_us, self.len_us));
        self.buckets
            .entry(key)
            .and_modify(|r| r.add(ts_us, value))
            .or_insert_with(|| Rollup::of(ts_us, value));
    }

    pub fn apply(self, table: &mut Table<'_, PointKey, Rollup>) -> Result<(), StorageError> {
        for (key, delta) in self.buckets {
            let merged = match table.get(key)? {
                Some(stored) => {
                    let mut stored = stored.value();
                    stored.merge(&delta);
                    stored
                }
                None => delta,
            };
            table.insert(key, merged)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_first_and_last_by_time_not_arrival() {
        let mut r = Rollup::of(50, 5.0);
        r.add(10, 1.0);
        r.add(90, 9.0);
        r.add(30, -3.0);
        assert_eq!(r.count, 4);
        assert_eq!(r.sum, 12.0);
        assert_eq!((r.min, r.max), (-3.0, 9.0));
        assert_eq!((r.first_us, r.first), (10, 1.0));
        assert_eq!((r.last_us, r.last), (90, 9.0));
        assert_eq!(r.mean(), 3.0);
    }

    #[test]
    fn buckets_align_to_the_epoch_also_before_it() {
        assert_eq!(bucket_start(0, MINUTE_US), 0);
        assert_eq!(bucket_start(MINUTE_US - 1, MINUTE_US), 0);
        assert_eq!(bucket_start(MINUTE_US, MINUTE_US), MINUTE_US);
        assert_eq!(bucket_start(-1, MINUTE_US), -MINUTE_US);
        assert_eq!(bucket_start(HOUR_US + 5, HOUR_US), HOUR_US);
    }
}
