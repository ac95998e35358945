//! The test side: a controller's end of each transport, speaking through the protocol module, and
//! the peers (socat, Mosquitto) the real transports need.

use rumqttc::{AsyncClient, Event, MqttOptions, NetworkOptions, Packet, QoS};
use std::path::Path;
use std::time::Duration;
use switchyard_gateway::providers::mysensors::protocol::{RawFrame, parse_line, parse_mqtt};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// Mosquitto as the tests expect it (started with `mosquitto -d -c /etc/mosquitto/mosquitto.conf`).
pub const BROKER: &str = "127.0.0.1:1883";

/// Whether a test may run without `what`: with `CI=true` a missing peer fails the test, elsewhere
/// the test says why it is skipped.
pub fn skip_without(what: &str) -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true and {what}");
    }
    println!("SKIPPED: {what}");
    true
}

pub fn socat_missing() -> bool {
    std::process::Command::new("socat")
        .arg("-V")
        .output()
        .is_err()
}

pub async fn broker_missing() -> bool {
    let connect = tokio::net::TcpStream::connect(BROKER);
    !matches!(
        tokio::time::timeout(Duration::from_secs(2), connect).await,
        Ok(Ok(_))
    )
}

/// A unique prefix so that concurrent test runs on one broker do not hear each other.
pub fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{name}-{}-{nanos}", std::process::id())
}

/// `socat` linking two ptys at `a` and `b`; killed when dropped.
pub async fn pty_pair(a: &Path, b: &Path) -> tokio::process::Child {
    let child = tokio::process::Command::new("socat")
        .arg("-d")
        .arg("-d")
        .arg(format!("pty,raw,echo=0,link={}", a.display()))
        .arg(format!("pty,raw,echo=0,link={}", b.display()))
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start socat");
    for _ in 0..200 {
        if a.exists() && b.exists() {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("socat did not create its ptys");
}

/// The controller's end of a gateway.
pub trait Link {
    async fn send(&mut self, frame: RawFrame);
    /// The next frame the gateway sent; `None` when the link closed.
    async fn recv(&mut self) -> Option<RawFrame>;
}

/// Lines over a serial port, a TCP socket or an in-memory stream.
pub struct LineLink<S> {
    lines: tokio::io::Lines<BufReader<tokio::io::ReadHalf<S>>>,
    writer: tokio::io::WriteHalf<S>,
}

impl<S: AsyncRead + AsyncWrite> LineLink<S> {
    pub fn new(stream: S) -> Self {
        let (r, w) = tokio::io::split(stream);
        LineLink {
            lines: BufReader::new(r).lines(),
            writer: w,
        }
    }

    /// Writes raw bytes: for garbage.
    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.expect("write");
        self.writer.flush().await.expect("flush");
    }
}

impl<S: AsyncRead + AsyncWrite> Link for LineLink<S> {
    async fn send(&mut self, frame: RawFrame) {
        self.send_bytes(frame.encode_line().as_bytes()).await;
    }

    async fn recv(&mut self) -> Option<RawFrame> {
        let line = self.lines.next_line().await.ok()??;
        // The simulator must only ever send lines the protocol accepts.
        Some(parse_line(line.as_bytes()).unwrap_or_else(|e| panic!("bad line {line:?}: {e}")))
    }
}

/// A controller on the broker: subscribed to the gateway's publish prefix, publishing under its
/// subscribe prefix.
pub struct MqttLink {
    client: AsyncClient,
    frames: mpsc::Receiver<RawFrame>,
    to_gateway: String,
    _poller: tokio::task::JoinHandle<()>,
}

impl MqttLink {
    /// Returns once the subscription is in place.
    pub async fn connect(from_gateway: &str, to_gateway: &str) -> MqttLink {
        let mut options = MqttOptions::new(unique("sim-test-controller"), "127.0.0.1", 1883);
        options.set_keep_alive(Duration::from_secs(10));
        let (client, mut eventloop) = AsyncClient::new(options, 1024);
        let mut network = NetworkOptions::new();
        network.set_tcp_nodelay(true);
        eventloop.set_network_options(network);
        client
            .subscribe(format!("{from_gateway}/#"), QoS::AtMostOnce)
            .await
            .expect("subscribe");
        let (subscribed_tx, subscribed) = tokio::sync::oneshot::channel();
        let (tx, frames) = mpsc::channel(4096);
        let poller = tokio::spawn(async move {
            let mut subscribed_tx = Some(subscribed_tx);
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        if let Some(s) = subscribed_tx.take() {
                            let _ = s.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let frame = parse_mqtt(&p.topic, &p.payload)
                            .unwrap_or_else(|e| panic!("bad topic {:?}: {e}", p.topic));
                        if tx.send(frame).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => panic!("test controller lost the broker: {e}"),
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(10), subscribed)
            .await
            .expect("no SUBACK")
            .expect("poller stopped");
        MqttLink {
            client,
            frames,
            to_gateway: to_gateway.to_string(),
            _poller: poller,
        }
    }
}

impl Link for MqttLink {
    async fn send(&mut self, frame: RawFrame) {
        self.client
            .publish(
                frame.mqtt_topic(&self.to_gateway),
                QoS::AtMostOnce,
                false,
                frame.payload,
            )
            .await
            .expect("publish");
    }

    async fn recv(&mut self) -> Option<RawFrame> {
        self.frames.recv().await
    }
}

/// An independent Intel HEX writer: 16-byte data records, an extended linear address record
/// whenever the upper 16 bits change, then EOF.
pub fn write_intel_hex(start: u32, data: &[u8]) -> String {
    let mut out = String::new();
    let mut upper = None;
    let mut record = |kind: u8, address: u16, payload: &[u8]| {
        let mut bytes = vec![
            payload.len() as u8,
            (address >> 8) as u8,
            address as u8,
            kind,
        ];
        bytes.extend_from_slice(payload);
        let sum: u32 = bytes.iter().map(|b| u32::from(*b)).sum();
        bytes.push((0x100 - (sum & 0xFF)) as u8);
        out.push(':');
        for b in bytes {
            out.push_str(&format!("{b:02X}"));
        }
        out.push_str("\r\n");
    };
    for (i, chunk) in data.chunks(16).enumerate() {
        let address = start + (i * 16) as u32;
        if upper != Some(address >> 16) {
            upper = Some(address >> 16);
            record(0x04, 0, &((address >> 16) as u16).to_be_bytes());
        }
        record(0x00, address as u16, chunk);
    }
    record(0x01, 0, &[]);
    out
}
