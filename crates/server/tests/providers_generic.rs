//! The generic provider through the real binary, with user scripts.
//!
//! MQTT: a private `mosquitto` on a free loopback port (so it can be stopped without touching
//! the shared broker); a device's JSON readings become fields through `onReceive`, a set from
//! the API becomes the publish `onSend` builds, and the gateway goes down with the broker and
//! comes back with it. HTTP: a device on loopback with a login; the gateway logs in (`preRun`),
//! polls with the session cookie and logs out (`postRun`); a set becomes the request `onSend`
//! asks for; the device going away takes the gateway down until it answers again.

use crate::support::{
    Api, HttpPeer, Request, Watch, eventually, free_port, installed, publish_on, skip,
};
use serde_json::{Value, json};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::process::{Child, Command};

/// A private Mosquitto on loopback `port`, running until dropped or [`Broker::stop`]ped.
struct Broker {
    port: u16,
    child: Option<Child>,
}

impl Broker {
    /// Starts `mosquitto -p <port>` and waits until it accepts connections.
    async fn start(port: u16) -> Broker {
        let child = Command::new("mosquitto")
            .args(["-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("run mosquitto");
        eventually(&format!("mosquitto listening on {port}"), || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .ok()
                .map(|_| ())
        })
        .await;
        Broker {
            port,
            child: Some(child),
        }
    }

    async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("stop mosquitto");
        }
    }
}

/// Why the MQTT half cannot run: no `mosquitto` broker binary, or no command-line clients.
fn mosquitto_missing() -> bool {
    if !installed("mosquitto") {
        skip("the mosquitto broker binary is not installed (Debian package mosquitto)")
    } else if !installed("mosquitto_pub") {
        skip("mosquitto_pub / mosquitto_sub (mosquitto-clients) not installed")
    } else {
        false
    }
}

fn is_down(g: &Value) -> bool {
    matches!(g["state"]["status"].as_str(), Some("down" | "error"))
}

const ON_RECEIVE: &str = r#"
    const node = topic.split("/")[1];
    if (typeof dataIn !== "object") throw new Error("not a reading: " + dataIn);
    ({dataOut: [{nodeId: node, sourceId: "env", type: "set", payloads: [
        {key: "temperature", value: dataIn.t, metricType: "gauge_float", unit: "°C"},
        {key: "humidity", value: dataIn.h, metricType: "gauge_float", unit: "%"},
        {key: "target", value: dataIn.target, metricType: "gauge_float", unit: "°C"}]}]})
"#;

const ON_SEND: &str = r#"
    const p = dataIn.payloads[0];
    ({topicOut: "home/" + dataIn.nodeId + "/set", dataOut: {[p.key]: Number(p.value)}})
"#;

#[tokio::test]
async fn generic_mqtt_scripts_sets_and_a_broker_that_goes_away() {
    if mosquitto_missing() {
        return;
    }
    let mut broker = Broker::start(free_port()).await;
    let port = broker.port;
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(dir.path()).await;
    let sets = Watch::start_on(port, "home/+/set", "home/probe/set").await;
    api.gateway(
        "genmq",
        json!({"type": "generic",
               "protocol": {"type": "mqtt", "broker": format!("tcp://127.0.0.1:{port}"),
                            "subscribe": "home/+/data", "qos": 1},
               "script": {"onReceive": ON_RECEIVE, "onSend": ON_SEND}}),
    )
    .await;

    // The gateway's subscription may land just after it reports up: publish until it is seen.
    let reading = r#"{"t":21.5,"h":40,"target":18}"#;
    eventually("genmq.kitchen.env.temperature", || async {
        publish_on(port, "home/kitchen/data", reading).await;
        api.resource("field", "genmq.kitchen.env.temperature").await
    })
    .await;
    let node = api
        .wait_resource("node", "genmq.kitchen", |n| n["gatewayId"] == "genmq")
        .await;
    assert_eq!(node["nodeId"], "kitchen", "{node}");
    api.wait_resource("source", "genmq.kitchen.env", |_| true)
        .await;
    let t = api
        .wait_resource("field", "genmq.kitchen.env.temperature", |f| {
            f["current"]["value"] == json!(21.5)
        })
        .await;
    assert_eq!(t["unit"], "°C", "{t}");
    api.wait_resource("field", "genmq.kitchen.env.humidity", |f| {
        f["current"]["value"] == json!(40.0)
    })
    .await;
    api.wait_metric("field:genmq.kitchen.env.temperature", |v| {
        v.as_f64() == Some(21.5)
    })
    .await;

    // A set from the API goes out as the publish onSend builds.
    api.action("field:genmq.kitchen.env.target", "19").await;
    let line = sets.wait("home/kitchen/set ").await;
    let payload: Value = serde_json::from_str(&line["home/kitchen/set ".len()..]).unwrap();
    assert_eq!(payload, json!({"target": 19}));

    // The broker goes away: the gateway is down; it comes back: the gateway reconnects and
    // readings flow again.
    broker.stop().await;
    api.wait_resource("gateway", "genmq", is_down).await;
    let mut broker = Broker::start(port).await;
    api.wait_resource("gateway", "genmq", |g| g["state"]["status"] == "up")
        .await;
    eventually("a reading after the broker's restart", || async {
        publish_on(
            port,
            "home/kitchen/data",
            r#"{"t":23.0,"h":41,"target":19}"#,
        )
        .await;
        api.resource("field", "genmq.kitchen.env.temperature")
            .await
            .filter(|f| f["current"]["value"] == json!(23.0))
    })
    .await;
    api.server.terminate().await;
    broker.stop().await;
}

