//! The `metrics:` section of the configuration: which backend keeps field history, and its limits.

use serde::{Deserialize, Serialize};
use std::time::Duration;
use switchyard_core::metrics::MetricError;
use switchyard_core::value::parse_std_duration;

/// Where field values are kept as time series.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MetricsConfig {
    /// A time-series store in a single file under the data directory; needs no other service.
    Embedded(EmbeddedMetricsConfig),
    /// Keeps no history: for installations that only need current values, or forward elsewhere.
    None,
    /// InfluxDB 1.x (`/write`, InfluxQL) or 2.x (`/api/v2/write`, Flux), or a server speaking
    /// their write API (VictoriaMetrics). Opened by the server when it is built with the
    /// `metrics-influxdb` feature (crate `switchyard-metrics-influxdb`).
    Influxdb(InfluxConfig),
}

/// Which InfluxDB API the backend speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InfluxVersion {
    /// `/write?db=…` with line protocol; InfluxQL queries on `/query`.
    #[default]
    V1,
    /// `/api/v2/write?org=…&bucket=…` with `Authorization: Token …`; Flux on `/api/v2/query`.
    V2,
}

/// The `influxdb` metric backend's settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct InfluxConfig {
    /// Base URL, e.g. `http://127.0.0.1:8086`.
    pub url: String,
    pub version: InfluxVersion,
    /// v1: the database (created on open if missing and the user may).
    pub database: String,
    /// v1: retention policy; empty for the database's default.
    pub retention_policy: String,
    /// v1: credentials, if authentication is on.
    pub username: String,
    pub password: String,
    /// v2: organization, bucket and API token.
    pub org: String,
    pub bucket: String,
    pub token: String,
    /// Measurements are `<measurement_prefix>_<metric type>_data` (MyController's naming).
    pub measurement_prefix: String,
    /// Most points held waiting to be written, also while the server is down. Past it, new
    /// points are dropped, counted (`dropped` in /api/status) and logged.
    pub buffer_size: usize,
    /// Points per write request; reaching it starts a write before `flush_interval`.
    pub batch_size: usize,
    /// Longest a point waits in the buffer before a write is attempted.
    pub flush_interval: String,
    /// Timeout of each HTTP request.
    pub request_timeout: String,
}

impl Default for InfluxConfig {
    fn default() -> Self {
        InfluxConfig {
            url: "http://127.0.0.1:8086".into(),
            version: InfluxVersion::V1,
            database: "switchyard".into(),
            retention_policy: String::new(),
            username: String::new(),
            password: String::new(),
            org: String::new(),
            bucket: String::new(),
            token: String::new(),
            measurement_prefix: "sy".into(),
            buffer_size: 100_000,
            batch_size: 5_000,
            flush_interval: "1s".into(),
            request_timeout: "10s".into(),
        }
    }
}

/// [`InfluxConfig`] checked, with its durations parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfluxSettings {
    pub buffer_size: usize,
    pub batch_size: usize,
    pub flush_interval: Duration,
    pub request_timeout: Duration,
}

impl InfluxConfig {
    pub fn settings(&self) -> Result<InfluxSettings, MetricError> {
        if self.buffer_size == 0 {
            return Err(invalid("buffer_size", "must be at least 1"));
        }
        if self.batch_size == 0 {
            return Err(invalid("batch_size", "must be at least 1"));
        }
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(invalid("url", "must start with http:// or https://"));
        }
        match self.version {
            InfluxVersion::V1 if self.database.is_empty() => {
                return Err(invalid("database", "is needed for version v1"));
            }
            InfluxVersion::V2 if self.org.is_empty() || self.bucket.is_empty() => {
                return Err(invalid("org/bucket", "are needed for version v2"));
            }
            _ => {}
        }
        Ok(InfluxSettings {
            buffer_size: self.buffer_size,
            batch_size: self.batch_size.min(self.buffer_size),
            flush_interval: positive("flush_interval", &self.flush_interval)?,
            request_timeout: positive("request_timeout", &self.request_timeout)?,
        })
    }
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig::Embedded(EmbeddedMetricsConfig::default())
    }
}

/// Limits of the embedded store, so memory and disk stay bounded under any device traffic.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct EmbeddedMetricsConfig {
    /// Most points held in memory waiting to be written. When full, a write waits up to
    /// `max_wait` for room and then drops what does not fit (counted as dropped in the status).
    pub buffer_size: usize,
    /// Points written in one transaction; reaching it starts a write before `flush_interval`.
    /// Larger batches write faster but hold more in memory; capped at `buffer_size`.
    pub batch_size: usize,
    /// Longest a point waits in memory before it is written (a crash loses at most this much).
    pub flush_interval: String,
    /// Longest a write waits for room in a full buffer before dropping points.
    pub max_wait: String,
    /// How long each resolution is kept.
    pub retention: RetentionConfig,
    /// How often old points are deleted.
    pub retention_interval: String,
}

impl Default for EmbeddedMetricsConfig {
    fn default() -> Self {
        EmbeddedMetricsConfig {
            buffer_size: 100_000,
            batch_size: 10_000,
            flush_interval: "1s".into(),
            max_wait: "1s".into(),
            retention: RetentionConfig::default(),
            retention_interval: "1h".into(),
        }
    }
}

/// How long each resolution is kept; `"0"` or empty keeps it forever. Queries over a range older
/// than the raw retention are answered from the 1-minute, then the 1-hour rollups.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct RetentionConfig {
    /// Every point as received.
    pub raw: String,
    /// Count, sum, min, max, first and last of numeric series per minute.
    pub minute: String,
    /// Count, sum, min, max, first and last of numeric series per hour.
    pub hour: String,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            raw: "7d".into(),
            minute: "90d".into(),
            hour: "0".into(),
        }
    }
}

