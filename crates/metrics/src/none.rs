//! The `none` backend: keeps no history, so the rest of the system needs no special case for it.

use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use switchyard_core::metrics::{
    MetricError, MetricPoint, MetricQuery, MetricRow, MetricStats, MetricStore,
};

/// Accepts and discards points; every query answers an empty list.
#[derive(Debug, Default)]
pub struct NoneMetricStore {
    written: AtomicU64,
    closed: AtomicBool,
}

impl NoneMetricStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn check_open(&self) -> Result<(), MetricError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(MetricError::Closed);
        }
        Ok(())
    }
}

#[async_trait]
impl MetricStore for NoneMetricStore {
    fn name(&self) -> &'static str {
        "none"
    }

    async fn write(&self, points: Vec<MetricPoint>) -> Result<(), MetricError> {
        self.check_open()?;
        self.written
            .fetch_add(points.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    async fn query(&self, _query: &MetricQuery) -> Result<Vec<MetricRow>, MetricError> {
        self.check_open()?;
        Ok(Vec::new())
    }

    async fn flush(&self) -> Result<(), MetricError> {
        self.check_open()
    }

    async fn close(&self) -> Result<(), MetricError> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Err(MetricError::Closed);
        }
        Ok(())
    }

    fn stats(&self) -> MetricStats {
        MetricStats {
            written: self.written.load(Ordering::Relaxed),
            dropped: 0,
            buffered: 0,
        }
    }
}
