//! Tasmota through the local Mosquitto, against a simulated device that publishes real Tasmota
//! payloads (`tests/data/tasmota`) and answers `cmnd/…` as the firmware does: `POWER`, `Dimmer`,
//! `STATUS <n>`, `Restart` (drops off, its last will says `Offline`, comes back `Online`).

use super::harness::{Harness, WAIT, fixture, gateway, listening, peer_missing, unique};
use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use std::time::Duration;
use switchyard_core::model::Status;
use switchyard_core::{Message, MessageType, Payload};
use tokio::sync::mpsc;

/// The simulated device: its state, and the commands it received (for the test to observe).
struct SimDevice {
    topic: String,
    mac: String,
    commands: mpsc::Receiver<(String, String)>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct DeviceState {
    power: bool,
    dimmer: u8,
}

fn onoff(b: bool) -> &'static str {
    if b { "ON" } else { "OFF" }
}

impl SimDevice {
    async fn start(topic: &str, mac: &str) -> SimDevice {
        let (tx, commands) = mpsc::channel(64);
        let (topic_s, mac_s) = (topic.to_string(), mac.to_string());
        let (ready_tx, mut ready) = mpsc::channel(1);
        let task = tokio::spawn(async move {
            let mut state = DeviceState {
                power: false,
                dimmer: 7,
            };
            // Each loop is one connection; `Restart` ends it without DISCONNECT, as a reboot does.
            loop {
                let restart = run_connection(&topic_s, &mac_s, &mut state, &tx, &ready_tx).await;
                if !restart {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(1500)).await;
            }
        });
        tokio::time::timeout(WAIT, ready.recv())
            .await
            .expect("device online");
        SimDevice {
            topic: topic.into(),
            mac: mac.into(),
            commands,
            task,
        }
    }

    async fn next_command(&mut self) -> (String, String) {
        tokio::time::timeout(WAIT, self.commands.recv())
            .await
            .expect("no command reached the device")
            .unwrap()
    }

    /// Waits for a command with this topic suffix (others, such as the STATUS 0 on start, pass).
    async fn expect_command(&mut self, suffix: &str) -> String {
        loop {
            let (t, p) = self.next_command().await;
            if t.ends_with(suffix) {
                return p;
            }
        }
    }
}

async fn publish(c: &AsyncClient, topic: String, payload: impl Into<Vec<u8>>, retain: bool) {
    c.publish(topic, QoS::AtLeastOnce, retain, payload)
        .await
        .unwrap();
}

