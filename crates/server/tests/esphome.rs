//! ESPHome end to end with the real binary and a simulated device (`esphome_device.py`, on
//! aioesphomeapi's generated `api.proto` messages) on loopback: a gateway created through the
//! API dials the device; its entities become sources and fields with values, the sensor's
//! readings metric points; sets through `/api/action` reach the device (which records the
//! command it decoded); stopping the device takes the node down (the gateway stays up), starting
//! it again brings the node back.

use crate::support::{Api, WAIT, skip};
use serde_json::{Value, json};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const DEVICE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/esphome_device.py");
const PASSWORD: &str = "api-pw";

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// The simulated device, running, and the events it printed.
struct Device {
    child: Child,
    events: Lines<BufReader<ChildStdout>>,
    port: u16,
}

impl Device {
    async fn start(port: u16) -> Device {
        let mut child = Command::new(python())
            .arg(DEVICE)
            .arg(port.to_string())
            .arg(PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python runs");
        let events = BufReader::new(child.stdout.take().expect("piped")).lines();
        let mut d = Device {
            child,
            events,
            port,
        };
        let listening = d.next("listening").await;
        d.port = listening["port"].as_u64().expect("a port") as u16;
        d
    }

    /// The next event named `name` (earlier ones are skipped).
    async fn next(&mut self, name: &str) -> Value {
        tokio::time::timeout(WAIT, async {
            loop {
                let line = self
                    .events
                    .next_line()
                    .await
                    .expect("the device's stdout")
                    .unwrap_or_else(|| panic!("the device ended before {name}"));
                let v: Value = serde_json::from_str(&line).expect("a JSON event");
                if v["event"] == name {
                    return v;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {name} event from the device"))
    }

    async fn stop(mut self) -> u16 {
        let _ = self.child.kill().await;
        self.port
    }
}

async fn wait_field(api: &Api, id: &str, value: Value) -> Value {
    api.wait_resource("field", id, |f| f["current"]["value"] == value)
        .await
}

async fn wait_node_status(api: &Api, id: &str, status: &str) -> Value {
    api.wait_resource("node", id, |n| n["state"]["status"] == status)
        .await
}

#[tokio::test]
async fn esphome_device_through_the_real_binary() {
    let check = std::process::Command::new(python())
        .args(["-c", "import aioesphomeapi"])
        .output();
    if !check.is_ok_and(|o| o.status.success()) {
        skip(&format!(
            "{} cannot import aioesphomeapi: pip install -r tests/python-requirements.txt",
            python()
        ));
        return;
    }
    let mut device = Device::start(0).await;
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(dir.path()).await;
    api.gateway(
        "esp",
        json!({"type": "esphome", "password": PASSWORD, "reconnectDelay": "200ms",
               "nodes": {"kitchen": {"address": format!("127.0.0.1:{}", device.port)}}}),
    )
    .await;
    device.next("connected").await;
    wait_node_status(&api, "esp.kitchen", "up").await;
    // Named from the device info, which may land just after the node is up.
    api.wait_resource("node", "esp.kitchen", |n| {
        n["name"] == "Kitchen Sim" && n["labels"]["version"] == "2025.1.0"
    })
    .await;

    // Sources and fields with the device's values, typed and with units.
    let temp = wait_field(&api, "esp.kitchen.temp.value", json!(21.5)).await;
    assert_eq!(temp["unit"], "°C");
    assert_eq!(temp["metricType"], "gauge_float");
    wait_field(&api, "esp.kitchen.relay.state", json!(false)).await;
    wait_field(&api, "esp.kitchen.lamp.rgb", json!("#ffffff")).await;
    wait_field(&api, "esp.kitchen.lamp.brightness", json!(50.0)).await;
    wait_field(&api, "esp.kitchen.front.state", json!("locked")).await;
    let source = api.resource("source", "esp.kitchen.lamp").await.unwrap();
    assert_eq!(source["name"], "Lamp");
    assert_eq!(source["others"]["kind"], "light");

    // The sensor's reading is a metric point.
    api.wait_metric("field:esp.kitchen.temp.value", |v| v.as_f64() == Some(21.5))
        .await;

    // Sets reach the device, which decoded what was set; its answer updates the fields.
    api.action("field:esp.kitchen.relay.state", "on").await;
    let c = device.next("command").await;
    assert_eq!(c["type"], "SwitchCommandRequest");
    assert_eq!(c["fields"], json!({"key": 2, "state": true}));
    wait_field(&api, "esp.kitchen.relay.state", json!(true)).await;

    api.action("field:esp.kitchen.lamp.rgb", "#ff8000").await;
    let c = device.next("command").await;
    assert_eq!(c["type"], "LightCommandRequest");
    assert_eq!(c["fields"]["has_rgb"], true);
    assert_eq!(c["fields"]["red"], 1.0);
    let green = c["fields"]["green"].as_f64().unwrap();
    assert!((green - 128.0 / 255.0).abs() < 1e-6, "{c}");
    assert!(c["fields"].get("blue").is_none(), "blue 0 is not sent: {c}");
    wait_field(&api, "esp.kitchen.lamp.rgb", json!("#ff8000")).await;

    api.action("field:esp.kitchen.front.state", "unlock").await;
    let c = device.next("command").await;
    assert_eq!(
        (c["type"].as_str(), &c["fields"]),
        (Some("LockCommandRequest"), &json!({"key": 4}))
    ); // LOCK_UNLOCK is 0, protobuf's default: not on the wire
    wait_field(&api, "esp.kitchen.front.state", json!("unlocked")).await;

    // The device goes away: the node goes down, the gateway stays up. It comes back on the same
    // port: the node is up again with the device's state.
    let port = device.stop().await;
    wait_node_status(&api, "esp.kitchen", "down").await;
    let (_, gw) = api.get("/api/gateway/esp").await;
    assert_eq!(gw["state"]["status"], "up", "{gw}");
    let mut device = Device::start(port).await;
    device.next("connected").await;
    wait_node_status(&api, "esp.kitchen", "up").await;
    // A new process: its state starts over, and the field follows it.
    wait_field(&api, "esp.kitchen.relay.state", json!(false)).await;
    api.action("field:esp.kitchen.relay.state", "on").await;
    assert_eq!(
        device.next("command").await["fields"],
        json!({"key": 2, "state": true})
    );
    device.stop().await;
}
