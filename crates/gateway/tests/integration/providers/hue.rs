//! Philips Hue against a fake bridge: a local HTTP server that serves the documented API v1
//! responses of `tests/data/hue`, applies `PUT lights/<id>/state` to its copy as a bridge does,
//! and records every request for the test to observe. Through the real gateway service,
//! processor and storage.

use super::harness::{Harness, eventually, fixture, gateway};
use serde_json::{Value, json};
use std::sync::Arc;
use switchyard_core::model::Status;
use switchyard_core::{Message, MessageType, Payload};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

const USER: &str = "ffffffffe0341b1b376a2389376a2389";

#[derive(Default)]
struct BridgeState {
    lights: Value,
    sensors: Value,
    config: Value,
    /// `METHOD path body` of every request after the first poll.
    requests: Vec<String>,
    /// Answer `GET lights` with a 500 and an HTML page.
    broken: bool,
}

struct FakeBridge {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<BridgeState>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeBridge {
    async fn start(port: u16, state: Arc<Mutex<BridgeState>>) -> FakeBridge {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = state.clone();
        // Connections live in the accept task's set, so aborting it drops them all (a bridge
        // that lost power), keep-alive connections included.
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                connections.spawn(serve(stream, shared.clone()));
            }
        });
        FakeBridge { addr, state, task }
    }

    async fn requests(&self) -> Vec<String> {
        self.state.lock().await.requests.clone()
    }
}

fn initial_state() -> Arc<Mutex<BridgeState>> {
    Arc::new(Mutex::new(BridgeState {
        lights: fixture("hue/lights.json"),
        sensors: fixture("hue/sensors.json"),
        config: fixture("hue/config.json"),
        ..Default::default()
    }))
}

