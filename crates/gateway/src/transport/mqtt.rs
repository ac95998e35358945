//! MQTT client (rumqttc): a gateway subscribes to its devices' topics and publishes under a prefix.

use super::{Connection, FrameSink, FrameSource, Inbound, RawFrame, TransportContext, tls};
use crate::error::TransportError;
use crate::message_logger::{Direction, MessageLogger};
use crate::stats::GatewayStats;
use async_trait::async_trait;
use rumqttc::{
    AsyncClient, ConnectReturnCode, Event, EventLoop, MqttOptions, NetworkOptions, Packet, QoS,
    SubscribeFilter, Transport,
};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::rate_log::RateLimitedLog;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

/// Outgoing requests rumqttc holds before `publish` waits (bounded by rumqttc's channel).
const REQUEST_CAPACITY: usize = 64;
/// Largest MQTT packet accepted or sent. A larger incoming one makes rumqttc drop the
/// connection (then the gateway reconnects after `reconnectDelay`).
const MAX_PACKET: usize = 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A publish that cannot be handed to the client this long means the connection is stuck.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);

/// `protocol: {type: mqtt, broker: "tcp://127.0.0.1:1883", subscribe: "in/#", publish: "out"}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MqttConfig {
    /// `tcp://host:port` (or `mqtt://`; default port 1883), `ssl://`, `mqtts://` or `tls://` for
    /// TLS (default port 8883).
    pub broker: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    /// Default `<gatewayId>-<5 random characters>`, new on every connection: set one when
    /// `cleanSession` is false, or the broker cannot resume the session.
    #[serde(default, alias = "client_id")]
    pub client_id: Option<String>,
    /// Topics to subscribe to: a comma-separated string or a list. Resubscribed on every connect.
    #[serde(default)]
    pub subscribe: Topics,
    /// Prefix of published topics: a provider's topic `t` goes to `<publish>/t`.
    #[serde(default)]
    pub publish: String,
    /// QoS of subscriptions and publishes (0, 1 or 2; default 0).
    #[serde(default)]
    pub qos: u8,
    /// MQTT keep-alive (default `30s`): a silent broker is noticed within about 2× this.
    #[serde(default)]
    pub keep_alive: Option<String>,
    /// Keep no session on the broker between connections (default true).
    #[serde(default)]
    pub clean_session: Option<bool>,
    /// TLS without checking the broker's certificate.
    #[serde(default)]
    pub insecure: bool,
    /// Pause before each publish (default none).
    #[serde(default)]
    pub transmit_pre_delay: Option<String>,
}

/// A comma-separated string or a list of topics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Topics(pub Vec<String>);

impl<'de> Deserialize<'de> for Topics {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            One(String),
            Many(Vec<String>),
        }
        let list = match Form::deserialize(d)? {
            Form::One(s) => s.split(',').map(str::to_string).collect(),
            Form::Many(v) => v,
        };
        Ok(Topics(
            list.into_iter()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect(),
        ))
    }
}

fn config_err(reason: impl Into<String>) -> TransportError {
    TransportError::Config {
        transport: "mqtt",
        reason: reason.into(),
    }
}

fn qos(level: u8) -> Result<QoS, TransportError> {
    match level {
        0 => Ok(QoS::AtMostOnce),
        1 => Ok(QoS::AtLeastOnce),
        2 => Ok(QoS::ExactlyOnce),
        n => Err(config_err(format!("`qos` must be 0, 1 or 2, not {n}"))),
    }
}

/// The default client id: the gateway id and 5 random characters (MyController's form).
pub fn default_client_id(gateway_id: &str) -> String {
    use rand::Rng;
    let suffix: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(5)
        .map(char::from)
        .collect();
    format!("{gateway_id}-{}", suffix.to_ascii_lowercase())
}

