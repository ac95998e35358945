//! The MySensors provider in the runtime, with the real processor and storage: the test plays an
//! Ethernet gateway (a TCP listener the provider dials) with nodes behind it, and a MySensors MQTT
//! gateway on the local Mosquitto.

use super::harness::{Harness, WAIT, eventually, peer_missing};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::Duration;
use switchyard_core::model::{Firmware, FirmwareFile, Gateway, Node};
use switchyard_core::{Message, MessageType, Payload};
use switchyard_gateway::providers::mysensors::protocol::firmware::{
    FirmwareConfig, FirmwareConfigRequest, FirmwareRequest, FirmwareResponse, crc16,
};
use switchyard_gateway::providers::mysensors::protocol::{RawFrame, parse_line};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// The gateway end of the radio network, as a MySensors Ethernet gateway (port 5003) shows it.
struct Radio {
    lines: tokio::io::Lines<BufReader<OwnedReadHalf>>,
    writer: OwnedWriteHalf,
}

impl Radio {
    async fn accept(listener: &TcpListener) -> Radio {
        let (socket, _) = tokio::time::timeout(WAIT, listener.accept())
            .await
            .expect("the gateway did not connect")
            .unwrap();
        let (r, w) = socket.into_split();
        Radio {
            lines: BufReader::new(r).lines(),
            writer: w,
        }
    }

    async fn send(&mut self, line: &str) {
        self.writer
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
    }

    /// The next frame from the controller, skipping discovery broadcasts.
    async fn next(&mut self) -> RawFrame {
        loop {
            let line = tokio::time::timeout(WAIT, self.lines.next_line())
                .await
                .expect("no line from the controller")
                .unwrap()
                .expect("the controller closed the connection");
            let frame = parse_line(line.as_bytes()).expect("a MySensors line");
            if frame.to_string() != "255;255;3;0;20;" {
                return frame;
            }
        }
    }

    async fn next_line(&mut self) -> String {
        self.next().await.to_string()
    }

    /// Nothing arrives for a moment (for "this was queued, not sent").
    async fn quiet(&mut self) -> bool {
        tokio::time::timeout(Duration::from_millis(300), self.lines.next_line())
            .await
            .is_err()
    }
}

fn gateway(id: &str, protocol: Value) -> Gateway {
    Gateway {
        id: id.into(),
        reconnect_delay: "1s".into(),
        labels: [("timezone".to_string(), "UTC".to_string())].into(),
        provider:
            json!({"type": "mysensors", "protocol": protocol, "timeout": "100ms", "retryCount": 3})
                .as_object()
                .cloned()
                .unwrap(),
        ..Default::default()
    }
}

async fn ethernet() -> (Harness, Radio) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = format!("tcp://{}", l.local_addr().unwrap());
    let h = Harness::start(&[gateway("ms", json!({"type": "ethernet", "server": server}))]).await;
    let radio = Radio::accept(&l).await;
    h.wait_status("ms", switchyard_core::model::Status::Up)
        .await;
    (h, radio)
}

async fn node(h: &Harness, id: &str) -> Option<Node> {
    h.store.get::<Node>(&format!("ms.{id}")).await.unwrap()
}

/// Waits until node `id` has `others[key] == value`.
async fn wait_other(h: &Harness, id: &str, key: &str, check: impl Fn(&Value) -> bool) -> Node {
    eventually(&format!("node {id} {key}"), || async {
        node(h, id)
            .await
            .filter(|n| n.others.get(key).is_some_and(&check))
    })
    .await
}

fn set(node: &str, source: &str, key: &str, value: &str) -> Message {
    Message::new(MessageType::Set, "", node, source).with_payload(Payload::new(key, value))
}

