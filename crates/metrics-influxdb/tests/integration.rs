//! The InfluxDB backend against real servers started here on loopback (InfluxDB 1.x `influxd`,
//! VictoriaMetrics), and the v2 (Flux) query path against recorded annotated-CSV answers.
//!
//! Without `influxd` / `victoria-metrics` on PATH the server tests print `SKIPPED: …` and pass,
//! except under `CI=true`, where they fail.

#[path = "integration/flux_recorded.rs"]
mod flux_recorded;
#[path = "integration/influx_v1.rs"]
mod influx_v1;
#[path = "integration/servers.rs"]
mod servers;
#[path = "integration/victoria.rs"]
mod victoria;

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use switchyard_core::metrics::{MetricPoint, MetricValue};
use switchyard_core::model::MetricType;

pub fn point(series: &str, t: MetricType, ts: DateTime<Utc>, value: MetricValue) -> MetricPoint {
    MetricPoint {
        series: series.into(),
        metric_type: t,
        timestamp: ts,
        value,
        tags: BTreeMap::from([("gatewayId".to_string(), "gw1".to_string())]),
    }
}
