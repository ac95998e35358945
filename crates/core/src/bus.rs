//! The message bus every service talks through. Subjects are dot-separated tokens; subscriptions
//! may use `*` (exactly one token) and `>` (one or more trailing tokens), as NATS does. The embedded
//! bus and the NATS bus implement the same trait, so services never know which one runs.

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use thiserror::Error;

#[derive(Clone)]
pub struct BusMessage {
    pub subject: String,
    pub payload: Bytes,
    /// Where a responder sends its answer (request/reply).
    pub reply: Option<String>,
    /// Set by a durable bus (NATS JetStream): the message stays with the bus until acknowledged.
    delivery: Option<Arc<dyn Delivery>>,
}

/// Two messages are equal when subject, payload and reply are; how they were delivered does not
/// count.
impl PartialEq for BusMessage {
    fn eq(&self, other: &Self) -> bool {
        self.subject == other.subject && self.payload == other.payload && self.reply == other.reply
    }
}

impl Eq for BusMessage {}

impl std::fmt::Debug for BusMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BusMessage")
            .field("subject", &self.subject)
            .field("payload", &self.payload)
            .field("reply", &self.reply)
            .field("delivery", &self.delivery)
            .finish()
    }
}

/// A durable delivery: the bus keeps the message, and delivers it again (to this or another
/// member of the queue group) unless it is acknowledged in time. The embedded bus has none.
///
/// A message that is neither acked nor naked is acknowledged when its last copy is dropped, so a
/// service that finishes with a message before letting it go is at-least-once without a change;
/// one that hands the work on (as the processor does to its workers) carries the message along
/// and acks after its commit.
#[async_trait]
pub trait Delivery: Send + Sync + std::fmt::Debug {
    /// Stable across redeliveries of this message, unique among the messages of its subject
    /// (the publisher's message id, else the bus's sequence number). A consumer that records the
    /// ids it has committed can skip a redelivery of work already done.
    fn message_id(&self) -> &str;
    /// How many times the bus has delivered it, 1 the first time.
    fn attempt(&self) -> u64;
    /// The work is done: the bus may forget the message.
    async fn ack(&self) -> Result<(), BusError>;
    /// The work failed and may succeed later: deliver the message again.
    async fn nak(&self) -> Result<(), BusError>;
}

impl BusMessage {
    pub fn new(subject: impl Into<String>, payload: impl Into<Bytes>) -> Self {
        BusMessage {
            subject: subject.into(),
            payload: payload.into(),
            reply: None,
            delivery: None,
        }
    }

    /// The message with a reply subject, for request/reply.
    pub fn with_reply(mut self, reply: impl Into<String>) -> Self {
        self.reply = Some(reply.into());
        self
    }

    /// The message as delivered by a durable bus.
    pub fn with_delivery(mut self, delivery: Arc<dyn Delivery>) -> Self {
        self.delivery = Some(delivery);
        self
    }

    /// The durable delivery, if the bus keeps this message until [`BusMessage::ack`].
    pub fn delivery(&self) -> Option<&Arc<dyn Delivery>> {
        self.delivery.as_ref()
    }

    /// Tells a durable bus the work for this message is done; does nothing for a message that
    /// is not durable (the embedded bus, plain subjects). Call it after the effect is committed:
    /// a crash before it means the message is delivered again.
    pub async fn ack(&self) -> Result<(), BusError> {
        match &self.delivery {
            Some(delivery) => delivery.ack().await,
            None => Ok(()),
        }
    }

    /// Asks a durable bus to deliver the message again; does nothing for one that is not durable.
    pub async fn nak(&self) -> Result<(), BusError> {
        match &self.delivery {
            Some(delivery) => delivery.nak().await,
            None => Ok(()),
        }
    }

    pub fn json<T: DeserializeOwned>(&self) -> Result<T, BusError> {
        serde_json::from_slice(&self.payload).map_err(|e| BusError::Decode(e.to_string()))
    }
}

