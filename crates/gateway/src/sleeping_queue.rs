//! Messages for battery nodes, held until the node wakes (MyController's sleeping queue). Pure:
//! the runtime passes the time in, so tests run on paused tokio time.
//!
//! A message goes to its node's queue when it says so (`isSleepNode`), when the node has the label
//! `sleep_node=true`, or when sending failed and the gateway has `queueFailedMessage` (unless the
//! node has `sleep_queue_disabled=true`). When the node wakes (the provider emits an `action`
//! message whose payload key or value is `awake`) its queue is sent in order.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;
use switchyard_core::model::{Labels, node_labels};
pub use switchyard_core::sleeping_queue::SleepingQueueCounts;
use switchyard_core::value::{parse_bool, parse_std_duration};
use switchyard_core::{Message, MessageType};
use tokio::time::Instant;

/// Messages kept per node. At the bound the oldest is dropped for the new one (counted).
pub const MAX_PER_NODE: usize = 20;
/// Messages kept per gateway, over all nodes. At the bound a new message is refused (counted):
/// node ids come from the bus, so without it a flood of made-up nodes could grow the queue.
pub const MAX_PER_GATEWAY: usize = 10_000;
/// How long a message waits at most unless it or its node says otherwise.
pub const DEFAULT_VALIDITY: Duration = Duration::from_secs(24 * 3600);
/// How often the runtime drops expired messages of nodes that never wake.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(600);

/// The action value (or key) that announces a node is awake.
pub const AWAKE: &str = "awake";

#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub message: Message,
    pub queued_at: Instant,
    pub expires_at: Instant,
}

/// What happened to a pushed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    Queued,
    /// It replaced an older message with the same [`Message::dedup_key`].
    Replaced,
    /// The node's queue was full: the oldest message was dropped for it.
    DroppedOldest,
    /// The gateway's queues were full: the message was not queued.
    Refused,
}

/// Every node's queue of one gateway.
#[derive(Debug, Default)]
pub struct SleepingQueue {
    nodes: BTreeMap<String, VecDeque<Queued>>,
    len: usize,
    counts: SleepingQueueCounts,
}

impl SleepingQueue {
    pub fn new() -> Self {
        SleepingQueue::default()
    }

    /// Queues `message` for its node until `now + validity`; the newest wins per dedup key.
    pub fn push(&mut self, message: Message, validity: Duration, now: Instant) -> Pushed {
        let key = message.dedup_key();
        let entry = Queued {
            queued_at: now,
            expires_at: now + validity,
            message,
        };
        let queue = self.nodes.entry(entry.message.node_id.clone()).or_default();
        if let Some(i) = queue.iter().position(|q| q.message.dedup_key() == key) {
            queue.remove(i);
            queue.push_back(entry);
            self.counts.replaced += 1;
            return Pushed::Replaced;
        }
        if queue.len() >= MAX_PER_NODE {
            queue.pop_front();
            queue.push_back(entry);
            self.counts.dropped_oldest += 1;
            return Pushed::DroppedOldest;
        }
        if self.len >= MAX_PER_GATEWAY {
            if queue.is_empty() {
                let node = entry.message.node_id;
                self.nodes.remove(&node);
            }
            self.counts.refused += 1;
            return Pushed::Refused;
        }
        queue.push_back(entry);
        self.len += 1;
        Pushed::Queued
    }

    /// Puts back messages that could not be sent at a wake-up, ahead of anything queued since,
    /// keeping their expiry.
    pub fn requeue(&mut self, entries: Vec<Queued>, now: Instant) {
        for entry in entries.into_iter().rev() {
            if entry.expires_at <= now {
                self.counts.expired += 1;
                continue;
            }
            let key = entry.message.dedup_key();
            let queue = self.nodes.entry(entry.message.node_id.clone()).or_default();
            let newer = queue.iter().any(|q| q.message.dedup_key() == key);
            if newer || queue.len() >= MAX_PER_NODE || self.len >= MAX_PER_GATEWAY {
                self.counts.dropped_oldest += 1;
                continue;
            }
            queue.push_front(entry);
            self.len += 1;
        }
    }

    /// Removes and returns the node's valid messages, oldest first; expired ones are dropped and
    /// counted.
    pub fn take(&mut self, node_id: &str, now: Instant) -> Vec<Queued> {
        let Some(queue) = self.nodes.remove(node_id) else {
            return Vec::new();
        };
        self.len -= queue.len();
        let (valid, expired): (Vec<Queued>, Vec<Queued>) =
            queue.into_iter().partition(|q| q.expires_at > now);
        self.counts.expired += expired.len() as u64;
        valid
    }

    /// Drops every expired message; returns how many.
    pub fn sweep(&mut self, now: Instant) -> usize {
        let mut dropped = 0;
        self.nodes.retain(|_, queue| {
            let before = queue.len();
            queue.retain(|q| q.expires_at > now);
            dropped += before - queue.len();
            !queue.is_empty()
        });
        self.len -= dropped;
        self.counts.expired += dropped as u64;
        dropped
    }

