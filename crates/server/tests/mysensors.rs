//! MySensors end to end with the real binary and simulated nodes (`switchyard-mysensors-sim`)
//! behind a serial pty (socat), an Ethernet gateway (TCP) and an MQTT gateway (the local
//! Mosquitto). What is checked is what a user would check through the API: nodes and fields in
//! storage, metric points, events on the websocket, ids and time handed out, values set through
//! `/api/action` reaching nodes, a sleeping node's queue, a firmware update whose CRC the node's
//! bootloader accepts, and the gateway's state when the port goes away and comes back.

use crate::support::{Api, Sim, WAIT, eventually, skip};
use futures::StreamExt;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;
use switchyard_mysensors_sim::{
    FirmwareSpec, NodeConfig, SimConfig, SimEvent, SleepConfig, TransportConfig as SimTransport,
};
use tokio::process::{Child, Command};

const SAMPLE_HEX: &str = include_str!("../../gateway/tests/data/firmware_sample.hex");

fn node(id: Option<u8>) -> NodeConfig {
    NodeConfig {
        id,
        report_interval: Duration::from_secs(1),
        ..NodeConfig::default()
    }
}

/// Creates (or replaces) MySensors gateway `id` on `protocol`, without waiting for it.
async fn mysensors_gateway(api: &Api, id: &str, protocol: Value) {
    api.post(
        "/api/gateway",
        json!({
            "id": id, "enabled": true, "reconnectDelay": "1s",
            "labels": {"timezone": "UTC"},
            "provider": {"type": "mysensors", "protocol": protocol,
                         "timeout": "100ms", "retryCount": 3}
        }),
    )
    .await;
}

/// The API's event stream, as the console follows it.
async fn events(api: &Api) -> Events {
    let url = format!(
        "{}/api/ws?token={}",
        api.server.base.replace("http://", "ws://"),
        api.token
    );
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket");
    Events(ws)
}

struct Events(
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
);