/// Host, port and whether TLS is used, from `broker`.
pub fn broker_address(broker: &str) -> Result<(String, u16, bool), TransportError> {
    let url = url::Url::parse(broker.trim()).map_err(|e| {
        config_err(format!(
            "`broker` {broker:?}: {e}; expected tcp://host:port"
        ))
    })?;
    let tls = match url.scheme() {
        "tcp" | "mqtt" => false,
        "ssl" | "mqtts" | "tls" => true,
        other => {
            return Err(config_err(format!(
                "`broker` scheme `{other}` is not tcp, mqtt, ssl, mqtts or tls"
            )));
        }
    };
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| config_err(format!("`broker` {broker:?} has no host")))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = url.port().unwrap_or(if tls { 8883 } else { 1883 });
    Ok((host, port, tls))
}

/// Connects and waits for the broker's CONNACK, so a returned connection is up.
pub(crate) async fn connect(
    config: &MqttConfig,
    ctx: &TransportContext,
) -> Result<Connection, TransportError> {
    let (host, port, use_tls) = broker_address(&config.broker)?;
    let qos = qos(config.qos)?;
    let keep_alive = super::duration_setting(
        "mqtt",
        "keepAlive",
        &config.keep_alive,
        Duration::from_secs(30),
    )?
    .max(Duration::from_secs(1));
    let pre_delay = super::duration_setting(
        "mqtt",
        "transmitPreDelay",
        &config.transmit_pre_delay,
        Duration::ZERO,
    )?;
    let client_id = config
        .client_id
        .clone()
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| default_client_id(&ctx.gateway_id));
    let mut options = MqttOptions::new(client_id, host.clone(), port);
    options
        .set_keep_alive(keep_alive)
        .set_clean_session(config.clean_session.unwrap_or(true))
        .set_max_packet_size(MAX_PACKET, MAX_PACKET);
    if !config.username.is_empty() {
        options.set_credentials(config.username.clone(), config.password.clone());
    }
    if use_tls {
        let tls_config = tls::client_config("mqtt", config.insecure)?;
        options.set_transport(Transport::tls_with_config(tls_config.into()));
    }
    let (client, mut eventloop) = AsyncClient::new(options, REQUEST_CAPACITY);
    let mut network = NetworkOptions::new();
    // rumqttc leaves Nagle on; with it every round trip gets a ~1.2 ms floor and ~40 ms tails.
    network.set_tcp_nodelay(true);
    network.set_connection_timeout(CONNECT_TIMEOUT.as_secs());
    eventloop.set_network_options(network);

    let target = format!("mqtt broker {host}:{port}");
    let filters: Vec<SubscribeFilter> = config
        .subscribe
        .0
        .iter()
        .map(|t| SubscribeFilter::new(t.clone(), qos))
        .collect();
    let connected = async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    return if ack.code == ConnectReturnCode::Success {
                        Ok(())
                    } else {
                        Err(format!("refused: {:?}", ack.code))
                    };
                }
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, connected).await {
        Ok(Ok(())) => {}
        Ok(Err(reason)) => return Err(TransportError::Connect { target, reason }),
        Err(_) => {
            return Err(TransportError::Connect {
                target,
                reason: format!("no CONNACK within {CONNECT_TIMEOUT:?}"),
            });
        }
    }
    subscribe(&client, &filters)?;
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    let reader = Reader {
        client: client.clone(),
        eventloop,
        filters,
        traffic: ctx.traffic.clone(),
        target,
        tx,
        bytes: Arc::new(Semaphore::new(READ_AHEAD_BYTES)),
        stats: ctx.stats.clone(),
        gateway_id: ctx.gateway_id.clone(),
        drop_log: RateLimitedLog::new(Duration::from_secs(1)),
    };
    Ok(Connection {
        sink: std::sync::Arc::new(MqttSink {
            client,
            prefix: config.publish.trim_end_matches('/').to_string(),
            qos,
            traffic: ctx.traffic.clone(),
            pre_delay,
        }),
        source: Box::new(MqttSource {
            rx,
            reader: tokio::spawn(reader.run()),
        }),
    })
}

