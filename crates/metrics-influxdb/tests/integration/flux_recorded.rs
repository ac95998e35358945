//! The v2 API (write with org/bucket/token, Flux queries) against a stand-in server that checks
//! each request's shape and answers with annotated CSV in InfluxDB's documented format
//! (`tests/fixtures/flux_*.csv`). No InfluxDB 2.x is packaged here.

use crate::point;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::{DateTime, TimeDelta, Utc};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::metrics::{Aggregation, MetricQuery, MetricStore, MetricValue};
use switchyard_core::model::MetricType;
use switchyard_metrics::{InfluxConfig, InfluxVersion};
use switchyard_metrics_influxdb::InfluxMetricStore;

#[derive(Default)]
struct Seen {
    writes: Vec<String>,
    queries: Vec<String>,
}

type Shared = Arc<Mutex<Seen>>;

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Token s3cret")
}

async fn write(
    State(seen): State<Shared>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let expected = [("org", "home"), ("bucket", "sy"), ("precision", "ns")];
    if !authorized(&headers)
        || expected
            .iter()
            .any(|(k, v)| params.get(*k).map(String::as_str) != Some(*v))
    {
        return StatusCode::UNAUTHORIZED;
    }
    seen.lock().writes.push(body);
    StatusCode::NO_CONTENT
}

async fn query(
    State(seen): State<Shared>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    if !authorized(&headers) || params.get("org").map(String::as_str) != Some("home") {
        return (
            StatusCode::UNAUTHORIZED,
            r#"{"code":"unauthorized"}"#.into(),
        );
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not json".into());
    };
    let flux = json["query"].as_str().unwrap_or_default().to_string();
    assert_eq!(json["type"], "flux");
    assert_eq!(
        json["dialect"]["annotations"],
        serde_json::json!(["datatype", "group", "default"])
    );
    seen.lock().queries.push(flux.clone());
    let fixture = if flux.contains("schema.tagValues") {
        include_str!("../fixtures/flux_tag_values.csv")
    } else if flux.contains("aggregateWindow") {
        include_str!("../fixtures/flux_window.csv")
    } else {
        include_str!("../fixtures/flux_raw.csv")
    };
    (StatusCode::OK, fixture.into())
}

async fn stand_in() -> (String, Shared) {
    let seen = Shared::default();
    let app = Router::new()
        .route("/api/v2/write", post(write))
        .route("/api/v2/query", post(query))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

fn config(url: &str) -> InfluxConfig {
    InfluxConfig {
        url: url.into(),
        version: InfluxVersion::V2,
        org: "home".into(),
        bucket: "sy".into(),
        token: "s3cret".into(),
        ..InfluxConfig::default()
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().into()
}

#[tokio::test]
async fn v2_writes_with_org_bucket_and_token() {
    let (url, seen) = stand_in().await;
    let store = InfluxMetricStore::open(&config(&url)).await.unwrap();
    let t = at("2026-11-20T10:00:00Z");
    store
        .write(vec![
            point(
                "gw1.1.1.V_TEMP",
                MetricType::GaugeFloat,
                t,
                MetricValue::Number(21.5),
            ),
            point(
                "gw1.1.1.V_TEMP",
                MetricType::GaugeFloat,
                t,
                MetricValue::Number(22.0),
            ),
        ])
        .await
        .unwrap();
    store.flush().await.unwrap();
    let writes = seen.lock().writes.clone();
    assert_eq!(
        writes,
        [
            "sy_gauge_float_data,series=gw1.1.1.V_TEMP,gatewayid=gw1 value=21.5 1795168800000000000\n\
             sy_gauge_float_data,series=gw1.1.1.V_TEMP,gatewayid=gw1 value=22.0 1795168800000000001"
        ],
        "one request; the repeated time moved by 1 ns so InfluxDB keeps both"
    );
    let bad_token = InfluxMetricStore::open(&InfluxConfig {
        token: "wrong".into(),
        ..config(&url)
    })
    .await
    .unwrap();
    bad_token
        .write(vec![point(
            "x",
            MetricType::Gauge,
            t,
            MetricValue::Number(1.0),
        )])
        .await
        .unwrap();
    assert!(
        bad_token.flush().await.is_err(),
        "401 keeps the points for a retry"
    );
    assert_eq!(bad_token.stats().buffered, 1);
}

#[tokio::test]
async fn v2_flux_answers_become_rows() {
    let (url, seen) = stand_in().await;
    let store = InfluxMetricStore::open(&config(&url)).await.unwrap();
    let q = MetricQuery {
        series: "gw1.1.1.V_TEMP".into(),
        start: at("2026-11-20T10:00:00Z"),
        stop: at("2026-11-20T10:03:00Z"),
        window: Some(Duration::from_secs(60)),
        aggregations: vec![Aggregation::Mean, Aggregation::Max, Aggregation::Count],
    };
    // No write remembered the type: the store asks for the series' measurement first.
    let rows = store.query(&q).await.unwrap();
    let queries = seen.lock().queries.clone();
    assert!(
        queries[0].contains("schema.tagValues(bucket: \"sy\", tag: \"_measurement\""),
        "{}",
        queries[0]
    );
    let flux = &queries[1];
    for part in [
        "from(bucket: \"sy\")",
        "range(start: time(v: \"2026-11-20T10:00:00.000000000Z\"), stop: time(v: \"2026-11-20T10:03:00.000000000Z\"))",
        "r._measurement == \"sy_gauge_float_data\" and r.series == \"gw1.1.1.V_TEMP\"",
        "aggregateWindow(every: 60000000us, fn: mean, createEmpty: false, timeSrc: \"_start\") |> yield(name: \"mean\")",
        "yield(name: \"count\")",
    ] {
        assert!(flux.contains(part), "{part} missing from:\n{flux}");
    }
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].timestamp, at("2026-11-20T10:00:00Z"));
    assert_eq!(rows[0].values["mean"], MetricValue::Number(21.25));
    assert_eq!(rows[0].values["max"], MetricValue::Number(22.5));
    assert_eq!(rows[0].values["count"], MetricValue::Number(2.0));
    assert_eq!(rows[1].timestamp, at("2026-11-20T10:02:00Z"));
    assert_eq!(rows[1].values["count"], MetricValue::Number(1.0));

    // Raw points of a text series (its type remembered from a write this time).
    store
        .write(vec![point(
            "gw1.1.2.V_TEXT",
            MetricType::String,
            at("2026-11-20T09:00:00Z"),
            MetricValue::Text("x".into()),
        )])
        .await
        .unwrap();
    let raw = MetricQuery {
        series: "gw1.1.2.V_TEXT".into(),
        window: None,
        aggregations: vec![],
        start: at("2026-11-20T10:00:00Z"),
        stop: at("2026-11-20T11:00:00Z"),
    };
    let rows = store.query(&raw).await.unwrap();
    assert!(
        seen.lock()
            .queries
            .last()
            .unwrap()
            .contains("sy_string_data")
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].timestamp, at("2026-11-20T10:00:01.5Z"));
    assert_eq!(
        rows[0].values["value"],
        MetricValue::Text("open, \"front\" door".into())
    );
    assert_eq!(
        rows[1].timestamp,
        at("2026-11-20T10:00:00Z") + TimeDelta::minutes(5) + TimeDelta::nanoseconds(1)
    );
}