impl Events {
    /// Waits for an event about `quick_id`.
    async fn wait_for(&mut self, quick_id: &str) -> Value {
        tokio::time::timeout(WAIT, async {
            loop {
                let msg = self.0.next().await.expect("open").expect("no error");
                if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == "event" && v["data"]["entityQuickId"] == quick_id {
                        return v;
                    }
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no event about {quick_id}"))
    }
}

/// Waits until sim node `index` applied a set of its relay (child 3), with `payload` if given.
async fn relay_set(sim: &Sim, what: &str, index: usize, payload: Option<&str>) {
    sim.wait(what, |e| match e {
        SimEvent::SetApplied {
            index: i,
            child_id: 3,
            payload: applied,
            ..
        } if *i == index && payload.is_none_or(|p| applied.as_str() == p) => Some(()),
        _ => None,
    })
    .await
}

async fn socat_pair(gateway: &Path, device: &Path) -> Child {
    let _ = std::fs::remove_file(gateway);
    let _ = std::fs::remove_file(device);
    let child = Command::new("socat")
        .arg(format!("pty,raw,echo=0,link={}", gateway.display()))
        .arg(format!("pty,raw,echo=0,link={}", device.display()))
        .kill_on_drop(true)
        .spawn()
        .expect("socat");
    eventually("socat's ptys", || async {
        (gateway.exists() && device.exists()).then_some(())
    })
    .await;
    child
}

/// The sim node's temperature readings reach storage, the metric store and the event stream;
/// its presentation names the node.
async fn readings_everywhere(api: &Api, events: &mut Events, sim: &Sim, index: usize, id: &str) {
    let field = format!("{id}.1.V_TEMP");
    events.wait_for(&format!("field:{field}")).await;
    eventually(
        &format!("{field} holds a reading the node sent"),
        || async {
            let f = api.resource("field", &field).await?;
            let value = f["current"]["value"].as_f64()?;
            sim.readings(Some(index), 1).contains(&value).then_some(())
        },
    )
    .await;
    eventually("a metric point of a reading", || async {
        let (code, body) = api
            .get(&format!("/api/metric?quickId=field:{field}&start=-1h"))
            .await;
        let sent = sim.readings(Some(index), 1);
        let rows = body[format!("field:{field}")].as_array().cloned()?;
        let found = rows.iter().any(|row| {
            row["values"].as_object().is_some_and(|values| {
                values
                    .values()
                    .any(|v| v.as_f64().is_some_and(|x| sent.contains(&x)))
            })
        });
        (code == 200 && found).then_some(())
    })
    .await;
    let n = api
        .wait_resource("node", id, |n| n["others"]["battery_level"].is_number())
        .await;
    assert_eq!(n["name"], "Switchyard sim");
    assert_eq!(n["labels"]["library_version"], "2.3.2");
}

#[tokio::test]
async fn serial_nodes_report_and_the_gateway_follows_the_pty() {
    let has_socat = std::process::Command::new("socat")
        .arg("-V")
        .output()
        .is_ok();
    if !has_socat && skip("socat is not installed") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (gw_end, dev_end): (PathBuf, PathBuf) = (dir.path().join("gw"), dir.path().join("dev"));
    let mut socat = socat_pair(&gw_end, &dev_end).await;
    let api = Api::start(&dir.path().join("data")).await;
    let mut events = events(&api).await;
    let sim = Sim::start(
        SimConfig {
            nodes: vec![node(Some(4))],
            seed: 7,
        },
        SimTransport::Serial {
            path: dev_end.to_string_lossy().into(),
            baud_rate: 115_200,
        },
    );
    mysensors_gateway(
        &api,
        "serial",
        json!({"type": "serial", "portname": gw_end, "baudrate": 115200}),
    )
    .await;
    api.wait_status("serial", "up").await;
    readings_everywhere(&api, &mut events, &sim, 0, "serial.4").await;

    // The radio is unplugged: the port goes away, the gateway is down …
    socat.kill().await.unwrap();
    let down = api.wait_status("serial", "down").await;
    assert!(down["message"].as_str().unwrap().contains("gw"), "{down}");
    // … and up again when it is back, with the node's readings flowing again.
    let _socat = socat_pair(&gw_end, &dev_end).await;
    api.wait_status("serial", "up").await;
    let before = sim.readings(Some(0), 1).len();
    let last_seen = |n: &Value| n["lastSeen"].as_str().map(str::to_string);
    let seen_before = last_seen(&api.resource("node", "serial.4").await.unwrap());
    api.wait_resource("node", "serial.4", |n| last_seen(n) > seen_before)
        .await;
    assert!(sim.readings(Some(0), 1).len() > before);
    sim.stop().await;
    api.server.terminate().await;
}

#[tokio::test]
async fn over_tcp_ids_time_actions_sleep_and_a_firmware_update() {
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(dir.path()).await;
    let mut events = events(&api).await;
    let sim = Sim::start(
        SimConfig {
            nodes: vec![
                NodeConfig {
                    firmware: Some(FirmwareSpec::new(1, 1)),
                    ..node(None)
                },
                NodeConfig {
                    sleep: Some(SleepConfig {
                        awake_window: Duration::from_secs(2),
                        sleep_duration: Duration::from_secs(1),
                    }),
                    ..node(Some(20))
                },
            ],
            seed: 11,
        },
        SimTransport::Tcp {
            listen: "127.0.0.1:0".parse().unwrap(),
        },
    );
    let listening = sim
        .wait("the simulator listening", |e| match e {
            SimEvent::Listening { addr } => Some(*addr),
            _ => None,
        })
        .await;
    mysensors_gateway(
        &api,
        "eth",
        json!({"type": "ethernet", "server": format!("tcp://{listening}")}),
    )
    .await;
    api.wait_status("eth", "up").await;

    // The node without an id gets the first free one, stored; then the time and units.
    let id = sim
        .wait("an id", |e| match e {
            SimEvent::IdAssigned { index: 0, node_id } => Some(*node_id),
            _ => None,
        })
        .await;
    assert_eq!(id, 1);
    assert!(api.resource("node", "eth.1").await.is_some());
    let unix = sim
        .wait("the time", |e| match e {
            SimEvent::TimeReceived {
                index: 0,
                unix_seconds,
                ..
            } => Some(*unix_seconds),
            _ => None,
        })
        .await;
    assert!(
        (unix - chrono::Utc::now().timestamp()).abs() < 300,
        "{unix}"
    );
    let metric = sim
        .wait("the units", |e| match e {
            SimEvent::ConfigReceived {
                index: 0, metric, ..
            } => Some(*metric),
            _ => None,
        })
        .await;
    assert!(metric);
    readings_everywhere(&api, &mut events, &sim, 0, "eth.1").await;

    // A value set through the API reaches the relay, which reports its new state.
    api.action("field:eth.1.3.V_STATUS", "on").await;
    relay_set(&sim, "the relay set", 0, Some("1")).await;
    api.wait_field("eth.1.3.V_STATUS", json!(true)).await;

    // The sleeping node gets what was set while it slept when it wakes.
    api.wait_resource("node", "eth.20", |n| n["labels"]["sleep_node"] == "true")
        .await;
    api.action("field:eth.20.3.V_STATUS", "1").await;
    relay_set(&sim, "the sleeping node's set", 1, Some("1")).await;
    api.wait_field("eth.20.3.V_STATUS", json!(true)).await;

    // Firmware: created and uploaded through the API, assigned to node 1 by label; a reboot
    // makes its bootloader ask, fetch every block and check the CRC.
    api.post(
        "/api/firmware",
        json!({"id": "blink", "labels": {"ms_type_id": "10", "ms_version_id": "2"}}),
    )
    .await;
    let part =
        reqwest::multipart::Part::bytes(SAMPLE_HEX.as_bytes().to_vec()).file_name("blink.hex");
    let r = api
        .request(reqwest::Method::POST, "/api/firmware/upload/blink")
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut n = api.resource("node", "eth.1").await.unwrap();
    n["labels"]["assigned_firmware"] = json!("blink");
    api.post("/api/node", n).await;
    api.action("node:eth.1", "reboot").await;
    let (crc_ok, version) = sim
        .wait("the firmware update", |e| match e {
            SimEvent::OtaDone {
                index: 0,
                crc_ok,
                version,
                ..
            } => Some((*crc_ok, *version)),
            _ => None,
        })
        .await;
    assert!(crc_ok, "the node's bootloader found the CRC it was told");
    assert_eq!(version, 2);
    let n = api
        .wait_resource("node", "eth.1", |n| {
            n["others"]["ota_status"] == "completed"
        })
        .await;
    assert_eq!(n["others"]["ota_progress"], json!(100));
    assert!(n["others"]["ota_block_total"].as_u64().unwrap() > 0);
    events.wait_for("node:eth.1").await;
    sim.stop().await;
    api.server.terminate().await;
}

#[tokio::test]
async fn over_mqtt_nodes_report_and_get_ids() {
    if std::net::TcpStream::connect(("127.0.0.1", 1883)).is_err()
        && skip("no MQTT broker on 127.0.0.1:1883")
    {
        return;
    }
    let prefix = format!("sy-e2e-{:08x}", rand::random::<u32>());
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(dir.path()).await;
    let mut events = events(&api).await;
    mysensors_gateway(
        &api,
        "mq",
        json!({"type": "mqtt", "broker": "tcp://127.0.0.1:1883",
               "subscribe": format!("{prefix}-out/#"), "publish": format!("{prefix}-in")}),
    )
    .await;
    api.wait_status("mq", "up").await;
    let sim = Sim::start(
        SimConfig {
            nodes: vec![node(None)],
            seed: 3,
        },
        SimTransport::Mqtt {
            broker: "tcp://127.0.0.1:1883".into(),
            publish_prefix: format!("{prefix}-out"),
            subscribe_prefix: format!("{prefix}-in"),
            client_id: format!("{prefix}-sim"),
        },
    );
    let id = sim
        .wait("an id", |e| match e {
            SimEvent::IdAssigned { index: 0, node_id } => Some(*node_id),
            _ => None,
        })
        .await;
    assert_eq!(id, 1);
    readings_everywhere(&api, &mut events, &sim, 0, "mq.1").await;
    api.action("field:mq.1.3.V_STATUS", "on").await;
    relay_set(&sim, "the relay set", 0, None).await;
    sim.stop().await;
    api.server.terminate().await;
}