/// One connection: HTTP/1.1 requests with `content-length` bodies, kept alive.
async fn serve(mut s: TcpStream, state: Arc<Mutex<BridgeState>>) {
    let mut buf = Vec::new();
    let mut chunk = vec![0; 8192];
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let len = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        while buf.len() < head_end + len {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string();
        buf.drain(..head_end + len);
        let mut first = head.lines().next().unwrap_or("").split(' ');
        let (method, path) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
        let (status, answer) = respond(&state, method, path, &body).await;
        let out = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if s.write_all(out.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The bridge's answer, from its state.
async fn respond(
    state: &Mutex<BridgeState>,
    method: &str,
    path: &str,
    body: &str,
) -> (&'static str, String) {
    let mut st = state.lock().await;
    if method != "GET" {
        st.requests.push(format!("{method} {path} {body}"));
    }
    let Some(rest) = path.strip_prefix(&format!("/api/{USER}/")) else {
        let e = json!([{"error": {"type": 1, "address": "/", "description": "unauthorized user"}}]);
        return ("200 OK", e.to_string());
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let ok = |v: &Value| ("200 OK", v.to_string());
    match (method, parts.as_slice()) {
        ("GET", ["config"]) => ok(&st.config),
        ("GET", ["lights"]) if st.broken => ("500 Internal Server Error", "<html>oops".into()),
        ("GET", ["lights"]) => ok(&st.lights),
        ("GET", ["sensors"]) => ok(&st.sensors),
        ("GET", ["lights", id]) => ok(&st.lights[*id]),
        ("GET", ["sensors", id]) => ok(&st.sensors[*id]),
        ("POST", ["lights"]) | ("POST", ["sensors"]) => {
            ok(&json!([{"success": {format!("/{}", parts[0]): "Searching for new devices"}}]))
        }
        ("PUT", ["lights", id, "state"]) => {
            let Ok(Value::Object(change)) = serde_json::from_str::<Value>(body) else {
                return ok(
                    &json!([{"error": {"type": 2, "address": "/", "description": "body contains invalid json"}}]),
                );
            };
            let Some(light) = st.lights.get_mut(*id).and_then(|l| l.get_mut("state")) else {
                return ok(
                    &json!([{"error": {"type": 3, "address": format!("/lights/{id}"), "description": format!("resource, /lights/{id}, not available")}}]),
                );
            };
            let mut answer = Vec::new();
            for (k, v) in change {
                if k != "transitiontime" {
                    light[&k] = v.clone();
                }
                answer.push(json!({"success": {format!("/lights/{id}/state/{k}"): v}}));
            }
            ok(&Value::Array(answer))
        }
        _ => ok(
            &json!([{"error": {"type": 4, "address": path, "description": "method not available"}}]),
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hue_lights_and_sensors_sets_and_a_lost_bridge() {
    let bridge = FakeBridge::start(0, initial_state()).await;
    let gw = gateway(
        "hue",
        json!({
            "type": "philips_hue",
            "host": bridge.addr.to_string(),
            "username": USER,
            "syncInterval": "300ms",
        }),
    );
    let h = Harness::start(&[gw]).await;
    h.wait_status("hue", Status::Up).await;

    // Documented lights and sensors become nodes, sources and fields.
    h.wait_field("hue.light_1.state.brightness", json!(144))
        .await;
    h.wait_field("hue.light_1.state.power", json!(true)).await;
    h.wait_field("hue.light_2.state.power", json!(false)).await;
    h.wait_field("hue.light_1.state.color_temperature", json!(467))
        .await;
    h.wait_field("hue.sensor_5.state.temperature", json!(22.15))
        .await;
    h.wait_field("hue.sensor_5.config.battery", json!(100))
        .await;
    h.wait_node("hue.light_1", "named", |n| n.name == "Hue Lamp 1")
        .await;
    h.wait_node("hue.bridge", "named", |n| n.name == "Philips hue")
        .await;

    // A set reaches the bridge as a light state PUT, and the new state comes back.
    let set = Message::new(MessageType::Set, "hue", "light_2", "state")
        .with_payload(Payload::new("power", "on"))
        .with_payload(Payload::new("brightness", "200"));
    h.send_to_gateway("hue", &set).await;
    h.wait_field("hue.light_2.state.brightness", json!(200))
        .await;
    h.wait_field("hue.light_2.state.power", json!(true)).await;
    let put = eventually("the PUT", || async {
        bridge
            .requests()
            .await
            .into_iter()
            .find(|r| r.starts_with(&format!("PUT /api/{USER}/lights/2/state")))
    })
    .await;
    let body: Value = serde_json::from_str(put.splitn(3, ' ').nth(2).unwrap()).unwrap();
    assert_eq!(body, json!({"on": true, "bri": 200}));

    // A set the bridge cannot take never reaches it.
    let bad = Message::new(MessageType::Set, "hue", "light_1", "state")
        .with_payload(Payload::new("brightness", "999"));
    h.send_to_gateway("hue", &bad).await;

    // discover_nodes asks the bridge to search.
    let discover = Message::new(MessageType::Action, "hue", "", "")
        .with_payload(Payload::new("discover_nodes", ""));
    h.send_to_gateway("hue", &discover).await;
    eventually("the searches", || async {
        let r = bridge.requests().await;
        (r.iter()
            .any(|r| r.starts_with(&format!("POST /api/{USER}/lights")))
            && r.iter()
                .any(|r| r.starts_with(&format!("POST /api/{USER}/sensors"))))
        .then_some(())
    })
    .await;
    assert!(
        !bridge.requests().await.iter().any(|r| r.contains("999")),
        "an out-of-range brightness was sent"
    );

    // A bridge answering 500 and garbage: rejected and counted, the gateway stays up.
    bridge.state.lock().await.broken = true;
    eventually("a rejected poll", || async {
        (h.gateway_stats("hue").rejected > 0).then_some(())
    })
    .await;
    assert_eq!(h.gateway_state("hue").await.status, Status::Up);
    bridge.state.lock().await.broken = false;

    // Losing the bridge marks the gateway down; it comes back on the same address.
    let port = bridge.addr.port();
    let state = bridge.state.clone();
    bridge.task.abort();
    let _ = bridge.task.await;
    let down = eventually("gateway not up", || async {
        let s = h.gateway_state("hue").await;
        (s.status != Status::Up).then_some(s)
    })
    .await;
    assert!(!down.message.is_empty(), "{down:?}");
    state.lock().await.lights["1"]["state"]["bri"] = json!(10);
    let _back = FakeBridge::start(port, state).await;
    h.wait_status("hue", Status::Up).await;
    h.wait_field("hue.light_1.state.brightness", json!(10))
        .await;
    h.stop().await;
}

#[tokio::test]
async fn an_unknown_username_is_a_config_error() {
    let bridge = FakeBridge::start(0, initial_state()).await;
    let gw = gateway(
        "hue_bad",
        json!({"type": "philips_hue", "host": bridge.addr.to_string(), "username": "nobody"}),
    );
    let h = Harness::start(&[gw]).await;
    let s = eventually("gateway error", || async {
        let s = h.gateway_state("hue_bad").await;
        (s.status != Status::Up && s.message.contains("whitelisted")).then_some(s)
    })
    .await;
    assert!(s.message.contains("unauthorized user"), "{s:?}");
    h.stop().await;
}
