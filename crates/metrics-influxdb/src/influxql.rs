//! InfluxQL (v1): the query text for a [`MetricQuery`] and the rows of its JSON answer. Pure.

use chrono::DateTime;
use serde_json::Value;
use std::collections::BTreeMap;
use switchyard_core::metrics::{Aggregation, MetricError, MetricQuery, MetricRow, MetricValue};

pub fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn function(a: Aggregation) -> String {
    match a {
        Aggregation::Percentile(p) => format!("percentile(\"value\", {p}) AS \"{a}\""),
        other => format!("{other}(\"value\") AS \"{other}\""),
    }
}

/// `SELECT …` for one series in `measurement` (`rp` may be empty). Windows are epoch-aligned
/// `GROUP BY time(…)` with `fill(none)`, so empty windows are left out as the trait says.
pub fn select(
    q: &MetricQuery,
    rp: &str,
    measurement: &str,
    aggregations: &[Aggregation],
) -> String {
    let from = if rp.is_empty() {
        ident(measurement)
    } else {
        format!("{}.{}", ident(rp), ident(measurement))
    };
    let (start, stop) = (nanos(q.start), nanos(q.stop));
    let filter = format!(
        "\"series\" = {} AND time >= {start} AND time < {stop}",
        literal(&q.series)
    );
    match q.window {
        None => format!("SELECT \"value\" FROM {from} WHERE {filter}"),
        Some(w) => {
            let fields: Vec<String> = aggregations.iter().map(|a| function(*a)).collect();
            format!(
                "SELECT {} FROM {from} WHERE {filter} GROUP BY time({}u) fill(none)",
                fields.join(", "),
                w.as_micros()
            )
        }
    }
}

fn nanos(t: DateTime<chrono::Utc>) -> i64 {
    t.timestamp_nanos_opt().unwrap_or(if t.timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// The measurements holding `series`.
pub fn show_measurements(series: &str) -> String {
    format!("SHOW MEASUREMENTS WHERE \"series\" = {}", literal(series))
}

/// Names in the first column of a `SHOW …` answer.
pub fn names(body: &Value) -> Vec<String> {
    body.pointer("/results/0/series")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("values").and_then(Value::as_array))
        .flatten()
        .filter_map(|row| row.get(0).and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// Rows of a `SELECT` answer asked with `epoch=ns`. Null cells are left out of their row.
pub fn rows(body: &Value) -> Result<Vec<MetricRow>, MetricError> {
    let mut out = Vec::new();
    let series = body
        .pointer("/results/0/series")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for s in series {
        let columns: Vec<String> = s
            .get("columns")
            .and_then(Value::as_array)
            .map(|c| {
                c.iter()
                    .map(|v| v.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        let values = s.get("values").and_then(Value::as_array).cloned();
        for row in values.unwrap_or_default() {
            let Some(cells) = row.as_array() else {
                continue;
            };
            let Some(ts) = cells.first().and_then(Value::as_i64) else {
                return Err(MetricError::Backend(format!(
                    "influxdb answered a row without a time: {row}"
                )));
            };
            let mut values = BTreeMap::new();
            for (name, cell) in columns.iter().zip(cells).skip(1) {
                let v = match cell {
                    Value::Number(n) => n.as_f64().map(MetricValue::Number),
                    Value::String(s) => Some(MetricValue::Text(s.clone())),
                    Value::Bool(b) => Some(MetricValue::Number(f64::from(u8::from(*b)))),
                    _ => None,
                };
                if let Some(v) = v {
                    values.insert(name.clone(), v);
                }
            }
            if !values.is_empty() {
                out.push(MetricRow {
                    timestamp: DateTime::from_timestamp_nanos(ts),
                    values,
                });
            }
        }
    }
    out.sort_by_key(|r| r.timestamp);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn builds_windowed_and_raw_queries() {
        let start = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let mut q = MetricQuery {
            series: "gw'1.n.s.f".into(),
            start,
            stop: start + chrono::TimeDelta::hours(1),
            window: Some(Duration::from_secs(60)),
            aggregations: vec![],
        };
        let sql = select(
            &q,
            "",
            "sy_gauge_data",
            &[Aggregation::Mean, Aggregation::Percentile(95)],
        );
        assert_eq!(
            sql,
            "SELECT mean(\"value\") AS \"mean\", percentile(\"value\", 95) AS \"percentile_95\" \
             FROM \"sy_gauge_data\" WHERE \"series\" = 'gw\\'1.n.s.f' AND time >= 1700000000000000000 \
             AND time < 1700003600000000000 GROUP BY time(60000000u) fill(none)"
        );
        q.window = None;
        assert!(select(&q, "week", "m", &[]).starts_with("SELECT \"value\" FROM \"week\".\"m\""));
    }

    #[test]
    fn reads_rows_and_skips_nulls() {
        let body = json!({"results": [{"statement_id": 0, "series": [{"name": "m",
            "columns": ["time", "mean", "max"],
            "values": [[1_700_000_060_000_000_000i64, 2.5, 3], [1_700_000_000_000_000_000i64, null, "x"]]}]}]});
        let rows = rows(&body).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].timestamp.timestamp(), 1_700_000_000);
        assert_eq!(rows[0].values.len(), 1);
        assert_eq!(rows[1].values["mean"], MetricValue::Number(2.5));
        assert!(
            super::rows(&json!({"results": [{"statement_id": 0}]}))
                .unwrap()
                .is_empty()
        );
    }
}
