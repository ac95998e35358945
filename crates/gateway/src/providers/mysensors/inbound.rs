//! The inbound loop: frames from the gateway become messages for the processor, echoes complete
//! acknowledgement waits, requests are answered; meanwhile the periodic discovery broadcast and
//! the firmware cache purge run here too.

use super::network::Network;
use super::ota::PURGE_INTERVAL;
use super::protocol::mapping::{Inbound as Mapped, frame_to_inbound};
use super::requests::is_request;
use crate::error::GatewayError;
use crate::transport::{FrameSource, Inbound, RawFrame as WireFrame};
use std::sync::Arc;
use tokio::time::{Instant, Interval, interval_at};

/// How much of a rejected frame a log line quotes.
const QUOTE_CHARS: usize = 64;

pub(crate) async fn run(
    network: Arc<Network>,
    mut source: Box<dyn FrameSource>,
) -> Result<(), GatewayError> {
    let cancel = network.ctx.cancel().clone();
    let mut discovery = network
        .settings
        .discovery_interval
        .map(|every| interval_at(Instant::now() + every, every));
    let mut purge = interval_at(Instant::now() + PURGE_INTERVAL, PURGE_INTERVAL);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            next = source.next() => match next? {
                Inbound::Frame(wire) => network.receive(&wire).await,
                Inbound::Rejected(reason) => network.ctx.reject(reason),
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
    async fn receive(&self, wire: &WireFrame) {
        let frame = match self.link.decode(wire) {
            Ok(f) => f,
            Err(e) => return self.ctx.reject(format!("{e}: {}", quote(wire))),
        };
        if frame.ack {
            self.ctx.acknowledge(&frame.echo_key());
        }
        if is_request(&frame) {
            return self.answer(&frame).await;
        }
        match frame_to_inbound(self.gateway_id(), &frame) {
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