#[derive(Debug, Error, Clone, PartialEq)]
pub enum BusError {
    #[error("invalid subject `{subject}`: {reason}")]
    InvalidSubject { subject: String, reason: String },
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("nobody listens on `{0}`")]
    NoResponders(String),
    #[error("the bus is closed")]
    Closed,
    #[error("could not encode message: {0}")]
    Encode(String),
    #[error("could not decode message: {0}")]
    Decode(String),
    #[error("bus connection: {0}")]
    Connection(String),
}

/// Counters every bus keeps; shown by `/api/status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BusStats {
    pub published: u64,
    pub delivered: u64,
    /// Messages given up because a subscriber stayed full past the publish wait.
    pub dropped: u64,
    pub subscriptions: u64,
}

/// A live subscription: a stream of messages. Dropping it unsubscribes.
pub struct Subscription {
    inner: Pin<Box<dyn Stream<Item = BusMessage> + Send>>,
}

impl Subscription {
    pub fn new(stream: impl Stream<Item = BusMessage> + Send + 'static) -> Self {
        Subscription {
            inner: Box::pin(stream),
        }
    }

    /// The next message, or `None` when the bus has closed.
    pub async fn next(&mut self) -> Option<BusMessage> {
        futures::StreamExt::next(&mut self.inner).await
    }
}

impl Stream for Subscription {
    type Item = BusMessage;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<BusMessage>> {
        self.inner.as_mut().poll_next(cx)
    }
}

#[async_trait]
pub trait Bus: Send + Sync {
    fn name(&self) -> &'static str;

    /// Publishes a message. May wait a bounded time when a subscriber is full (see the
    /// implementation's overload policy); never waits forever.
    async fn publish_message(&self, message: BusMessage) -> Result<(), BusError>;

    /// Every message whose subject matches `pattern`.
    async fn subscribe(&self, pattern: &str) -> Result<Subscription, BusError>;

    /// Like [`Bus::subscribe`], but each message goes to only one member of `group`.
    async fn queue_subscribe(&self, pattern: &str, group: &str) -> Result<Subscription, BusError>;

