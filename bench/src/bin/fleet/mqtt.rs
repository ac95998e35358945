//! MQTT clients of the harness: a paced generator, a counting subscriber and the no-work
//! forwarder. Every payload is a sequence number, so one receiver can tell a first arrival from a
//! retry and time it against the moment the generator sent it.

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, NetworkOptions, Packet, QoS};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// Requests a client queues before `publish` waits: the generator's backpressure.
const REQUEST_CAPACITY: usize = 4096;
/// Send times kept, by sequence number modulo this (16 MiB); a message still unanswered after
/// this many later ones is counted lost rather than timed.
const RING: usize = 1 << 21;
/// Latency samples kept per step; past it samples are dropped and counted.
const MAX_SAMPLES: usize = 2_000_000;

pub struct Broker {
    pub host: String,
    pub port: u16,
}

pub fn connect(broker: &Broker, id: &str) -> (AsyncClient, EventLoop) {
    let mut options = MqttOptions::new(id, broker.host.clone(), broker.port);
    options
        .set_keep_alive(Duration::from_secs(30))
        .set_max_packet_size(64 * 1024, 64 * 1024)
        .set_clean_session(true);
    let (client, mut eventloop) = AsyncClient::new(options, REQUEST_CAPACITY);
    // Without it each small publish can wait on the peer's delayed ACK (~40 ms tails).
    let mut network = NetworkOptions::new();
    network.set_tcp_nodelay(true);
    eventloop.set_network_options(network);
    (client, eventloop)
}

/// When each sequence number was sent and which have come back.
pub struct Recorder {
    start: Instant,
    sent_at: Vec<AtomicU64>,
    first: AtomicU64,
    duplicates: AtomicU64,
    samples: std::sync::Mutex<Vec<u32>>,
    dropped_samples: AtomicU64,
}

impl Recorder {
    pub fn new() -> Arc<Recorder> {
        Arc::new(Recorder {
            start: Instant::now(),
            sent_at: (0..RING).map(|_| AtomicU64::new(0)).collect(),
            first: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            samples: std::sync::Mutex::new(Vec::new()),
            dropped_samples: AtomicU64::new(0),
        })
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64 + 1
    }

    pub fn mark(&self, seq: u64) {
        self.sent_at[seq as usize % RING].store(self.now(), Ordering::Relaxed);
    }

    /// Records an arrival of `seq`: the first one is timed, later ones are duplicates.
    pub fn arrived(&self, seq: u64) {
        let sent = self.sent_at[seq as usize % RING].swap(0, Ordering::Relaxed);
        if sent == 0 {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.first.fetch_add(1, Ordering::Relaxed);
        let micros = ((self.now().saturating_sub(sent)) / 1000).min(u32::MAX as u64) as u32;
        let mut samples = self.samples.lock().unwrap();
        if samples.len() < MAX_SAMPLES {
            samples.push(micros);
        } else {
            self.dropped_samples.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn received(&self) -> u64 {
        self.first.load(Ordering::Relaxed)
    }

    pub fn duplicates(&self) -> u64 {
        self.duplicates.load(Ordering::Relaxed)
    }

    /// The step's latency samples (µs), leaving none behind.
    pub fn take_samples(&self) -> Vec<u32> {
        std::mem::take(&mut *self.samples.lock().unwrap())
    }
}

/// Polls an event loop until the connection fails for good; `on_publish` sees every message.
pub fn drive(
    mut eventloop: EventLoop,
    mut on_publish: impl FnMut(&str, &[u8]) + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut failures = 0;
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    failures = 0;
                    let topic: &str = &p.topic;
                    on_publish(topic, &p.payload);
                }
                Ok(_) => failures = 0,
                Err(e) => {
                    failures += 1;
                    if failures > 5 {
                        eprintln!("mqtt: giving up: {e}");
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    })
}

pub fn parse_seq(payload: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(payload).ok()?.trim();
    text.parse::<u64>()
        .ok()
        .or_else(|| text.parse::<f64>().ok().map(|v| v as u64))
}

/// A subscriber that records every arrival of `filter` in `recorder`; returns once subscribed.
pub async fn subscriber(
    broker: &Broker,
    id: &str,
    filter: &str,
    recorder: Arc<Recorder>,
) -> anyhow::Result<(AsyncClient, JoinHandle<()>)> {
    let (client, eventloop) = connect(broker, id);
    client.subscribe(filter, QoS::AtMostOnce).await?;
    let task = drive(eventloop, move |_, payload| {
        if let Some(seq) = parse_seq(payload) {
            recorder.arrived(seq);
        }
    });
    // The SUBACK is not surfaced here; give the broker a moment to register the subscription.
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok((client, task))
}

/// The no-work forwarder: subscribe to `<from>/#` and republish each message, unchanged, on
/// `<to>/<rest>`. Republishes go through a bounded channel; when it is full the message is
/// dropped (and shows as loss).
pub async fn forwarder(broker: &Broker, from: &str, to: &str) -> anyhow::Result<JoinHandle<()>> {
    let (client, eventloop) = connect(broker, "sy-bench-forwarder");
    client
        .subscribe(format!("{from}/#"), QoS::AtMostOnce)
        .await?;
    let from = format!("{from}/");
    let to = to.to_string();
    let publisher = client.clone();
    let task = drive(eventloop, move |topic, payload| {
        if let Some(rest) = topic.strip_prefix(&from) {
            let _ = publisher.try_publish(
                format!("{to}/{rest}"),
                QoS::AtMostOnce,
                false,
                payload.to_vec(),
            );
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(task)
}

/// Publishes `rate` messages a second for `duration`, sequence numbers from `first`, the topic
/// of each chosen by `topic`. Returns how many were sent (behind schedule when the client's
/// queue pushes back).
pub async fn generate(
    client: &AsyncClient,
    recorder: &Recorder,
    rate: u64,
    duration: Duration,
    first: u64,
    topic: impl Fn(u64) -> String,
) -> anyhow::Result<u64> {
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let total = (rate as f64 * duration.as_secs_f64()) as u64;
    let mut sent = 0;
    while sent < total {
        tick.tick().await;
        let due = ((rate as f64 * start.elapsed().as_secs_f64()) as u64).min(total);
        while sent < due {
            let seq = first + sent;
            recorder.mark(seq);
            client
                .publish(topic(seq), QoS::AtMostOnce, false, seq.to_string())
                .await?;
            sent += 1;
        }
        if start.elapsed() > duration * 3 {
            break; // the client cannot keep up at all; report what went out
        }
    }
    Ok(sent)
}
