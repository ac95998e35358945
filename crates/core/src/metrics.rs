//! The metric plugin trait: time series of field values, queried with windows and aggregations.

use crate::model::MetricType;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum MetricError {
    #[error("invalid metric query: {0}")]
    InvalidQuery(String),
    #[error("metric backend: {0}")]
    Backend(String),
    #[error("metric store is closed")]
    Closed,
}

/// A value as kept in a series: numbers for numeric types (binary as 0/1), text otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MetricValue {
    Number(f64),
    Text(String),
}

/// One point of a field's series. `series` is the field's storage id (`gw.node.src.field`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricPoint {
    pub series: String,
    pub metric_type: MetricType,
    pub timestamp: DateTime<Utc>,
    pub value: MetricValue,
    /// gatewayId, nodeId, sourceId, fieldId, …: kept by backends that index tags (InfluxDB).
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Aggregation {
    Mean,
    Min,
    Max,
    Sum,
    Count,
    First,
    Last,
    /// 1..=99.
    Percentile(u8),
}

impl fmt::Display for Aggregation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Aggregation::Mean => f.write_str("mean"),
            Aggregation::Min => f.write_str("min"),
            Aggregation::Max => f.write_str("max"),
            Aggregation::Sum => f.write_str("sum"),
            Aggregation::Count => f.write_str("count"),
            Aggregation::First => f.write_str("first"),
            Aggregation::Last => f.write_str("last"),
            Aggregation::Percentile(p) => write!(f, "percentile_{p}"),
        }
    }
}

impl FromStr for Aggregation {
    type Err = MetricError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        Ok(match s.as_str() {
            "mean" | "avg" => Aggregation::Mean,
            "min" => Aggregation::Min,
            "max" => Aggregation::Max,
            "sum" => Aggregation::Sum,
            "count" => Aggregation::Count,
            "first" => Aggregation::First,
            "last" => Aggregation::Last,
            "median" => Aggregation::Percentile(50),
            other => {
                let p = other
                    .strip_prefix("percentile_")
                    .or_else(|| other.strip_prefix('p'))
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|p| (1..=99).contains(p))
                    .ok_or_else(|| {
                        MetricError::InvalidQuery(format!(
                            "unknown aggregation `{other}` (mean, min, max, sum, count, first, last, median, percentile_NN)"
                        ))
                    })?;
                Aggregation::Percentile(p)
            }
        })
    }
}

/// A series over `[start, stop)`. With a `window`, one row per window with each aggregation;
/// without, the raw points (each row carrying `value`).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricQuery {
    pub series: String,
    pub start: DateTime<Utc>,
    pub stop: DateTime<Utc>,
    pub window: Option<std::time::Duration>,
    pub aggregations: Vec<Aggregation>,
}

/// One row of a query answer: its time (window start) and a value per aggregation name
/// (`mean`, `max`, …; `value` for raw points). Empty windows are left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricRow {
    pub timestamp: DateTime<Utc>,
    pub values: BTreeMap<String, MetricValue>,
}

/// Counters a metric backend keeps; shown by `/api/status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricStats {
    pub written: u64,
    /// Points given up at the buffer's bound.
    pub dropped: u64,
    pub buffered: u64,
}

#[async_trait]
pub trait MetricStore: Send + Sync {
    fn name(&self) -> &'static str;

    /// Accepts points; a backend may buffer them (bounded) and write them in batches.
    async fn write(&self, points: Vec<MetricPoint>) -> Result<(), MetricError>;

    async fn query(&self, query: &MetricQuery) -> Result<Vec<MetricRow>, MetricError>;

    /// Writes out everything buffered.
    async fn flush(&self) -> Result<(), MetricError>;

    /// Flushes and stops.
    async fn close(&self) -> Result<(), MetricError>;

    fn stats(&self) -> MetricStats;

    /// How far back raw points are kept, when the backend drops older ones (the embedded
    /// store's `retention.raw`); `None`: kept for ever or up to the backend's own rules. A
    /// backup reads each series' raw points from this far back.
    fn raw_retention(&self) -> Option<std::time::Duration> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregation_names_round_trip() {
        for a in [
            Aggregation::Mean,
            Aggregation::Min,
            Aggregation::Max,
            Aggregation::Sum,
            Aggregation::Count,
            Aggregation::First,
            Aggregation::Last,
            Aggregation::Percentile(95),
        ] {
            assert_eq!(a.to_string().parse::<Aggregation>().unwrap(), a);
        }
        assert_eq!(
            "median".parse::<Aggregation>().unwrap(),
            Aggregation::Percentile(50)
        );
        assert!("percentile_100".parse::<Aggregation>().is_err());
        assert!("avgx".parse::<Aggregation>().is_err());
    }
}
