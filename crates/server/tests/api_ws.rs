use crate::server::Server;
use crate::support;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(s: &Server, query: &str) -> Ws {
    let url = format!("{}/api/ws{query}", s.base.replace("http://", "ws://"));
    tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket connects")
        .0
}

/// The next JSON text frame (pings are answered by the library).
async fn next(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("socket open")
            .expect("no socket error");
        match msg {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => continue,
        }
    }
}

async fn post(s: &Server, token: &str, path: &str, body: Value) {
    let r = s
        .client
        .post(s.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
}

#[tokio::test]
async fn a_subscribed_client_gets_exactly_what_it_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[], &[]).await;
    let token = s.login().await;

    let mut everything = connect(&s, &format!("?token={token}")).await;
    let mut dashboard = connect(&s, &format!("?token={token}")).await;
    dashboard
        .send(Message::Text(
            json!({"subscribe": {"entityTypes": ["field"], "quickIds": ["field:gw1.*"]}})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let ack = next(&mut dashboard).await;
    assert_eq!(ack["type"], "subscribed");
    assert_eq!(ack["data"]["quickIds"], json!(["field:gw1.*"]));

    // Not wanted by the dashboard: another gateway's field, a node of gw1, a gateway.
    post(
        &s,
        &token,
        "/api/field",
        json!({"gatewayId": "gw2", "nodeId": "1", "sourceId": "1", "fieldId": "t"}),
    )
    .await;
    post(
        &s,
        &token,
        "/api/node",
        json!({"gatewayId": "gw1", "nodeId": "1"}),
    )
    .await;
    post(
        &s,
        &token,
        "/api/gateway",
        json!({"id": "gw1", "provider": {"type": "echo", "password": "s3cret"}}),
    )
    .await;
    // Wanted.
    post(
        &s,
        &token,
        "/api/field",
        json!({"gatewayId": "gw1", "nodeId": "1", "sourceId": "1", "fieldId": "t"}),
    )
    .await;

    let first = next(&mut dashboard).await;
    assert_eq!(first["type"], "event");
    assert_eq!(
        first["data"]["entityQuickId"], "field:gw1.1.1.t",
        "the first event it gets is the one it asked for"
    );
    assert_eq!(first["data"]["type"], "created");

    // The unsubscribed client sees everything, in order, with secrets masked.
    // (The gateway service may add updates of the gateway's state; consecutive repeats are
    // folded.)
    let mut ids: Vec<String> = Vec::new();
    while ids.last().map(String::as_str) != Some("field:gw1.1.1.t") {
        let e = next(&mut everything).await;
        if e["data"]["entityType"] == "gateway" {
            assert_eq!(e["data"]["entity"]["provider"]["password"], "********");
        }
        let id = e["data"]["entityQuickId"].as_str().unwrap().to_string();
        if ids.last() != Some(&id) {
            ids.push(id);
        }
    }
    assert_eq!(
        ids,
        [
            "field:gw2.1.1.t",
            "node:gw1.1",
            "gateway:gw1",
            "field:gw1.1.1.t"
        ]
    );

    // And nothing else reaches the dashboard.
    post(
        &s,
        &token,
        "/api/node",
        json!({"gatewayId": "gw1", "nodeId": "2"}),
    )
    .await;
    post(
        &s,
        &token,
        "/api/field",
        json!({"gatewayId": "gw1", "nodeId": "2", "sourceId": "1", "fieldId": "h"}),
    )
    .await;
    let second = next(&mut dashboard).await;
    assert_eq!(second["data"]["entityQuickId"], "field:gw1.2.1.h");

    let status = support::status(&s).await;
    assert_eq!(status["websocket"]["clients"], 2, "{status}");
    assert!(s.terminate().await.success());
}

#[tokio::test]
async fn a_socket_authenticates_by_first_message_or_is_closed_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[], &[]).await;
    let token = s.login().await;

    let mut ws = connect(&s, "").await;
    ws.send(Message::Text(json!({"token": token}).to_string().into()))
        .await
        .unwrap();
    assert_eq!(next(&mut ws).await["type"], "authenticated");
    post(&s, &token, "/api/task", json!({"id": "t1"})).await;
    assert_eq!(next(&mut ws).await["data"]["entityQuickId"], "task:t1");

    let mut bad = connect(&s, "").await;
    bad.send(Message::Text(json!({"token": "forged"}).to_string().into()))
        .await
        .unwrap();
    let frame = loop {
        match tokio::time::timeout(Duration::from_secs(10), bad.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Close(f))) => break f,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    let frame = frame.expect("a close reason");
    assert_eq!(u16::from(frame.code), 1008);
    assert!(frame.reason.contains("token"), "{}", frame.reason);

    // Without a token and without an upgrade: plain 401.
    let r = s.client.get(s.url("/api/ws")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(s.terminate().await.success());
}
