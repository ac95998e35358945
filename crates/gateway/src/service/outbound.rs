//! The outbound path of one gateway: `message.to_gateway.<id>` → bounded queue → sleeping-queue
//! decisions → provider (with acknowledgement waits).

use crate::ack::AckWaiters;
use crate::error::GatewayError;
use crate::provider::Provider;
use crate::sleeping_queue::{self, Pushed, SWEEP_INTERVAL, SleepingQueue};
use crate::stats::GatewayStats;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::Message;
use switchyard_core::QuickId;
use switchyard_core::bus::Subscription;
use switchyard_core::model::{Labels, Node};
use switchyard_core::rate_log::RateLimitedLog;
use switchyard_core::store::Store;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Messages for a gateway's devices waiting to be sent (MyController's 200). At the bound new
/// messages are dropped, counted (`outboundDropped`) and logged: a backlog that deep is stale
/// (a device that slow is mostly waiting on acknowledgements that do not come).
pub const OUTBOUND_QUEUE_CAPACITY: usize = 200;

pub(crate) type CurrentProvider = watch::Receiver<Option<Arc<dyn Provider>>>;

pub(crate) struct Outbound {
    pub gateway_id: String,
    pub store: Store,
    pub queue: Arc<Mutex<SleepingQueue>>,
    pub stats: Arc<GatewayStats>,
    pub acks: Arc<AckWaiters>,
    pub provider: CurrentProvider,
    pub queue_failed_message: bool,
    pub log: Arc<RateLimitedLog>,
}

impl Outbound {
    /// Runs until `cancel` fires.
    pub async fn run(self, mut subscription: Subscription, cancel: CancellationToken) {
        let (tx, mut rx) = mpsc::channel::<Message>(OUTBOUND_QUEUE_CAPACITY);
        let reader = async {
            loop {
                let bus_msg = tokio::select! {
                    _ = cancel.cancelled() => break,
                    m = subscription.next() => match m {
                        Some(m) => m,
                        None => break,
                    },
                };
                let msg: Message = match bus_msg.json() {
                    Ok(m) => m,
                    Err(e) => {
                        self.warn(format!("undecodable message for the gateway: {e}"));
                        self.stats.add_send_failed();
                        continue;
                    }
                };
                if tx.try_send(msg).is_err() {
                    self.stats.add_outbound_dropped();
                    self.warn(format!(
                        "outbound queue full ({OUTBOUND_QUEUE_CAPACITY}); dropped a message"
                    ));
                }
            }
            drop(tx);
        };
        let worker = async {
            let mut sweep = tokio::time::interval(SWEEP_INTERVAL);
            sweep.tick().await;
            loop {
                tokio::select! {
                    m = rx.recv() => match m {
                        Some(msg) => tokio::select! {
                            _ = cancel.cancelled() => break,
                            _ = self.handle(msg) => {}
                        },
                        None => break,
                    },
                    _ = sweep.tick() => {
                        self.queue.lock().sweep(Instant::now());
                    }
                }
            }
        };
        tokio::join!(reader, worker);
    }

    fn warn(&self, what: String) {
        self.log.log(|suppressed| {
            tracing::warn!(gateway = %self.gateway_id, %what, suppressed, "outbound message")
        });
    }

    async fn node_labels(&self, node_id: &str) -> Option<Labels> {
        if node_id.is_empty() {
            return None;
        }
        let id = QuickId::compose(&[&self.gateway_id, node_id]);
        match self.store.get::<Node>(&id).await {
            Ok(node) => node.map(|n| n.labels),
            Err(e) => {
                self.warn(format!("reading node {id}: {e}"));
                None
            }
        }
    }

    async fn handle(&self, msg: Message) {
        if sleeping_queue::is_awake(&msg) {
            return self.flush(&msg.node_id).await;
        }
        let labels = self.node_labels(&msg.node_id).await;
        if !msg.node_id.is_empty() && sleeping_queue::goes_to_queue(&msg, labels.as_ref()) {
            return self.enqueue(msg, labels.as_ref());
        }
        match self.deliver(&msg).await {
            Ok(()) => self.stats.add_sent(),
            Err(e) => {
                if self.queue_failed_message
                    && e.is_transient()
                    && !msg.node_id.is_empty()
                    && sleeping_queue::may_queue_failed(labels.as_ref())
                {
                    self.enqueue(msg, labels.as_ref());
                } else {
                    self.stats.add_send_failed();
                    self.warn(format!("not sent to node `{}`: {e}", msg.node_id));
                }
            }
        }
    }

