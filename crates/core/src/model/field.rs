use super::{Labels, Others};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How a field's values are kept as metrics, and what type its value has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MetricType {
    #[default]
    None,
    String,
    Counter,
    Gauge,
    GaugeFloat,
    Binary,
    Geo,
}

impl MetricType {
    pub const ALL: [MetricType; 7] = [
        MetricType::None,
        MetricType::String,
        MetricType::Counter,
        MetricType::Gauge,
        MetricType::GaugeFloat,
        MetricType::Binary,
        MetricType::Geo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::None => "none",
            MetricType::String => "string",
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::GaugeFloat => "gauge_float",
            MetricType::Binary => "binary",
            MetricType::Geo => "geo",
        }
    }

    /// Numeric types aggregate (mean, min, …); the others keep raw values only.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            MetricType::Counter | MetricType::Gauge | MetricType::GaugeFloat | MetricType::Binary
        )
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MetricType {
    type Err = crate::CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(MetricType::None);
        }
        MetricType::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| crate::CoreError::InvalidValue {
                value: s.to_string(),
                metric_type: "metricType".into(),
                reason: "expected none, string, counter, gauge, gauge_float, binary or geo".into(),
            })
    }
}

/// A value with where it came from and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct FieldValue {
    pub value: serde_json::Value,
    /// True when the value was reported by the device, false when it was set by the controller.
    pub is_received: bool,
    #[serde(with = "crate::timestamp::opt")]
    pub timestamp: Option<DateTime<Utc>>,
}

/// One value of a source (temperature, switch state, …). Storage id `<gw>.<node>.<source>.<field>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Field {
    pub id: String,
    pub gateway_id: String,
    pub node_id: String,
    pub source_id: String,
    pub field_id: String,
    pub name: String,
    pub metric_type: MetricType,
    pub current: FieldValue,
    pub previous: FieldValue,
    /// JavaScript run on received values (`{onReceive: "…"}`); used by the script engine.
    pub formatter: serde_json::Map<String, serde_json::Value>,
    pub unit: String,
    pub labels: Labels,
    pub others: Others,
    #[serde(with = "crate::timestamp::opt")]
    pub no_change_since: Option<DateTime<Utc>>,
    #[serde(with = "crate::timestamp::opt")]
    pub last_seen: Option<DateTime<Utc>>,
    #[serde(with = "crate::timestamp::opt")]
    pub modified_on: Option<DateTime<Utc>>,
}
