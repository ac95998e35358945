//! The layout of `metrics.redb`. Every point table is keyed `(series id, µs since the Unix epoch)`,
//! so one series' range is one contiguous B-tree scan.

use super::rollup::Rollup;
use redb::{TableDefinition, TypeName, Value};

/// Key of every point and rollup row: series id, then time in µs (a bucket start for rollups).
pub(crate) type PointKey = (u32, i64);

/// Series name → (id, metric type as in the config, e.g. `gauge_float`).
pub(crate) const SERIES: TableDefinition<&str, (u32, &str)> = TableDefinition::new("series");

/// Counters that must survive restarts; `next_series_id` keeps ids unique.
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
pub(crate) const NEXT_SERIES_ID: &str = "next_series_id";

/// Numeric points (binary as 0/1).
pub(crate) const RAW_NUMBERS: TableDefinition<PointKey, f64> = TableDefinition::new("raw_numbers");

/// String and geo points; never rolled up.
pub(crate) const RAW_TEXTS: TableDefinition<PointKey, &str> = TableDefinition::new("raw_texts");

pub(crate) const MINUTE_ROLLUPS: TableDefinition<PointKey, Rollup> =
    TableDefinition::new("rollups_1m");
pub(crate) const HOUR_ROLLUPS: TableDefinition<PointKey, Rollup> =
    TableDefinition::new("rollups_1h");

const F64: usize = 8;
const ROLLUP_WIDTH: usize = 8 * F64;

/// Fixed-width little-endian encoding: count, sum, min, max, first µs, first, last µs, last.
impl Value for Rollup {
    type SelfType<'a> = Rollup;
    type AsBytes<'a> = [u8; ROLLUP_WIDTH];

    fn fixed_width() -> Option<usize> {
        Some(ROLLUP_WIDTH)
    }

    fn from_bytes<'a>(data: &'a [u8]) -> Rollup
    where
        Self: 'a,
    {
        // redb hands back exactly what `as_bytes` wrote (checksummed); a short slice would be a
        // redb bug, and reads as zeros rather than a panic.
        let word = |i: usize| -> [u8; F64] {
            data.get(i * F64..(i + 1) * F64)
                .and_then(|s| s.try_into().ok())
                .unwrap_or([0; F64])
        };
        Rollup {
            count: u64::from_le_bytes(word(0)),
            sum: f64::from_le_bytes(word(1)),
            min: f64::from_le_bytes(word(2)),
            max: f64::from_le_bytes(word(3)),
            first_us: i64::from_le_bytes(word(4)),
            first: f64::from_le_bytes(word(5)),
            last_us: i64::from_le_bytes(word(6)),
            last: f64::from_le_bytes(word(7)),
        }
    }

    fn as_bytes<'a, 'b: 'a>(value: &'a Rollup) -> [u8; ROLLUP_WIDTH]
    where
        Self: 'b,
    {
        let words = [
            value.count.to_le_bytes(),
            value.sum.to_le_bytes(),
            value.min.to_le_bytes(),
            value.max.to_le_bytes(),
            value.first_us.to_le_bytes(),
            value.first.to_le_bytes(),
            value.last_us.to_le_bytes(),
            value.last.to_le_bytes(),
        ];
        let mut out = [0; ROLLUP_WIDTH];
        for (chunk, word) in out.chunks_exact_mut(F64).zip(words) {
            chunk.copy_from_slice(&word);
        }
        out
    }

    fn type_name() -> TypeName {
        TypeName::new("switchyard::metrics::Rollup")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollup_encoding_round_trips() {
        let mut rollup = Rollup::of(-5, 2.5);
        rollup.add(7, -1.25);
        let bytes = Rollup::as_bytes(&rollup);
        assert_eq!(Rollup::from_bytes(&bytes), rollup);
    }
}