#[tokio::test]
async fn nodes_present_report_and_are_given_ids_time_and_units() {
    let (h, mut radio) = ethernet().await;
    radio.send("5;255;0;0;17;2.3.2").await;
    radio.send("5;1;0;0;6;Outdoor").await;
    radio.send("5;255;3;0;11;Weather").await;
    radio.send("5;1;1;0;0;21.5").await;
    radio.send("5;255;3;0;0;87").await;
    let field = eventually("V_TEMP", || async {
        h.field("ms.5.1.V_TEMP")
            .await
            .filter(|f| f.current.value.as_f64() == Some(21.5))
    })
    .await;
    assert_eq!(field.unit, "°C");
    let n = wait_other(&h, "5", "battery_level", |v| v == &json!(87)).await;
    assert_eq!(n.name, "Weather");
    assert_eq!(n.labels["library_version"], "2.3.2");

    // Ids: the lowest free one, stored before it is handed out; the next request gets the next.
    radio.send("255;255;3;0;3;").await;
    assert_eq!(radio.next_line().await, "255;255;3;0;4;1");
    assert!(node(&h, "1").await.is_some(), "reserved in storage");
    radio.send("255;255;3;0;3;").await;
    assert_eq!(radio.next_line().await, "255;255;3;0;4;2");

    // Time in the gateway's zone (UTC here), units from the settings (metric by default).
    radio.send("5;255;3;0;1;").await;
    let time = radio.next().await;
    assert_eq!(time.to_string().rsplit_once(';').unwrap().0, "5;255;3;0;1");
    let sent: i64 = time.payload.parse().unwrap();
    assert!(
        (sent - chrono::Utc::now().timestamp()).abs() < 120,
        "{sent}"
    );
    radio.send("5;255;3;0;6;0").await;
    assert_eq!(radio.next_line().await, "5;255;3;0;6;M");

    // Bad input is rejected and counted; the connection carries on.
    radio.send("garbage").await;
    radio.send("5;1;9;0;0;1").await;
    radio.send("5;255;4;0;2;zz").await;
    radio.send("5;1;1;0;0;22").await;
    eventually("the next reading", || async {
        h.field("ms.5.1.V_TEMP")
            .await
            .filter(|f| f.current.value.as_f64() == Some(22.0))
    })
    .await;
    assert_eq!(h.gateway_stats("ms").rejected, 3);
    h.stop().await;
}

