use super::harness::{Harness, assert_error};
use serde_json::{Value, json};
use std::time::Duration;
use switchyard_core::Message;
use switchyard_core::bus::Subscription;

async fn next_json(sub: &mut Subscription) -> (String, Value) {
    let m = tokio::time::timeout(Duration::from_secs(5), sub.next())
        .await
        .expect("a message within 5 s")
        .expect("bus open");
    (
        m.subject.clone(),
        serde_json::from_slice(&m.payload).unwrap(),
    )
}

async fn seed(h: &Harness, admin: &str) {
    for (path, body) in [
        (
            "/api/gateway",
            json!({"id": "gw", "provider": {"type": "echo"}}),
        ),
        (
            "/api/node",
            json!({"gatewayId": "gw", "nodeId": "1", "labels": {"sleep_node": "true", "sleep_message_validity": "2h"}}),
        ),
        (
            "/api/field",
            json!({"gatewayId": "gw", "nodeId": "1", "sourceId": "2", "fieldId": "V_STATUS", "metricType": "binary", "current": {"value": true}}),
        ),
        ("/api/task", json!({"id": "t1", "enabled": true})),
        (
            "/api/datarepository",
            json!({"id": "repo", "data": {"a": 1}}),
        ),
        ("/api/datarepository", json!({"id": "ro", "readOnly": true})),
    ] {
        let r = h.post(path, admin, body).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
}

#[tokio::test]
async fn field_and_node_actions_reach_the_gateway_topic() {
    let h = Harness::new().await;
    let admin = h.login("admin").await;
    let op = h.login("op").await;
    seed(&h, &admin).await;
    let mut sub = h.bus.subscribe("message.to_gateway.>").await.unwrap();

    let r = h
        .post(
            "/api/action",
            &op,
            json!([{"resource": "field:gw.1.2.V_STATUS", "payload": "toggle"}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (subject, msg) = next_json(&mut sub).await;
    assert_eq!(subject, "message.to_gateway.gw");
    let msg: Message = serde_json::from_value(msg).unwrap();
    assert_eq!((msg.node_id.as_str(), msg.source_id.as_str()), ("1", "2"));
    assert_eq!(msg.payloads[0].key, "V_STATUS");
    assert_eq!(msg.payloads[0].value, "0", "toggle flips the stored true");
    assert!(msg.is_sleep_node, "the node's sleep_node label travels");
    assert_eq!(msg.validity, "2h");

    let r = h
        .get("/api/action?resource=node:gw.1&payload=reboot", &op)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, msg) = next_json(&mut sub).await;
    assert_eq!(msg["type"], "action");
    assert_eq!(msg["payloads"][0]["key"], "reboot");

    let r = h
        .post(
            "/api/action",
            &op,
            json!({"resource": "gateway:gw", "payload": "discover_nodes"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, msg) = next_json(&mut sub).await;
    assert_eq!(msg["payloads"][0]["key"], "discover_nodes");
    assert_eq!(msg["nodeId"], "");
}

#[tokio::test]
async fn bad_actions_fail_before_any_runs_with_each_path() {
    let h = Harness::new().await;
    let admin = h.login("admin").await;
    seed(&h, &admin).await;
    let mut sub = h.bus.subscribe("message.to_gateway.>").await.unwrap();
    let r = h
        .post(
            "/api/action",
            &admin,
            json!([
                {"resource": "field:gw.1.2.V_STATUS", "payload": "on"},
                {"resource": "node:gw.1", "payload": "explode"},
                {"resource": "nonsense", "payload": "x"},
                {"resource": "datarepository:ro", "payload": "1"},
                {"resource": "data_repository:ro", "keyPath": "a", "payload": "1"}
            ]),
        )
        .await;
    assert_error(&r, 400, "invalid_action");
    let paths: Vec<&str> = r.body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "[1].payload",
            "[2].resource",
            "[3].resource",
            "[4].resource"
        ]
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(200), sub.next())
            .await
            .is_err(),
        "the valid first action did not run either"
    );
}

#[tokio::test]
async fn enable_disable_and_data_repository_actions_change_storage_and_tell_services() {
    let h = Harness::new().await;
    let admin = h.login("admin").await;
    seed(&h, &admin).await;
    let mut services = h.bus.subscribe("service.>").await.unwrap();
    let mut events = h.bus.subscribe("event.>").await.unwrap();

    let r = h.post("/api/gateway/disable", &admin, json!(["gw"])).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        h.get("/api/gateway/gw", &admin).await.body["enabled"],
        false
    );
    let (subject, ids) = next_json(&mut services).await;
    assert_eq!(
        (subject.as_str(), ids),
        ("service.gateway.stop", json!(["gw"]))
    );
    let (subject, ev) = next_json(&mut events).await;
    assert_eq!(subject, "event.gateway.updated");
    assert_eq!(ev["entity"]["enabled"], false);

    let r = h
        .post("/api/gateway/enable", &admin, json!(["gw", "missing"]))
        .await;
    assert_error(&r, 404, "not_found");
    assert_eq!(
        h.get("/api/gateway/gw", &admin).await.body["enabled"],
        false,
        "all or nothing"
    );

    let r = h
        .post(
            "/api/action",
            &admin,
            json!([{"resource": "task:t1", "payload": "off"}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(h.get("/api/task/t1", &admin).await.body["enabled"], false);

    let r = h.post("/api/action", &admin, json!([{"resource": "data_repository:repo", "keyPath": "b.c", "payload": "{\"x\": 2}"}])).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        h.get("/api/datarepository/repo", &admin).await.body["data"],
        json!({"a": 1, "b": {"c": {"x": 2}}})
    );

    let q = h.get("/api/quickid?id=field:gw.1.2.V_STATUS.current.value&id=data_repository:repo.data.a&id=node:gw.404", &admin).await;
    assert_eq!(q.status, 200, "{}", q.body);
    assert_eq!(
        q.body,
        json!({"field:gw.1.2.V_STATUS.current.value": true, "data_repository:repo.data.a": 1})
    );
    assert_error(
        &h.get("/api/quickid?id=user:admin", &admin).await,
        400,
        "invalid_query",
    );
}

#[tokio::test]
async fn metrics_are_served_from_the_running_store() {
    use switchyard_core::metrics::{MetricPoint, MetricValue};
    use switchyard_core::model::MetricType;
    let h = Harness::new().await;
    let token = h.login("view").await;
    let now = chrono::Utc::now();
    let points = (0..10)
        .map(|i| MetricPoint {
            series: "field:gw.1.2.V_TEMP".into(),
            metric_type: MetricType::GaugeFloat,
            timestamp: now - chrono::Duration::minutes(9 - i),
            value: MetricValue::Number(i as f64),
            tags: Default::default(),
        })
        .collect();
    h.state.metrics.write(points).await.unwrap();
    h.state.metrics.flush().await.unwrap();
    let r = h
        .get(
            "/api/metric?quickId=field:gw.1.2.V_TEMP&start=-1h&functions=max,count&window=1h",
            &token,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rows = r.body["field:gw.1.2.V_TEMP"].as_array().unwrap();
    let max = rows
        .iter()
        .filter_map(|row| row["values"]["max"].as_f64())
        .fold(f64::MIN, f64::max);
    let count: f64 = rows
        .iter()
        .filter_map(|row| row["values"]["count"].as_f64())
        .sum();
    assert_eq!((max, count), (9.0, 10.0), "{}", r.body);
    let raw = h
        .get(
            "/api/metric?quickId=field:gw.1.2.V_TEMP&start=-5m30s",
            &token,
        )
        .await;
    assert_eq!(
        raw.body["field:gw.1.2.V_TEMP"].as_array().unwrap().len(),
        6,
        "{}",
        raw.body
    );
    let r = h
        .post(
            "/api/metric",
            &token,
            json!({"global": {"start": "-1h", "window": "1h", "functions": ["sum"]}, "individual": [{"quickId": "field:gw.1.2.V_TEMP"}, {"quickId": "field:gw.1.2.V_HUM"}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["field:gw.1.2.V_HUM"], json!([]));
    let r = h
        .get("/api/metric?quickId=field:gw&start=soon&window=-1m", &token)
        .await;
    assert_error(&r, 400, "invalid_query");
    assert_eq!(r.body["details"].as_array().unwrap().len(), 3, "{}", r.body);
}