/// The device: `POST /api/login` answers a session cookie; `GET /api/status` answers a meter
/// reading that rises on every poll, but only with that cookie (401 without); `POST
/// /api/logout` and `PUT /api/relay` answer 200.
fn device(polls: Arc<AtomicU32>) -> impl Fn(&Request) -> (u16, Vec<(String, String)>, String) {
    move |r: &Request| {
        let target = r.line.split(' ').nth(1).unwrap_or("");
        let path = target.split('?').next().unwrap_or("");
        let method = r.line.split(' ').next().unwrap_or("");
        let session = r.header("cookie").is_some_and(|c| c.contains("sid=s3cret"));
        match (method, path) {
            ("POST", "/api/login") => (
                200,
                vec![("set-cookie".into(), "sid=s3cret; Path=/; HttpOnly".into())],
                "{}".into(),
            ),
            ("GET", "/api/status") if session => {
                let n = polls.fetch_add(1, Ordering::SeqCst);
                let body = json!({"meter": {"power_w": 100 + n, "relay": "off"}});
                (200, Vec::new(), body.to_string())
            }
            ("GET", "/api/status") => (401, Vec::new(), "login first".into()),
            ("POST", "/api/logout") | ("PUT", "/api/relay") => (200, Vec::new(), "{}".into()),
            _ => (404, Vec::new(), String::new()),
        }
    }
}