fn subscribe(client: &AsyncClient, filters: &[SubscribeFilter]) -> Result<(), TransportError> {
    if filters.is_empty() {
        return Ok(());
    }
    client
        .try_subscribe_many(filters.to_vec())
        .map_err(|e| TransportError::Lost(format!("subscribing: {e}")))
}

struct MqttSink {
    client: AsyncClient,
    prefix: String,
    qos: QoS,
    traffic: MessageLogger,
    pre_delay: Duration,
}

#[async_trait]
impl FrameSink for MqttSink {
    async fn send(&self, frame: RawFrame) -> Result<(), TransportError> {
        let topic = match (self.prefix.is_empty(), frame.topic.is_empty()) {
            (true, _) => frame.topic.clone(),
            (false, true) => self.prefix.clone(),
            (false, false) => format!("{}/{}", self.prefix, frame.topic),
        };
        if topic.is_empty() || topic.contains(['+', '#']) {
            return Err(TransportError::Send(format!(
                "cannot publish to topic {topic:?}"
            )));
        }
        if !self.pre_delay.is_zero() {
            tokio::time::sleep(self.pre_delay).await;
        }
        let publish = self
            .client
            .publish(topic.clone(), self.qos, false, frame.payload.clone());
        match tokio::time::timeout(PUBLISH_TIMEOUT, publish).await {
            Ok(Ok(())) => {
                self.traffic.log(Direction::Out, &topic, &frame.payload);
                Ok(())
            }
            Ok(Err(e)) => Err(TransportError::Lost(format!("publishing: {e}"))),
            Err(_) => Err(TransportError::Lost(format!(
                "publishing: the client stayed busy for {PUBLISH_TIMEOUT:?}"
            ))),
        }
    }
}

/// Publishes read ahead of the provider (the reader task below): at most this many, and at
/// most [`READ_AHEAD_BYTES`] of payload.
pub const READ_AHEAD: usize = 1024;
/// Payload bytes read ahead of the provider; above [`MAX_PACKET`], so any one publish fits.
pub const READ_AHEAD_BYTES: usize = 4 * MAX_PACKET;

/// A publish read ahead, holding its share of [`READ_AHEAD_BYTES`] until the provider takes it.
type ReadAhead = (
    Result<Inbound, TransportError>,
    Option<OwnedSemaphorePermit>,
);

/// The provider's end of the reader task. Dropping it stops the task (and the connection).
struct MqttSource {
    rx: mpsc::Receiver<ReadAhead>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for MqttSource {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Polls the event loop all the time, so pings, acknowledgements and the sink's publishes go
/// out however slow the provider is (a provider that stops reading would otherwise hold up the
/// keep-alive answer until the broker or client drops the connection, and with a clean
/// session every publish the broker held for it, uncounted). Incoming publishes go to the
/// provider through a bounded queue ([`READ_AHEAD`] publishes, [`READ_AHEAD_BYTES`]): when it
/// is full, a QoS 0 publish is dropped, counted per message (`readDropped`) and logged at most
/// once a second; a QoS 1 or 2 publish waits for room (polling stops, the broker keeps what it
/// has not had acknowledged, as before).
struct Reader {
    client: AsyncClient,
    eventloop: EventLoop,
    filters: Vec<SubscribeFilter>,
    traffic: MessageLogger,
    target: String,
    tx: mpsc::Sender<ReadAhead>,
    bytes: Arc<Semaphore>,
    stats: Arc<GatewayStats>,
    gateway_id: String,
    drop_log: RateLimitedLog,
}

impl Reader {
    async fn run(mut self) {
        loop {
            let item = match self.eventloop.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    self.traffic.log(Direction::In, &p.topic, &p.payload);
                    let qos0 = p.qos == QoS::AtMostOnce;
                    let frame = RawFrame::publish(p.topic, p.payload);
                    // Payloads are at most MAX_PACKET, below the semaphore's total.
                    let need = u32::try_from(frame.payload.len().max(1)).unwrap_or(u32::MAX);
                    if qos0 {
                        let permit = self.bytes.clone().try_acquire_many_owned(need).ok();
                        match (permit, self.tx.try_reserve()) {
                            (Some(permit), Ok(slot)) => {
                                slot.send((Ok(Inbound::Frame(frame)), Some(permit)));
                            }
                            (_, Err(mpsc::error::TrySendError::Closed(()))) => return,
                            _ => self.dropped(),
                        }
                        continue;
                    }
                    let Ok(permit) = self.bytes.clone().acquire_many_owned(need).await else {
                        return;
                    };
                    (Ok(Inbound::Frame(frame)), Some(permit))
                }
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    match subscribe(&self.client, &self.filters) {
                        Ok(()) => continue,
                        Err(e) => (Err(e), None),
                    }
                }
                Ok(Event::Incoming(Packet::SubAck(ack))) => {
                    let refused = ack
                        .return_codes
                        .iter()
                        .filter(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure))
                        .count();
                    if refused == 0 {
                        continue;
                    }
                    let reason = format!("{} refused {refused} subscription(s)", self.target);
                    (Ok(Inbound::Rejected(reason)), None)
                }
                Ok(_) => continue,
                Err(e) => (
                    Err(TransportError::Lost(format!("{}: {e}", self.target))),
                    None,
                ),
            };
            let failed = item.0.is_err();
            if self.tx.send(item).await.is_err() || failed {
                return;
            }
        }
    }

    fn dropped(&self) {
        self.stats.add_read_dropped();
        self.drop_log.log(|suppressed| {
            tracing::warn!(
                gateway = %self.gateway_id, suppressed,
                "the provider is behind: dropped a QoS 0 publish from the broker (readDropped)"
            )
        });
    }
}

