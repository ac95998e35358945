//! ESPHome's native API against a simulated device on loopback. The device is written here from
//! the protocol description (its own frame code and prost messages with api.proto's field
//! numbers, not the provider's codec): hello, connect with a password, device info, entity list
//! (sensor, binary_sensor, switch, light), states, commands that change its state and are
//! answered with the new state, pings both ways, and bad frames mixed in.

use super::harness::{Harness, WAIT, gateway, unique};
use prost::Message as _;
use serde_json::json;
use std::time::Duration;
use switchyard_core::model::Status;
use switchyard_core::{Message, MessageType, Payload};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

#[derive(Clone, PartialEq, prost::Message)]
struct Str1 {
    #[prost(string, tag = "1")]
    s: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct HelloResponse {
    #[prost(uint32, tag = "1")]
    major: u32,
    #[prost(uint32, tag = "2")]
    minor: u32,
    #[prost(string, tag = "3")]
    server_info: String,
    #[prost(string, tag = "4")]
    name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Bool1 {
    #[prost(bool, tag = "1")]
    b: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
struct DeviceInfo {
    #[prost(bool, tag = "1")]
    uses_password: bool,
    #[prost(string, tag = "2")]
    name: String,
    #[prost(string, tag = "3")]
    mac_address: String,
    #[prost(string, tag = "4")]
    esphome_version: String,
    #[prost(string, tag = "13")]
    friendly_name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ListEntity {
    #[prost(string, tag = "1")]
    object_id: String,
    #[prost(fixed32, tag = "2")]
    key: u32,
    #[prost(string, tag = "3")]
    name: String,
    #[prost(string, tag = "4")]
    unique_id: String,
    #[prost(string, tag = "6")]
    unit: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct KeyState {
    #[prost(fixed32, tag = "1")]
    key: u32,
    #[prost(bool, tag = "2")]
    state: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
struct SensorState {
    #[prost(fixed32, tag = "1")]
    key: u32,
    #[prost(float, tag = "2")]
    state: f32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct LightState {
    #[prost(fixed32, tag = "1")]
    key: u32,
    #[prost(bool, tag = "2")]
    state: bool,
    #[prost(float, tag = "3")]
    brightness: f32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct LightCommand {
    #[prost(fixed32, tag = "1")]
    key: u32,
    #[prost(bool, tag = "2")]
    has_state: bool,
    #[prost(bool, tag = "3")]
    state: bool,
    #[prost(bool, tag = "4")]
    has_brightness: bool,
    #[prost(float, tag = "5")]
    brightness: f32,
}

const PASSWORD: &str = "s3cret";

/// What the device saw, for the test to check.
#[derive(Debug, PartialEq)]
enum Seen {
    Switch(bool),
    Light(bool, f32),
    PingAnswered,
}

fn frame(t: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8];
    for mut v in [payload.len() as u32, t] {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    out.extend_from_slice(payload);
    out
}

async fn read_varint(s: &mut TcpStream) -> std::io::Result<u32> {
    let mut v = 0u32;
    for i in 0..5 {
        let b = s.read_u8().await?;
        v |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            break;
        }
    }
    Ok(v)
}

async fn read_frame(s: &mut TcpStream) -> std::io::Result<(u32, Vec<u8>)> {
    assert_eq!(
        s.read_u8().await?,
        0,
        "the client sent a non-plaintext frame"
    );
    let len = read_varint(s).await?;
    let t = read_varint(s).await?;
    let mut payload = vec![0; len as usize];
    s.read_exact(&mut payload).await?;
    Ok((t, payload))
}

struct Device {
    relay: bool,
    lamp: (bool, f32),
}

/// One connection. Returns when the client goes away, or after the first command when `drop_after_command`.
async fn serve(
    mut s: TcpStream,
    dev: &mut Device,
    seen: &mpsc::Sender<Seen>,
    drop_after_command: bool,
) -> std::io::Result<()> {
    let entities = [
        (
            16,
            ListEntity {
                object_id: "temp".into(),
                key: 11,
                name: "Kitchen Temperature".into(),
                unit: "°C".into(),
                ..Default::default()
            },
        ),
        (
            12,
            ListEntity {
                object_id: "door".into(),
                key: 12,
                name: "Door".into(),
                ..Default::default()
            },
        ),
        (
            17,
            ListEntity {
                object_id: "relay".into(),
                key: 13,
                name: "Relay".into(),
                ..Default::default()
            },
        ),
        (
            15,
            ListEntity {
                object_id: "lamp".into(),
                key: 14,
                name: "Lamp".into(),
                ..Default::default()
            },
        ),
    ];
    loop {
        let (t, p) = read_frame(&mut s).await?;
        let mut out = Vec::new();
        match t {
            1 => {
                let hello = Str1::decode(p.as_slice()).unwrap_or_default();
                assert!(!hello.s.is_empty(), "client_info");
                out.extend(frame(
                    2,
                    &HelloResponse {
                        major: 1,
                        minor: 10,
                        server_info: "fake 2025.1".into(),
                        name: "kitchen".into(),
                    }
                    .encode_to_vec(),
                ));
            }
            3 => {
                let pw = Str1::decode(p.as_slice()).unwrap_or_default().s;
                out.extend(frame(4, &Bool1 { b: pw != PASSWORD }.encode_to_vec()));
            }
            9 => out.extend(frame(
                10,
                &DeviceInfo {
                    uses_password: true,
                    name: "kitchen".into(),
                    mac_address: "AA:BB:CC:DD:EE:FF".into(),
                    esphome_version: "2025.1.0".into(),
                    friendly_name: "Kitchen Node".into(),
                }
                .encode_to_vec(),
            )),
            11 => {
                for (t, e) in &entities {
                    out.extend(frame(*t, &e.encode_to_vec()));
                }
                out.extend(frame(19, &[]));
            }
            20 => {
                // Garbage first: a payload that is not protobuf, a state for an unknown key and a
                // stray byte; the client must carry on.
                out.extend(frame(25, &[0xff, 0xff, 0xff]));
                out.extend(frame(
                    26,
                    &KeyState {
                        key: 999,
                        state: true,
                    }
                    .encode_to_vec(),
                ));
                out.push(0x42);
                out.extend(frame(
                    25,
                    &SensorState {
                        key: 11,
                        state: 21.5,
                    }
                    .encode_to_vec(),
                ));
                out.extend(frame(
                    21,
                    &KeyState {
                        key: 12,
                        state: true,
                    }
                    .encode_to_vec(),
                ));
                out.extend(frame(
                    26,
                    &KeyState {
                        key: 13,
                        state: dev.relay,
                    }
                    .encode_to_vec(),
                ));
                out.extend(frame(
                    24,
                    &LightState {
                        key: 14,
                        state: dev.lamp.0,
                        brightness: dev.lamp.1,
                    }
                    .encode_to_vec(),
                ));
                // The device pings the client too.
                out.extend(frame(7, &[]));
            }
            7 => out.extend(frame(8, &[])),
            8 => {
                let _ = seen.send(Seen::PingAnswered).await;
            }
            33 => {
                let c = KeyState::decode(p.as_slice()).unwrap_or_default();
                assert_eq!(c.key, 13);
                dev.relay = c.state;
                let _ = seen.send(Seen::Switch(c.state)).await;
                out.extend(frame(
                    26,
                    &KeyState {
                        key: 13,
                        state: dev.relay,
                    }
                    .encode_to_vec(),
                ));
            }
            32 => {
                let c = LightCommand::decode(p.as_slice()).unwrap_or_default();
                assert_eq!(c.key, 14);
                if c.has_state {
                    dev.lamp.0 = c.state;
                }
                if c.has_brightness {
                    dev.lamp.1 = c.brightness;
                }
                let _ = seen.send(Seen::Light(dev.lamp.0, dev.lamp.1)).await;
                out.extend(frame(
                    24,
                    &LightState {
                        key: 14,
                        state: dev.lamp.0,
                        brightness: dev.lamp.1,
                    }
                    .encode_to_vec(),
                ));
            }
            5 => {
                s.write_all(&frame(6, &[])).await?;
                return Ok(());
            }
            _ => {}
        }
        s.write_all(&out).await?;
        if drop_after_command && matches!(t, 32 | 33) {
            return Ok(()); // a reboot: the connection just ends
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esphome_node_end_to_end() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (seen_tx, mut seen) = mpsc::channel(64);
    let device = tokio::spawn(async move {
        let mut dev = Device {
            relay: false,
            lamp: (false, 0.2),
        };
        let mut connection = 0;
        while let Ok((s, _)) = listener.accept().await {
            connection += 1;
            let _ = serve(s, &mut dev, &seen_tx, connection == 1).await;
        }
    });

    let gw = unique("esp");
    let h = Harness::start(&[gateway(
        &gw,
        json!({"type": "esphome", "password": PASSWORD, "reconnectDelay": "300ms",
               "nodes": {"kitchen": {"address": address}}}),
    )])
    .await;
    h.wait_status(&gw, Status::Up).await;
    let node = format!("{gw}.kitchen");
    h.wait_node(&node, "named from device info, up", |n| {
        n.name == "Kitchen Node" && n.state.status == Status::Up
    })
    .await;
    let t = h
        .wait_field(&format!("{node}.temp.value"), json!(21.5))
        .await;
    assert_eq!(t.unit, "°C");
    h.wait_field(&format!("{node}.door.state"), json!(true))
        .await;
    h.wait_field(&format!("{node}.relay.state"), json!(false))
        .await;
    h.wait_field(&format!("{node}.lamp.state"), json!(false))
        .await;
    h.wait_field(&format!("{node}.lamp.brightness"), json!(20.0))
        .await;
    let next = async |seen: &mut mpsc::Receiver<Seen>| {
        tokio::time::timeout(WAIT, seen.recv())
            .await
            .expect("device saw nothing")
            .unwrap()
    };
    assert_eq!(next(&mut seen).await, Seen::PingAnswered);
    // Garbage was rejected and counted, and the connection carried on (the fields above came after it).
    assert!(
        h.gateway_stats(&gw).rejected >= 3,
        "{:?}",
        h.gateway_stats(&gw)
    );

    // A set switches the relay; the device answers with its new state. Then the device drops
    // the connection (a reboot): the node goes down and comes back.
    let set = |source: &str, payloads: Vec<Payload>| {
        let mut m = Message::new(MessageType::Set, "", "kitchen", source);
        m.payloads = payloads;
        m
    };
    h.send_to_gateway(&gw, &set("relay", vec![Payload::new("state", "true")]))
        .await;
    assert_eq!(next(&mut seen).await, Seen::Switch(true));
    h.wait_node(&node, "down after the device dropped", |n| {
        n.state.status == Status::Down
    })
    .await;
    h.wait_node(&node, "up again", |n| n.state.status == Status::Up)
        .await;
    h.wait_field(&format!("{node}.relay.state"), json!(true))
        .await;
    assert_eq!(h.gateway_state(&gw).await.status, Status::Up);

    // The light on the new connection: state and brightness in one command.
    assert_eq!(next(&mut seen).await, Seen::PingAnswered);
    h.send_to_gateway(
        &gw,
        &set(
            "lamp",
            vec![
                Payload::new("state", "on"),
                Payload::new("brightness", "75"),
            ],
        ),
    )
    .await;
    assert_eq!(next(&mut seen).await, Seen::Light(true, 0.75));
    h.wait_field(&format!("{node}.lamp.brightness"), json!(75.0))
        .await;
    h.wait_field(&format!("{node}.lamp.state"), json!(true))
        .await;
    tokio::time::sleep(Duration::from_millis(10)).await;

    h.stop().await;
    device.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esphome_wrong_password_keeps_the_node_down() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (seen_tx, _seen) = mpsc::channel(64);
    let device = tokio::spawn(async move {
        let mut dev = Device {
            relay: false,
            lamp: (false, 0.0),
        };
        while let Ok((s, _)) = listener.accept().await {
            let _ = serve(s, &mut dev, &seen_tx, false).await;
        }
    });
    let gw = unique("esp");
    let h = Harness::start(&[gateway(
        &gw,
        json!({"type": "esphome", "nodes": {"kitchen": {"address": address, "password": "wrong"}}}),
    )])
    .await;
    h.wait_status(&gw, Status::Up).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        h.node(&format!("{gw}.kitchen")).await.is_none(),
        "no node without a login"
    );
    h.stop().await;
    device.abort();
}
