//! One simulated node: a task that boots (id request, bootloader), then runs its sketch
//! (presentation, readings, answers), and starts over on a reboot.
//!
//! - [`bootloader`]: the pure OTA state machine (decide, collect blocks, check the CRC).
//! - `boot.rs`: getting an id and running the bootloader over the radio.
//! - `sketch.rs`: presentation, readings, the sleep cycle, and answers to the controller.

mod boot;
pub mod bootloader;
mod sketch;

use crate::config::{NodeConfig, SensorSpec};
use crate::event::SimEvent;
use crate::radio::{INBOX_CAPACITY, NodeLink, Shared};
use crate::readings::ReadingSequence;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use switchyard_gateway::providers::mysensors::protocol::firmware::FirmwareConfig;
use switchyard_gateway::providers::mysensors::protocol::{
    BROADCAST_ID, Command, InternalType, NODE_CHILD_ID, RawFrame,
};
use tokio::sync::{Mutex, mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What comes after a phase of the node's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    Sketch,
    Reboot,
    Stop,
}

enum Recv {
    Frame(RawFrame),
    Timeout,
    Stop,
}

/// One child and what it last reported (or, for a relay, its state).
struct Child {
    spec: SensorSpec,
    sequence: Option<ReadingSequence>,
    last: Option<String>,
}

pub struct Node {
    index: usize,
    config: NodeConfig,
    id: Arc<AtomicU8>,
    inbox: mpsc::Receiver<RawFrame>,
    shared: Shared,
    children: Vec<Child>,
    /// The firmware the bootloader knows it runs. Blocks and CRC are 0 until an update
    /// wrote an image (the node was flashed by cable).
    running: Option<FirmwareConfig>,
    sketch_version: String,
    round: u64,
    heartbeat: u64,
    /// Nodes ask for ids one at a time: the answer is a broadcast, any waiting node would take it.
    id_lock: Arc<Mutex<()>>,
}

impl Node {
    /// The node and the radio's end of it.
    pub fn new(
        index: usize,
        config: NodeConfig,
        seed: u64,
        shared: Shared,
        id_lock: Arc<Mutex<()>>,
    ) -> (Node, NodeLink) {
        let id = Arc::new(AtomicU8::new(config.id.unwrap_or(BROADCAST_ID)));
        let (inbox_tx, inbox) = mpsc::channel(INBOX_CAPACITY);
        let children = config
            .sensors
            .iter()
            .map(|spec| Child {
                spec: *spec,
                sequence: ReadingSequence::new(seed, index, spec.child_id, spec.kind),
                last: (!spec.kind.reports()).then(|| "0".to_string()),
            })
            .collect();
        let running = config.firmware.map(|f| FirmwareConfig {
            firmware_type: f.firmware_type,
            version: f.version,
            blocks: 0,
            crc: 0,
        });
        let node = Node {
            index,
            sketch_version: config.sketch_version.clone(),
            config,
            id: id.clone(),
            inbox,
            shared,
            children,
            running,
            round: 0,
            heartbeat: 0,
            id_lock,
        };
        let link = NodeLink {
            id,
            inbox: inbox_tx,
        };
        (node, link)
    }

    /// Waits for the controller to be there, then lives until `cancel`.
    pub async fn run(mut self, mut up: watch::Receiver<bool>, cancel: CancellationToken) {
        tokio::select! {
            _ = cancel.cancelled() => return,
            ready = up.wait_for(|up| *up) => if ready.is_err() { return },
        }
        loop {
            let next = match self.boot(&cancel).await {
                Next::Sketch => self.sketch(&cancel).await,
                other => other,
            };
            match next {
                Next::Stop => return,
                Next::Reboot | Next::Sketch => {
                    self.shared.emit(SimEvent::Rebooting {
                        index: self.index,
                        node_id: self.id(),
                    });
                }
            }
        }
    }

    fn id(&self) -> u8 {
        self.id.load(Ordering::Relaxed)
    }

    fn internal(&self, internal: InternalType, payload: impl Into<String>) -> RawFrame {
        RawFrame::new(
            self.id(),
            NODE_CHILD_ID,
            Command::Internal,
            internal.code(),
            payload,
        )
    }

    async fn send(&self, frame: RawFrame) {
        if !self.shared.send(frame).await {
            tracing::debug!(index = self.index, "transport gone; frame not sent");
        }
    }

    async fn recv(&mut self, cancel: &CancellationToken, deadline: Instant) -> Recv {
        tokio::select! {
            _ = cancel.cancelled() => Recv::Stop,
            frame = self.inbox.recv() => frame.map_or(Recv::Stop, Recv::Frame),
            _ = tokio::time::sleep_until(deadline) => Recv::Timeout,
        }
    }

    fn reject(&self, frame: RawFrame, reason: impl Into<String>) {
        let reason = reason.into();
        tracing::debug!(index = self.index, %frame, "node rejected a frame: {reason}");
        self.shared.emit(SimEvent::Rejected {
            index: self.index,
            node_id: self.id(),
            frame,
            reason,
        });
    }
}
