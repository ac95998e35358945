//! Philips Hue end to end with the real binary: the fake bridge of
//! `switchyard_gateway::testing::hue_bridge` (recorded API v1/v2 responses and events, HTTPS
//! with a test certificate, an event stream) on loopback, a gateway created over the REST API.
//! What is checked is what a user would check: nodes, sources and fields with values, metric
//! points, a change pushed by the bridge showing without a poll, a set through `/api/action`
//! switching the bridge's light, and the gateway going down with the bridge and back up with it.

use crate::server::Server;
use serde_json::{Value, json};
use std::future::Future;
use std::path::Path;
use std::time::Duration;
use switchyard_gateway::testing::hue_bridge::{
    BridgeState, FakeHueBridge, HUE_USER, certificate_fingerprint, recorded_events,
};

const WAIT: Duration = Duration::from_secs(60);

async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Api {
    server: Server,
    token: String,
}

impl Api {
    async fn start(dir: &Path) -> Api {
        let server = Server::start(dir, &[], &[]).await;
        let token = server.login().await;
        Api { server, token }
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .server
            .client
            .get(self.server.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let r = self
            .server
            .client
            .post(self.server.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    async fn wait_resource(&self, kind: &str, id: &str, check: impl Fn(&Value) -> bool) -> Value {
        eventually(&format!("{kind} {id}"), || async {
            let (code, body) = self.get(&format!("/api/{kind}/{id}")).await;
            (code == 200 && check(&body)).then_some(body)
        })
        .await
    }

    async fn wait_field(&self, id: &str, value: Value) -> Value {
        self.wait_resource("field", id, |f| f["current"]["value"] == value)
            .await
    }

    async fn status(&self, gateway: &str) -> Value {
        self.get(&format!("/api/gateway/{gateway}")).await.1["state"].clone()
    }

    /// Whether the metric store holds a point of `field` with this value.
    async fn has_point(&self, field: &str, value: f64) -> bool {
        let (code, body) = self
            .get(&format!("/api/metric?quickId=field:{field}&start=-1h"))
            .await;
        let rows = body[format!("field:{field}")]
            .as_array()
            .cloned()
            .unwrap_or_default();
        code == 200
            && rows.iter().any(|row| {
                row["values"]
                    .as_object()
                    .is_some_and(|values| values.values().any(|v| v.as_f64() == Some(value)))
            })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hue_bridge_through_the_binary() {
    let bridge = FakeHueBridge::start(BridgeState::recorded(), 0, true).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(dir.path()).await;
    api.post(
        "/api/gateway",
        json!({
            "id": "hue", "enabled": true, "reconnectDelay": "1s",
            "provider": {"type": "philips_hue", "host": bridge.url(), "username": HUE_USER,
                         "certificateFingerprint": certificate_fingerprint(),
                         "syncInterval": "1h"}
        }),
    )
    .await;
    api.wait_resource("gateway", "hue", |g| g["state"]["status"] == "up")
        .await;
    // The typed app key (`username`) is a secret: masked in every answer.
    let (_, gw) = api.get("/api/gateway/hue").await;
    assert_eq!(gw["provider"]["username"], "********", "{gw}");
    let (_, all) = api.get("/api/gateway").await;
    assert!(!all.to_string().contains(HUE_USER), "{all}");

    // The bridge's lights and sensors as nodes, sources and fields, with values and metrics.
    api.wait_resource("node", "hue.light_1", |n| n["name"] == "Hue Lamp 1")
        .await;
    api.wait_resource("node", "hue.bridge", |n| n["name"] == "Philips hue")
        .await;
    api.wait_resource("source", "hue.light_1.state", |_| true)
        .await;
    api.wait_field("hue.light_1.state.brightness", json!(144))
        .await;
    api.wait_field("hue.light_1.state.power", json!(true)).await;
    api.wait_field("hue.sensor_5.state.temperature", json!(22.15))
        .await;
    eventually("a metric point of the temperature", || async {
        api.has_point("hue.sensor_5.state.temperature", 22.15)
            .await
            .then_some(())
    })
    .await;

    // A change the bridge pushes on its event stream shows without a poll.
    eventually("the event stream", || async {
        (bridge.open_streams() == 1).then_some(())
    })
    .await;
    let polls = || {
        bridge
            .requests()
            .iter()
            .filter(|r| r.starts_with(&format!("GET /api/{HUE_USER}/lights ")))
            .count()
    };
    let before = polls();
    let events = recorded_events();
    let temperature = events
        .iter()
        .find(|e| e.contains("\"temperature\":23.4"))
        .expect("the recorded temperature event");
    bridge.push_event(temperature);
    api.wait_field("hue.sensor_5.state.temperature", json!(23.4))
        .await;
    eventually("a metric point of the pushed temperature", || async {
        api.has_point("hue.sensor_5.state.temperature", 23.4)
            .await
            .then_some(())
    })
    .await;
    assert_eq!(polls(), before, "the lights were polled");

    // A set through the API switches the bridge's light.
    api.post(
        "/api/action",
        json!([{"resource": "field:hue.light_2.state.power", "payload": "on"}]),
    )
    .await;
    eventually("light 2 on at the bridge", || async {
        (bridge.state().lock().lights["2"]["state"]["on"] == json!(true)).then_some(())
    })
    .await;
    api.wait_field("hue.light_2.state.power", json!(true)).await;

    // The bridge goes away: the gateway is down; it returns: the gateway is up again.
    let port = bridge.addr().port();
    let state = bridge.stop();
    eventually("gateway not up", || async {
        let s = api.status("hue").await;
        (s["status"] != "up").then_some(())
    })
    .await;
    state.lock().lights["1"]["state"]["bri"] = json!(10);
    let _back = FakeHueBridge::start(state, port, true).unwrap();
    api.wait_resource("gateway", "hue", |g| g["state"]["status"] == "up")
        .await;
    api.wait_field("hue.light_1.state.brightness", json!(10))
        .await;
    api.server.terminate().await;

    // At rest: no file of the data directory holds the app key in clear (it was sealed like
    // other secrets, and the server used it decrypted all along).
    let (checked, found) = crate::support::files_holding(dir.path(), &[HUE_USER]);
    assert!(found.is_empty(), "the Hue app key in clear: {found:?}");
    assert!(checked >= 2, "the store and the key file were checked");
}
