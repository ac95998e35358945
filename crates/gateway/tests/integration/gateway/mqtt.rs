//! The runtime over MQTT: the local Mosquitto for data both ways, and a private Mosquitto that
//! the test stops and starts again for the reconnect.

use super::harness::{Harness, WAIT, echo_gateway, eventually, peer_missing};
use bytes::Bytes;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::json;
use std::time::Duration;
use switchyard_core::model::Status;
use switchyard_core::{Message, MessageType, Payload};
use tokio::sync::mpsc;

/// A device: an MQTT client whose received publishes arrive on a channel.
struct Device {
    client: AsyncClient,
    received: mpsc::Receiver<(String, Bytes)>,
    _task: tokio::task::JoinHandle<()>,
}

impl Device {
    async fn connect(port: u16, subscribe: &str) -> Device {
        let id = format!("device-{}", rand_suffix());
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(5));
        let (client, mut eventloop) = AsyncClient::new(options, 16);
        let (tx, received) = mpsc::channel(64);
        let (ready_tx, mut ready) = mpsc::channel(1);
        client.subscribe(subscribe, QoS::AtLeastOnce).await.unwrap();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = ready_tx.try_send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        if tx.send((p.topic, p.payload)).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        tokio::time::timeout(WAIT, ready.recv())
            .await
            .expect("device subscribed");
        Device {
            client,
            received,
            _task: task,
        }
    }

    async fn publish(&self, topic: &str, payload: &str) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload.as_bytes().to_vec())
            .await
            .unwrap();
    }

    async fn next(&mut self) -> (String, String) {
        let (t, p) = tokio::time::timeout(WAIT, self.received.recv())
            .await
            .expect("nothing published to the device")
            .unwrap();
        (t, String::from_utf8(p.to_vec()).unwrap())
    }
}

fn rand_suffix() -> String {
    format!("{:08x}", rand::random::<u32>())
}

fn listening(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

#[tokio::test]
async fn mqtt_gateway_subscribes_and_publishes_under_its_prefix() {
    if !listening(1883) && peer_missing("no MQTT broker on 127.0.0.1:1883") {
        return;
    }
    let prefix = format!("switchyard-test-{}", rand_suffix());
    let h = Harness::start(&[echo_gateway(
        "mq",
        json!({
            "type": "mqtt", "broker": "tcp://127.0.0.1:1883",
            "subscribe": format!("{prefix}/in/#"), "publish": format!("{prefix}/out"), "qos": 1
        }),
    )])
    .await;
    h.wait_status("mq", Status::Up).await;
    let mut device = Device::connect(1883, &format!("{prefix}/out/#")).await;

    device
        .publish(&format!("{prefix}/in/node2"), "2;1;temp;18.25")
        .await;
    h.wait_field("mq.2.1.temp", json!("18.25")).await;
    device
        .publish(&format!("{prefix}/in/node2"), "not a line")
        .await;
    eventually("rejected", || async {
        (h.gateway_stats("mq").rejected == 1).then_some(())
    })
    .await;

    let msg =
        Message::new(MessageType::Set, "", "2", "1").with_payload(Payload::new("V_STATUS", "1"));
    h.send_to_gateway("mq", &msg).await;
    assert_eq!(
        device.next().await,
        (format!("{prefix}/out/2"), "2;1;V_STATUS;1".to_string())
    );
    h.stop().await;
}

/// A private broker on a free port, so the test may stop it.
async fn broker(port: u16) -> tokio::process::Child {
    let child = tokio::process::Command::new("mosquitto")
        .args(["-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("mosquitto");
    eventually("mosquitto listening", || async {
        listening(port).then_some(())
    })
    .await;
    child
}

#[tokio::test]
async fn mqtt_gateway_is_down_when_the_broker_goes_and_resubscribes_when_it_returns() {
    if std::process::Command::new("mosquitto")
        .arg("-h")
        .output()
        .is_err()
        && peer_missing("mosquitto is not installed")
    {
        return;
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut mosquitto = broker(port).await;
    let h = Harness::start(&[echo_gateway(
        "mq",
        json!({
            "type": "mqtt", "broker": format!("tcp://127.0.0.1:{port}"),
            "subscribe": ["in/#"], "publish": "out", "keepAlive": "5s"
        }),
    )])
    .await;
    h.wait_status("mq", Status::Up).await;

    mosquitto.kill().await.unwrap();
    let down = h.wait_status("mq", Status::Down).await;
    assert!(down.message.contains("connection lost"), "{down:?}");

    let _mosquitto = broker(port).await;
    h.wait_status("mq", Status::Up).await;
    // A broker without persistence forgot the subscription: the gateway made it again.
    let device = Device::connect(port, "out/#").await;
    device.publish("in/x", "9;1;lux;300").await;
    h.wait_field("mq.9.1.lux", json!("300")).await;
    h.stop().await;
}
