//! Durable delivery on JetStream for `message.to_processor`, `handler.notify` and
//! `message.to_gateway.*`.
//!
//! - **Publish**: each message goes into one work-queue stream with a fresh message id, and the
//!   publish returns once the server has stored it. Until then it is retried with the same id
//!   (a lost acknowledgement, a reconnect, a restarting server, a full stream) for up to
//!   `publish_timeout`; the server stores a retried id once within `duplicate_window`.
//! - **Consume**: each (queue group, subject) is one durable pull consumer, shared by the group's
//!   members in every process. A message is delivered with a [`Delivery`]: acknowledged (and
//!   removed from the stream) when the service acks it or lets its last copy go, delivered
//!   again after `ack_wait` if the process dies first, at most `max_deliver` times. Its
//!   `message_id` stays the same across redeliveries, so a service that records the ids it has
//!   committed (the processor) does nothing twice.
//! - **Bounds**: the stream holds at most `max_messages` / `max_bytes` unacknowledged messages,
//!   each at most `max_age`; at a bound publishes are refused (and retried as above), nothing
//!   kept is discarded. At most `max_ack_pending` messages per consumer are out unacknowledged.

use crate::bus::{Inner, SubscriptionGuard};
use crate::config::DurableSettings;
use crate::subject::{Prefix, consumer_name, durable_patterns};
use async_nats::jetstream::{self, consumer, stream};
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use switchyard_core::bus::{BusError, BusMessage, Delivery, Subscription};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Messages a durable subscription holds read from the server but not yet taken by the service;
/// small, because they are already counting against `ack_wait`.
const PREFETCH: usize = 64;

pub(crate) struct Durable {
    js: jetstream::Context,
    stream: String,
    settings: DurableSettings,
}