#[tokio::test]
async fn generic_http_logs_in_polls_sends_and_follows_the_device() {
    let polls = Arc::new(AtomicU32::new(0));
    let mut peer = HttpPeer::answering(device(polls.clone())).await;
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(dir.path()).await;
    api.gateway(
        "genhttp",
        json!({"type": "generic",
               "protocol": {"type": "http", "url": format!("{}/api", peer.url), "timeout": "2s"},
               "endpoints": {"meter": {
                   "url": "status", "executionInterval": "300ms",
                   "preRun": {"login": {"url": "login", "method": "POST",
                                        "body": {"user": "switchyard", "password": "pw"}}},
                   "postRun": {"logout": {"url": "logout", "method": "POST"}},
                   "script": r#"({dataOut: [{nodeId: "meter1", sourceId: "power", type: "set",
                       payloads: [{key: "watts", value: dataIn.meter.power_w, metricType: "gauge", unit: "W"},
                                  {key: "relay", value: dataIn.meter.relay === "on", metricType: "binary"}]}]})"#}},
               "nodes": {"default": {"url": "relay", "method": "PUT",
                                     "headers": {"X-Api-Key": "k1"}}},
               "script": {"onSend": r#"
                   const p = dataIn.payloads[0];
                   ({execute: true, queryParameters: {node: dataIn.nodeId},
                     body: {[p.key]: p.value}})"#}}),
    )
    .await;

    let node = api
        .wait_resource("node", "genhttp.meter1", |n| n["state"]["status"] == "up")
        .await;
    assert_eq!(node["gatewayId"], "genhttp", "{node}");
    api.wait_resource("source", "genhttp.meter1.power", |_| true)
        .await;
    let watts = api
        .wait_resource("field", "genhttp.meter1.power.watts", |f| {
            f["current"]["value"].as_i64().is_some_and(|w| w >= 100)
        })
        .await;
    assert_eq!(watts["unit"], "W", "{watts}");
    api.wait_resource("field", "genhttp.meter1.power.relay", |f| {
        f["current"]["value"] == json!(false)
    })
    .await;
    // Polled again and again: the readings move on and are metric points.
    eventually("two metric points of watts", || async {
        let points = api.metric_values("field:genhttp.meter1.power.watts").await;
        (points.len() >= 2).then_some(())
    })
    .await;
    // Readings come only with the login's cookie; every poll logged in and out.
    let requests = peer.requests();
    let login = requests
        .iter()
        .find(|r| r.line.starts_with("POST /api/login "))
        .expect("a login");
    assert_eq!(
        serde_json::from_str::<Value>(&login.body).unwrap(),
        json!({"user": "switchyard", "password": "pw"})
    );
    assert!(
        requests
            .iter()
            .filter(|r| r.line.starts_with("GET /api/status"))
            .all(|r| r.header("cookie") == Some("sid=s3cret")),
        "{requests:?}"
    );
    eventually("a logout with the session cookie", || async {
        peer.requests()
            .iter()
            .any(|r| r.line.starts_with("POST /api/logout") && r.header("cookie").is_some())
            .then_some(())
    })
    .await;

    // A set from the API: the request onSend asks for arrives at the device.
    api.action("field:genhttp.meter1.power.relay", "true").await;
    let put = eventually("the relay request", || async {
        peer.requests()
            .into_iter()
            .find(|r| r.line.starts_with("PUT /api/relay"))
    })
    .await;
    assert!(
        put.line.starts_with("PUT /api/relay?node=meter1 "),
        "{}",
        put.line
    );
    assert_eq!(put.header("x-api-key"), Some("k1"), "{put:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&put.body).unwrap(),
        json!({"relay": "true"})
    );

    // The device stops answering: the gateway is down; it answers again: up, readings resume.
    peer.stop();
    api.wait_resource("gateway", "genhttp", is_down).await;
    let before = polls.load(Ordering::SeqCst);
    peer.restart().await;
    api.wait_resource("gateway", "genhttp", |g| g["state"]["status"] == "up")
        .await;
    let later = api
        .wait_resource("field", "genhttp.meter1.power.watts", |f| {
            f["current"]["value"]
                .as_u64()
                .is_some_and(|w| w >= 100 + u64::from(before))
        })
        .await;
    assert!(later["current"]["value"].is_number(), "{later}");
    api.server.terminate().await;
}

/// A generic HTTP gateway whose device is away is restarted again and again; it must never
/// show `up` on the way (it did: the runtime marked every start `up` until the first poll
/// failed). Every state the gateway goes through is watched on the websocket. When the device
/// answers, the gateway comes up.
#[tokio::test]
async fn generic_http_is_not_up_before_its_device_answers() {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message as WsMessage;

    let mut peer = HttpPeer::answering(|_| (200, Vec::new(), r#"{"v": 1}"#.into())).await;
    peer.stop();
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(dir.path()).await;
    let url = format!(
        "{}/api/ws?token={}",
        api.server.base.replace("http://", "ws://"),
        api.token
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    api.post(
        "/api/gateway",
        json!({"id": "away", "enabled": true, "reconnectDelay": "200ms",
               "provider": {"type": "generic",
                   "protocol": {"type": "http", "url": peer.url, "timeout": "1s"},
                   "endpoints": {"e": {"url": "status", "executionInterval": "200ms",
                       "script": r#"({dataOut: [{nodeId: "n", sourceId: "s", type: "set",
                           payloads: [{key: "v", value: dataIn.v, metricType: "gauge"}]}]})"#}}}}),
    )
    .await;
    // States until the gateway was started (and failed) several times.
    let mut seen: Vec<Value> = Vec::new();
    let deadline = tokio::time::Instant::now() + crate::support::WAIT;
    loop {
        let restarts = api.gateway_counters("away").await["restarts"]
            .as_u64()
            .unwrap_or(0);
        if restarts >= 4 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "restarts: {seen:?}");
        while let Ok(Some(Ok(WsMessage::Text(t)))) =
            tokio::time::timeout(std::time::Duration::from_millis(100), ws.next()).await
        {
            let e: Value = serde_json::from_str(&t).unwrap();
            if e["data"]["entityType"] == "gateway" {
                seen.push(e["data"]["entity"]["state"].clone());
            }
        }
    }
    assert!(
        seen.iter().any(|s| s["status"] == "down"),
        "the gateway is down while its device is away: {seen:?}"
    );
    assert!(
        seen.iter().all(|s| s["status"] != "up"),
        "never up while its device is away: {seen:?}"
    );
    peer.restart().await;
    api.wait_resource("gateway", "away", |g| g["state"]["status"] == "up")
        .await;
    api.wait_resource("field", "away.n.s.v", |f| f["current"]["value"] == json!(1))
        .await;
}
