//! `/api/gateway/{id}/sleeping-queue`: the API asks the gateway service over the bus. Here a
//! stand-in answers `service.gateway.sleeping_queue` as the service does (the service itself is
//! tested in the gateway crate, and the whole path with the real binary in the server's tests).

use super::harness::{Harness, assert_error};
use axum::http::Method;
use bytes::Bytes;
use serde_json::json;
use switchyard_core::sleeping_queue::{
    SUBJECT, SleepingQueueCommand, SleepingQueueCounts, SleepingQueueReply, SleepingQueueRequest,
};

/// Answers every request for gateway `gw` with one queued message per listed node, and
/// records what was asked.
async fn stand_in(h: &Harness) -> tokio::sync::mpsc::UnboundedReceiver<SleepingQueueRequest> {
    let mut sub = h.bus.subscribe(SUBJECT).await.unwrap();
    let bus = h.bus.clone();
    let (seen, asked) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(m) = sub.next().await {
            let request: SleepingQueueRequest = serde_json::from_slice(&m.payload).unwrap();
            let _ = seen.send(request.clone());
            if request.gateway_id != "gw" {
                continue; // not run here: no answer, as in the service
            }
            let message = serde_json::from_value(json!({
                "type": "set", "gatewayId": "gw", "nodeId": "20", "sourceId": "3",
                "payloads": [{"key": "V_STATUS", "value": "1"}]
            }))
            .unwrap();
            let now = chrono::Utc::now();
            let reply = SleepingQueueReply {
                gateway_id: "gw".into(),
                messages: match request.command {
                    SleepingQueueCommand::List => {
                        vec![switchyard_core::sleeping_queue::QueuedMessage {
                            message,
                            queued_at: now,
                            expires_at: now + chrono::Duration::hours(24),
                        }]
                    }
                    SleepingQueueCommand::Clear => vec![],
                },
                cleared: usize::from(request.command == SleepingQueueCommand::Clear),
                counts: SleepingQueueCounts {
                    replaced: 2,
                    ..Default::default()
                },
            };
            if let Some(to) = &m.reply {
                bus.publish(to, Bytes::from(serde_json::to_vec(&reply).unwrap()))
                    .await
                    .unwrap();
            }
        }
    });
    asked
}

#[tokio::test]
async fn lists_and_clears_through_the_gateway_service() {
    let h = Harness::new().await;
    let admin = h.login("admin").await;
    let viewer = h.login("view").await;
    for gw in [
        json!({"id": "gw", "provider": {"type": "echo"}}),
        json!({"id": "gone", "provider": {"type": "echo"}}),
        json!({"id": "off", "enabled": false, "provider": {"type": "echo"}}),
    ] {
        let r = h.post("/api/gateway", &admin, gw).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let mut asked = stand_in(&h).await;

    let r = h
        .get("/api/gateway/gw/sleeping-queue?nodeId=20", &viewer)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["gatewayId"], "gw");
    assert_eq!(r.body["messages"][0]["message"]["nodeId"], "20");
    assert!(r.body["messages"][0]["expiresAt"].is_string(), "{}", r.body);
    assert_eq!(r.body["counts"]["replaced"], 2);
    let q = asked.recv().await.unwrap();
    assert_eq!(
        (q.command, q.gateway_id.as_str(), q.node_id.as_str()),
        (SleepingQueueCommand::List, "gw", "20")
    );

    // Clearing changes what devices get: an operator's to do, not a viewer's.
    let r = h
        .send(
            Method::DELETE,
            "/api/gateway/gw/sleeping-queue",
            Some(&viewer),
            None,
        )
        .await;
    assert_error(&r, 403, "forbidden");
    let r = h
        .send(
            Method::DELETE,
            "/api/gateway/gw/sleeping-queue",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["cleared"], 1);
    let q = asked.recv().await.unwrap();
    assert_eq!(
        (q.command, q.node_id.as_str()),
        (SleepingQueueCommand::Clear, "")
    );

    // No such gateway; disabled (not asked at all); enabled but no service answers.
    assert_error(
        &h.get("/api/gateway/nope/sleeping-queue", &viewer).await,
        404,
        "not_found",
    );
    let r = h.get("/api/gateway/off/sleeping-queue", &viewer).await;
    assert_error(&r, 409, "not_running");
    assert!(r.body["message"].as_str().unwrap().contains("disabled"));
    let r = h.get("/api/gateway/gone/sleeping-queue", &viewer).await;
    assert_error(&r, 409, "not_running");
    assert!(asked.try_recv().unwrap().gateway_id == "gone");
}
