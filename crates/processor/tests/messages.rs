use crate::common::Harness;
use chrono::{TimeZone, Utc};
use serde_json::json;
use std::time::Duration;
use switchyard_core::metrics::{MetricQuery, MetricValue};
use switchyard_core::model::{Field, MetricType, Node, Source, Status};
use switchyard_core::{Event, EventType, Message, MessageType, Payload, topics};

fn set(node: &str, source: &str, key: &str, value: &str, metric_type: &str) -> Message {
    Message::new(MessageType::Set, "gw", node, source)
        .with_payload(
            Payload::new(key, value)
                .with_metric_type(metric_type)
                .with_unit("°C"),
        )
        .received()
}

#[tokio::test]
async fn set_creates_node_source_field_and_keeps_previous_value() {
    let h = Harness::start().await;
    let mut events = h.bus.subscribe("event.>").await.unwrap();
    h.send(&set("1", "2", "V_TEMP", "21.5", "gauge_float"))
        .await;
    h.send(&set("1", "2", "V_TEMP", "22", "")).await;
    h.settle(2, 0).await;

    let f: Field = h.store.get("gw.1.2.V_TEMP").await.unwrap().unwrap();
    assert_eq!(
        f.metric_type,
        MetricType::GaugeFloat,
        "kept from the first message"
    );
    assert_eq!(f.current.value, json!(22.0));
    assert_eq!(f.previous.value, json!(21.5));
    assert!(f.current.is_received);
    assert_eq!(f.unit, "°C");
    let node: Node = h.store.get("gw.1").await.unwrap().unwrap();
    assert_eq!(node.state.status, Status::Up);
    assert!(node.last_seen.is_some());
    let source: Source = h.store.get("gw.1.2").await.unwrap().unwrap();
    assert_eq!(source.name, "2");

    let mut seen = Vec::new();
    while seen.len() < 6 {
        let m = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .unwrap()
            .unwrap();
        let e: Event = m.json().unwrap();
        seen.push((m.subject, e.event_type, e.entity_id));
    }
    assert!(seen.contains(&(
        "event.field.created".into(),
        EventType::Created,
        "gw.1.2.V_TEMP".into()
    )));
    assert!(seen.contains(&(
        "event.field.updated".into(),
        EventType::Updated,
        "gw.1.2.V_TEMP".into()
    )));
    assert!(seen.contains(&(
        "event.node.created".into(),
        EventType::Created,
        "gw.1".into()
    )));
    assert!(seen.contains(&(
        "event.source.created".into(),
        EventType::Created,
        "gw.1.2".into()
    )));
    h.stop().await;
}

#[tokio::test]
async fn unchanged_binary_values_write_no_metric_point() {
    let h = Harness::start().await;
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    for (i, v) in ["1", "1", "0", "0", "1"].iter().enumerate() {
        let mut m = set("1", "1", "V_STATUS", v, "binary");
        m.timestamp = Some(t0 + chrono::Duration::seconds(i as i64));
        h.send(&m).await;
    }
    h.settle(5, 0).await;
    h.metrics.flush().await.unwrap();
    let rows = h
        .metrics
        .query(&MetricQuery {
            series: "field:gw.1.1.V_STATUS".into(),
            start: t0,
            stop: t0 + chrono::Duration::minutes(1),
            window: None,
            aggregations: vec![],
        })
        .await
        .unwrap();
    let values: Vec<_> = rows.iter().map(|r| r.values["value"].clone()).collect();
    assert_eq!(
        values,
        [
            MetricValue::Number(1.0),
            MetricValue::Number(0.0),
            MetricValue::Number(1.0)
        ]
    );
    let f: Field = h.store.get("gw.1.1.V_STATUS").await.unwrap().unwrap();
    assert_eq!(f.current.value, json!(true));
    assert_eq!(f.no_change_since, Some(t0 + chrono::Duration::seconds(4)));
    h.stop().await;
}