/// Runs one MQTT session of the device. Returns true when it should come back (a restart).
async fn run_connection(
    topic: &str,
    mac: &str,
    state: &mut DeviceState,
    commands: &mpsc::Sender<(String, String)>,
    ready: &mpsc::Sender<()>,
) -> bool {
    let mut options = MqttOptions::new(format!("DVES_{mac}"), "127.0.0.1", 1883);
    options.set_keep_alive(Duration::from_secs(5));
    options.set_last_will(LastWill::new(
        format!("tele/{topic}/LWT"),
        "Offline",
        QoS::AtLeastOnce,
        true,
    ));
    let (c, mut eventloop) = AsyncClient::new(options, 64);
    c.subscribe(format!("cmnd/{topic}/#"), QoS::AtLeastOnce)
        .await
        .unwrap();
    c.subscribe("cmnd/tasmotas/#", QoS::AtLeastOnce)
        .await
        .unwrap();

    // What a booting Tasmota publishes: LWT, discovery (retained), telemetry.
    publish(&c, format!("tele/{topic}/LWT"), "Online", true).await;
    let mut config = fixture("tasmota/discovery_config.json")["payload"].clone();
    config["t"] = json!(topic);
    config["mac"] = json!(mac);
    // The fixture's device uses `%topic%/%prefix%/`; this one keeps Tasmota's default, which the
    // gateway subscribes to.
    config["ft"] = json!("%prefix%/%topic%/");
    publish(
        &c,
        format!("tasmota/discovery/{mac}/config"),
        config.to_string(),
        true,
    )
    .await;
    let sensors = fixture("tasmota/discovery_sensors.json")["payload"].clone();
    publish(
        &c,
        format!("tasmota/discovery/{mac}/sensors"),
        sensors.to_string(),
        true,
    )
    .await;
    // Telemetry every second (Tasmota's TelePeriod, shortened).
    let mut tele_period = tokio::time::interval(Duration::from_secs(1));
    loop {
        let polled = tokio::select! {
            _ = tele_period.tick() => {
                let mut tele = fixture("tasmota/tele_state_dimmer.json")["payload"].clone();
                tele["POWER"] = json!(onoff(state.power));
                tele["Dimmer"] = json!(state.dimmer);
                publish(&c, format!("tele/{topic}/STATE"), tele.to_string(), false).await;
                let sensor = fixture("tasmota/sensor_sht3x_dht11.json")["payload"].clone();
                publish(&c, format!("tele/{topic}/SENSOR"), sensor.to_string(), false).await;
                continue;
            }
            e = eventloop.poll() => e,
        };
        let event = match polled {
            Ok(e) => e,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let p = match event {
            Event::Incoming(Packet::SubAck(_)) => {
                let _ = ready.try_send(());
                continue;
            }
            Event::Incoming(Packet::Publish(p)) => p,
            _ => continue,
        };
        let payload = String::from_utf8_lossy(&p.payload).to_string();
        let command = p
            .topic
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let _ = commands.send((p.topic.clone(), payload.clone())).await;
        let result = |v: Value| (format!("stat/{topic}/RESULT"), v.to_string());
        let mut replies = Vec::new();
        match command.as_str() {
            "POWER" => {
                match payload.to_ascii_uppercase().as_str() {
                    "ON" | "1" => state.power = true,
                    "OFF" | "0" => state.power = false,
                    "TOGGLE" | "2" => state.power = !state.power,
                    _ => {}
                }
                replies.push(result(json!({"POWER": onoff(state.power)})));
                replies.push((format!("stat/{topic}/POWER"), onoff(state.power).into()));
            }
            "DIMMER" => {
                if let Ok(n) = payload.trim().parse::<u8>() {
                    state.dimmer = n.min(100);
                    state.power = state.dimmer > 0;
                }
                replies.push(result(
                    json!({"POWER": onoff(state.power), "Dimmer": state.dimmer}),
                ));
            }
            "STATUS" => {
                let mut all = fixture("tasmota/status0_sonoff_basic.json")["payload"].clone();
                all["Status"]["FriendlyName"] = json!(["Test"]);
                all["Status"]["Topic"] = json!(topic);
                all["StatusSTS"]["POWER"] = json!(onoff(state.power));
                match payload.trim() {
                    "0" | "" => replies.push((format!("stat/{topic}/STATUS0"), all.to_string())),
                    "11" => replies.push((
                        format!("stat/{topic}/STATUS11"),
                        json!({"StatusSTS": all["StatusSTS"]}).to_string(),
                    )),
                    _ => {}
                }
            }
            "RESTART" if payload.trim() == "1" => {
                publish(
                    &c,
                    result(json!({"Restart": "Restarting"})).0,
                    r#"{"Restart":"Restarting"}"#,
                    false,
                )
                .await;
                // Let the publish out, then vanish without DISCONNECT: the broker sends the will.
                for _ in 0..3 {
                    let _ =
                        tokio::time::timeout(Duration::from_millis(100), eventloop.poll()).await;
                }
                return true;
            }
            _ => {}
        }
        for (t, body) in replies {
            publish(&c, t, body, false).await;
        }
    }
}

async fn clear_retained(topic: &str, mac: &str) {
    let (c, mut eventloop) =
        AsyncClient::new(MqttOptions::new(unique("clean-"), "127.0.0.1", 1883), 16);
    for t in [
        format!("tasmota/discovery/{mac}/config"),
        format!("tasmota/discovery/{mac}/sensors"),
        format!("tele/{topic}/LWT"),
    ] {
        c.publish(t, QoS::AtLeastOnce, true, Vec::<u8>::new())
            .await
            .unwrap();
    }
    let _ = tokio::time::timeout(Duration::from_millis(500), async {
        loop {
            let _ = eventloop.poll().await;
        }
    })
    .await;
}

#[tokio::test]
async fn tasmota_device_end_to_end_through_mosquitto() {
    if !listening(1883) && peer_missing("no MQTT broker on 127.0.0.1:1883") {
        return;
    }
    let device_topic = unique("tasmota_");
    let mac = unique("0000AB");
    let mut device = SimDevice::start(&device_topic, &mac).await;
    let gw = unique("tas");
    let h = Harness::start(&[gateway(
        &gw,
        json!({"type": "tasmota", "protocol": {"type": "mqtt", "broker": "tcp://127.0.0.1:1883"}}),
    )])
    .await;
    h.wait_status(&gw, Status::Up).await;
    let node = format!("{gw}.{}", device.topic);

    // Discovery (retained) names the node; STATUS 0 on start and telemetry fill it.
    let n = h
        .wait_node(&node, "named from discovery and STATUS0", |n| {
            n.name == "Test"
        })
        .await;
    let version = n.labels.get("version").cloned().unwrap_or_default();
    assert!(
        ["8.4.0.2", "5.12.0a"].contains(&version.as_str()),
        "{version}"
    );
    h.wait_node(&node, "ip address", |n| {
        n.others.get("ip_address").is_some()
    })
    .await;
    h.wait_field(&format!("{node}.ENERGY.Total"), json!(0.017))
        .await;
    let t = h
        .wait_field(&format!("{node}.SHT3X.Temperature"), json!(74.8))
        .await;
    assert_eq!(t.unit, "°F");
    h.wait_field(&format!("{node}.Memory.Heap"), json!(23.0))
        .await;
    h.wait_field(&format!("{node}.Control.POWER"), json!(false))
        .await;

    // A set from Switchyard changes the device, whose answer updates the field.
    let dev_topic = device.topic.clone();
    let set = |source: &str, key: &str, value: &str| {
        Message::new(MessageType::Set, "", dev_topic.clone(), source)
            .with_payload(Payload::new(key, value))
    };
    h.send_to_gateway(&gw, &set("Control", "POWER", "true"))
        .await;
    assert_eq!(device.expect_command("/POWER").await, "ON");
    h.wait_field(&format!("{node}.Control.POWER"), json!(true))
        .await;
    h.send_to_gateway(&gw, &set("Control", "Dimmer", "40"))
        .await;
    assert_eq!(device.expect_command("/Dimmer").await, "40");
    h.wait_field(&format!("{node}.Control.Dimmer"), json!(40.0))
        .await;

    // Garbage, wrong types and an oversized payload are rejected, counted; the gateway carries on.
    let before = h.gateway_stats(&gw).rejected;
    let mut bad = MqttOptions::new(unique("bad-"), "127.0.0.1", 1883);
    bad.set_max_packet_size(2 << 20, 2 << 20);
    let (c, mut el) = AsyncClient::new(bad, 16);
    let bad_task = tokio::spawn(async move {
        loop {
            if el.poll().await.is_err() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    });
    let dt = &device.topic;
    publish(
        &c,
        format!("tele/{dt}/SENSOR"),
        "{\"DHT11\":{\"Temperature\":",
        false,
    )
    .await;
    publish(&c, format!("tele/{dt}/STATE"), "[1,2,3]", false).await;
    publish(&c, format!("stat/{dt}/POWER"), "maybe", false).await;
    publish(
        &c,
        format!("tele/{dt}/SENSOR"),
        vec![b' '; 1000 * 1000],
        false,
    )
    .await;
    super::harness::eventually("4 rejections", || async {
        (h.gateway_stats(&gw).rejected >= before + 4).then_some(())
    })
    .await;
    bad_task.abort();
    assert_eq!(h.gateway_state(&gw).await.status, Status::Up);

    // Restart: the device drops off (last will → node down) and comes back (node up).
    h.send_to_gateway(
        &gw,
        &Message::new(MessageType::Action, "", device.topic.clone(), "")
            .with_payload(Payload::new("reboot", "")),
    )
    .await;
    assert_eq!(device.expect_command("/Restart").await, "1");
    h.wait_node(&node, "down after the restart", |n| {
        n.state.status == Status::Down
    })
    .await;
    h.wait_node(&node, "up again", |n| n.state.status == Status::Up)
        .await;
    // After coming back the device answers commands again.
    h.send_to_gateway(&gw, &set("Control", "POWER", "off"))
        .await;
    assert_eq!(device.expect_command("/POWER").await, "OFF");
    h.wait_field(&format!("{node}.Control.POWER"), json!(false))
        .await;

    h.stop().await;
    device.task.abort();
    clear_retained(&device.topic, &device.mac).await;
}
