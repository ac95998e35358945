//! The generic provider end to end: MQTT through the local Mosquitto with `onReceive`/`onSend`
//! scripts (a device publishing JSON readings and taking `{"<field>": value}` commands), and HTTP
//! against a local server whose JSON the endpoint script maps to messages.

use super::harness::{Harness, WAIT, eventually, gateway, listening, peer_missing, unique};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::json;
use std::time::Duration;
use switchyard_core::model::Status;
use switchyard_core::{Message, MessageType, Payload};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ON_RECEIVE: &str = r#"
    const node = topic.split("/")[1];
    if (typeof dataIn !== "object") throw new Error("not a reading: " + dataIn);
    ({dataOut: [{nodeId: node, sourceId: "env", type: "set", payloads: [
        {key: "temperature", value: dataIn.t, metricType: "gauge_float", unit: "°C"},
        {key: "humidity", value: dataIn.h, metricType: "gauge_float", unit: "%"}
    ]}]})
"#;

const ON_SEND: &str = r#"
    const p = dataIn.payloads[0];
    ({topicOut: "ROOT/" + dataIn.nodeId + "/set", dataOut: {[p.key]: p.value}})
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_mqtt_scripts_through_mosquitto() {
    if !listening(1883) && peer_missing("no MQTT broker on 127.0.0.1:1883") {
        return;
    }
    let root = unique("generic");
    let gw = gateway(
        "gen",
        json!({
            "type": "generic",
            "protocol": {
                "type": "mqtt", "broker": "tcp://127.0.0.1:1883",
                "subscribe": format!("{root}/+/data"),
            },
            "script": {"onReceive": ON_RECEIVE, "onSend": ON_SEND.replace("ROOT", &root)},
        }),
    );
    let h = Harness::start(&[gw]).await;
    h.wait_status("gen", Status::Up).await;

    let (device, mut events) =
        AsyncClient::new(MqttOptions::new(unique("dev-"), "127.0.0.1", 1883), 16);
    device
        .subscribe(format!("{root}/+/set"), QoS::AtLeastOnce)
        .await
        .unwrap();
    let (tx, mut commands) = tokio::sync::mpsc::channel(16);
    let pump = tokio::spawn(async move {
        while let Ok(ev) = events.poll().await {
            if let Event::Incoming(Packet::Publish(p)) = ev {
                let _ = tx
                    .send((
                        p.topic.clone(),
                        String::from_utf8_lossy(&p.payload).to_string(),
                    ))
                    .await;
            }
        }
    });
    // The gateway's subscription may land after our first publish: publish until it is seen.
    let field = eventually("gen.kitchen.env.temperature", || async {
        device
            .publish(
                format!("{root}/kitchen/data"),
                QoS::AtLeastOnce,
                false,
                r#"{"t":21.5,"h":40}"#,
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        h.field("gen.kitchen.env.temperature").await
    })
    .await;
    assert_eq!(field.current.value, json!(21.5));
    assert_eq!(field.unit, "°C");
    h.wait_field("gen.kitchen.env.humidity", json!(40.0)).await;

    // A payload the script refuses is rejected and counted; the gateway carries on.
    device
        .publish(
            format!("{root}/kitchen/data"),
            QoS::AtLeastOnce,
            false,
            "garbage",
        )
        .await
        .unwrap();
    eventually("a rejected payload", || async {
        (h.gateway_stats("gen").rejected > 0).then_some(())
    })
    .await;
    assert_eq!(h.gateway_state("gen").await.status, Status::Up);

    // A set goes through onSend to the device's topic.
    let set = Message::new(MessageType::Set, "gen", "kitchen", "env")
        .with_payload(Payload::new("target", "19"));
    h.send_to_gateway("gen", &set).await;
    let (topic, payload) = tokio::time::timeout(WAIT, commands.recv())
        .await
        .expect("no command reached the device")
        .unwrap();
    assert_eq!(topic, format!("{root}/kitchen/set"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&payload).unwrap(),
        json!({"target": "19"})
    );
    pump.abort();
    h.stop().await;
}

/// A local HTTP server answering every request with a JSON meter reading that rises each time.
async fn status_server() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut n = 0u32;
        while let Ok((mut s, _)) = listener.accept().await {
            n += 1;
            let mut buf = vec![0; 4096];
            let mut req = Vec::new();
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(k) => req.extend_from_slice(&buf[..k]),
                }
            }
            let body = json!({"meter": {"power_w": 100 + n, "relay": "on"}}).to_string();
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(body.as_bytes()).await;
        }
    });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_http_polls_endpoints_through_a_script() {
    let (addr, server) = status_server().await;
    let gw = gateway(
        "genhttp",
        json!({
            "type": "generic",
            "protocol": {"type": "http", "url": format!("http://{addr}/api")},
            "endpoints": {
                "meter": {
                    "url": "status",
                    "executionInterval": "200ms",
                    "script": r#"({dataOut: [{nodeId: "meter1", sourceId: "power", type: "set",
                        payloads: [{key: "watts", value: dataIn.meter.power_w, metricType: "gauge"},
                                   {key: "relay", value: dataIn.meter.relay, metricType: "binary"}]}]})"#
                }
            }
        }),
    );
    let h = Harness::start(&[gw]).await;
    h.wait_status("genhttp", Status::Up).await;
    h.wait_field("genhttp.meter1.power.relay", json!(true))
        .await;
    // Polled again: the value moves on.
    let first = eventually("watts", || async {
        h.field("genhttp.meter1.power.watts").await
    })
    .await;
    eventually("a later reading", || async {
        h.field("genhttp.meter1.power.watts")
            .await
            .filter(|f| f.current.value != first.current.value)
    })
    .await;
    // The server goes away: the gateway goes down.
    server.abort();
    let _ = server.await;
    eventually("genhttp down", || async {
        let s = h.gateway_state("genhttp").await;
        (s.status != Status::Up).then_some(s)
    })
    .await;
    h.stop().await;
}
