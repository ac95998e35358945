use crate::config::{ConfigError, EmbeddedBusConfig, Limits};
use crate::registry::{Offer, Registry};
use crate::request;
use crate::stalled::{Stalled, Waited};
use crate::subscription::SubscriberQueue;
use async_trait::async_trait;
use bytes::Bytes;
use parking_lot::RwLock;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use switchyard_core::bus::{
    Bus, BusError, BusMessage, BusStats, Subscription, validate_pattern, validate_subject,
};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout_at};

/// The in-process bus, used unless NATS is configured. Cloning it is cheap and every clone is the
/// same bus; it can also be shared as `Arc<dyn Bus>`. When the last clone is dropped every
/// subscription ends.
///
/// # Overload policy
///
/// Every subscription has its own queue of `subscriber_capacity` messages, so memory never grows
/// without bound. When a subscriber's queue is full, the publisher waits up to `publish_wait` for
/// room (one deadline for the whole publish, however many subscribers are full). If there is still
/// none, the message is dropped for that subscriber only, counted in [`BusStats::dropped`] and
/// logged as a warning: the first drop, then at most one line per second per subscriber with the
/// count. A stuck subscriber therefore delays each publish it matches by at most `publish_wait`
/// and never stops the bus. A queue group hands each message to the next member in turn that has
/// room; only when every member is full does the publisher wait, for whichever member frees room
/// first. A dropped [`Subscription`] leaves the bus at once and is never waited on.
///
/// Messages to one subscriber arrive in the order they were published; messages from concurrent
/// publishers interleave.
#[derive(Clone)]
pub struct EmbeddedBus {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub registry: RwLock<Registry>,
    limits: Limits,
    next_id: AtomicU64,
    published: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
}

impl EmbeddedBus {
    pub fn new(config: &EmbeddedBusConfig) -> Result<Self, ConfigError> {
        Ok(EmbeddedBus::with_limits(config.limits()?))
    }

    fn with_limits(limits: Limits) -> Self {
        EmbeddedBus {
            inner: Arc::new(Inner {
                registry: RwLock::default(),
                limits,
                next_id: AtomicU64::new(0),
                published: AtomicU64::new(0),
                delivered: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
            }),
        }
    }

    /// Publishes and returns how many subscriptions matched (a queue group counts once), which
    /// is what tells a requester nobody listens.
    pub(crate) async fn deliver(&self, message: BusMessage) -> Result<usize, BusError> {
        validate_subject(&message.subject)?;
        if let Some(reply) = &message.reply {
            validate_subject(reply)?;
        }
        let message = Arc::new(message);
        let mut offer = Offer::default();
        self.inner.registry.read().offer(&message, &mut offer);
        self.inner.published.fetch_add(1, Ordering::Relaxed);

        let mut delivered = offer.delivered;
        if !offer.stalled.is_empty() {
            let deadline = Instant::now() + self.inner.limits.publish_wait;
            for stalled in &offer.stalled {
                match timeout_at(deadline, stalled.wait_for_room(&message)).await {
                    Ok(Waited::Delivered) => delivered += 1,
                    Ok(Waited::Closed) => {}
                    Err(_) => self.record_drop(stalled, &message.subject),
                }
            }
        }
        self.inner.delivered.fetch_add(delivered, Ordering::Relaxed);
        Ok(offer.matched)
    }

    fn record_drop(&self, stalled: &Stalled, subject: &str) {
        self.inner.dropped.fetch_add(1, Ordering::Relaxed);
        let Some(subscriber) = stalled.blame() else {
            return;
        };
        let report = subscriber.drops.lock().record(Instant::now());
        if let Some(dropped) = report {
            tracing::warn!(
                subscription = %subscriber.pattern,
                queue_group = subscriber.group.as_deref().unwrap_or(""),
                subject,
                dropped,
                publish_wait = ?self.inner.limits.publish_wait,
                "bus subscriber stayed full past the publish wait; dropped messages for it"
            );
        }
    }

    pub(crate) fn register(
        &self,
        pattern: &str,
        group: Option<&str>,
    ) -> Result<Subscription, BusError> {
        validate_pattern(pattern)?;
        if let Some(group) = group {
            validate_group(group)?;
        }
        let (queue, rx) = mpsc::channel(self.inner.limits.subscriber_capacity);
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        self.inner
            .registry
            .write()
            .insert(id, pattern, group, queue);
        Ok(Subscription::new(SubscriberQueue::new(
            rx,
            id,
            Arc::downgrade(&self.inner),
        )))
    }
}

/// The bus with the documented defaults.
impl Default for EmbeddedBus {
    fn default() -> Self {
        EmbeddedBus::with_limits(Limits::default())
    }
}

/// NATS allows any name without white space; so do we, so a config works on both buses.
fn validate_group(group: &str) -> Result<(), BusError> {
    let reason = if group.is_empty() {
        "empty queue group name"
    } else if group.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "white space or control character in queue group name"
    } else {
        return Ok(());
    };
    Err(BusError::InvalidSubject {
        subject: group.chars().take(256).collect(),
        reason: reason.into(),
    })
}

#[async_trait]
impl Bus for EmbeddedBus {
    fn name(&self) -> &'static str {
        "embedded"
    }

    async fn publish_message(&self, message: BusMessage) -> Result<(), BusError> {
        self.deliver(message).await.map(|_| ())
    }

    async fn subscribe(&self, pattern: &str) -> Result<Subscription, BusError> {
        self.register(pattern, None)
    }

    async fn queue_subscribe(&self, pattern: &str, group: &str) -> Result<Subscription, BusError> {
        self.register(pattern, Some(group))
    }

    async fn request(
        &self,
        subject: &str,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<BusMessage, BusError> {
        request::request(self, subject, payload, timeout).await
    }

    fn stats(&self) -> BusStats {
        let subscriptions = self.inner.registry.read().len();
        BusStats {
            published: self.inner.published.load(Ordering::Relaxed),
            delivered: self.inner.delivered.load(Ordering::Relaxed),
            dropped: self.inner.dropped.load(Ordering::Relaxed),
            subscriptions: subscriptions as u64,
        }
    }
}