#[tokio::test]
async fn sets_wait_for_the_echo_and_a_sleeping_node_gets_its_queue_on_waking() {
    let (h, mut radio) = ethernet().await;
    h.send_to_gateway("ms", &set("5", "3", "V_STATUS", "on"))
        .await;
    // Asks for an echo; without one it sends again.
    assert_eq!(radio.next_line().await, "5;3;1;1;2;1");
    assert_eq!(radio.next_line().await, "5;3;1;1;2;1");
    radio.send("5;3;1;1;2;1").await;
    eventually("the set acknowledged", || async {
        (h.gateway_stats("ms").sent == 1).then_some(())
    })
    .await;
    eventually("the echo stored", || async {
        h.field("ms.5.3.V_STATUS")
            .await
            .filter(|f| f.current.value == json!(true) || f.current.value == json!(1))
    })
    .await;

    // A smart-sleep node: its pre-sleep notification marks it a sleeping node …
    radio.send("7;255;3;0;32;500").await;
    eventually("node 7 sleeping", || async {
        node(&h, "7")
            .await
            .filter(|n| n.labels.get("sleep_node").map(String::as_str) == Some("true"))
    })
    .await;
    // … so a set for it waits …
    h.send_to_gateway("ms", &set("7", "1", "V_STATUS", "1"))
        .await;
    assert!(radio.quiet().await, "sent to a sleeping node");
    eventually("queued", || async {
        (h.gateway_stats("ms").queued == 1).then_some(())
    })
    .await;
    // … until it says it is awake again.
    radio.send("7;255;3;0;32;500").await;
    assert_eq!(radio.next_line().await, "7;1;1;1;2;1");
    radio.send("7;1;1;1;2;1").await;
    eventually("the queued set acknowledged", || async {
        (h.gateway_stats("ms").sent == 2).then_some(())
    })
    .await;

    // Node actions.
    let action = |node: &str, name: &str| {
        Message::new(MessageType::Action, "", node, "").with_payload(Payload::new(name, ""))
    };
    h.send_to_gateway("ms", &action("5", "reboot")).await;
    assert_eq!(radio.next_line().await, "5;255;3;0;13;");
    h.send_to_gateway("ms", &action("5", "heartbeat_request"))
        .await;
    assert_eq!(radio.next_line().await, "5;255;3;0;18;");
    h.send_to_gateway("ms", &action("5", "refresh_node_info"))
        .await;
    assert_eq!(radio.next_line().await, "5;255;3;0;19;");
    h.send_to_gateway("ms", &action("", "discover_nodes")).await;
    let discover = tokio::time::timeout(WAIT, radio.lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(discover, "255;255;3;0;20;");
    h.stop().await;
}

const SAMPLE_HEX: &str = include_str!("../../data/firmware_sample.hex");

/// Stores firmware `id` with `hex` as its uploaded file, as the API's upload does.
async fn upload(h: &Harness, id: &str, type_id: u16, version_id: u16, hex: &str) {
    let dir = h.data_dir().join("firmware");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(id), hex).unwrap();
    let sha: String = Sha256::digest(hex.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let firmware = Firmware {
        id: id.into(),
        labels: [
            ("ms_type_id".to_string(), type_id.to_string()),
            ("ms_version_id".to_string(), version_id.to_string()),
        ]
        .into(),
        file: FirmwareFile {
            name: format!("{id}.hex"),
            internal_name: id.into(),
            checksum: format!("sha256:{sha}"),
            size: hex.len() as u64,
            modified_on: None,
        },
        ..Default::default()
    };
    h.store.upsert(&firmware).await.unwrap();
}

async fn assign(h: &Harness, node_id: &str, firmware: &str) {
    let n = Node {
        id: format!("ms.{node_id}"),
        gateway_id: "ms".into(),
        node_id: node_id.into(),
        name: node_id.into(),
        labels: [("assigned_firmware".to_string(), firmware.to_string())].into(),
        ..Default::default()
    };
    h.store.upsert(&n).await.unwrap();
}

/// Plays a bootloader running type 1 version 1: asks for its config, fetches every block in
/// reverse order, and returns the config it was given and the CRC of what it received.
async fn bootload(radio: &mut Radio, node: u8) -> (FirmwareConfig, u16) {
    let running = FirmwareConfigRequest {
        current: FirmwareConfig {
            firmware_type: 1,
            version: 1,
            blocks: 0,
            crc: 0,
        },
        bootloader_version: 0x0102,
    };
    radio
        .send(&format!("{node};255;4;0;0;{}", running.encode_hex()))
        .await;
    let answer = radio.next().await;
    assert_eq!(
        answer
            .to_string()
            .split(';')
            .take(5)
            .collect::<Vec<_>>()
            .join(";"),
        format!("{node};255;4;0;1")
    );
    let config = FirmwareConfig::decode_hex(&answer.payload).unwrap();
    let mut image = vec![0u8; usize::from(config.blocks) * 16];
    for block in (0..config.blocks).rev() {
        let request = FirmwareRequest {
            firmware_type: config.firmware_type,
            version: config.version,
            block,
        };
        radio
            .send(&format!("{node};255;4;0;2;{}", request.encode_hex()))
            .await;
        let frame = radio.next().await;
        let response = FirmwareResponse::decode_hex(&frame.payload).unwrap();
        assert_eq!(response.block, block);
        let at = usize::from(block) * 16;
        image[at..at + 16].copy_from_slice(&response.data);
    }
    (config, crc16(&image))
}

#[tokio::test]
async fn a_node_is_updated_over_the_air_with_progress_on_the_node() {
    let (h, mut radio) = ethernet().await;
    upload(&h, "fw1", 10, 2, SAMPLE_HEX).await;
    assign(&h, "9", "fw1").await;

    let (config, crc) = bootload(&mut radio, 9).await;
    assert_eq!((config.firmware_type, config.version), (10, 2));
    assert!(config.blocks > 0);
    assert_eq!(
        crc, config.crc,
        "the image the node received has the CRC it was told"
    );
    let n = wait_other(&h, "9", "ota_status", |v| v == "completed").await;
    assert_eq!(n.others["ota_progress"], json!(100));
    assert_eq!(n.others["ota_block_total"], json!(config.blocks));
    assert_eq!(n.others["ota_running"], json!("false"));
    assert_eq!(n.others["ota_firmware"], json!("fw1"));
    for key in ["ota_start_time", "ota_end_time", "ota_time_taken"] {
        assert!(
            n.others[key].as_str().is_some_and(|s| !s.is_empty()),
            "{key}: {:?}",
            n.others[key]
        );
    }

    // `firmware_update` offers the firmware at once.
    let action = |name: &str| {
        Message::new(MessageType::Action, "", "9", "").with_payload(Payload::new(name, ""))
    };
    h.send_to_gateway("ms", &action("firmware_update")).await;
    let offer = radio.next().await;
    assert_eq!(FirmwareConfig::decode_hex(&offer.payload).unwrap(), config);

    // `reset`: reboot, then the next config request is told to erase EEPROM.
    h.send_to_gateway("ms", &action("reset")).await;
    assert_eq!(radio.next_line().await, "9;255;3;0;13;");
    radio.send("9;255;4;0;0;0A000200000000000201").await;
    assert_eq!(radio.next_line().await, "9;255;4;0;1;0100000000007ADA");

    // A HEX file with a bad checksum: the node is told why, the gateway counts it, no answer.
    let broken = SAMPLE_HEX.replacen(":10000000", ":10000001", 1);
    upload(&h, "fw2", 11, 1, &broken).await;
    assign(&h, "12", "fw2").await;
    let rejected = h.gateway_stats("ms").rejected;
    radio.send("12;255;4;0;0;01000100000000000201").await;
    let n = wait_other(&h, "12", "ota_status", |v| {
        v.as_str().is_some_and(|s| s.starts_with("error:"))
    })
    .await;
    assert!(
        n.others["ota_status"]
            .as_str()
            .unwrap()
            .contains("checksum"),
        "{:?}",
        n.others["ota_status"]
    );
    assert!(h.gateway_stats("ms").rejected > rejected);
    assert!(radio.quiet().await);
    h.stop().await;
}

fn mosquitto_up() -> bool {
    std::net::TcpStream::connect(("127.0.0.1", 1883)).is_ok()
}

#[tokio::test]
async fn over_mqtt_topics_carry_frames_both_ways() {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
    if !mosquitto_up() && peer_missing("no MQTT broker on 127.0.0.1:1883") {
        return;
    }
    let prefix = format!("ms-{:08x}", rand::random::<u32>());
    let h = Harness::start(&[gateway(
        "ms",
        json!({"type": "mqtt", "broker": "tcp://127.0.0.1:1883",
               "subscribe": format!("{prefix}-out/#"), "publish": format!("{prefix}-in")}),
    )])
    .await;
    h.wait_status("ms", switchyard_core::model::Status::Up)
        .await;
    let mut options = MqttOptions::new(format!("{prefix}-radio"), "127.0.0.1", 1883);
    options.set_keep_alive(Duration::from_secs(5));
    let (client, mut events) = AsyncClient::new(options, 16);
    client
        .subscribe(format!("{prefix}-in/#"), QoS::AtLeastOnce)
        .await
        .unwrap();
    let (tx, mut received) = tokio::sync::mpsc::channel::<(String, String)>(16);
    let (ready_tx, mut ready) = tokio::sync::mpsc::channel::<()>(1);
    let task = tokio::spawn(async move {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    let _ = ready_tx.try_send(());
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let body = String::from_utf8_lossy(&p.payload).to_string();
                    if tx.send((p.topic, body)).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    tokio::time::timeout(WAIT, ready.recv()).await.unwrap();
    let publish = |topic: String, body: &'static str| {
        let client = client.clone();
        async move {
            client
                .publish(topic, QoS::AtLeastOnce, false, body)
                .await
                .unwrap()
        }
    };

    publish(format!("{prefix}-out/4/1/1/0/0"), "19.5").await;
    eventually("V_TEMP over MQTT", || async {
        h.field("ms.4.1.V_TEMP")
            .await
            .filter(|f| f.current.value.as_f64() == Some(19.5))
    })
    .await;
    publish(format!("{prefix}-out/255/255/3/0/3"), "").await;
    let (topic, body) = tokio::time::timeout(WAIT, received.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (topic, body),
        (format!("{prefix}-in/255/255/3/0/4"), "1".to_string())
    );
    // A topic that does not parse is rejected and counted.
    publish(format!("{prefix}-out/4/1"), "x").await;
    eventually("rejected", || async {
        (h.gateway_stats("ms").rejected == 1).then_some(())
    })
    .await;
    h.send_to_gateway("ms", &set("4", "2", "V_STATUS", "1"))
        .await;
    let (topic, body) = tokio::time::timeout(WAIT, received.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (topic, body),
        (format!("{prefix}-in/4/2/1/1/2"), "1".to_string())
    );
    publish(format!("{prefix}-out/4/2/1/1/2"), "1").await;
    eventually("acknowledged over MQTT", || async {
        (h.gateway_stats("ms").sent == 1).then_some(())
    })
    .await;
    task.abort();
    h.stop().await;
}
