//! The generic provider end to end: MQTT through the local Mosquitto with `onReceive`/`onSend`
//! scripts (a device publishing JSON readings and taking `{"<field>": value}` commands), and HTTP
//! against a local server whose JSON the endpoint script maps to messages.

use super::harness::{Harness, WAIT, eventually, gateway, listening, peer_missing, unique};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_core::model::Status;
use switchyard_core::{Message, MessageType, Payload};
use switchyard_gateway::GatewayStatsSnapshot;
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
            // The lamp has a topic and a script of its own; the script sees its entry.
            "nodes": {"lamp": {"topic": format!("{root}/lamp/set"),
                               "script": "({dataOut: configIn.topic[0] + ' ' + dataIn.payloads[0].value})"}},
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
    wait_stats(&h, "gen", "a rejected payload", |s| s.rejected > 0).await;
    assert_eq!(h.gateway_state("gen").await.status, Status::Up);

    // A set goes through onSend to the device's topic.
    let (topic, payload) = command(&h, &mut commands, ["kitchen", "env", "target", "19"]).await;
    assert_eq!(topic, format!("{root}/kitchen/set"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&payload).unwrap(),
        json!({"target": "19"})
    );
    // The lamp's set goes through its own script to its own topic.
    let (topic, payload) = command(&h, &mut commands, ["lamp", "light", "on", "1"]).await;
    assert_eq!(topic, format!("{root}/lamp/set"));
    assert_eq!(payload, format!("{root}/lamp/set 1"));
    pump.abort();
    h.stop().await;
}

/// Sends gateway `gen` a set of `[node, source, key, value]` and returns the next command (topic,
/// payload) the device got.
async fn command(
    h: &Harness,
    commands: &mut tokio::sync::mpsc::Receiver<(String, String)>,
    [node, source, key, value]: [&str; 4],
) -> (String, String) {
    let set =
        Message::new(MessageType::Set, "gen", node, source).with_payload(Payload::new(key, value));
    h.send_to_gateway("gen", &set).await;
    tokio::time::timeout(WAIT, commands.recv())
        .await
        .unwrap_or_else(|_| panic!("no command reached {node}"))
        .unwrap()
}

/// One request a [`device`] took: request line, lower-cased headers, body.
type Seen = (String, Vec<(String, String)>, String);

/// What a [`device`] answers: status, extra header lines (each ending in CRLF), JSON body.
type Answer = (u16, &'static str, Value);

/// A device on loopback: answers every request (one a connection) with what `answer` says for
/// it, and keeps every request. The task serves until aborted.
async fn device(
    answer: impl Fn(&Seen) -> Answer + Send + 'static,
) -> (
    SocketAddr,
    Arc<Mutex<Vec<Seen>>>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    let task = tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = vec![0; 4096];
            let mut req = Vec::new();
            let head_end = loop {
                if let Some(i) = req.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i;
                }
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break req.len(),
                    Ok(k) => req.extend_from_slice(&buf[..k]),
                }
            };
            let head = String::from_utf8_lossy(&req[..head_end]).to_string();
            let mut lines = head.lines();
            let line = lines.next().unwrap_or("").to_string();
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect();
            let length: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            while req.len() < head_end + 4 + length {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(k) => req.extend_from_slice(&buf[..k]),
                }
            }
            let body =
                String::from_utf8_lossy(req.get(head_end + 4..).unwrap_or_default()).to_string();
            let request = (line, headers, body);
            let (status, extra, answer) = answer(&request);
            keep.lock().unwrap().push(request);
            let answer = answer.to_string();
            let head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n",
                answer.len()
            );
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(answer.as_bytes()).await;
        }
    });
    (addr, seen, task)
}

/// A generic HTTP gateway `id` on the device at `addr` (its API under `/api`), with the rest of
/// its provider config (endpoints, nodes, scripts) from `config`; started and up.
async fn http_gateway(id: &str, addr: SocketAddr, config: Value) -> Harness {
    let mut provider = json!({
        "type": "generic",
        "protocol": {"type": "http", "url": format!("http://{addr}/api")},
    });
    let (Some(provider_map), Value::Object(config)) = (provider.as_object_mut(), config) else {
        panic!("a provider config is a JSON object");
    };
    provider_map.extend(config);
    let h = Harness::start(&[gateway(id, provider)]).await;
    h.wait_status(id, Status::Up).await;
    h
}

