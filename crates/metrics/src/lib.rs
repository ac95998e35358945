//! Metric backends: where field values are kept as time series for charts and history.
//!
//! `embedded` (the default) keeps them in one redb file with per-minute and per-hour rollups and
//! retention; `none` keeps nothing. Pick one with [`MetricsConfig`] and get it from [`open`].
//!
//! Bounds: the embedded store buffers at most `buffer_size` points (then drops and counts them,
//! see [`EmbeddedMetricStore`]); a query may span at most [`embedded::MAX_WINDOWS`] windows and
//! hold at most [`embedded::MAX_POINTS`] points, and is refused with a reason beyond.

mod config;
pub mod embedded;
mod none;

pub use config::{
    EmbeddedMetricsConfig, InfluxConfig, InfluxSettings, InfluxVersion, MetricsConfig,
    RetentionConfig,
};
pub use embedded::EmbeddedMetricStore;
pub use none::NoneMetricStore;

use std::path::Path;
use std::sync::Arc;
use switchyard_core::metrics::{MetricError, MetricStore};

impl MetricsConfig {
    /// Opens the configured backend; `data_dir` holds the embedded store's file.
    pub async fn build(&self, data_dir: &Path) -> Result<Arc<dyn MetricStore>, MetricError> {
        Ok(match self {
            MetricsConfig::Embedded(config) => {
                Arc::new(EmbeddedMetricStore::open(config, data_dir).await?)
            }
            MetricsConfig::None => Arc::new(NoneMetricStore::new()),
            // Lives in its own crate (an HTTP client); the server opens it.
            MetricsConfig::Influxdb(_) => {
                return Err(MetricError::Backend(
                    "metrics type `influxdb` is opened by the server (switchyard-server's backends), not here".into(),
                ));
            }
        })
    }
}

/// Opens the metric backend `config` names. An invalid config is refused with the key at fault.
pub async fn open(
    config: &MetricsConfig,
    data_dir: &Path,
) -> Result<Arc<dyn MetricStore>, MetricError> {
    config.build(data_dir).await
}
