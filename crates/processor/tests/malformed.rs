use crate::common::Harness;
use bytes::Bytes;
use switchyard_core::model::Field;
use switchyard_core::{Message, MessageType, Payload, topics};
use switchyard_processor::Rejection;

#[tokio::test]
async fn malformed_messages_are_counted_and_the_processor_carries_on() {
    let h = Harness::start().await;
    let ok = Message::new(MessageType::Set, "gw", "1", "1")
        .with_payload(Payload::new("V_TEMP", "20").with_metric_type("gauge_float"));

    // Not JSON, or JSON of another shape.
    h.bus
        .publish(
            topics::TO_PROCESSOR,
            Bytes::from_static(b"\xff\xfe garbage"),
        )
        .await
        .unwrap();
    h.bus
        .publish(
            topics::TO_PROCESSOR,
            Bytes::from_static(b"{\"type\":\"explode\"}"),
        )
        .await
        .unwrap();
    // Oversized: one huge value.
    let mut big = ok.clone();
    big.payloads[0].value = "9".repeat(1 << 20);
    h.send(&big).await;
    // Missing ids.
    let mut no_node = ok.clone();
    no_node.node_id.clear();
    h.send(&no_node).await;
    let mut no_gw = ok.clone();
    no_gw.gateway_id.clear();
    h.send(&no_gw).await;
    // Unknown gateway.
    let mut stranger = ok.clone();
    stranger.gateway_id = "nowhere".into();
    h.send(&stranger).await;
    // Bad payload: a word for a number, and a metric type that does not exist.
    let bad_value = Message::new(MessageType::Set, "gw", "1", "1")
        .with_payload(Payload::new("V_HUM", "damp").with_metric_type("gauge_float"));
    h.send(&bad_value).await;
    let bad_type = Message::new(MessageType::Set, "gw", "1", "1")
        .with_payload(Payload::new("V_X", "1").with_metric_type("kelvin"));
    h.send(&bad_type).await;
    // And a good message after all of that.
    h.send(&ok).await;

    h.settle(3, 8).await;
    let s = &h.stats;
    assert_eq!(s.rejected_count(Rejection::Undecodable), 2);
    assert_eq!(s.rejected_count(Rejection::Oversized), 1);
    assert_eq!(s.rejected_count(Rejection::BadId), 2);
    assert_eq!(s.rejected_count(Rejection::UnknownGateway), 1);
    assert_eq!(s.rejected_count(Rejection::BadPayload), 2);
    let f: Field = h.store.get("gw.1.1.V_TEMP").await.unwrap().unwrap();
    assert_eq!(f.current.value, serde_json::json!(20.0));
    assert!(
        h.store
            .get::<Field>("gw.1.1.V_HUM")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        h.store
            .get::<Field>("nowhere.1.1.V_TEMP")
            .await
            .unwrap()
            .is_none()
    );
    h.stop().await;
}