/// Waits until gateway `id`'s counters pass `check`.
async fn wait_stats(
    h: &Harness,
    id: &str,
    what: &str,
    check: impl Fn(&GatewayStatsSnapshot) -> bool,
) {
    eventually(what, || async { check(&h.gateway_stats(id)).then_some(()) }).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_http_polls_endpoints_through_a_script() {
    // A meter whose reading rises with every request.
    let polls = AtomicU32::new(0);
    let (addr, _, server) = device(move |_| {
        let n = polls.fetch_add(1, Ordering::Relaxed) + 1;
        (
            200,
            "",
            json!({"meter": {"power_w": 100 + n, "relay": "on"}}),
        )
    })
    .await;
    let h = http_gateway(
        "genhttp",
        addr,
        json!({
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
    )
    .await;
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

/// A device with a login: `POST /api/login` answers a session cookie, `GET /api/status` answers
/// readings only with that cookie (401 without), `POST /api/logout` and `PUT /api/relay` answer
/// 200. Every request is kept.
async fn login_server() -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let (addr, seen, _) = device(|(line, headers, _)| {
        let cookie = headers
            .iter()
            .any(|(k, v)| k == "cookie" && v.contains("sid=s3cret"));
        let mut words = line.split(' ');
        let method = words.next().unwrap_or("");
        let path = words.next().unwrap_or("").split('?').next().unwrap_or("");
        match [method, path] {
            ["POST", "/api/login"] => (
                200,
                "set-cookie: sid=s3cret; Path=/; HttpOnly\r\n",
                json!({"user": "u1"}),
            ),
            ["GET", "/api/status"] if cookie => (200, "", json!({"meter": {"power_w": 230}})),
            ["GET", "/api/status"] => (401, "", json!({"error": "login first"})),
            ["POST", "/api/logout"] => (200, "", json!({})),
            [_, path] if path.starts_with("/api/relay") => (200, "", json!({"ok": true})),
            _ => (404, "", json!({})),
        }
    })
    .await;
    (addr, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_http_logs_in_before_polling_and_sends_sets_as_requests() {
    let (addr, seen) = login_server().await;
    let h = http_gateway(
        "genlogin",
        addr,
        json!({
            "endpoints": {
                "meter": {
                    "url": "status",
                    "executionInterval": "200ms",
                    "queryParameters": {"fields": "power"},
                    "preRun": {"login": {"url": "login", "method": "POST",
                                         "body": {"user": "u1", "password": "p"}}},
                    "postRun": {"logout": {"url": "logout", "method": "POST"}},
                    "script": r#"({dataOut: [{nodeId: "meter1", sourceId: "power", type: "set",
                        payloads: [{key: "watts", value: dataIn.meter.power_w, metricType: "gauge"},
                                   {key: "user", value: preRunResponse.login.body.user,
                                    metricType: "string"}]}]})"#
                }
            },
            "nodes": {"default": {"url": "relay", "method": "PUT", "headers": {"X-Key": "k1"}}},
            "script": {"onSend": r#"
                const p = dataIn.payloads[0];
                ({execute: true, queryParameters: {node: dataIn.nodeId},
                  body: {[p.key]: p.value},
                  dataOut: [{nodeId: dataIn.nodeId, sourceId: dataIn.sourceId, type: "set",
                             payloads: [{key: p.key, value: p.value, metricType: "binary"}]}]})"#},
        }),
    )
    .await;
    // Readings only come with the login's cookie; the script saw the login's answer.
    h.wait_field("genlogin.meter1.power.watts", json!(230))
        .await;
    h.wait_field("genlogin.meter1.power.user", json!("u1"))
        .await;
    let requests = seen.lock().unwrap().clone();
    let status = requests
        .iter()
        .find(|(l, _, _)| l.starts_with("GET /api/status"))
        .expect("a poll");
    assert!(
        status.0.starts_with("GET /api/status?fields=power "),
        "{status:?}"
    );
    let login = requests
        .iter()
        .find(|(l, _, _)| l.starts_with("POST /api/login"))
        .expect("a login");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&login.2).unwrap(),
        json!({"user": "u1", "password": "p"})
    );
    eventually("a logout with the session cookie", || async {
        seen.lock()
            .unwrap()
            .iter()
            .any(|(l, h, _)| {
                l.starts_with("POST /api/logout")
                    && h.iter().any(|(k, v)| k == "cookie" && v == "sid=s3cret")
            })
            .then_some(())
    })
    .await;
    assert_eq!(h.gateway_stats("genlogin").rejected, 0);

    // A set is a request built by onSend over the node's config, and its dataOut is taken in.
    let set = Message::new(MessageType::Set, "genlogin", "meter1", "power")
        .with_payload(Payload::new("relay", "1"));
    h.send_to_gateway("genlogin", &set).await;
    let (line, headers, body) = eventually("the relay request", || async {
        seen.lock()
            .unwrap()
            .iter()
            .find(|(l, _, _)| l.starts_with("PUT /api/relay"))
            .cloned()
    })
    .await;
    assert!(line.starts_with("PUT /api/relay?node=meter1 "), "{line}");
    assert!(
        headers.iter().any(|(k, v)| k == "x-key" && v == "k1"),
        "{headers:?}"
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        json!({"relay": "1"})
    );
    h.wait_field("genlogin.meter1.power.relay", json!(true))
        .await;
    wait_stats(&h, "genlogin", "the set counted as sent", |s| s.sent > 0).await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_http_without_the_login_is_refused_and_counted() {
    let (addr, _seen) = login_server().await;
    let h = http_gateway(
        "genlogout",
        addr,
        json!({
            "endpoints": {"meter": {"url": "status", "executionInterval": "200ms",
                                    "script": "null"}},
        }),
    )
    .await;
    // No preRun: the device answers 401; each poll is rejected, the gateway stays up.
    wait_stats(&h, "genlogout", "rejected polls", |s| s.rejected >= 2).await;
    assert_eq!(h.gateway_state("genlogout").await.status, Status::Up);
    // No onSend at all: a set is unsupported, not sent.
    let set = Message::new(MessageType::Set, "genlogout", "meter1", "power")
        .with_payload(Payload::new("relay", "1"));
    h.send_to_gateway("genlogout", &set).await;
    wait_stats(&h, "genlogout", "the refused set", |s| s.send_failed > 0).await;
    h.stop().await;
}