impl Durable {
    pub async fn setup(
        client: async_nats::Client,
        settings: &DurableSettings,
        prefix: &Prefix,
    ) -> Result<Durable, String> {
        let js = jetstream::new(client);
        let config = stream::Config {
            name: settings.stream.clone(),
            subjects: durable_patterns().iter().map(|p| prefix.wire(p)).collect(),
            retention: stream::RetentionPolicy::WorkQueue,
            discard: stream::DiscardPolicy::New,
            max_messages: settings.max_messages,
            max_bytes: settings.max_bytes,
            max_age: settings.max_age,
            duplicate_window: settings.duplicate_window,
            storage: if settings.memory {
                stream::StorageType::Memory
            } else {
                stream::StorageType::File
            },
            num_replicas: 1,
            ..Default::default()
        };
        match js.get_stream(&settings.stream).await {
            // Bounds may have changed in the config since the stream was made.
            Ok(_) => js
                .update_stream(&config)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())?,
            Err(_) => js
                .create_stream(config)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())?,
        }
        Ok(Durable {
            js,
            stream: settings.stream.clone(),
            settings: settings.clone(),
        })
    }

    pub async fn publish(
        &self,
        inner: &Inner,
        subject: &str,
        payload: Bytes,
    ) -> Result<(), BusError> {
        let wire = inner.prefix.wire(subject);
        let id = uuid::Uuid::new_v4().simple().to_string();
        let deadline = Instant::now() + self.settings.publish_timeout;
        let mut pause = Duration::from_millis(50);
        loop {
            let attempt = async {
                let publish = jetstream::message::PublishMessage::build()
                    .payload(payload.clone())
                    .message_id(&id);
                self.js
                    .send_publish(wire.clone(), publish)
                    .await
                    .map_err(|e| e.to_string())?
                    .await
                    .map_err(|e| e.to_string())
            };
            let error = match tokio::time::timeout_at(deadline, attempt).await {
                Ok(Ok(_ack)) => {
                    inner.stats.published.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                Ok(Err(e)) => e,
                Err(_) => "no acknowledgement from the server".to_string(),
            };
            if Instant::now() + pause >= deadline {
                inner.stats.drop_one(
                    "bus: durable publish not stored before durable.publish_timeout; message dropped",
                    subject,
                );
                return Err(BusError::Connection(format!(
                    "durable publish not stored within {:?}: {error}",
                    self.settings.publish_timeout
                )));
            }
            tracing::debug!(subject, %error, "bus: durable publish not stored yet; retrying");
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    pub async fn subscribe(
        &self,
        inner: &Arc<Inner>,
        pattern: &str,
        group: Option<&str>,
        guard: SubscriptionGuard,
    ) -> Result<Subscription, BusError> {
        let name = consumer_name(group, pattern);
        let config = consumer::pull::Config {
            durable_name: Some(name.clone()),
            filter_subject: inner.prefix.wire(pattern),
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait: self.settings.ack_wait,
            max_deliver: self.settings.max_deliver,
            max_ack_pending: self.settings.max_ack_pending,
            deliver_policy: consumer::DeliverPolicy::All,
            ..Default::default()
        };
        let stream = self
            .js
            .get_stream(&self.stream)
            .await
            .map_err(|e| BusError::Connection(format!("durable stream: {e}")))?;
        let consumer: consumer::PullConsumer =
            stream
                .get_or_create_consumer(&name, config)
                .await
                .map_err(|e| BusError::Connection(format!("durable consumer `{name}`: {e}")))?;
        let (tx, rx) = mpsc::channel(PREFETCH);
        tokio::spawn(pump(consumer, tx, inner.clone(), name));
        let stream = futures::stream::unfold((rx, guard), |(mut rx, guard)| async move {
            let pending: Pending = rx.recv().await?;
            // From here on the service holds it, and letting it go means it was handled.
            pending.delivery.handed_out.store(true, Ordering::Relaxed);
            Some((pending.message, (rx, guard)))
        });
        Ok(Subscription::new(stream))
    }
}

/// Pulls from the consumer into the subscription's queue until the subscription is dropped;
/// reopens the pull after errors (the server restarting, a lost heartbeat).
async fn pump(
    consumer: consumer::PullConsumer,
    tx: mpsc::Sender<Pending>,
    inner: Arc<Inner>,
    name: String,
) {
    let mut pause = Duration::from_millis(100);
    loop {
        let messages = consumer
            .stream()
            .max_messages_per_batch(PREFETCH)
            .heartbeat(Duration::from_secs(5))
            .expires(Duration::from_secs(30))
            .messages()
            .await;
        match messages {
            Ok(mut messages) => loop {
                let item = tokio::select! {
                    _ = tx.closed() => return,
                    item = messages.next() => item,
                };
                match item {
                    Some(Ok(message)) => {
                        pause = Duration::from_millis(100);
                        let Some(pending) = to_bus_message(&inner.prefix, message) else {
                            continue;
                        };
                        inner.stats.delivered.fetch_add(1, Ordering::Relaxed);
                        if tx.send(pending).await.is_err() {
                            return;
                        }
                    }
                    Some(Err(e)) => {
                        tracing::debug!(consumer = %name, error = %e, "bus: durable pull interrupted");
                        break;
                    }
                    None => break,
                }
            },
            Err(e) => {
                tracing::warn!(consumer = %name, error = %e, "bus: durable pull failed; retrying")
            }
        }
        tokio::select! {
            _ = tx.closed() => return,
            _ = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

/// A message pulled from the server and not yet taken by the service. Dropped here (the
/// subscription went away first) it is not acknowledged: the server delivers it again.
struct Pending {
    message: BusMessage,
    delivery: Arc<JetStreamDelivery>,
}

fn to_bus_message(prefix: &Prefix, message: jetstream::Message) -> Option<Pending> {
    let (stream_sequence, attempt) = match message.info() {
        Ok(info) => (info.stream_sequence, info.delivered.max(1) as u64),
        Err(e) => {
            tracing::warn!(error = %e, "bus: durable message without delivery info; skipped");
            return None;
        }
    };
    let id = message
        .headers
        .as_ref()
        .and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID))
        .map(|v| v.as_str().to_string())
        .unwrap_or_else(|| format!("seq-{stream_sequence}"));
    let (message, acker) = message.split();
    let delivery = Arc::new(JetStreamDelivery {
        acker: Some(acker),
        id,
        attempt,
        settled: AtomicBool::new(false),
        handed_out: AtomicBool::new(false),
    });
    Some(Pending {
        message: BusMessage::new(prefix.strip(message.subject.as_str()), message.payload)
            .with_delivery(delivery.clone()),
        delivery,
    })
}

struct JetStreamDelivery {
    /// Always there; an `Option` only so that `drop` can move it into the ack it spawns.
    acker: Option<jetstream::message::Acker>,
    id: String,
    attempt: u64,
    /// Acked or naked: nothing more to send.
    settled: AtomicBool,
    /// The service has it (only then does letting it go acknowledge it).
    handed_out: AtomicBool,
}

impl std::fmt::Debug for JetStreamDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JetStreamDelivery")
            .field("id", &self.id)
            .field("attempt", &self.attempt)
            .finish()
    }
}

#[async_trait]
impl Delivery for JetStreamDelivery {
    fn message_id(&self) -> &str {
        &self.id
    }

    fn attempt(&self) -> u64 {
        self.attempt
    }

    async fn ack(&self) -> Result<(), BusError> {
        self.settled.store(true, Ordering::Relaxed);
        match &self.acker {
            Some(acker) => acker
                .ack()
                .await
                .map_err(|e| BusError::Connection(format!("ack: {e}"))),
            None => Ok(()),
        }
    }

    async fn nak(&self) -> Result<(), BusError> {
        self.settled.store(true, Ordering::Relaxed);
        match &self.acker {
            Some(acker) => acker
                .ack_with(jetstream::AckKind::Nak(Some(Duration::from_secs(1))))
                .await
                .map_err(|e| BusError::Connection(format!("nak: {e}"))),
            None => Ok(()),
        }
    }
}

/// A message let go without ack or nak was handled: acknowledge it (see [`Delivery`]). A process
/// that dies never gets here, so its messages are delivered again.
impl Drop for JetStreamDelivery {
    fn drop(&mut self) {
        if self.settled.swap(true, Ordering::Relaxed) || !self.handed_out.load(Ordering::Relaxed) {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current()
            && let Some(acker) = self.acker.take()
        {
            runtime.spawn(async move {
                if let Err(e) = acker.ack().await {
                    tracing::debug!(error = %e, "bus: ack on drop failed; the message will come again");
                }
            });
        }
    }
}
