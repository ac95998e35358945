//! InfluxDB line protocol for metric points: pure functions, no I/O.
//!
//! Each metric type has its measurement `<prefix>_<type>_data` (MyController's naming). Numbers
//! are float fields `value` (binary as 0/1, so a mean is a duty cycle; one field type per
//! measurement, so a gauge that once reports 21.5 never meets a type conflict). Text is a string
//! field `value`; geo (`"lat;lon;alt"`) is the string `value` plus float fields `latitude`,
//! `longitude` and `altitude` when they parse. Tags: `series` (the field's id) and the point's
//! own tags, keys lower-cased (as MyController's InfluxDB plugin does).

use switchyard_core::metrics::{MetricPoint, MetricValue};
use switchyard_core::model::MetricType;

pub fn measurement(prefix: &str, metric_type: MetricType) -> String {
    format!("{prefix}_{}_data", metric_type.as_str())
}

/// The metric type a measurement of ours stands for.
pub fn metric_type_of(prefix: &str, measurement: &str) -> Option<MetricType> {
    let name = measurement.strip_prefix(prefix)?.strip_prefix('_')?;
    let name = name.strip_suffix("_data")?;
    MetricType::ALL.into_iter().find(|t| t.as_str() == name)
}

/// One line, or why the point cannot be written (counted as dropped by the caller).
pub fn encode(prefix: &str, p: &MetricPoint) -> Result<String, String> {
    let ts = p
        .timestamp
        .timestamp_nanos_opt()
        .ok_or_else(|| format!("time {} is outside InfluxDB's range", p.timestamp))?;
    if p.series.is_empty() {
        return Err("a point needs a series".into());
    }
    let mut line = escape(&measurement(prefix, p.metric_type), &[',', ' ']);
    line.push_str(",series=");
    line.push_str(&tag(&p.series));
    for (k, v) in &p.tags {
        let k = k.to_ascii_lowercase();
        if k == "series" || k.is_empty() || v.is_empty() {
            continue;
        }
        line.push(',');
        line.push_str(&tag(&k));
        line.push('=');
        line.push_str(&tag(v));
    }
    line.push(' ');
    match (&p.value, p.metric_type) {
        (MetricValue::Number(n), _) => {
            if !n.is_finite() {
                return Err(format!("{n} is not a finite number"));
            }
            line.push_str(&format!("value={}", float(*n)));
        }
        (MetricValue::Text(t), MetricType::Geo) => {
            line.push_str(&format!("value={}", string(t)));
            let parts: Vec<Option<f64>> = t
                .split(';')
                .map(|s| s.trim().parse::<f64>().ok().filter(|f| f.is_finite()))
                .collect();
            for (name, v) in ["latitude", "longitude", "altitude"].iter().zip(parts) {
                if let Some(v) = v {
                    line.push_str(&format!(",{name}={}", float(v)));
                }
            }
        }
        (MetricValue::Text(t), _) => line.push_str(&format!("value={}", string(t))),
    }
    line.push(' ');
    line.push_str(&ts.to_string());
    Ok(line)
}

/// A float field: always with a decimal point or exponent, so InfluxDB never reads an integer.
fn float(n: f64) -> String {
    let s = format!("{n:?}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

fn tag(s: &str) -> String {
    // Line breaks end a line; tags cannot hold them, so they become spaces (escaped).
    escape(&s.replace(['\n', '\r'], " "), &[',', '=', ' '])
}

fn escape(s: &str, special: &[char]) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\\' || special.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use std::collections::BTreeMap;

    fn point(t: MetricType, v: MetricValue) -> MetricPoint {
        MetricPoint {
            series: "gw 1.n,1.s=1.V_TEMP".into(),
            metric_type: t,
            timestamp: DateTime::from_timestamp(1_700_000_000, 5).unwrap(),
            value: v,
            tags: BTreeMap::from([
                ("gatewayId".into(), "gw 1".into()),
                ("empty".into(), String::new()),
            ]),
        }
    }

    #[test]
    fn every_metric_type_maps_to_a_measurement_and_back() {
        for t in MetricType::ALL {
            assert_eq!(metric_type_of("sy", &measurement("sy", t)), Some(t));
        }
        assert_eq!(metric_type_of("sy", "other_gauge_data"), None);
        assert_eq!(metric_type_of("sy", "sy_nope_data"), None);
    }

    #[test]
    fn escapes_tags_and_strings() {
        let line = encode("sy", &point(MetricType::Gauge, MetricValue::Number(21.0))).unwrap();
        assert_eq!(
            line,
            r"sy_gauge_data,series=gw\ 1.n\,1.s\=1.V_TEMP,gatewayid=gw\ 1 value=21.0 1700000000000000005"
        );
        let line = encode(
            "sy",
            &point(MetricType::String, MetricValue::Text("say \"hi\"\\".into())),
        )
        .unwrap();
        assert!(line.contains(r#" value="say \"hi\"\\" "#), "{line}");
        let geo = encode(
            "sy",
            &point(MetricType::Geo, MetricValue::Text("52.1;4.3;x".into())),
        )
        .unwrap();
        assert!(
            geo.contains(r#"value="52.1;4.3;x",latitude=52.1,longitude=4.3 "#),
            "{geo}"
        );
        let big = encode("sy", &point(MetricType::Counter, MetricValue::Number(1e21))).unwrap();
        assert!(big.contains("value=1e21 "), "{big}");
    }

    #[test]
    fn refuses_what_influxdb_cannot_hold() {
        assert!(
            encode(
                "sy",
                &point(MetricType::Gauge, MetricValue::Number(f64::NAN))
            )
            .is_err()
        );
        let mut p = point(MetricType::Gauge, MetricValue::Number(1.0));
        p.timestamp = DateTime::from_timestamp(1 << 40, 0).unwrap();
        assert!(encode("sy", &p).is_err());
    }
}
