//! The inbound loop: frames from the gateway become messages for the processor, echoes complete
//! acknowledgement waits, requests are answered; meanwhile the periodic discovery broadcast and
//! the firmware cache purge run here too.
//!
//! It runs as two halves joined in one task. The reader parses each frame and matches an echo to
//! the send waiting for it at once; the handler then emits the frames (echoes too, stored like any
//! set) and answers requests in the order they were read. So an echo is matched within the send's
//! `timeout` even while [`crate::ProviderContext::emit`] waits for a processor that has fallen
//! behind; otherwise the echo would sit behind that wait, and the runtime would resend the set
//! (more load on a processor already behind).

use super::network::Network;
use super::ota::PURGE_INTERVAL;
use super::protocol::RawFrame;
use super::protocol::mapping::{Inbound as Mapped, frame_to_inbound};
use super::requests::is_request;
use crate::error::GatewayError;
use crate::transport::{FrameSource, Inbound, RawFrame as WireFrame};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::{Instant, Interval, interval_at};
use tokio_util::sync::CancellationToken;

/// How much of a rejected frame a log line quotes.
const QUOTE_CHARS: usize = 64;

/// Frames read (and their echoes matched) ahead of the handler. When it is full the reader waits
/// for room and reads nothing more, as the single loop did before: the transport's own flow
/// control then slows the gateway, and echoes behind wait too (they may be resent).
pub(crate) const READ_AHEAD: usize = 1024;

pub(crate) async fn run(
    network: Arc<Network>,
    source: Box<dyn FrameSource>,
) -> Result<(), GatewayError> {
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    // When the reader ends (a lost connection) the handler still hands over what was read, for
    // at most `DRAIN_LIMIT`, then drops the rest (counted as inbound drops) so the gateway
    // restarts soon; a cancellation (a stop or restart) ends both at once.
    let reader_done = CancellationToken::new();
    let reading = async {
        let r = read(&network, source, tx).await;
        reader_done.cancel();
        r
    };
    let (read, ()) = tokio::join!(reading, handle(&network, rx, &reader_done));
    read
}

async fn read(
    network: &Network,
    mut source: Box<dyn FrameSource>,
    tx: mpsc::Sender<RawFrame>,
) -> Result<(), GatewayError> {
    let cancel = network.ctx.cancel().clone();
    loop {
        let frame = tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            next = source.next() => match next? {
                Inbound::Frame(wire) => match network.link.decode(&wire) {
                    Ok(frame) => frame,
                    Err(e) => {
                        network.ctx.reject(format!("{e}: {}", quote(&wire)));
                        continue;
                    }
                },
                Inbound::Rejected(reason) => {
                    network.ctx.reject(reason);
                    continue;
                }
            },
        };
        if frame.ack {
            network.ctx.acknowledge(&frame.echo_key());
        }
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            sent = tx.send(frame) => {
                if sent.is_err() {
                    // The handler only ends on cancellation.
                    return Ok(());
                }
            }
        }
    }
}

/// How long frames already read are still handed over after the connection is lost. Without
/// a bound a stuck processor (each emit waiting `INBOUND_WAIT`) would hold the restart for up to
/// `READ_AHEAD` seconds.
pub(crate) const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

async fn handle(
    network: &Network,
    mut rx: mpsc::Receiver<RawFrame>,
    reader_done: &CancellationToken,
) {
    let cancel = network.ctx.cancel().clone();
    let mut drain_until: Option<Instant> = None;
    let mut discovery = network
        .settings
        .discovery_interval
        .map(|every| interval_at(Instant::now() + every, every));
    let mut purge = interval_at(Instant::now() + PURGE_INTERVAL, PURGE_INTERVAL);
    loop {
        if drain_until.is_none() && reader_done.is_cancelled() {
            drain_until = Some(Instant::now() + DRAIN_LIMIT);
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            frame = rx.recv() => match frame {
                Some(frame) if drain_until.is_some_and(|end| Instant::now() >= end) => {
                    drop(frame);
                    let mut dropped = 1u64;
                    while rx.try_recv().is_ok() {
                        dropped += 1;
                    }
                    for _ in 0..dropped {
                        network.ctx.stats.add_inbound_dropped();
                    }
                    tracing::warn!(
                        gateway = %network.gateway_id(), dropped,
                        "connection lost with readings not yet handed over; dropped them to restart"
                    );
                    return;
                }
                Some(frame) => network.receive(&frame).await,
                None => return,
            },
            _ = tick(&mut discovery) => network.discover().await,
            _ = purge.tick() => network.ota.purge(Instant::now()),
        }
    }
}

