//! The wire format of `service.gateway.sleeping_queue`: what the API (or any service) asks the
//! gateway service about a gateway's sleeping queues, and what it answers. The queue itself lives
//! with the gateway runtime; only these shapes are shared.

use crate::Message;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The request/reply subject; answered by the process that runs the gateway.
pub const SUBJECT: &str = "service.gateway.sleeping_queue";

/// `service.gateway.sleeping_queue` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SleepingQueueRequest {
    pub command: SleepingQueueCommand,
    pub gateway_id: String,
    /// One node, or all when empty.
    #[serde(default)]
    pub node_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SleepingQueueCommand {
    List,
    Clear,
}

/// The answer to a [`SleepingQueueRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SleepingQueueReply {
    pub gateway_id: String,
    /// `list`: the queued messages, by node then in send order.
    #[serde(default)]
    pub messages: Vec<QueuedMessage>,
    /// `clear`: how many were removed.
    #[serde(default)]
    pub cleared: usize,
    pub counts: SleepingQueueCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedMessage {
    pub message: Message,
    pub queued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Counters since the gateway's queue was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SleepingQueueCounts {
    pub expired: u64,
    pub replaced: u64,
    pub dropped_oldest: u64,
    pub refused: u64,
}