#[tokio::test]
async fn request_is_answered_to_the_gateway() {
    let h = Harness::start().await;
    let mut to_gw = h.bus.subscribe(&topics::to_gateway("gw")).await.unwrap();
    let mut requested = h.bus.subscribe("event.field.requested").await.unwrap();
    h.send(&set("5", "1", "V_DIMMER", "40", "gauge")).await;
    h.settle(1, 0).await;
    let req = Message::new(MessageType::Request, "gw", "5", "1")
        .with_payload(Payload::new("V_DIMMER", ""));
    h.send(&req).await;
    let answer = tokio::time::timeout(Duration::from_secs(5), to_gw.next())
        .await
        .unwrap()
        .unwrap();
    let answer: Message = answer.json().unwrap();
    assert_eq!(answer.message_type, MessageType::Set);
    assert_eq!(
        (answer.node_id.as_str(), answer.source_id.as_str()),
        ("5", "1")
    );
    assert_eq!(answer.payloads[0].key, "V_DIMMER");
    assert_eq!(answer.payloads[0].value, "40");
    assert!(!answer.is_received);
    let e = tokio::time::timeout(Duration::from_secs(5), requested.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e.json::<Event>().unwrap().entity_id, "gw.5.1.V_DIMMER");
    h.stop().await;
}

#[tokio::test]
async fn presentations_and_node_values_update_node_and_source() {
    let h = Harness::start().await;
    let t0 = Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap();
    let mut node_msg = Message::new(MessageType::Presentation, "gw", "7", "")
        .with_payload(Payload::new("name", "Porch sensor"))
        .with_payload(Payload::new("version", "1.2"))
        .received();
    node_msg.timestamp = Some(t0);
    h.send(&node_msg).await;
    let mut battery = Message::new(MessageType::Set, "gw", "7", "")
        .with_payload(Payload::new("battery_level", "87"));
    battery.timestamp = Some(t0);
    h.send(&battery).await;
    let src = Message::new(MessageType::Presentation, "gw", "7", "3")
        .with_payload(Payload::new("name", "Door"))
        .with_payload(Payload::new("type", "S_DOOR"));
    h.send(&src).await;
    h.settle(3, 0).await;
    let node: Node = h.store.get("gw.7").await.unwrap().unwrap();
    assert_eq!(node.name, "Porch sensor");
    assert_eq!(node.labels["version"], "1.2");
    assert_eq!(node.others["battery_level"], json!(87));
    let source: Source = h.store.get("gw.7.3").await.unwrap().unwrap();
    assert_eq!(source.name, "Door");
    assert_eq!(source.others["type"], json!("S_DOOR"));
    h.metrics.flush().await.unwrap();
    let rows = h
        .metrics
        .query(&MetricQuery {
            series: "node:gw.7.battery_level".into(),
            start: t0,
            stop: t0 + chrono::Duration::seconds(1),
            window: None,
            aggregations: vec![],
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].values["value"], MetricValue::Number(87.0));
    h.stop().await;
}

#[tokio::test]
async fn actions_go_to_the_gateway_unchanged() {
    let h = Harness::start().await;
    let mut to_gw = h.bus.subscribe("message.to_gateway.>").await.unwrap();
    let action = Message::new(MessageType::Action, "gw", "", "")
        .with_payload(Payload::new("discover_nodes", ""));
    h.send(&action).await;
    let got = tokio::time::timeout(Duration::from_secs(5), to_gw.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.subject, "message.to_gateway.gw");
    assert_eq!(got.json::<Message>().unwrap(), action);
    h.stop().await;
}

/// A burst for one field is committed in batches; each message must still see the one before it.
#[tokio::test]
async fn a_burst_on_one_field_keeps_every_previous_value() {
    let h = Harness::start().await;
    let t0 = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();
    for i in 0..300 {
        let mut m = set("9", "1", "V_WATT", &i.to_string(), "gauge");
        m.timestamp = Some(t0 + chrono::Duration::milliseconds(i));
        h.send(&m).await;
    }
    h.settle(300, 0).await;
    let f: Field = h.store.get("gw.9.1.V_WATT").await.unwrap().unwrap();
    assert_eq!(f.current.value, json!(299));
    assert_eq!(f.previous.value, json!(298));
    h.metrics.flush().await.unwrap();
    let rows = h
        .metrics
        .query(&MetricQuery {
            series: "field:gw.9.1.V_WATT".into(),
            start: t0,
            stop: t0 + chrono::Duration::minutes(1),
            window: None,
            aggregations: vec![],
        })
        .await
        .unwrap();
    let got: Vec<_> = rows
        .into_iter()
        .map(|r| r.values["value"].clone())
        .collect();
    let want: Vec<_> = (0..300).map(|i| MetricValue::Number(i as f64)).collect();
    assert_eq!(got, want);
    h.stop().await;
}
