//! The metric history in a backup: the raw points of every field's series, read through the
//! metric trait (so any backend that answers raw queries can be backed up) and written back
//! through it on restore.
//!
//! What is read: for each field with a metric type, its raw points from as far back as the
//! backend keeps them ([`MetricStore::raw_retention`]) until now. The embedded store's 1-minute
//! and 1-hour rollups of older times are not in the archive (they are made again from the
//! restored raw points only for the times those cover). At most [`MAX_POINTS`] points in all: a
//! backup past that fails with a clear error rather than hold an unbounded history in memory.

use super::archive::SeriesDump;
use chrono::{DateTime, Utc};
use serde_json::Value;
use switchyard_core::metrics::{MetricPoint, MetricQuery, MetricStore, MetricValue};
use switchyard_core::model::{Field, MetricType};
use switchyard_core::storage::Snapshot;
use switchyard_core::{EntityKind, QuickId, Resource};

/// Most points one backup carries (about 100 MB of memory while it is made).
pub const MAX_POINTS: usize = 2_000_000;
/// Points per write on restore; each write waits for room in the backend's bounded buffer.
const RESTORE_BATCH: usize = 5_000;
/// Where the history starts for a backend that keeps raw points for ever.
const EARLIEST: &str = "2000-01-01T00:00:00Z";

/// The raw points of every field's series in `snapshot`.
pub async fn collect(
    metrics: &dyn MetricStore,
    snapshot: &Snapshot,
    max_points: usize,
) -> Result<Vec<SeriesDump>, String> {
    let now = Utc::now();
    let earliest: DateTime<Utc> = EARLIEST.parse().unwrap_or_default();
    let start = metrics
        .raw_retention()
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .and_then(|d| now.checked_sub_signed(d))
        // A second of slack so the start is inside the retention when the backend checks it.
        .and_then(|t| t.checked_add_signed(chrono::Duration::seconds(1)))
        .map_or(earliest, |t| t.max(earliest));
    let stop = now + chrono::Duration::minutes(1);
    // Points written just before the backup are in it.
    metrics.flush().await.map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut total = 0usize;
    for doc in snapshot.get(&EntityKind::Field).into_iter().flatten() {
        let Some(id) = doc.get("id").and_then(Value::as_str) else {
            continue;
        };
        let metric_type: MetricType = doc
            .get("metricType")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        if metric_type == MetricType::None {
            continue;
        }
        let series = QuickId::new(Field::KIND, id).to_string();
        let rows = metrics
            .query(&MetricQuery {
                series: series.clone(),
                start,
                stop,
                window: None,
                aggregations: vec![],
            })
            .await
            .map_err(|e| format!("reading the metrics of {series}: {e}"))?;
        if rows.is_empty() {
            continue;
        }
        total += rows.len();
        if total > max_points {
            return Err(format!(
                "the metric history has more than {max_points} points; back up without metrics"
            ));
        }
        let tags = [
            ("gatewayId", "gatewayId"),
            ("nodeId", "nodeId"),
            ("sourceId", "sourceId"),
            ("fieldId", "fieldId"),
        ]
        .into_iter()
        .filter_map(|(tag, key)| Some((tag.to_string(), doc.get(key)?.as_str()?.to_string())))
        .collect();
        let points = rows
            .into_iter()
            .filter_map(|mut r| Some((r.timestamp, r.values.remove("value")?)))
            .collect();
        out.push(SeriesDump {
            series,
            metric_type,
            tags,
            points,
        });
    }
    Ok(out)
}

