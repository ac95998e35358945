//! The simulated gateway's side towards the controller: serial and TCP carry lines
//! ([`lines`]), MQTT carries topics ([`mqtt`]). Each moves bytes only; the protocol module parses.

pub mod lines;
pub mod mqtt;
pub mod serial;
pub mod tcp;

use crate::event::{SimEvent, SimStats};
use crate::radio::Radio;
use std::time::Duration;
use switchyard_gateway::providers::mysensors::protocol::RawFrame;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// Pause before reopening a serial port or reconnecting to a broker.
pub const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// What a transport needs: the radio to deliver to, the nodes' frames to send, and the switch
/// that lets the nodes boot once a controller is there.
pub struct GatewaySide {
    pub radio: Radio,
    pub outbound: mpsc::Receiver<RawFrame>,
    pub up: watch::Sender<bool>,
}

impl GatewaySide {
    fn controller_up(&self) {
        self.up.send_replace(true);
        self.radio.shared().emit(SimEvent::ControllerUp);
    }

    fn controller_down(&self, reason: String) {
        tracing::info!("controller link down: {reason}");
        self.radio
            .shared()
            .emit(SimEvent::ControllerDown { reason });
    }

    /// While no controller is there, frames the nodes send are dropped (and counted) so that they
    /// do not block; returns after `wait` or on `cancel`.
    async fn drop_outbound_for(&mut self, wait: Duration, cancel: &CancellationToken) {
        let until = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep_until(until) => return,
                frame = self.outbound.recv() => match frame {
                    Some(_) => SimStats::add(&self.radio.shared().stats.dropped_offline),
                    None => return,
                },
            }
        }
    }
}
