//! Snapshots of representative answers (insta, JSON): a list page, a resource, an error of each
//! kind, status, login, a metric query and an action result. What changes from run to run (ids,
//! tokens, times) is redacted, so a snapshot changes only when the answer's shape or wording
//! does. Review a change with `cargo insta review`; CI runs with `INSTA_UPDATE=no`.

use super::harness::{Harness, Reply};
use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

/// The status and body of an answer, the body redacted where it varies between runs.
macro_rules! snapshot {
    ($name:expr, $reply:expr) => {{
        let r: &Reply = &$reply;
        let answer = json!({"status": r.status.as_u16(), "body": r.body});
        insta::assert_json_snapshot!($name, answer, {
            ".**.token" => "[token]",
            ".**.refreshToken" => "[token]",
            ".**.createdAt" => "[time]",
            ".**.modifiedAt" => "[time]",
            ".**.updatedAt" => "[time]",
            ".**.lastSeen" => "[time]",
            ".**.expiresAt" => "[time]",
            ".**.timestamp" => "[time]",
            ".**.time" => "[time]",
            ".**.startedAt" => "[time]",
            ".**.since" => "[time]",
            ".**.modifiedOn" => "[time]",
            ".**.createdOn" => "[time]",
            ".**.expiresOn" => "[time]",
            ".**.lastSeenOn" => "[time]",
            ".**.uptimeSeconds" => "[duration]",
            ".**.version" => "[version]",
        });
    }};
}

#[tokio::test]
async fn login_status_and_profile() {
    let h = Harness::new().await;
    let r = h
        .send(
            Method::POST,
            "/api/user/login",
            None,
            Some(json!({"username": "admin", "password": super::harness::PASSWORD})),
        )
        .await;
    snapshot!("login", r);
    let r = h.send(Method::GET, "/api/status", None, None).await;
    snapshot!("status", r);
}