#[async_trait]
impl FrameSource for MqttSource {
    async fn next(&mut self) -> Result<Inbound, TransportError> {
        match self.rx.recv().await {
            // The permit goes here: the publish no longer counts against the read-ahead.
            Some((item, _permit)) => item,
            None => Err(TransportError::Lost("the mqtt reader stopped".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn broker_urls() {
        assert_eq!(
            broker_address("tcp://127.0.0.1:1883").unwrap(),
            ("127.0.0.1".into(), 1883, false)
        );
        assert_eq!(
            broker_address("mqtts://broker.example").unwrap(),
            ("broker.example".into(), 8883, true)
        );
        assert_eq!(
            broker_address("ssl://[::1]:8884").unwrap(),
            ("::1".into(), 8884, true)
        );
        assert!(broker_address("http://x:1").is_err());
        assert!(broker_address("127.0.0.1:1883").is_err());
    }

    #[test]
    fn topics_come_as_a_list_or_a_comma_separated_string() {
        let c: MqttConfig = serde_json::from_value(json!({
            "broker": "tcp://h:1", "subscribe": "a/#, b/+/c ,", "clientId": "me"
        }))
        .unwrap();
        assert_eq!(c.subscribe.0, vec!["a/#", "b/+/c"]);
        assert_eq!(c.client_id.as_deref(), Some("me"));
        let c: MqttConfig =
            serde_json::from_value(json!({"broker": "tcp://h:1", "subscribe": ["x", "y"]}))
                .unwrap();
        assert_eq!(c.subscribe.0, vec!["x", "y"]);
        let c: MqttConfig =
            serde_json::from_value(json!({"broker": "tcp://h:1", "client_id": "snake"})).unwrap();
        assert_eq!(c.client_id.as_deref(), Some("snake"));
    }

    #[test]
    fn client_ids_are_gateway_and_random() {
        let a = default_client_id("gw1");
        assert!(a.starts_with("gw1-") && a.len() == 9, "{a}");
        assert_ne!(a, default_client_id("gw1"));
    }

    /// The local Mosquitto (127.0.0.1:1883), or a skip (a failure under `CI=true`).
    fn local_broker_missing() -> bool {
        if std::net::TcpStream::connect(("127.0.0.1", 1883)).is_ok() {
            return false;
        }
        let why = "no MQTT broker on 127.0.0.1:1883";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{why} (CI=true: the test script must provide it)");
        }
        println!("SKIPPED: {why}");
        true
    }

    /// A connection whose provider reads nothing while `n` publishes arrive at `qos`; answers
    /// the source, the gateway's counters and the topic prefix.
    async fn flood(qos: u8, n: usize) -> (Box<dyn FrameSource>, Arc<GatewayStats>, String) {
        let prefix = format!("sy-readahead-{:08x}", rand::random::<u32>());
        let config: MqttConfig = serde_json::from_value(json!({
            "broker": "tcp://127.0.0.1:1883", "subscribe": format!("{prefix}/#"),
            "publish": format!("{prefix}-out"), "qos": qos
        }))
        .unwrap();
        let stats = Arc::new(GatewayStats::default());
        let ctx = TransportContext {
            gateway_id: "readahead".into(),
            traffic: MessageLogger::off(),
            stats: stats.clone(),
        };
        let connection = connect(&config, &ctx).await.unwrap();
        // The subscription is in place once a probe comes back.
        let mut options = MqttOptions::new(format!("{prefix}-dev"), "127.0.0.1", 1883);
        options.set_max_packet_size(MAX_PACKET, MAX_PACKET);
        let (device, mut eventloop) = AsyncClient::new(options, 64);
        let pump = tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });
        let mut source = connection.source;
        let level = super::qos(qos).unwrap();
        loop {
            device
                .publish(format!("{prefix}/probe"), level, false, "p")
                .await
                .unwrap();
            if let Ok(r) = tokio::time::timeout(Duration::from_millis(500), source.next()).await {
                assert!(matches!(r, Ok(Inbound::Frame(_))), "{r:?}");
                break;
            }
        }
        for i in 0..n {
            device
                .publish(format!("{prefix}/n"), level, false, i.to_string())
                .await
                .unwrap();
        }
        // Give the device's client time to hand every publish to the broker.
        tokio::time::sleep(Duration::from_millis(500)).await;
        drop(device);
        let _ = tokio::time::timeout(Duration::from_secs(10), pump).await;
        (source, stats, prefix)
    }

    /// Frames that come within `quiet` of each other.
    async fn drain(source: &mut Box<dyn FrameSource>, quiet: Duration) -> usize {
        let mut frames = 0;
        while let Ok(r) = tokio::time::timeout(quiet, source.next()).await {
            assert!(matches!(r, Ok(Inbound::Frame(_))), "{r:?}");
            frames += 1;
        }
        frames
    }

    /// QoS 0 publishes beyond the read-ahead are dropped and each is counted, while the
    /// connection stays served (what the provider gets plus what was counted is all that came).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn qos0_publishes_past_the_read_ahead_are_counted_one_by_one() {
        if local_broker_missing() {
            return;
        }
        let n = READ_AHEAD + 976;
        let (mut source, stats, _) = flood(0, n).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while (stats.snapshot().read_dropped as usize) < n - READ_AHEAD {
            assert!(
                tokio::time::Instant::now() < deadline,
                "dropped {} of {n} (read-ahead {READ_AHEAD})",
                stats.snapshot().read_dropped
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let frames = drain(&mut source, Duration::from_millis(500)).await;
        assert_eq!(frames, READ_AHEAD, "the read-ahead was full");
        assert_eq!(
            frames + stats.snapshot().read_dropped as usize,
            n,
            "every publish taken or counted"
        );
    }

    /// QoS 1 publishes are never dropped: past the read-ahead the reader waits, the broker keeps
    /// the rest, and the provider gets every one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn qos1_publishes_wait_for_room_and_none_is_dropped() {
        if local_broker_missing() {
            return;
        }
        let n = READ_AHEAD + 276;
        let (mut source, stats, _) = flood(1, n).await;
        let frames = drain(&mut source, Duration::from_secs(2)).await;
        assert_eq!(frames, n);
        assert_eq!(stats.snapshot().read_dropped, 0);
    }
}