/// [`EmbeddedMetricsConfig`] checked and with its durations parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EmbeddedSettings {
    pub buffer_size: usize,
    pub batch_size: usize,
    pub flush_interval: Duration,
    pub max_wait: Duration,
    pub retention: Retention,
    pub retention_interval: Duration,
}

/// How long each resolution is kept; `None` is forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Retention {
    pub raw: Option<Duration>,
    pub minute: Option<Duration>,
    pub hour: Option<Duration>,
}

impl EmbeddedMetricsConfig {
    pub(crate) fn settings(&self) -> Result<EmbeddedSettings, MetricError> {
        if self.buffer_size == 0 {
            return Err(invalid("buffer_size", "must be at least 1"));
        }
        if self.batch_size == 0 {
            return Err(invalid("batch_size", "must be at least 1"));
        }
        let flush_interval = positive("flush_interval", &self.flush_interval)?;
        let retention_interval = positive("retention_interval", &self.retention_interval)?;
        Ok(EmbeddedSettings {
            buffer_size: self.buffer_size,
            // A batch larger than the buffer could never fill, leaving only the interval to write.
            batch_size: self.batch_size.min(self.buffer_size),
            flush_interval,
            max_wait: duration("max_wait", &self.max_wait)?,
            retention: Retention {
                raw: keep_for("retention.raw", &self.retention.raw)?,
                minute: keep_for("retention.minute", &self.retention.minute)?,
                hour: keep_for("retention.hour", &self.retention.hour)?,
            },
            retention_interval,
        })
    }
}

fn invalid(key: &str, reason: &str) -> MetricError {
    MetricError::Backend(format!("invalid metrics config `{key}`: {reason}"))
}

fn duration(key: &str, value: &str) -> Result<Duration, MetricError> {
    parse_std_duration(value).map_err(|e| invalid(key, &e.to_string()))
}

fn positive(key: &str, value: &str) -> Result<Duration, MetricError> {
    let d = duration(key, value)?;
    if d.is_zero() {
        return Err(invalid(key, "must be longer than 0"));
    }
    Ok(d)
}

fn keep_for(key: &str, value: &str) -> Result<Option<Duration>, MetricError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    let d = duration(key, value)?;
    Ok((!d.is_zero()).then_some(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_missing_keys() {
        let config: MetricsConfig =
            serde_json::from_str(r#"{"type":"embedded","buffer_size":5,"retention":{"raw":"2d"}}"#)
                .unwrap();
        let MetricsConfig::Embedded(embedded) = config else {
            panic!("expected embedded, got {config:?}");
        };
        let settings = embedded.settings().unwrap();
        assert_eq!(settings.buffer_size, 5);
        assert_eq!(settings.batch_size, 5, "capped at the buffer size");
        assert_eq!(settings.flush_interval, Duration::from_secs(1));
        assert_eq!(
            settings.retention.raw,
            Some(Duration::from_secs(2 * 86_400))
        );
        assert_eq!(
            settings.retention.minute,
            Some(Duration::from_secs(90 * 86_400))
        );
        assert_eq!(settings.retention.hour, None);
        assert_eq!(settings.retention_interval, Duration::from_secs(3600));
    }

    #[test]
    fn default_is_embedded_and_none_parses() {
        assert!(matches!(
            MetricsConfig::default(),
            MetricsConfig::Embedded(_)
        ));
        let none: MetricsConfig = serde_json::from_str(r#"{"type":"none"}"#).unwrap();
        assert_eq!(none, MetricsConfig::None);
    }

    #[test]
    fn influxdb_reads_its_keys_and_checks_them() {
        let config: MetricsConfig = serde_json::from_str(
            r#"{"type":"influxdb","version":"v2","org":"home","bucket":"sy","token":"t"}"#,
        )
        .unwrap();
        let MetricsConfig::Influxdb(influx) = config else {
            panic!("expected influxdb, got {config:?}");
        };
        assert_eq!(influx.version, InfluxVersion::V2);
        assert_eq!(
            influx.settings().unwrap().flush_interval,
            Duration::from_secs(1)
        );
        let v2_without_bucket = InfluxConfig {
            version: InfluxVersion::V2,
            ..InfluxConfig::default()
        };
        let err = v2_without_bucket.settings().unwrap_err().to_string();
        assert!(err.contains("bucket"), "{err}");
        assert!(
            serde_json::from_str::<MetricsConfig>(r#"{"type":"influxdb","urll":"x"}"#).is_err()
        );
    }

    #[test]
    fn zero_or_empty_retention_keeps_forever() {
        let mut config = EmbeddedMetricsConfig::default();
        config.retention.raw = "0".into();
        config.retention.minute = String::new();
        let retention = config.settings().unwrap().retention;
        assert_eq!(retention.raw, None);
        assert_eq!(retention.minute, None);
    }

    #[test]
    fn rejects_bad_values_naming_the_key() {
        let mut config = EmbeddedMetricsConfig {
            flush_interval: "soon".into(),
            ..Default::default()
        };
        let err = config.settings().unwrap_err().to_string();
        assert!(err.contains("flush_interval"), "{err}");
        config.flush_interval = "0s".into();
        assert!(config.settings().is_err());
        config.flush_interval = "1s".into();
        config.retention.raw = "-1d".into();
        let err = config.settings().unwrap_err().to_string();
        assert!(err.contains("retention.raw"), "{err}");
        config.retention.raw = "7d".into();
        config.buffer_size = 0;
        assert!(config.settings().is_err());
    }
}