    /// Queued messages, of one node or all, in node order then queue order.
    pub fn list(&self, node_id: Option<&str>) -> Vec<&Queued> {
        self.nodes
            .iter()
            .filter(|(n, _)| node_id.is_none_or(|id| id == n.as_str()))
            .flat_map(|(_, q)| q.iter())
            .collect()
    }

    /// Empties the queue of one node or of all; returns how many messages were removed.
    pub fn clear(&mut self, node_id: Option<&str>) -> usize {
        let removed = match node_id {
            Some(id) => self.nodes.remove(id).map_or(0, |q| q.len()),
            None => std::mem::take(&mut self.nodes)
                .values()
                .map(VecDeque::len)
                .sum(),
        };
        self.len -= removed;
        removed
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn counts(&self) -> SleepingQueueCounts {
        self.counts
    }
}

fn label_true(labels: Option<&Labels>, key: &str) -> bool {
    labels
        .and_then(|l| l.get(key))
        .and_then(|v| parse_bool(v))
        .unwrap_or(false)
}

/// Whether a message for a node goes to the sleeping queue instead of the provider.
pub fn goes_to_queue(msg: &Message, node_labels: Option<&Labels>) -> bool {
    msg.is_sleep_node || label_true(node_labels, node_labels::SLEEP_NODE)
}

/// Whether a message that failed to send may wait in the queue (`queueFailedMessage` given).
pub fn may_queue_failed(node_labels: Option<&Labels>) -> bool {
    !label_true(node_labels, node_labels::SLEEP_QUEUE_DISABLED)
}

/// How long a message may wait: its `validity`, else the node's `sleep_message_validity`, else
/// 24 h. A value that does not parse falls through to the next (the caller logs it).
pub fn validity(msg: &Message, node_labels: Option<&Labels>) -> (Duration, Option<String>) {
    let mut problem = None;
    let label = node_labels.and_then(|l| l.get(node_labels::SLEEP_MESSAGE_VALIDITY));
    for (what, value) in [
        ("message validity", Some(&msg.validity)),
        ("node label sleep_message_validity", label),
    ] {
        match value.map(|v| v.trim()) {
            Some("") | None => {}
            Some(v) => match parse_std_duration(v) {
                Ok(d) => return (d, problem),
                Err(e) => problem = Some(format!("{what}: {e}")),
            },
        }
    }
    (DEFAULT_VALIDITY, problem)
}

/// Whether the message announces that its node is awake (flush its queue).
pub fn is_awake(msg: &Message) -> bool {
    msg.message_type == MessageType::Action
        && !msg.node_id.is_empty()
        && msg.payloads.iter().any(|p| {
            p.key.eq_ignore_ascii_case(AWAKE) || p.value.trim().eq_ignore_ascii_case(AWAKE)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::Payload;

    fn set(node: &str, field: &str, value: &str) -> Message {
        Message::new(MessageType::Set, "gw", node, "1").with_payload(Payload::new(field, value))
    }

    fn values(entries: &[Queued]) -> Vec<String> {
        entries
            .iter()
            .map(|q| q.message.payloads[0].value.clone())
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn newest_wins_per_field_and_order_is_kept() {
        let mut q = SleepingQueue::new();
        let now = Instant::now();
        assert_eq!(
            q.push(set("5", "a", "1"), DEFAULT_VALIDITY, now),
            Pushed::Queued
        );
        assert_eq!(
            q.push(set("5", "b", "2"), DEFAULT_VALIDITY, now),
            Pushed::Queued
        );
        assert_eq!(
            q.push(set("5", "a", "3"), DEFAULT_VALIDITY, now),
            Pushed::Replaced
        );
        assert_eq!(
            q.push(set("6", "a", "4"), DEFAULT_VALIDITY, now),
            Pushed::Queued
        );
        assert_eq!(q.len(), 3);
        assert_eq!(values(&q.take("5", Instant::now())), vec!["2", "3"]);
        assert_eq!(q.len(), 1);
        assert!(q.take("5", Instant::now()).is_empty());
        assert_eq!(q.counts().replaced, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_twenty_per_node_oldest_dropped() {
        let mut q = SleepingQueue::new();
        for i in 0..25 {
            q.push(
                set("5", &format!("f{i}"), &i.to_string()),
                DEFAULT_VALIDITY,
                Instant::now(),
            );
        }
        assert_eq!(q.len(), MAX_PER_NODE);
        let taken = q.take("5", Instant::now());
        assert_eq!(taken.len(), MAX_PER_NODE);
        assert_eq!(taken[0].message.payloads[0].value, "5");
        assert_eq!(q.counts().dropped_oldest, 5);
    }

    #[tokio::test(start_paused = true)]
    async fn expired_messages_are_dropped_and_counted() {
        let mut q = SleepingQueue::new();
        q.push(
            set("5", "a", "short"),
            Duration::from_secs(60),
            Instant::now(),
        );
        q.push(set("5", "b", "long"), DEFAULT_VALIDITY, Instant::now());
        q.push(
            set("7", "a", "short"),
            Duration::from_secs(60),
            Instant::now(),
        );
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(values(&q.take("5", Instant::now())), vec!["long"]);
        assert_eq!(q.counts().expired, 1);
        assert_eq!(q.sweep(Instant::now()), 1);
        assert!(q.is_empty());
        assert_eq!(q.counts().expired, 2);
        tokio::time::advance(DEFAULT_VALIDITY).await;
    }

    #[tokio::test(start_paused = true)]
    async fn the_gateway_bound_refuses_new_nodes_past_it() {
        let mut q = SleepingQueue::new();
        for n in 0..(MAX_PER_GATEWAY / MAX_PER_NODE) {
            for f in 0..MAX_PER_NODE {
                q.push(
                    set(&n.to_string(), &format!("f{f}"), "v"),
                    DEFAULT_VALIDITY,
                    Instant::now(),
                );
            }
        }
        assert_eq!(q.len(), MAX_PER_GATEWAY);
        assert_eq!(
            q.push(set("new", "a", "v"), DEFAULT_VALIDITY, Instant::now()),
            Pushed::Refused
        );
        assert!(q.list(Some("new")).is_empty());
        // A full node still takes its newest value in place of its oldest.
        assert_eq!(
            q.push(set("0", "x", "v"), DEFAULT_VALIDITY, Instant::now()),
            Pushed::DroppedOldest
        );
        assert_eq!(q.clear(Some("0")), MAX_PER_NODE);
        assert_eq!(q.clear(None), MAX_PER_GATEWAY - MAX_PER_NODE);
        assert!(q.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn requeue_goes_first_and_yields_to_newer_values() {
        let mut q = SleepingQueue::new();
        q.push(
            set("5", "a", "old"),
            Duration::from_secs(10),
            Instant::now(),
        );
        q.push(
            set("5", "b", "old"),
            Duration::from_secs(100),
            Instant::now(),
        );
        let taken = q.take("5", Instant::now());
        q.push(set("5", "a", "new"), DEFAULT_VALIDITY, Instant::now());
        q.push(set("5", "c", "new"), DEFAULT_VALIDITY, Instant::now());
        tokio::time::advance(Duration::from_secs(20)).await;
        q.requeue(taken, Instant::now());
        let fields: Vec<String> = q
            .list(Some("5"))
            .iter()
            .map(|e| {
                format!(
                    "{}={}",
                    e.message.payloads[0].key, e.message.payloads[0].value
                )
            })
            .collect();
        // `a=old` expired, `b=old` goes back first, `a=new` keeps its place.
        assert_eq!(fields, vec!["b=old", "a=new", "c=new"]);
        assert_eq!(q.len(), 3);
    }

    #[test]
    fn what_goes_to_the_queue_and_for_how_long() {
        let mut labels = Labels::new();
        let msg = set("5", "a", "1");
        assert!(!goes_to_queue(&msg, None));
        assert!(goes_to_queue(
            &Message {
                is_sleep_node: true,
                ..msg.clone()
            },
            None
        ));
        labels.insert("sleep_node".into(), "true".into());
        assert!(goes_to_queue(&msg, Some(&labels)));
        assert!(may_queue_failed(Some(&labels)));
        labels.insert("sleep_queue_disabled".into(), "true".into());
        assert!(!may_queue_failed(Some(&labels)));

        assert_eq!(validity(&msg, None), (DEFAULT_VALIDITY, None));
        labels.insert("sleep_message_validity".into(), "5h".into());
        assert_eq!(
            validity(&msg, Some(&labels)).0,
            Duration::from_secs(5 * 3600)
        );
        let with = Message {
            validity: "10m".into(),
            ..msg.clone()
        };
        assert_eq!(validity(&with, Some(&labels)).0, Duration::from_secs(600));
        let bad = Message {
            validity: "soon".into(),
            ..msg
        };
        let (d, problem) = validity(&bad, Some(&labels));
        assert_eq!(d, Duration::from_secs(5 * 3600));
        assert!(problem.unwrap().contains("soon"));
    }

    #[test]
    fn awake_is_an_action_with_awake_in_key_or_value() {
        let a = Message::new(MessageType::Action, "gw", "5", "")
            .with_payload(Payload::new("action", "awake"));
        assert!(is_awake(&a));
        let b = Message::new(MessageType::Action, "gw", "5", "")
            .with_payload(Payload::new("awake", ""));
        assert!(is_awake(&b));
        let c = Message::new(MessageType::Set, "gw", "5", "")
            .with_payload(Payload::new("action", "awake"));
        assert!(!is_awake(&c));
        let d = Message::new(MessageType::Action, "gw", "5", "")
            .with_payload(Payload::new("action", "reboot"));
        assert!(!is_awake(&d));
    }
}
