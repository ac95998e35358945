//! Flux (v2): the query text for a [`MetricQuery`], and reading InfluxDB's annotated CSV answer.
//! Pure; the CSV shape is InfluxDB's documented one (`#datatype`, `#group`, `#default`
//! annotation rows, a header row, tables separated by blank lines, one `result` per yield).

use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::BTreeMap;
use switchyard_core::metrics::{Aggregation, MetricError, MetricQuery, MetricRow, MetricValue};

pub fn string(s: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn time(t: DateTime<Utc>) -> String {
    format!(
        "time(v: \"{}\")",
        t.to_rfc3339_opts(SecondsFormat::Nanos, true)
    )
}

fn function(a: Aggregation) -> String {
    match a {
        Aggregation::Percentile(p) => format!(
            "(column, tables=<-) => tables |> quantile(q: {}, column: column, method: \"exact_selector\")",
            f64::from(p) / 100.0
        ),
        other => other.to_string(),
    }
}

/// One yield per aggregation (named after it), or one `value` yield of raw points.
pub fn query(
    q: &MetricQuery,
    bucket: &str,
    measurement: &str,
    aggregations: &[Aggregation],
) -> String {
    let mut flux = format!(
        "data = from(bucket: {})\n  |> range(start: {}, stop: {})\n  |> filter(fn: (r) => r._measurement == {} and r.series == {} and r._field == \"value\")\n",
        string(bucket),
        time(q.start),
        time(q.stop),
        string(measurement),
        string(&q.series)
    );
    match q.window {
        None => flux.push_str("data |> sort(columns: [\"_time\"]) |> yield(name: \"value\")\n"),
        Some(w) => {
            for a in aggregations {
                flux.push_str(&format!(
                    "data |> aggregateWindow(every: {}us, fn: {}, createEmpty: false, timeSrc: \"_start\") |> yield(name: \"{a}\")\n",
                    w.as_micros(),
                    function(*a)
                ));
            }
        }
    }
    flux
}

/// Measurements holding `series`, over all time.
pub fn measurements(bucket: &str, series: &str) -> String {
    format!(
        "import \"influxdata/influxdb/schema\"\nschema.tagValues(bucket: {}, tag: \"_measurement\", predicate: (r) => r.series == {}, start: 0)",
        string(bucket),
        string(series)
    )
}

/// RFC 4180 fields of one line.
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cur.is_empty() => quoted = true,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// A table of the answer: its column names and types, and rows.
#[derive(Debug, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub types: Vec<String>,
    pub defaults: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// Splits annotated CSV into tables (a new table at every annotation block or header).
pub fn tables(csv: &str) -> Result<Vec<Table>, MetricError> {
    let mut out: Vec<Table> = Vec::new();
    let mut types: Vec<String> = Vec::new();
    let mut defaults: Vec<String> = Vec::new();
    let mut current: Option<Table> = None;
    // Records may hold quoted line breaks; join physical lines until quotes balance.
    let mut record = String::new();
    for line in csv.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if !record.is_empty() {
            record.push('\n');
        }
        record.push_str(line);
        if record.matches('"').count() % 2 == 1 {
            continue;
        }
        let rec = std::mem::take(&mut record);
        if rec.trim().is_empty() {
            out.extend(current.take());
            continue;
        }
        let cells = fields(&rec);
        if cells[0].starts_with('#') {
            out.extend(current.take());
            match cells[0].as_str() {
                "#datatype" => types = cells,
                "#default" => defaults = cells,
                _ => {}
            }
            continue;
        }
        match current.as_mut() {
            None => {
                current = Some(Table {
                    columns: cells,
                    types: std::mem::take(&mut types),
                    defaults: std::mem::take(&mut defaults),
                    rows: Vec::new(),
                })
            }
            Some(t) => {
                // An empty cell takes the column's `#default` (how `result` names a yield).
                let row = cells
                    .into_iter()
                    .enumerate()
                    .map(|(i, c)| match t.defaults.get(i) {
                        Some(d) if c.is_empty() && !d.is_empty() => d.clone(),
                        _ => c,
                    })
                    .collect();
                t.rows.push(row)
            }
        }
    }
    out.extend(current.take());
    for t in &out {
        if let (Some(e), Some(row)) = (t.column("error"), t.rows.first())
            && t.column("_value").is_none()
        {
            return Err(MetricError::Backend(format!(
                "influxdb: {}",
                row.get(e).cloned().unwrap_or_default()
            )));
        }
    }
    Ok(out)
}

fn cell_value(text: &str, datatype: &str) -> Option<MetricValue> {
    if text.is_empty() {
        return None;
    }
    match datatype {
        "double" | "long" | "unsignedLong" => text.parse().ok().map(MetricValue::Number),
        "boolean" => Some(MetricValue::Number(if text == "true" { 1.0 } else { 0.0 })),
        "string" => Some(MetricValue::Text(text.to_string())),
        // No annotation: a number if it reads as one.
        _ => Some(
            text.parse()
                .map(MetricValue::Number)
                .unwrap_or_else(|_| MetricValue::Text(text.to_string())),
        ),
    }
}

/// Rows by time, each with a value per yield name (`result`).
pub fn rows(csv: &str) -> Result<Vec<MetricRow>, MetricError> {
    let mut by_time: BTreeMap<DateTime<Utc>, BTreeMap<String, MetricValue>> = BTreeMap::new();
    for t in tables(csv)? {
        let (Some(ti), Some(vi)) = (t.column("_time"), t.column("_value")) else {
            continue;
        };
        let ri = t.column("result");
        let datatype = t.types.get(vi).cloned().unwrap_or_default();
        for row in &t.rows {
            let (Some(ts), Some(v)) = (row.get(ti), row.get(vi)) else {
                continue;
            };
            let ts = DateTime::parse_from_rfc3339(ts)
                .map_err(|e| MetricError::Backend(format!("influxdb time `{ts}`: {e}")))?
                .with_timezone(&Utc);
            let name = ri
                .and_then(|i| row.get(i))
                .filter(|n| !n.is_empty() && *n != "_result")
                .cloned()
                .unwrap_or_else(|| "value".into());
            if let Some(v) = cell_value(v, &datatype) {
                by_time.entry(ts).or_default().insert(name, v);
            }
        }
    }
    Ok(by_time
        .into_iter()
        .map(|(timestamp, values)| MetricRow { timestamp, values })
        .collect())
}

/// `_value` cells of every table (answers of `schema.tagValues`).
pub fn values(csv: &str) -> Result<Vec<String>, MetricError> {
    let mut out = Vec::new();
    for t in tables(csv)? {
        if let Some(vi) = t.column("_value") {
            out.extend(t.rows.iter().filter_map(|r| r.get(vi).cloned()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string("a\"b\\c${x}$"), "\"a\\\"b\\\\c\\${x}$\"");
    }

    #[test]
    fn csv_fields_with_quotes() {
        assert_eq!(fields("a,\"b,c\",\"d\"\"e\","), ["a", "b,c", "d\"e", ""]);
    }

    #[test]
    fn an_error_table_is_an_error() {
        let csv = "#datatype,string,string\n#group,true,true\n#default,,\n,error,reference\n,\"failed to parse: x\",897\n";
        let err = rows(csv).unwrap_err().to_string();
        assert!(err.contains("failed to parse"), "{err}");
    }
}
