//! VictoriaMetrics (Debian's `victoria-metrics`) accepts both InfluxDB write APIs: every point
//! written through v1 and v2 arrives, checked through its own export API.

use crate::point;
use crate::servers::{Server, require, reqwest_client};
use chrono::{DurationRound, TimeDelta, Utc};
use switchyard_core::metrics::{MetricStore, MetricValue};
use switchyard_core::model::MetricType;
use switchyard_metrics::{InfluxConfig, InfluxVersion};
use switchyard_metrics_influxdb::InfluxMetricStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_write_apis_land_in_victoria_metrics() {
    let Some(vm) = require(
        "victoria-metrics",
        "both_write_apis_land_in_victoria_metrics",
    ) else {
        return;
    };
    let server = Server::victoria(vm).await;
    let base = Utc::now().duration_trunc(TimeDelta::seconds(1)).unwrap() - TimeDelta::minutes(30);
    for (version, series) in [(InfluxVersion::V1, "vm.v1"), (InfluxVersion::V2, "vm.v2")] {
        let config = InfluxConfig {
            url: server.url.clone(),
            version,
            database: "sytest".into(),
            org: "home".into(),
            bucket: "sy".into(),
            token: "unused".into(),
            batch_size: 100,
            ..InfluxConfig::default()
        };
        let store = InfluxMetricStore::open(&config).await.unwrap();
        let points = (0..500)
            .map(|i| {
                point(
                    series,
                    MetricType::Gauge,
                    base + TimeDelta::seconds(i),
                    MetricValue::Number(i as f64 / 4.0),
                )
            })
            .collect();
        store.write(points).await.unwrap();
        store.flush().await.unwrap();
        assert_eq!(store.stats().written, 500, "{version:?}");
        store.close().await.unwrap();
    }
    let client = reqwest_client();
    client
        .get(format!("{}/internal/force_flush", server.url))
        .send()
        .await
        .unwrap();
    for series in ["vm.v1", "vm.v2"] {
        let mut url = reqwest::Url::parse(&format!("{}/api/v1/export", server.url)).unwrap();
        url.query_pairs_mut().append_pair(
            "match[]",
            &format!("sy_gauge_data_value{{series=\"{series}\"}}"),
        );
        let body = client.get(url).send().await.unwrap().text().await.unwrap();
        let line: serde_json::Value =
            serde_json::from_str(body.lines().next().unwrap_or("{}")).unwrap();
        assert_eq!(line["metric"]["gatewayid"], "gw1", "{body}");
        let values: Vec<f64> = serde_json::from_value(line["values"].clone()).unwrap();
        let times: Vec<i64> = serde_json::from_value(line["timestamps"].clone()).unwrap();
        assert_eq!(
            values,
            (0..500).map(|i| i as f64 / 4.0).collect::<Vec<_>>(),
            "{series}"
        );
        assert_eq!(times[0], base.timestamp_millis(), "{series}");
        assert_eq!(
            times[499],
            (base + TimeDelta::seconds(499)).timestamp_millis()
        );
    }
}
