use crate::config::{ConfigError, NatsBusConfig, Settings};
use crate::durable::Durable;
use crate::subject::{Prefix, is_durable_subject, reads_durable_stream};
use async_nats::{ConnectOptions, Event, RequestErrorKind};
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use switchyard_core::bus::{
    Bus, BusError, BusMessage, BusStats, Subscription, validate_pattern, validate_subject,
};
use thiserror::Error;
use tokio::time::Instant;

#[derive(Debug, Error)]
pub enum ConnectError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("connecting to NATS at {servers}: {reason}")]
    Connect { servers: String, reason: String },
    #[error(
        "setting up the JetStream stream `{stream}` (is JetStream enabled on the server, `nats-server -js`?): {reason}"
    )]
    JetStream { stream: String, reason: String },
}

/// The NATS bus, for distributed mode: the same [`Bus`] as the embedded one, so services run
/// unchanged in any process on any host.
///
/// - Subjects get the installation's `subject_prefix`; request inboxes too, so a responder's
///   plain publish to `reply` works as on the embedded bus.
/// - While disconnected the client reconnects (for ever unless `max_reconnects`) and holds up to
///   `publish_buffer` publishes; past it a publish waits `publish_wait`, then fails and counts as
///   dropped. Subscriptions are renewed on reconnect.
/// - `message.to_processor`, `handler.notify` and `message.to_gateway.*` are durable unless
///   `durable.enabled` is off: see [`crate::durable`].
#[derive(Clone)]
pub struct NatsBus {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub client: async_nats::Client,
    pub prefix: Prefix,
    pub settings: Settings,
    pub durable: Option<Durable>,
    pub stats: Arc<Counters>,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub published: AtomicU64,
    pub delivered: AtomicU64,
    pub dropped: AtomicU64,
    pub subscriptions: AtomicU64,
    last_warning: Mutex<Option<Instant>>,
}

impl Counters {
    /// Counts a dropped message; logs at most one line a second.
    pub fn drop_one(&self, what: &str, subject: &str) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let mut last = self.last_warning.lock();
        if last.is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_secs(1)) {
            *last = Some(now);
            tracing::warn!(
                subject,
                dropped = self.dropped.load(Ordering::Relaxed),
                "{what}"
            );
        }
    }
}

impl NatsBus {
    /// Connects (failing if no server answers within `connection_timeout`) and, in durable mode,
    /// creates or updates the stream.
    pub async fn connect(config: &NatsBusConfig) -> Result<NatsBus, ConnectError> {
        let settings = config.settings()?;
        let prefix = Prefix::new(&config.subject_prefix);
        let stats = Arc::new(Counters::default());
        let client = connect_options(config, &settings, &prefix, stats.clone())
            .connect(config.servers.as_slice())
            .await
            .map_err(|e| ConnectError::Connect {
                servers: config.servers.join(","),
                reason: e.to_string(),
            })?;
        let durable = match &settings.durable {
            Some(d) => Some(Durable::setup(client.clone(), d, &prefix).await.map_err(
                |reason| ConnectError::JetStream {
                    stream: d.stream.clone(),
                    reason,
                },
            )?),
            None => None,
        };
        Ok(NatsBus {
            inner: Arc::new(Inner {
                client,
                prefix,
                settings,
                durable,
                stats,
            }),
        })
    }

    /// Whether the client is connected right now.
    pub fn is_connected(&self) -> bool {
        self.inner.client.connection_state() == async_nats::connection::State::Connected
    }

