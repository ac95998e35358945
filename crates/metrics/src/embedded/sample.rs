//! A [`MetricPoint`] checked and reduced to what the store keeps, before it takes buffer room.

use switchyard_core::metrics::{MetricPoint, MetricValue};
use switchyard_core::model::MetricType;
use switchyard_core::value::parse_bool;

/// Longer series names are refused: they are field ids, and a runaway one is a bug upstream.
pub(crate) const MAX_SERIES_LEN: usize = 1024;
/// Longer text values are refused so one bad payload cannot bloat the file.
pub(crate) const MAX_TEXT_LEN: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    pub series: String,
    pub metric_type: MetricType,
    pub ts_us: i64,
    pub value: SampleValue,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SampleValue {
    Number(f64),
    Text(String),
}

impl Sample {
    /// Numeric types keep finite numbers (text that reads as a number or on/off is accepted);
    /// other types keep text (a number is kept as its text).
    pub fn from_point(point: MetricPoint) -> Result<Sample, String> {
        if point.series.is_empty() || point.series.len() > MAX_SERIES_LEN {
            return Err(format!(
                "series name must be 1..={MAX_SERIES_LEN} bytes, got {}",
                point.series.len()
            ));
        }
        let value = if point.metric_type.is_numeric() {
            let number = match &point.value {
                MetricValue::Number(n) => Some(*n),
                MetricValue::Text(s) => s
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .or_else(|| parse_bool(s).map(|b| if b { 1.0 } else { 0.0 })),
            };
            match number {
                Some(n) if n.is_finite() => SampleValue::Number(n),
                _ => {
                    return Err(format!(
                        "series `{}` is {} but the value {:?} is not a finite number",
                        point.series, point.metric_type, point.value
                    ));
                }
            }
        } else {
            let text = match point.value {
                MetricValue::Text(s) => s,
                MetricValue::Number(n) => n.to_string(),
            };
            if text.len() > MAX_TEXT_LEN {
                return Err(format!(
                    "series `{}`: text value of {} bytes exceeds {MAX_TEXT_LEN}",
                    point.series,
                    text.len()
                ));
            }
            SampleValue::Text(text)
        };
        Ok(Sample {
            series: point.series,
            metric_type: point.metric_type,
            ts_us: point.timestamp.timestamp_micros(),
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use std::collections::BTreeMap;

    fn point(metric_type: MetricType, value: MetricValue) -> MetricPoint {
        MetricPoint {
            series: "gw1.12.3.V_TEMP".into(),
            metric_type,
            timestamp: Utc.timestamp_opt(1_700_000_000, 1_500).unwrap(),
            value,
            tags: BTreeMap::new(),
        }
    }

    #[test]
    fn numeric_types_accept_numbers_and_numeric_text() {
        let s =
            Sample::from_point(point(MetricType::GaugeFloat, MetricValue::Number(21.5))).unwrap();
        assert_eq!(s.value, SampleValue::Number(21.5));
        assert_eq!(s.ts_us, 1_700_000_000_000_001);
        let s =
            Sample::from_point(point(MetricType::Binary, MetricValue::Text("on".into()))).unwrap();
        assert_eq!(s.value, SampleValue::Number(1.0));
        let s =
            Sample::from_point(point(MetricType::Gauge, MetricValue::Text(" 7 ".into()))).unwrap();
        assert_eq!(s.value, SampleValue::Number(7.0));
    }

    #[test]
    fn rejects_what_cannot_be_kept() {
        for bad in [
            point(MetricType::GaugeFloat, MetricValue::Number(f64::NAN)),
            point(MetricType::Counter, MetricValue::Number(f64::INFINITY)),
            point(MetricType::Gauge, MetricValue::Text("warm".into())),
            point(
                MetricType::String,
                MetricValue::Text("x".repeat(MAX_TEXT_LEN + 1)),
            ),
            MetricPoint {
                series: String::new(),
                ..point(MetricType::Gauge, MetricValue::Number(1.0))
            },
        ] {
            assert!(Sample::from_point(bad.clone()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn text_types_keep_numbers_as_text() {
        let s = Sample::from_point(point(MetricType::String, MetricValue::Number(3.0))).unwrap();
        assert_eq!(s.value, SampleValue::Text("3".into()));
    }
}