/// Writes the points of `series` back; returns how many. Points the backend already has at the
/// same time in the same series are replaced by the embedded store, kept beside by others.
pub async fn restore(metrics: &dyn MetricStore, series: &[SeriesDump]) -> Result<usize, String> {
    let mut batch = Vec::with_capacity(RESTORE_BATCH);
    let mut n = 0;
    for s in series {
        for (timestamp, value) in &s.points {
            batch.push(MetricPoint {
                series: s.series.clone(),
                metric_type: s.metric_type,
                timestamp: *timestamp,
                value: value.clone(),
                tags: s.tags.clone(),
            });
            if batch.len() == RESTORE_BATCH {
                n += batch.len();
                metrics
                    .write(std::mem::take(&mut batch))
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    n += batch.len();
    if !batch.is_empty() {
        metrics.write(batch).await.map_err(|e| e.to_string())?;
    }
    metrics.flush().await.map_err(|e| e.to_string())?;
    Ok(n)
}

/// Checks what an archive's metrics hold before anything is restored.
pub fn check(series: &[SeriesDump]) -> Result<(), String> {
    let total: usize = series.iter().map(|s| s.points.len()).sum();
    if total > MAX_POINTS {
        return Err(format!("more than {MAX_POINTS} metric points"));
    }
    for s in series {
        if !s.series.starts_with("field:") {
            return Err(format!("metric series `{}` is not a field's", s.series));
        }
        let text = !s.metric_type.is_numeric();
        if s.points
            .iter()
            .any(|(_, v)| matches!(v, MetricValue::Text(_)) != text)
        {
            return Err(format!(
                "metric series `{}` has values of another type than {:?}",
                s.series, s.metric_type
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Cursor;
    use switchyard_metrics::{EmbeddedMetricStore, EmbeddedMetricsConfig};

    fn point(series: &str, t: DateTime<Utc>, v: MetricValue, ty: MetricType) -> MetricPoint {
        MetricPoint {
            series: series.into(),
            metric_type: ty,
            timestamp: t,
            value: v,
            tags: Default::default(),
        }
    }

    async fn all(store: &dyn MetricStore, series: &str) -> Vec<(DateTime<Utc>, MetricValue)> {
        let now = Utc::now();
        store
            .query(&MetricQuery {
                series: series.into(),
                start: now - chrono::Duration::days(1),
                stop: now + chrono::Duration::minutes(5),
                window: None,
                aggregations: vec![],
            })
            .await
            .unwrap()
            .into_iter()
            .map(|mut r| (r.timestamp, r.values.remove("value").unwrap()))
            .collect()
    }

    /// Backup with metrics → archive → restore into a fresh store: the same points.
    #[tokio::test]
    async fn the_history_goes_through_an_archive_into_a_fresh_store() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let config = EmbeddedMetricsConfig::default();
        let source = EmbeddedMetricStore::open(&config, a.path()).await.unwrap();
        let now = Utc::now();
        let mut points = Vec::new();
        for i in 0..300 {
            let t = now - chrono::Duration::seconds(600 - i);
            points.push(point(
                "field:gw.1.2.temp",
                t,
                MetricValue::Number(20.0 + i as f64 / 8.0),
                MetricType::Gauge,
            ));
        }
        points.push(point(
            "field:gw.1.3.text",
            now - chrono::Duration::seconds(5),
            MetricValue::Text("on the table".into()),
            MetricType::String,
        ));
        // A series of no field, and a field kept without metrics, are not in the backup.
        points.push(point(
            "field:gone",
            now,
            MetricValue::Number(1.0),
            MetricType::Gauge,
        ));
        source.write(points).await.unwrap();
        let mut snapshot = Snapshot::new();
        snapshot.insert(
            EntityKind::Field,
            vec![
                json!({"id": "gw.1.2.temp", "metricType": "gauge", "gatewayId": "gw", "nodeId": "1"}),
                json!({"id": "gw.1.3.text", "metricType": "string"}),
                json!({"id": "gw.1.4.none", "metricType": "none"}),
            ],
        );
        let series = collect(&source, &snapshot, MAX_POINTS).await.unwrap();
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].tags["gatewayId"], "gw");
        assert!(
            collect(&source, &snapshot, 100).await.is_err(),
            "past the bound the backup fails"
        );

        let mut buf = Cursor::new(Vec::new());
        super::super::archive::write(
            &mut buf,
            &super::super::archive::Backup {
                snapshot: &snapshot,
                firmware: &[],
                backend: "memory",
                secrets: None,
                metrics: Some(("embedded", &series)),
            },
        )
        .unwrap();
        let contents = super::super::archive::read(Cursor::new(buf.into_inner()), 1 << 24).unwrap();
        check(&contents.metrics).unwrap();
        let fresh = EmbeddedMetricStore::open(&config, b.path()).await.unwrap();
        assert_eq!(restore(&fresh, &contents.metrics).await.unwrap(), 301);
        for s in ["field:gw.1.2.temp", "field:gw.1.3.text"] {
            let before = all(&source, s).await;
            assert!(!before.is_empty());
            assert_eq!(all(&fresh, s).await, before, "{s}");
        }
        assert!(all(&fresh, "field:gone").await.is_empty());
        source.close().await.unwrap();
        fresh.close().await.unwrap();
    }

    #[test]
    fn values_of_the_wrong_type_are_refused() {
        let bad = SeriesDump {
            series: "field:x".into(),
            metric_type: MetricType::Gauge,
            tags: Default::default(),
            points: vec![(Utc::now(), MetricValue::Text("x".into()))],
        };
        assert!(check(std::slice::from_ref(&bad)).is_err());
        let other = SeriesDump {
            series: "node:x".into(),
            points: vec![],
            ..bad
        };
        assert!(check(&[other]).is_err());
    }
}
