//! System monitoring against the real host: the machine running the test is the device.

use super::harness::{Harness, eventually, gateway, unique};
use serde_json::json;
use switchyard_core::model::Status;
use switchyard_core::{Message, MessageType, Payload};

#[tokio::test]
async fn the_host_appears_as_a_node_with_plausible_values() {
    let gw = unique("sys");
    let h = Harness::start(&[gateway(
        &gw,
        json!({
            "type": "system_monitoring",
            "nodeId": "testhost",
            "intervals": {"cpu": "1s", "memory": "1s", "host": "1m"},
            "processes": {"everything": ""}
        }),
    )])
    .await;
    h.wait_status(&gw, Status::Up).await;
    let node = format!("{gw}.testhost");
    let n = h
        .wait_node(&node, "host info", |n| n.others.contains_key("cpu_count"))
        .await;
    assert!(!n.name.is_empty());
    let total = eventually("memory total", || async {
        h.field(&format!("{node}.memory.total"))
            .await
            .and_then(|f| f.current.value.as_f64())
    })
    .await;
    assert!(total > 0.0, "{total}");
    let cpu = eventually("cpu total", || async {
        h.field(&format!("{node}.cpu.total"))
            .await
            .and_then(|f| f.current.value.as_f64())
    })
    .await;
    assert!((0.0..=100.0).contains(&cpu), "{cpu}");
    let count = eventually("process count", || async {
        h.field(&format!("{node}.process_everything.count"))
            .await
            .and_then(|f| f.current.value.as_f64())
    })
    .await;
    assert!(count >= 1.0, "{count}");

    // Unsupported messages are refused, not queued; the gateway stays up.
    h.send_to_gateway(
        &gw,
        &Message::new(MessageType::Set, "", "testhost", "cpu")
            .with_payload(Payload::new("total", "5")),
    )
    .await;
    h.send_to_gateway(
        &gw,
        &Message::new(MessageType::Action, "", "testhost", "")
            .with_payload(Payload::new("refresh_node_info", "")),
    )
    .await;
    assert_eq!(h.gateway_state(&gw).await.status, Status::Up);
    h.stop().await;
}