    fn enqueue(&self, msg: Message, labels: Option<&Labels>) {
        let (validity, problem) = sleeping_queue::validity(&msg, labels);
        if let Some(problem) = problem {
            self.warn(format!("{problem}; using {validity:?}"));
        }
        let node = msg.node_id.clone();
        let pushed = self.queue.lock().push(msg, validity, Instant::now());
        match pushed {
            Pushed::Refused => {
                self.stats.add_send_failed();
                self.warn(format!(
                    "sleeping queues full ({} messages); dropped a message for node `{node}`",
                    sleeping_queue::MAX_PER_GATEWAY
                ));
            }
            _ => self.stats.add_queued(),
        }
    }

    /// Sends a woken node's queue in order; what fails for a reason that may pass goes back.
    async fn flush(&self, node_id: &str) {
        let entries = self.queue.lock().take(node_id, Instant::now());
        let mut failed = Vec::new();
        for entry in entries {
            match self.deliver(&entry.message).await {
                Ok(()) => self.stats.add_sent(),
                Err(e) if e.is_transient() => {
                    self.warn(format!("queued message for node `{node_id}` not sent: {e}"));
                    failed.push(entry);
                }
                Err(e) => {
                    self.stats.add_send_failed();
                    self.warn(format!("queued message for node `{node_id}` dropped: {e}"));
                }
            }
        }
        if !failed.is_empty() {
            self.queue.lock().requeue(failed, Instant::now());
        }
    }

    async fn deliver(&self, msg: &Message) -> Result<(), GatewayError> {
        let provider = self
            .provider
            .borrow()
            .clone()
            .ok_or(GatewayError::NotConnected)?;
        let result = deliver(provider.as_ref(), &self.acks, msg).await;
        if matches!(result, Err(GatewayError::NoAck { .. })) {
            self.stats.add_ack_timeout();
        }
        result
    }
}

/// Sends `msg`, and when the provider asks for an acknowledgement waits for it, resending up to
/// the requested attempts.
pub(crate) async fn deliver(
    provider: &dyn Provider,
    acks: &AckWaiters,
    msg: &Message,
) -> Result<(), GatewayError> {
    let Some(request) = provider.ack_request(msg) else {
        return provider.post(msg).await;
    };
    let attempts = request.attempts.max(1);
    let timeout = request.timeout.max(Duration::from_millis(1));
    for _ in 0..attempts {
        // Registered before sending, so an echo that beats us back is not missed.
        let echo = acks.register(&request.key);
        if let Err(e) = provider.post(msg).await {
            acks.forget(&request.key);
            return Err(e);
        }
        if let Ok(Ok(())) = tokio::time::timeout(timeout, echo).await {
            return Ok(());
        }
    }
    acks.forget(&request.key);
    Err(GatewayError::NoAck {
        key: request.key,
        attempts,
        timeout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::AckRequest;
    use async_trait::async_trait;
    use std::sync::atomic::{AtomicU32, Ordering};
    use switchyard_core::{MessageType, Payload};

    /// Echoes on the given attempt (1-based), never when 0.
    struct EchoOn {
        acks: Arc<AckWaiters>,
        echo_on: u32,
        posts: AtomicU32,
    }

    #[async_trait]
    impl Provider for EchoOn {
        fn ack_request(&self, _msg: &Message) -> Option<AckRequest> {
            Some(AckRequest {
                key: "1;2;V_STATUS".into(),
                timeout: AckRequest::DEFAULT_TIMEOUT,
                attempts: 3,
            })
        }

        async fn post(&self, _msg: &Message) -> Result<(), GatewayError> {
            let n = self.posts.fetch_add(1, Ordering::SeqCst) + 1;
            if n == self.echo_on {
                // The echo arrives before `post` even returns: it must not be missed.
                self.acks.acknowledge("1;2;V_STATUS");
            }
            Ok(())
        }
    }

    fn msg() -> Message {
        Message::new(MessageType::Set, "gw", "1", "2").with_payload(Payload::new("V_STATUS", "1"))
    }

    #[tokio::test(start_paused = true)]
    async fn waits_retries_and_gives_up() {
        let acks = Arc::new(AckWaiters::default());
        let second = EchoOn {
            acks: acks.clone(),
            echo_on: 2,
            posts: AtomicU32::new(0),
        };
        let start = Instant::now();
        deliver(&second, &acks, &msg()).await.unwrap();
        assert_eq!(second.posts.load(Ordering::SeqCst), 2);
        assert_eq!(start.elapsed(), AckRequest::DEFAULT_TIMEOUT);

        let never = EchoOn {
            acks: acks.clone(),
            echo_on: 0,
            posts: AtomicU32::new(0),
        };
        let start = Instant::now();
        let err = deliver(&never, &acks, &msg()).await.unwrap_err();
        assert!(
            matches!(err, GatewayError::NoAck { attempts: 3, .. }),
            "{err}"
        );
        assert_eq!(never.posts.load(Ordering::SeqCst), 3);
        assert_eq!(start.elapsed(), AckRequest::DEFAULT_TIMEOUT * 3);
        // A late echo finds nobody waiting.
        assert!(!acks.acknowledge("1;2;V_STATUS"));
    }
}
