//! Conversion of device payloads (always strings on the wire) into typed values, and durations.

use crate::CoreError;
use crate::model::MetricType;
use serde_json::Value;

/// Words accepted as true / false (MyController's list plus yes/no).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "enable" | "enabled" | "yes" => Some(true),
        "off" | "false" | "0" | "disable" | "disabled" | "no" => Some(false),
        _ => None,
    }
}

/// Turns a payload into the JSON value stored for a field of `metric_type`.
pub fn convert(raw: &str, metric_type: MetricType) -> Result<Value, CoreError> {
    let bad = |reason: &str| CoreError::InvalidValue {
        value: raw.chars().take(64).collect(),
        metric_type: metric_type.to_string(),
        reason: reason.into(),
    };
    let s = raw.trim();
    match metric_type {
        MetricType::Binary => parse_bool(s)
            .map(Value::Bool)
            .ok_or_else(|| bad("expected on/off, true/false or 1/0")),
        MetricType::GaugeFloat => {
            let f: f64 = s.parse().map_err(|_| bad("expected a number"))?;
            serde_json::Number::from_f64(f)
                .map(Value::Number)
                .ok_or_else(|| bad("not a finite number"))
        }
        MetricType::Gauge | MetricType::Counter => {
            if let Ok(i) = s.parse::<i64>() {
                return Ok(Value::from(i));
            }
            let f: f64 = s.parse().map_err(|_| bad("expected an integer"))?;
            if !f.is_finite() || f.abs() > 9.0e15 {
                return Err(bad("not a finite integer"));
            }
            Ok(Value::from(f.round() as i64))
        }
        MetricType::Geo => {
            let parts: Vec<&str> = s.split(';').collect();
            let ok = (2..=3).contains(&parts.len())
                && parts.iter().all(|p| p.trim().parse::<f64>().is_ok());
            if ok {
                Ok(Value::String(s.to_string()))
            } else {
                Err(bad("expected `latitude;longitude[;altitude]`"))
            }
        }
        MetricType::String | MetricType::None => Ok(Value::String(raw.to_string())),
    }
}

/// The number a value is kept as in the metric store (`true` is 1), if it has one.
pub fn as_metric_number(value: &Value) -> Option<f64> {
    match value {
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The text form of a value, as sent to a device.
pub fn to_payload_string(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => if *b { "1" } else { "0" }.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Parses a Go-style duration (`10s`, `1h20m`, `500ms`, `-5m`, `2d`). A bare number is seconds.
pub fn parse_duration(s: &str) -> Result<chrono::Duration, CoreError> {
    let err = || CoreError::InvalidDuration(s.chars().take(64).collect());
    let t = s.trim();
    let (neg, mut rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if rest.is_empty() {
        return Err(err());
    }
    // One sign at most; a part that overflows the range of a duration (±292 years in
    // nanoseconds, ±292 million years in whole seconds) is refused, never wrapped or saturated.
    if rest.starts_with(['+', '-']) {
        return Err(err());
    }
    if let Ok(secs) = rest.parse::<f64>() {
        let ms = (secs * 1000.0).round();
        if !ms.is_finite() || ms.abs() >= i64::MAX as f64 {
            return Err(err());
        }
        let d = chrono::Duration::try_milliseconds(ms as i64).ok_or_else(err)?;
        return Ok(if neg { -d } else { d });
    }
    let mut total_ns: i128 = 0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(err)?;
        if num_end == 0 {
            return Err(err());
        }
        let num: f64 = rest[..num_end].parse().map_err(|_| err())?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit_ns: f64 = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "d" => 86400e9,
            _ => return Err(err()),
        };
        rest = &rest[unit_end..];
        let part = (num * unit_ns).round();
        if !part.is_finite() || part.abs() >= i64::MAX as f64 {
            return Err(err());
        }
        total_ns = total_ns.checked_add(part as i128).ok_or_else(err)?;
    }
    let ns = i64::try_from(total_ns).map_err(|_| err())?;
    let d = chrono::Duration::nanoseconds(ns);
    Ok(if neg { -d } else { d })
}

/// [`parse_duration`] for things that cannot be negative (intervals, timeouts).
pub fn parse_std_duration(s: &str) -> Result<std::time::Duration, CoreError> {
    parse_duration(s)?
        .to_std()
        .map_err(|_| CoreError::InvalidDuration(s.chars().take(64).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_by_metric_type() {
        assert_eq!(convert("ON", MetricType::Binary).unwrap(), json!(true));
        assert_eq!(convert("0", MetricType::Binary).unwrap(), json!(false));
        assert!(convert("maybe", MetricType::Binary).is_err());
        assert_eq!(
            convert(" 21.5", MetricType::GaugeFloat).unwrap(),
            json!(21.5)
        );
        assert!(convert("NaN", MetricType::GaugeFloat).is_err());
        assert!(convert("warm", MetricType::GaugeFloat).is_err());
        assert_eq!(convert("42", MetricType::Counter).unwrap(), json!(42));
        assert_eq!(convert("41.6", MetricType::Gauge).unwrap(), json!(42));
        assert!(convert("x", MetricType::Gauge).is_err());
        assert_eq!(
            convert("1.5;2.5", MetricType::Geo).unwrap(),
            json!("1.5;2.5")
        );
        assert!(convert("1.5", MetricType::Geo).is_err());
        assert_eq!(convert("hi", MetricType::String).unwrap(), json!("hi"));
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("10s").unwrap().num_seconds(), 10);
        assert_eq!(parse_duration("1h20m").unwrap().num_minutes(), 80);
        assert_eq!(parse_duration("500ms").unwrap().num_milliseconds(), 500);
        assert_eq!(parse_duration("-5m").unwrap().num_seconds(), -300);
        assert_eq!(parse_duration("2d").unwrap().num_hours(), 48);
        assert_eq!(parse_duration("1.5h").unwrap().num_minutes(), 90);
        assert_eq!(parse_duration("30").unwrap().num_seconds(), 30);
        for bad in ["", "5x", "h", "-", "1h2", "1e400h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_std_duration("-1s").is_err());
    }

    /// Durations past the range: `--1e300` and a sum of huge parts crashed the fuzz target
    /// `schedule` (fuzz/) with a panic (chrono's range, an i128 overflow); the others used to be
    /// saturated to ±292 million years (`1e300`, `inf`) or read as 0 (`NaN`). All are refused.
    #[test]
    fn durations_beyond_the_range_are_refused_not_panics() {
        let many_days = "99999999999999999999999999999999999999999d".repeat(2);
        for bad in [
            "--1e300",
            "-+5",
            "1e300",
            "inf",
            "NaN",
            "9223372036854775807",
            "999999999999999999999d",
            many_days.as_str(),
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_duration("106751d").unwrap().num_days(),
            106_751,
            "the largest whole-day duration in nanoseconds still parses"
        );
        assert_eq!(parse_duration("1e9").unwrap().num_seconds(), 1_000_000_000);
    }
}