    /// Publishes with a reply subject and waits for the first answer.
    async fn request(
        &self,
        subject: &str,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<BusMessage, BusError>;

    fn stats(&self) -> BusStats;

    async fn publish(&self, subject: &str, payload: Bytes) -> Result<(), BusError> {
        self.publish_message(BusMessage::new(subject, payload))
            .await
    }
}

/// JSON conveniences over any bus.
#[async_trait]
pub trait BusExt: Bus {
    async fn publish_json<T: Serialize + Sync>(
        &self,
        subject: &str,
        value: &T,
    ) -> Result<(), BusError> {
        let bytes = serde_json::to_vec(value).map_err(|e| BusError::Encode(e.to_string()))?;
        self.publish(subject, Bytes::from(bytes)).await
    }
}

impl<B: Bus + ?Sized> BusExt for B {}

/// Validates a subject to publish on: non-empty tokens, no wildcards, no white space.
pub fn validate_subject(subject: &str) -> Result<(), BusError> {
    validate(subject, false)
}

/// Validates a subscription pattern: like a subject, but `*` may stand for a token and `>` for the
/// last one.
pub fn validate_pattern(pattern: &str) -> Result<(), BusError> {
    validate(pattern, true)
}

fn validate(s: &str, wildcards: bool) -> Result<(), BusError> {
    let err = |reason: &str| BusError::InvalidSubject {
        subject: s.chars().take(256).collect(),
        reason: reason.into(),
    };
    if s.is_empty() {
        return Err(err("empty"));
    }
    // One pass over each token's characters (this runs on every publish).
    let mut tokens = s.split('.').peekable();
    while let Some(t) = tokens.next() {
        if t.is_empty() {
            return Err(err("empty token"));
        }
        let (mut spaced, mut starred) = (false, false);
        for c in t.chars() {
            spaced |= c.is_whitespace() || c.is_control();
            starred |= c == '*' || c == '>';
        }
        if spaced {
            return Err(err("white space or control character"));
        }
        let wild = t == "*" || t == ">";
        if starred && !wild {
            return Err(err("a wildcard must be a whole token"));
        }
        if wild && !wildcards {
            return Err(err("wildcards are for subscriptions only"));
        }
        if t == ">" && tokens.peek().is_some() {
            return Err(err("`>` must be the last token"));
        }
    }
    Ok(())
}

/// Whether `subject` matches `pattern` (NATS token rules).
pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    // Bytes split by a closure, inlined: this runs for every subscription on every publish,
    // where `str::split('.')` called into a searcher per token.
    let mut p = pattern.as_bytes().split(|&b| b == b'.');
    let mut s = subject.as_bytes().split(|&b| b == b'.');
    loop {
        match (p.next(), s.next()) {
            (Some(b">"), Some(_)) => return true,
            (Some(b"*"), Some(_)) => {}
            (Some(pt), Some(st)) if pt == st => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_follow_nats_rules() {
        assert!(subject_matches("event.>", "event.field.updated"));
        assert!(!subject_matches("event.>", "event"));
        assert!(subject_matches("event.*.updated", "event.node.updated"));
        assert!(!subject_matches("event.*.updated", "event.node.created"));
        assert!(!subject_matches("event.*", "event.node.updated"));
        assert!(subject_matches("a.b", "a.b"));
        assert!(!subject_matches("a.b", "a.b.c"));
        assert!(!subject_matches("a.b.c", "a.b"));
    }

    /// The byte matcher answers as the token matcher it replaced, over every pair of a set of
    /// patterns and subjects with wildcards, empty tokens and multi-byte characters.
    #[test]
    fn matching_is_the_token_rule() {
        fn by_tokens(pattern: &str, subject: &str) -> bool {
            let mut p = pattern.split('.');
            let mut s = subject.split('.');
            loop {
                match (p.next(), s.next()) {
                    (Some(">"), Some(_)) => return true,
                    (Some("*"), Some(_)) => {}
                    (Some(pt), Some(st)) if pt == st => {}
                    (None, None) => return true,
                    _ => return false,
                }
            }
        }
        let words = [
            "",
            "a",
            "b",
            "*",
            ">",
            "a.b",
            "a.*",
            "a.>",
            "*.b",
            "é",
            "é.>",
            "a..b",
            ".",
            "a.b.c",
            "message.to_processor",
            "message.*",
            ">.a",
        ];
        for p in words {
            for s in words {
                assert_eq!(subject_matches(p, s), by_tokens(p, s), "{p:?} {s:?}");
            }
        }
    }

    #[test]
    fn validates_subjects_and_patterns() {
        assert!(validate_subject("message.to_gateway.gw1").is_ok());
        for bad in ["", "a..b", "a.*", "a b", "a.b>", ".a"] {
            assert!(validate_subject(bad).is_err(), "{bad}");
        }
        assert!(validate_pattern("a.*.c.>").is_ok());
        assert!(validate_pattern("a.>.c").is_err());
    }

    #[derive(Debug, Default)]
    struct Counted(std::sync::atomic::AtomicU64);

    #[async_trait]
    impl Delivery for Counted {
        fn message_id(&self) -> &str {
            "m1"
        }
        fn attempt(&self) -> u64 {
            1
        }
        async fn ack(&self) -> Result<(), BusError> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        }
        async fn nak(&self) -> Result<(), BusError> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn ack_reaches_a_durable_delivery_and_is_a_no_op_otherwise() {
        let plain = BusMessage::new("a", Bytes::from("x"));
        assert!(plain.delivery().is_none());
        plain.ack().await.unwrap();
        plain.nak().await.unwrap();

        let counted = Arc::new(Counted::default());
        let durable = plain.clone().with_delivery(counted.clone());
        assert_eq!(
            durable, plain,
            "delivery does not change what the message is"
        );
        assert_eq!(durable.delivery().map(|d| d.message_id()), Some("m1"));
        durable.ack().await.unwrap();
        durable.clone().ack().await.unwrap();
        assert_eq!(counted.0.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
