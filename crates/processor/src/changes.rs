//! What processing one message decided to change, applied together: one atomic storage write,
//! then metric points, then events and outbound messages (only after the write is durable, so no
//! event ever announces a change that could still be lost).

use crate::stats::Rejection;
use crate::validate::Refusal;
use switchyard_core::metrics::MetricPoint;
use switchyard_core::storage::WriteOp;
use switchyard_core::{Event, Message};

#[derive(Default)]
pub(crate) struct Changes {
    pub ops: Vec<WriteOp>,
    pub events: Vec<Event>,
    pub points: Vec<MetricPoint>,
    /// Messages for gateways (answers to requests, passed-on actions).
    pub outbound: Vec<Message>,
    /// Payloads refused while the rest of the message went through.
    pub refusals: Vec<Refusal>,
}

impl Changes {
    /// Appends `other`, keeping order: ops, events and outbound messages of a batch stay in the
    /// order of its messages.
    pub fn absorb(&mut self, other: Changes) {
        self.ops.extend(other.ops);
        self.events.extend(other.events);
        self.points.extend(other.points);
        self.outbound.extend(other.outbound);
        self.refusals.extend(other.refusals);
    }

    pub fn refuse(&mut self, why: Rejection, reason: String) {
        self.refusals.push((why, reason));
    }
}
