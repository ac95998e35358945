//! The gateway's radio: frames from the controller go to the node they address (or to every node
//! for broadcast 255); frames for the gateway itself (node 0) are answered here.

use crate::config::LIBRARY_VERSION;
use crate::event::{SimEvent, SimStats};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use switchyard_gateway::providers::mysensors::protocol::{
    BROADCAST_ID, Command, InternalType, NODE_CHILD_ID, RawFrame, SensorType,
};
use tokio::sync::{broadcast, mpsc};

/// Frames waiting for one node. A full inbox loses the frame, as a busy radio would.
pub const INBOX_CAPACITY: usize = 64;
/// Frames waiting for the transport. Nodes wait when it is full.
pub const OUTBOUND_CAPACITY: usize = 1024;
/// Events buffered per subscriber; a slower subscriber sees `Lagged` and misses the oldest.
pub const EVENT_CAPACITY: usize = 4096;
/// Garbage is logged for the first few frames, then once per this many.
const GARBAGE_LOG_EVERY: u64 = 1000;

/// What every part of the simulator shares: the way out, the event stream, the counters.
#[derive(Clone)]
pub struct Shared {
    pub outbound: mpsc::Sender<RawFrame>,
    pub events: broadcast::Sender<SimEvent>,
    pub stats: Arc<SimStats>,
}

impl Shared {
    pub fn emit(&self, event: SimEvent) {
        // No subscriber is fine: events are for whoever listens.
        let _ = self.events.send(event);
    }

    /// Queues a frame for the controller. Returns false once the transport has stopped.
    pub async fn send(&self, frame: RawFrame) -> bool {
        self.outbound.send(frame).await.is_ok()
    }

    /// Counts, reports and (rate-limited) logs a frame from the controller that made no sense.
    pub fn garbage(&self, reason: String) {
        let n = self.stats.garbage_in.fetch_add(1, Ordering::Relaxed);
        if n < 10 || n.is_multiple_of(GARBAGE_LOG_EVERY) {
            tracing::warn!(
                count = n + 1,
                "dropped a frame from the controller: {reason}"
            );
        }
        self.emit(SimEvent::Garbage { reason });
    }
}

/// One node as the radio sees it: its current id (255 until assigned) and its inbox.
pub struct NodeLink {
    pub id: Arc<AtomicU8>,
    pub inbox: mpsc::Sender<RawFrame>,
}

pub struct Radio {
    nodes: Vec<NodeLink>,
    shared: Shared,
    heartbeat: AtomicU64,
}

impl Radio {
    pub fn new(nodes: Vec<NodeLink>, shared: Shared) -> Self {
        Radio {
            nodes,
            shared,
            heartbeat: AtomicU64::new(0),
        }
    }

    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Hands a parsed frame from the controller to whoever it addresses. Never waits.
    pub fn deliver(&self, frame: RawFrame) {
        SimStats::add(&self.shared.stats.frames_in);
        if frame.node_id == 0 {
            self.answer_for_gateway(&frame);
            return;
        }
        let mut delivered = false;
        for node in &self.nodes {
            let id = node.id.load(Ordering::Relaxed);
            if frame.node_id == BROADCAST_ID || frame.node_id == id {
                delivered = true;
                if node.inbox.try_send(frame.clone()).is_err() {
                    SimStats::add(&self.shared.stats.inbox_overflow);
                }
            }
        }
        if !delivered {
            SimStats::add(&self.shared.stats.unroutable_in);
            tracing::debug!(%frame, "no node has this id");
        }
    }

    /// The gateway is node 0: it reports its version, answers heartbeats and presents itself.
    fn answer_for_gateway(&self, frame: &RawFrame) {
        let internal = |t: InternalType, payload: String| {
            RawFrame::new(0, NODE_CHILD_ID, Command::Internal, t.code(), payload)
        };
        let answer = match frame.internal_type() {
            Some(InternalType::I_VERSION) => {
                internal(InternalType::I_VERSION, LIBRARY_VERSION.into())
            }
            Some(InternalType::I_HEARTBEAT_REQUEST) => {
                let beat = self.heartbeat.fetch_add(1, Ordering::Relaxed) + 1;
                internal(InternalType::I_HEARTBEAT_RESPONSE, beat.to_string())
            }
            Some(InternalType::I_PRESENTATION) => RawFrame::new(
                0,
                NODE_CHILD_ID,
                Command::Presentation,
                SensorType::S_ARDUINO_REPEATER_NODE.code(),
                LIBRARY_VERSION,
            ),
            _ => {
                tracing::debug!(%frame, "ignored a frame for the gateway");
                return;
            }
        };
        if self.shared.outbound.try_send(answer).is_err() {
            SimStats::add(&self.shared.stats.dropped_offline);
        }
    }
}

/// The line a MySensors gateway prints when it has started.
pub fn gateway_ready() -> RawFrame {
    RawFrame::new(
        0,
        NODE_CHILD_ID,
        Command::Internal,
        InternalType::I_GATEWAY_READY.code(),
        "Gateway startup complete.",
    )
}
