//! What processing one message decided to change, applied together: one atomic storage write,
//! then metric points, then events and outbound messages (only after the write is durable, so no
//! event ever announces a change that could still be lost).

use crate::stats::Rejection;
use crate::validate::Refusal;
use bytes::Bytes;
use serde_json::Value;
use switchyard_core::metrics::MetricPoint;
use switchyard_core::storage::{StorageError, WriteOp};
use switchyard_core::{EntityKind, Event, EventType, Message, topics};

/// An event ready for the bus: encoded when the document is at hand, before the document goes
/// to the storage write, so the event needs no copy of it.
pub(crate) struct EncodedEvent {
    pub subject: String,
    pub payload: Bytes,
}

#[derive(Default)]
pub(crate) struct Changes {
    pub ops: Vec<WriteOp>,
    pub events: Vec<EncodedEvent>,
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

    /// Queues the event announcing `entity`'s change.
    pub fn announce(
        &mut self,
        event_type: EventType,
        kind: EntityKind,
        id: &str,
        entity: &Value,
    ) -> Result<(), StorageError> {
        let payload = Event::encode(event_type, kind, id, entity)
            .map_err(|e| StorageError::InvalidDocument(e.to_string()))?;
        self.events.push(EncodedEvent {
            subject: topics::event(kind, event_type),
            payload: Bytes::from(payload),
        });
        Ok(())
    }

    pub fn refuse(&mut self, why: Rejection, reason: String) {
        self.refusals.push((why, reason));
    }
}