#[tokio::test]
async fn a_list_page_and_a_resource() {
    let h = Harness::new().await;
    let admin = h.login("admin").await;
    for i in 1..=3 {
        let r = h
            .post(
                "/api/gateway",
                &admin,
                json!({"id": format!("gw{i}"), "name": format!("Gateway {i}"), "provider": {"type": "echo"}}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = h
        .get("/api/gateway?sortBy=%5B%7B%22f%22%3A%22id%22%2C%22o%22%3A%22desc%22%7D%5D&limit=2&offset=1", &admin)
        .await;
    snapshot!("gateway_list_page", r);
    let r = h.get("/api/gateway/gw2", &admin).await;
    snapshot!("gateway", r);
}

#[tokio::test]
async fn a_metric_query_and_an_action() {
    use switchyard_core::metrics::{MetricPoint, MetricValue};
    use switchyard_core::model::MetricType;
    let h = Harness::new().await;
    let admin = h.login("admin").await;
    for (path, body) in [
        (
            "/api/gateway",
            json!({"id": "gw", "provider": {"type": "echo"}}),
        ),
        ("/api/node", json!({"gatewayId": "gw", "nodeId": "1"})),
        (
            "/api/field",
            json!({"gatewayId": "gw", "nodeId": "1", "sourceId": "2", "fieldId": "V_STATUS", "metricType": "binary", "current": {"value": true}}),
        ),
    ] {
        let r = h.post(path, &admin, body).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    let now = chrono::Utc::now();
    let points = (0..4)
        .map(|i| MetricPoint {
            series: "field:gw.1.2.V_TEMP".into(),
            metric_type: MetricType::GaugeFloat,
            timestamp: now - chrono::Duration::minutes(4 - i) - chrono::Duration::seconds(20),
            value: MetricValue::Number(20.0 + i as f64),
            tags: Default::default(),
        })
        .collect();
    h.state.metrics.write(points).await.unwrap();
    h.state.metrics.flush().await.unwrap();
    let r = h
        .get("/api/metric?quickId=field:gw.1.2.V_TEMP&start=-1h", &admin)
        .await;
    snapshot!("metric_query", r);

    let r = h
        .post(
            "/api/action",
            &admin,
            json!([{"resource": "field:gw.1.2.V_STATUS", "payload": "toggle"}]),
        )
        .await;
    snapshot!("action_result", r);
}

#[tokio::test]
async fn an_error_of_each_kind() {
    let h = Harness::new().await;
    let admin = h.login("admin").await;
    let viewer = h.login("view").await;

    let r = h.send(Method::GET, "/api/gateway", None, None).await;
    snapshot!("error_unauthorized", r);
    let r = h
        .post(
            "/api/gateway",
            &viewer,
            json!({"id": "gw", "provider": {"type": "echo"}}),
        )
        .await;
    snapshot!("error_forbidden", r);
    let r = h.get("/api/gateway/nope", &admin).await;
    snapshot!("error_not_found", r);
    let r = h.get("/api/no/such/route", &admin).await;
    snapshot!("error_no_route", r);
    let r = h.send(Method::PUT, "/api/status", Some(&admin), None).await;
    snapshot!("error_method_not_allowed", r);
    let r = h
        .post(
            "/api/gateway",
            &admin,
            json!({"id": "bad id!", "provider": {"type": "no-such-provider"}, "enabled": "yes"}),
        )
        .await;
    snapshot!("error_invalid_resource", r);
    let r = h
        .raw(
            Request::builder()
                .method(Method::POST)
                .uri("/api/gateway")
                .header(header::AUTHORIZATION, format!("Bearer {admin}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{not json"))
                .unwrap(),
        )
        .await;
    snapshot!("error_invalid_body", r);
    let r = h
        .raw(
            Request::builder()
                .method(Method::POST)
                .uri("/api/gateway")
                .header(header::AUTHORIZATION, format!("Bearer {admin}"))
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("id=gw"))
                .unwrap(),
        )
        .await;
    snapshot!("error_body_not_json", r);
    let r = h.get("/api/gateway?filter=%7Bnope", &admin).await;
    snapshot!("error_invalid_query", r);
    let r = h
        .post(
            "/api/action",
            &admin,
            json!([{"resource": "field:gw.1.2.V_STATUS", "payload": "on"}, {"resource": "nothing:here", "payload": "1"}]),
        )
        .await;
    snapshot!("error_invalid_action", r);
    let r = h
        .post(
            "/api/user",
            &admin,
            json!({"id": "view2", "username": "view", "password": "another long password", "roles": ["viewer"]}),
        )
        .await;
    snapshot!("error_conflict", r);
    let mut last = None;
    for _ in 0..10 {
        let r = h
            .send(
                Method::POST,
                "/api/user/login",
                None,
                Some(json!({"username": "op", "password": "wrong"})),
            )
            .await;
        let done = r.status == 429;
        last = Some(r);
        if done {
            break;
        }
    }
    // The wait left depends on the clock: only its presence is part of the answer's shape.
    let mut r = last.unwrap();
    assert_eq!(r.status, 429, "{}", r.body);
    r.body["message"] = json!("[message with the wait]");
    r.body["details"]["retryAfterSeconds"] = json!("[seconds]");
    snapshot!("error_too_many_attempts", r);
}

#[tokio::test]
async fn redacted_fields_are_the_varying_ones() {
    // The redaction keys above must match what the API calls its times and tokens: a login
    // answer that carries a token under another name would leak into the snapshot unredacted.
    let h = Harness::new().await;
    let r = h
        .send(
            Method::POST,
            "/api/user/login",
            None,
            Some(json!({"username": "admin", "password": super::harness::PASSWORD})),
        )
        .await;
    let keys: Vec<&String> = match &r.body {
        Value::Object(m) => m.keys().collect(),
        _ => vec![],
    };
    assert!(keys.iter().any(|k| *k == "token"), "{}", r.body);
}
