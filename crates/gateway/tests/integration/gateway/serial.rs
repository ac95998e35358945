//! The runtime over a serial port: a socat pty pair stands in for the USB radio.

use super::harness::{Harness, WAIT, echo_gateway, peer_missing};
use serde_json::json;
use std::path::{Path, PathBuf};
use switchyard_core::model::Status;
use switchyard_core::{Message, MessageType, Payload};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio_serial::SerialPortBuilderExt;

/// `socat` linking two ptys at `gateway` and `device`.
async fn pty_pair(gateway: &Path, device: &Path) -> Child {
    let _ = std::fs::remove_file(gateway);
    let _ = std::fs::remove_file(device);
    let child = Command::new("socat")
        .arg("-d")
        .arg(format!("pty,raw,echo=0,link={}", gateway.display()))
        .arg(format!("pty,raw,echo=0,link={}", device.display()))
        .kill_on_drop(true)
        .spawn()
        .expect("socat");
    super::harness::eventually("socat's ptys", || async {
        (gateway.exists() && device.exists()).then_some(())
    })
    .await;
    child
}

fn socat_missing() -> bool {
    std::process::Command::new("socat")
        .arg("-V")
        .output()
        .is_err()
}

struct Device {
    lines: tokio::io::Lines<BufReader<tokio::io::ReadHalf<tokio_serial::SerialStream>>>,
    writer: tokio::io::WriteHalf<tokio_serial::SerialStream>,
}

impl Device {
    fn open(path: &Path) -> Device {
        let port = tokio_serial::new(path.to_string_lossy(), 115_200)
            .open_native_async()
            .unwrap();
        let (r, w) = tokio::io::split(port);
        Device {
            lines: BufReader::new(r).lines(),
            writer: w,
        }
    }

    async fn send(&mut self, text: &str) {
        self.writer.write_all(text.as_bytes()).await.unwrap();
        self.writer.flush().await.unwrap();
    }

    async fn next_line(&mut self) -> String {
        tokio::time::timeout(WAIT, self.lines.next_line())
            .await
            .expect("no line from the gateway")
            .unwrap()
            .expect("the port closed")
    }
}

#[tokio::test]
async fn a_serial_gateway_carries_lines_and_survives_the_port_going_away() {
    if socat_missing() && peer_missing("socat is not installed") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (gw_end, dev_end): (PathBuf, PathBuf) = (dir.path().join("gw"), dir.path().join("dev"));
    let mut socat = pty_pair(&gw_end, &dev_end).await;
    let h = Harness::start(&[echo_gateway(
        "serial",
        json!({"type": "serial", "portname": gw_end, "baudrate": 115200}),
    )])
    .await;
    h.wait_status("serial", Status::Up).await;
    let mut device = Device::open(&dev_end);

    device.send("4;1;temp;19.5\n").await;
    h.wait_field("serial.4.1.temp", json!("19.5")).await;
    let msg =
        Message::new(MessageType::Set, "", "4", "1").with_payload(Payload::new("V_LIGHT", "1"));
    h.send_to_gateway("serial", &msg).await;
    assert_eq!(device.next_line().await, "4;1;V_LIGHT;1");

    // Unplugged: the port goes away.
    socat.kill().await.unwrap();
    drop(device);
    let down = h.wait_status("serial", Status::Down).await;
    assert!(
        down.message.contains(&*gw_end.to_string_lossy()),
        "{down:?}"
    );

    // Plugged back in: up again after reconnectDelay (and any failed attempts' back-off).
    let _socat = pty_pair(&gw_end, &dev_end).await;
    h.wait_status("serial", Status::Up).await;
    let mut device = Device::open(&dev_end);
    device.send("4;1;temp;20\n").await;
    h.wait_field("serial.4.1.temp", json!("20")).await;
    h.stop().await;
}