async fn tick(interval: &mut Option<Interval>) {
    match interval {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// The frame as received, cut for a log line.
fn quote(wire: &WireFrame) -> String {
    let text = String::from_utf8_lossy(&wire.payload);
    let cut: String = text.chars().take(QUOTE_CHARS).collect();
    let more = if text.chars().count() > QUOTE_CHARS {
        "…"
    } else {
        ""
    };
    if wire.topic.is_empty() {
        format!("{cut:?}{more}")
    } else {
        let topic: String = wire.topic.chars().take(QUOTE_CHARS).collect();
        format!("{topic:?} {cut:?}{more}")
    }
}

impl Network {
    /// A frame the reader parsed (and whose echo it matched already).
    async fn receive(&self, frame: &RawFrame) {
        if is_request(frame) {
            return self.answer(frame).await;
        }
        match frame_to_inbound(self.gateway_id(), frame) {
            Ok(Mapped::Messages(messages)) => {
                for msg in messages {
                    self.ctx.emit(msg).await;
                }
            }
            Ok(Mapped::Log { node_id, text }) => {
                tracing::debug!(gateway = %self.gateway_id(), node = node_id, %text, "MySensors log");
            }
            Ok(Mapped::Ignored(why)) => {
                tracing::trace!(gateway = %self.gateway_id(), %frame, why, "frame ignored");
            }
            Err(e) => self.ctx.reject(format!("{e}: {frame}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ack::AckWaiters;
    use crate::context::{INBOUND_WAIT, ProviderContext};
    use crate::error::TransportError;
    use crate::message_logger::MessageLogger;
    use crate::provider::AckRequest;
    use crate::providers::mysensors::config::Settings;
    use crate::providers::mysensors::link::Link;
    use crate::stats::GatewayStats;
    use crate::transport::Nowhere;
    use async_trait::async_trait;
    use std::collections::VecDeque;
    use std::path::PathBuf;
    use switchyard_bus::{EmbeddedBus, EmbeddedBusConfig};
    use switchyard_core::Message;
    use switchyard_core::bus::Bus;
    use switchyard_core::model::Gateway;
    use switchyard_core::rate_log::RateLimitedLog;
    use switchyard_core::store::Store;
    use tokio::sync::watch;
    use tokio_util::sync::CancellationToken;

    /// MQTT publishes as the gateway would send them, all at once, then nothing.
    struct Broker(VecDeque<WireFrame>);

    #[async_trait]
    impl FrameSource for Broker {
        async fn next(&mut self) -> Result<Inbound, TransportError> {
            match self.0.pop_front() {
                Some(wire) => Ok(Inbound::Frame(wire)),
                None => std::future::pending().await,
            }
        }
    }

    struct Setup {
        network: Arc<Network>,
        inbound_rx: mpsc::Receiver<Message>,
        acks: Arc<AckWaiters>,
        cancel: CancellationToken,
        stats: Arc<GatewayStats>,
        _dir: tempfile::TempDir,
    }

    /// A MySensors network whose processor queue holds one message that nobody reads for now.
    async fn setup() -> Setup {
        let bus: Arc<dyn Bus> = Arc::new(EmbeddedBus::new(&EmbeddedBusConfig::default()).unwrap());
        setup_with(bus, 1).await
    }

    /// A MySensors network on `bus` whose processor queue holds `capacity` messages.
    async fn setup_with(bus: Arc<dyn Bus>, capacity: usize) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let storage = switchyard_storage::MemoryStorage::open(dir.path(), &Default::default())
            .await
            .unwrap();
        let (inbound_tx, inbound_rx) = mpsc::channel::<Message>(capacity);
        let acks = Arc::new(AckWaiters::default());
        let cancel = CancellationToken::new();
        let stats = Arc::new(GatewayStats::default());
        let ctx = ProviderContext {
            gateway: Arc::new(Gateway {
                id: "gw".into(),
                ..Default::default()
            }),
            store: Store::new(Arc::new(storage)),
            bus,
            cancel: cancel.clone(),
            inbound: inbound_tx,
            acks: acks.clone(),
            state: Arc::new(watch::channel(None).0),
            stats: stats.clone(),
            traffic: MessageLogger::off(),
            reject_log: Arc::new(RateLimitedLog::new(std::time::Duration::from_secs(1))),
            data_dir: Arc::new(PathBuf::from(dir.path())),
        };
        let settings = Settings {
            ack_timeout: AckRequest::DEFAULT_TIMEOUT,
            attempts: 3,
            internal_ack: false,
            stream_ack: false,
            discovery_interval: None,
            max_in_flight: 16,
        };
        let network = Arc::new(Network::new(
            ctx,
            Link::new(Arc::new(Nowhere), true),
            settings,
        ));
        Setup {
            network,
            inbound_rx,
            acks,
            cancel,
            stats,
            _dir: dir,
        }
    }

    /// Frames, then the connection lost.
    struct Lost(VecDeque<WireFrame>);

    #[async_trait]
    impl FrameSource for Lost {
        async fn next(&mut self) -> Result<Inbound, TransportError> {
            match self.0.pop_front() {
                Some(wire) => Ok(Inbound::Frame(wire)),
                None => Err(TransportError::Lost("test".into())),
            }
        }
    }

    /// A lost connection ends the loop within `DRAIN_LIMIT` even though the processor takes
    /// nothing (each emit would wait `INBOUND_WAIT`): what was read and not handed over is
    /// dropped and counted, so the gateway restarts soon.
    #[tokio::test(start_paused = true)]
    async fn a_lost_connection_drains_for_a_bounded_time() {
        let Setup {
            network,
            inbound_rx: _inbound_rx,
            cancel: _cancel,
            stats,
            ..
        } = setup().await;
        let frames: VecDeque<WireFrame> = (0..20)
            .map(|i| WireFrame::publish(format!("gw-out/{i}/1/1/0/0"), "20"))
            .collect();
        let started = Instant::now();
        let ended = tokio::time::timeout(
            DRAIN_LIMIT + INBOUND_WAIT * 2,
            run(network, Box::new(Lost(frames))),
        )
        .await;
        assert!(matches!(ended, Ok(Err(_))), "{ended:?}");
        assert!(Instant::now() - started <= DRAIN_LIMIT + INBOUND_WAIT);
        let dropped = stats.snapshot().inbound_dropped;
        assert!(dropped >= 10, "dropped {dropped} of 20");
    }

    /// An echoed set is matched to its waiting send within the send's timeout while `emit` is
    /// stuck on a processor that has fallen behind (an inbound queue of one that nobody reads
    /// for now), so the runtime does not resend it; the echo is still emitted, in order.
    #[tokio::test(start_paused = true)]
    async fn an_echo_is_matched_while_emit_waits() {
        let Setup {
            network,
            mut inbound_rx,
            acks,
            cancel,
            ..
        } = setup().await;
        // The controller sent `9/1` V_STATUS=1 and waits for its echo.
        let echoed = RawFrame::new(9, 1, super::super::protocol::Command::Set, 2, "1");
        let waiting = acks.register(&echoed.echo_key());
        let mut frames: VecDeque<WireFrame> = (0..3)
            .map(|i| WireFrame::publish(format!("gw-out/{i}/1/1/0/0"), format!("2{i}")))
            .collect();
        frames.push_back(WireFrame::publish("gw-out/9/1/1/1/2", "1"));
        let running = tokio::spawn(run(network, Box::new(Broker(frames))));

        // The first reading fills the queue and the second's emit waits (up to INBOUND_WAIT):
        // the echo behind them must still complete the wait within the send's timeout.
        let matched = tokio::time::timeout(AckRequest::DEFAULT_TIMEOUT, waiting).await;
        assert!(
            matches!(matched, Ok(Ok(()))),
            "the echo waited behind emit: {matched:?}"
        );
        assert!(AckRequest::DEFAULT_TIMEOUT < INBOUND_WAIT);

        // Everything read still reaches the processor, the echo last, as a set.
        let mut received = Vec::new();
        while received.len() < 4 {
            let msg = inbound_rx.recv().await.unwrap();
            received.push((msg.node_id.clone(), msg.payloads[0].value.clone()));
        }
        let expected: Vec<(String, String)> = [("0", "20"), ("1", "21"), ("2", "22"), ("9", "1")]
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(received, expected);
        cancel.cancel();
        running.await.unwrap().unwrap();
    }

    /// The gateway side of ingest end to end, as the fleet's S1 load drives it: MQTT publishes of
    /// `V_TEMP` sets from 10 nodes × 10 children are parsed, mapped, published on the embedded
    /// bus by the gateway's publisher and decoded as the processor decodes them. Every message
    /// must arrive once, in order per field, with its value. 2,000 publishes; set
    /// `SWITCHYARD_INGEST_FRAMES` for a figure (wall clock printed with `--nocapture`; for
    /// instruction counts run it under callgrind with two sizes and take the difference).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ingest_path_delivers_every_publish_in_order() {
        let frames: u64 = std::env::var("SWITCHYARD_INGEST_FRAMES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2_000);
        let bus: Arc<dyn Bus> = Arc::new(EmbeddedBus::new(&EmbeddedBusConfig::default()).unwrap());
        let mut processor = bus
            .queue_subscribe(switchyard_core::topics::TO_PROCESSOR, "processor")
            .await
            .unwrap();
        let Setup {
            network,
            inbound_rx,
            cancel,
            stats,
            ..
        } = setup_with(bus.clone(), crate::context::INBOUND_QUEUE_CAPACITY).await;
        let publisher = tokio::spawn(crate::service::publish_inbound(
            bus.clone(),
            "gw".into(),
            inbound_rx,
            stats.clone(),
            Arc::new(RateLimitedLog::new(std::time::Duration::from_secs(1))),
        ));
        let wire: VecDeque<WireFrame> = (0..frames)
            .map(|i| {
                let (node, child) = (i % 100 / 10 + 1, i % 10 + 1);
                WireFrame::publish(
                    format!("mygateway1-out/{node}/{child}/1/0/0"),
                    i.to_string(),
                )
            })
            .collect();
        let started = std::time::Instant::now();
        let running = tokio::spawn(run(network, Box::new(Broker(wire))));
        let mut last = std::collections::HashMap::new();
        for _ in 0..frames {
            let bus_msg = processor.next().await.unwrap();
            let msg = switchyard_core::message::decode(&bus_msg.payload).unwrap();
            assert_eq!((msg.gateway_id.as_str(), msg.is_received), ("gw", true));
            assert!(msg.timestamp.is_some());
            let [payload] = &msg.payloads[..] else {
                panic!("{msg:?}")
            };
            assert_eq!(payload.key, "V_TEMP");
            assert_eq!(payload.labels.get("ms_type").map(String::as_str), Some("0"));
            let value: u64 = payload.value.parse().unwrap();
            let field = (msg.node_id.clone(), msg.source_id.clone());
            let (node, child) = (value % 100 / 10 + 1, value % 10 + 1);
            assert_eq!(field, (node.to_string(), child.to_string()));
            if let Some(before) = last.insert(field, value) {
                assert!(before < value, "{before} then {value}");
            }
        }
        let took = started.elapsed();
        println!(
            "ingest path: {frames} publishes in {took:?}, {:.0} msg/s",
            frames as f64 / took.as_secs_f64()
        );
        assert_eq!(stats.snapshot().received, frames);
        cancel.cancel();
        running.await.unwrap().unwrap();
        publisher.abort();
    }
}
