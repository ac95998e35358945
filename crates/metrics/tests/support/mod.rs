//! Helpers shared by the integration tests: store setup, points, queries and a seeded generator.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use switchyard_core::metrics::{
    Aggregation, MetricPoint, MetricQuery, MetricRow, MetricStore, MetricValue,
};
use switchyard_core::model::MetricType;
use switchyard_metrics::{EmbeddedMetricStore, EmbeddedMetricsConfig};

/// A config whose writer never commits on its own within a test: only `flush` writes.
pub fn manual_flush_config() -> EmbeddedMetricsConfig {
    EmbeddedMetricsConfig {
        flush_interval: "1h".into(),
        ..Default::default()
    }
}

pub async fn open(dir: &Path, config: &EmbeddedMetricsConfig) -> EmbeddedMetricStore {
    EmbeddedMetricStore::open(config, dir).await.unwrap()
}

pub fn number(series: &str, timestamp: DateTime<Utc>, value: f64) -> MetricPoint {
    MetricPoint {
        series: series.into(),
        metric_type: MetricType::GaugeFloat,
        timestamp,
        value: MetricValue::Number(value),
        tags: BTreeMap::new(),
    }
}

pub fn text(series: &str, timestamp: DateTime<Utc>, value: &str) -> MetricPoint {
    MetricPoint {
        series: series.into(),
        metric_type: MetricType::String,
        timestamp,
        value: MetricValue::Text(value.into()),
        tags: BTreeMap::new(),
    }
}

pub fn raw_query(series: &str, start: DateTime<Utc>, stop: DateTime<Utc>) -> MetricQuery {
    MetricQuery {
        series: series.into(),
        start,
        stop,
        window: None,
        aggregations: vec![],
    }
}

pub fn window_query(
    series: &str,
    start: DateTime<Utc>,
    stop: DateTime<Utc>,
    window: Duration,
    aggregations: &[Aggregation],
) -> MetricQuery {
    MetricQuery {
        series: series.into(),
        start,
        stop,
        window: Some(window),
        aggregations: aggregations.to_vec(),
    }
}

pub async fn rows(store: &dyn MetricStore, query: &MetricQuery) -> Vec<MetricRow> {
    store.query(query).await.unwrap()
}

/// `now` truncated to `unit`, so generated times share the store's alignment.
pub fn now_truncated(unit: TimeDelta) -> DateTime<Utc> {
    Utc::now().duration_trunc(unit).unwrap()
}

pub fn as_number(value: &MetricValue) -> f64 {
    match value {
        MetricValue::Number(n) => *n,
        MetricValue::Text(t) => panic!("expected a number, got text {t:?}"),
    }
}

/// SplitMix64: reproducible random points without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// In `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// In `[-1000, 1000)`, with two decimals so sums stay readable.
    pub fn value(&mut self) -> f64 {
        (self.below(200_000) as f64 - 100_000.0) / 100.0
    }
}