    /// Messages the client has handed to its connection so far. Publishes held while
    /// disconnected count only once they go out after the reconnect.
    pub fn messages_sent(&self) -> u64 {
        self.inner
            .client
            .statistics()
            .out_messages
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn core_subscription(
        &self,
        pattern: &str,
        group: Option<&str>,
    ) -> Result<Subscription, BusError> {
        let wire = self.inner.prefix.wire(pattern);
        let subscriber = match group {
            Some(g) => self.inner.client.queue_subscribe(wire, g.to_string()).await,
            None => self.inner.client.subscribe(wire).await,
        }
        .map_err(|e| BusError::Connection(e.to_string()))?;
        let guard = SubscriptionGuard::new(self.inner.clone());
        let stream = subscriber.map(move |m| {
            let inner = &guard.inner;
            inner.stats.delivered.fetch_add(1, Ordering::Relaxed);
            let mut message = BusMessage::new(inner.prefix.strip(m.subject.as_str()), m.payload);
            if let Some(reply) = m.reply {
                message = message.with_reply(inner.prefix.strip(reply.as_str()));
            }
            message
        });
        Ok(Subscription::new(stream))
    }

    async fn subscription(
        &self,
        pattern: &str,
        group: Option<&str>,
    ) -> Result<Subscription, BusError> {
        validate_pattern(pattern)?;
        if let Some(group) = group {
            validate_group(group)?;
        }
        match &self.inner.durable {
            Some(durable) if reads_durable_stream(pattern, group) => {
                let guard = SubscriptionGuard::new(self.inner.clone());
                durable.subscribe(&self.inner, pattern, group, guard).await
            }
            _ => self.core_subscription(pattern, group).await,
        }
    }
}

/// Counts a live subscription, and uncounts it when the subscription is dropped.
pub(crate) struct SubscriptionGuard {
    pub inner: Arc<Inner>,
}

impl SubscriptionGuard {
    pub fn new(inner: Arc<Inner>) -> Self {
        inner.stats.subscriptions.fetch_add(1, Ordering::Relaxed);
        SubscriptionGuard { inner }
    }
}

impl Drop for SubscriptionGuard {
    fn drop(&mut self) {
        self.inner
            .stats
            .subscriptions
            .fetch_sub(1, Ordering::Relaxed);
    }
}

fn connect_options(
    config: &NatsBusConfig,
    settings: &Settings,
    prefix: &Prefix,
    stats: Arc<Counters>,
) -> ConnectOptions {
    let name = if config.client_name.is_empty() {
        "switchyard"
    } else {
        &config.client_name
    };
    let mut options = ConnectOptions::new()
        .name(name)
        .custom_inbox_prefix(prefix.wire("_INBOX"))
        .client_capacity(config.publish_buffer)
        .subscription_capacity(config.subscriber_capacity)
        .connection_timeout(settings.connection_timeout)
        // Requests carry their own timeout.
        .request_timeout(None)
        .max_reconnects(config.max_reconnects)
        // At most 5 s between attempts, so a process notices a returning server quickly.
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis((100u64 << attempts.min(6)).min(5000))
        })
        .event_callback(move |event| {
            let stats = stats.clone();
            async move {
                match event {
                    Event::Connected => tracing::info!("bus: connected to NATS"),
                    Event::Disconnected => {
                        tracing::warn!(
                            "bus: disconnected from NATS; reconnecting, publishes are held"
                        )
                    }
                    Event::Closed => tracing::error!("bus: NATS connection closed for good"),
                    Event::SlowConsumer(sid) => stats.drop_one(
                        "bus: a subscriber fell behind; NATS dropped messages for it",
                        &format!("subscription {sid}"),
                    ),
                    other => tracing::warn!(event = %other, "bus: NATS"),
                }
            }
        });
    if !config.token.is_empty() {
        options = options.token(config.token.clone());
    }
    if !config.username.is_empty() {
        options = options.user_and_password(config.username.clone(), config.password.clone());
    }
    if config.tls.enabled {
        options = options.require_tls(true);
    }
    if !config.tls.ca_file.is_empty() {
        options = options.add_root_certificates(PathBuf::from(&config.tls.ca_file));
    }
    if !config.tls.cert_file.is_empty() {
        options = options.add_client_certificate(
            PathBuf::from(&config.tls.cert_file),
            PathBuf::from(&config.tls.key_file),
        );
    }
    options
}

/// NATS allows any name without white space; the embedded bus checks the same.
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
impl Bus for NatsBus {
    fn name(&self) -> &'static str {
        "nats"
    }

    async fn publish_message(&self, message: BusMessage) -> Result<(), BusError> {
        validate_subject(&message.subject)?;
        if let Some(reply) = &message.reply {
            validate_subject(reply)?;
        }
        let inner = &self.inner;
        if let Some(durable) = &inner.durable
            && message.reply.is_none()
            && is_durable_subject(&message.subject)
        {
            return durable
                .publish(inner, &message.subject, message.payload)
                .await;
        }
        let wire = inner.prefix.wire(&message.subject);
        let send = async {
            match &message.reply {
                Some(reply) => {
                    inner
                        .client
                        .publish_with_reply(wire, inner.prefix.wire(reply), message.payload)
                        .await
                }
                None => inner.client.publish(wire, message.payload).await,
            }
        };
        match tokio::time::timeout(inner.settings.publish_wait, send).await {
            Ok(Ok(())) => {
                inner.stats.published.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Ok(Err(e)) => Err(BusError::Connection(e.to_string())),
            Err(_) => {
                inner.stats.drop_one(
                    "bus: publish buffer full while NATS is unreachable; message dropped",
                    &message.subject,
                );
                Err(BusError::Connection(format!(
                    "not connected to NATS and {:?} passed with the publish buffer full; message dropped",
                    inner.settings.publish_wait
                )))
            }
        }
    }

    async fn subscribe(&self, pattern: &str) -> Result<Subscription, BusError> {
        self.subscription(pattern, None).await
    }

    async fn queue_subscribe(&self, pattern: &str, group: &str) -> Result<Subscription, BusError> {
        self.subscription(pattern, Some(group)).await
    }

    async fn request(
        &self,
        subject: &str,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<BusMessage, BusError> {
        validate_subject(subject)?;
        let inner = &self.inner;
        let request = async_nats::Request::new()
            .payload(payload)
            .inbox(inner.client.new_inbox())
            .timeout(Some(timeout));
        let exchange = inner
            .client
            .send_request(inner.prefix.wire(subject), request);
        // The client's own timeout starts after the publish; this one covers a full buffer too.
        let answer = match tokio::time::timeout(timeout, exchange).await {
            Err(_) => return Err(BusError::Timeout(timeout)),
            Ok(answer) => answer,
        };
        inner.stats.published.fetch_add(1, Ordering::Relaxed);
        match answer {
            Ok(m) => {
                inner.stats.delivered.fetch_add(1, Ordering::Relaxed);
                Ok(BusMessage::new(
                    inner.prefix.strip(m.subject.as_str()),
                    m.payload,
                ))
            }
            Err(e) => Err(match e.kind() {
                RequestErrorKind::TimedOut => BusError::Timeout(timeout),
                RequestErrorKind::NoResponders => BusError::NoResponders(subject.into()),
                _ => BusError::Connection(e.to_string()),
            }),
        }
    }

    fn stats(&self) -> BusStats {
        let s = &self.inner.stats;
        BusStats {
            published: s.published.load(Ordering::Relaxed),
            delivered: s.delivered.load(Ordering::Relaxed),
            dropped: s.dropped.load(Ordering::Relaxed),
            subscriptions: s.subscriptions.load(Ordering::Relaxed),
        }
    }
}
