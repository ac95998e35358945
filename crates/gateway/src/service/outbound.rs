//! The outbound path of one gateway: `message.to_gateway.<id>` → bounded queue → sleeping-queue
//! decisions → a window of sends waiting for their acknowledgement → provider.
//!
//! The window: one worker makes every first send, in queue order. A send that waits for its echo
//! stays in flight (its wait and resends run beside the worker) while later messages go out, up
//! to the provider's [`Provider::max_in_flight`]. A message is held, not sent, while a message
//! with the same ack key is in flight (so a resend never follows a newer value for the same
//! device) or while an earlier message for the same node is held (so a node gets its messages in
//! order). At most that many are held; the rest wait in the queue.

mod echo;

use crate::ack::AckWaiters;
use crate::error::GatewayError;
use crate::provider::Provider;
use crate::sleeping_queue::{self, Pushed, SWEEP_INTERVAL, SleepingQueue};
use crate::stats::GatewayStats;
use echo::{await_echo, deliver, first_send};
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use parking_lot::Mutex;
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
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
/// (a device that slow is mostly waiting on acknowledgements that do not come). It also caps a
/// provider's [`Provider::max_in_flight`].
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

/// A message to send now (not for a sleeping queue), with its node's labels.
struct Ready {
    msg: Message,
    labels: Option<Labels>,
}

/// The worker's sends: held messages, and those in flight with their ack keys.
#[derive(Default)]
struct Window<'a> {
    held: VecDeque<Ready>,
    busy: HashSet<String>,
    /// Each ends with the ack key it held.
    in_flight: FuturesUnordered<BoxFuture<'a, String>>,
}

/// What the worker woke up for.
enum Step {
    Settled(String),
    Received(Message),
    Closed,
    Sweep,
    Cancelled,
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
            let mut window = Window::default();
            loop {
                let limit = self.limit();
                let accepting = window.held.len() < limit && window.in_flight.len() < limit;
                let step = tokio::select! {
                    _ = cancel.cancelled() => Step::Cancelled,
                    Some(key) = window.in_flight.next(), if !window.in_flight.is_empty() => {
                        Step::Settled(key)
                    }
                    m = rx.recv(), if accepting => match m {
                        Some(msg) => Step::Received(msg),
                        None => Step::Closed,
                    },
                    _ = sweep.tick() => Step::Sweep,
                };
                let work = async {
                    match step {
                        Step::Settled(key) => {
                            window.busy.remove(&key);
                        }
                        Step::Received(msg) => self.admit(msg, &mut window).await,
                        Step::Sweep => {
                            self.queue.lock().sweep(Instant::now());
                        }
                        Step::Closed | Step::Cancelled => return false,
                    }
                    // Whatever changed may let held messages go.
                    self.dispatch(&mut window).await;
                    true
                };
                let go_on = tokio::select! {
                    _ = cancel.cancelled() => false,
                    go_on = work => go_on,
                };
                if !go_on {
                    break;
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

    /// How many sends may be in flight with the current provider (1 while there is none).
    fn limit(&self) -> usize {
        self.provider
            .borrow()
            .as_ref()
            .map_or(1, |p| p.max_in_flight())
            .clamp(1, OUTBOUND_QUEUE_CAPACITY)
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

    /// Decides where a message from the queue goes: a woken node's flush, its sleeping queue, or
    /// the window.
    async fn admit<'a>(&'a self, msg: Message, window: &mut Window<'a>) {
        if sleeping_queue::is_awake(&msg) {
            // The woken node's queue goes after everything received before the wake-up.
            self.drain(window).await;
            return self.flush(&msg.node_id).await;
        }
        let labels = self.node_labels(&msg.node_id).await;
        if !msg.node_id.is_empty() && sleeping_queue::goes_to_queue(&msg, labels.as_ref()) {
            return self.enqueue(msg, labels.as_ref());
        }
        window.held.push_back(Ready { msg, labels });
    }

    /// Sends every held message that may go now, in order, until the window is full.
    async fn dispatch<'a>(&'a self, window: &mut Window<'a>) {
        let provider = self.provider.borrow().clone();
        let Some(provider) = provider else {
            // Not connected: each fails as its send would (and may wait in a sleeping queue).
            while let Some(ready) = window.held.pop_front() {
                self.settle(ready, Err(GatewayError::NotConnected));
            }
            return;
        };
        let limit = provider.max_in_flight().clamp(1, OUTBOUND_QUEUE_CAPACITY);
        // Nodes with an earlier message still held: theirs wait behind it.
        let mut held_nodes: HashSet<String> = HashSet::new();
        let mut i = 0;
        while i < window.held.len() && window.in_flight.len() < limit {
            let node = &window.held[i].msg.node_id;
            if held_nodes.contains(node) {
                i += 1;
                continue;
            }
            let request = provider.ack_request(&window.held[i].msg);
            if let Some(r) = &request
                && window.busy.contains(&r.key)
            {
                held_nodes.insert(node.clone());
                i += 1;
                continue;
            }
            let Some(ready) = window.held.remove(i) else {
                break;
            };
            let Some(request) = request else {
                let result = provider.post(&ready.msg).await;
                self.settle(ready, result);
                continue;
            };
            let echo = match first_send(provider.as_ref(), &self.acks, &ready.msg, &request).await {
                Ok(echo) => echo,
                Err(e) => {
                    self.settle(ready, Err(e));
                    continue;
                }
            };
            window.busy.insert(request.key.clone());
            let provider = provider.clone();
            window.in_flight.push(Box::pin(async move {
                let result =
                    await_echo(provider.as_ref(), &self.acks, &ready.msg, &request, echo).await;
                self.settle(ready, result);
                request.key
            }));
        }
    }

    /// Sends everything held and waits until nothing is in flight.
    async fn drain<'a>(&'a self, window: &mut Window<'a>) {
        loop {
            self.dispatch(window).await;
            match window.in_flight.next().await {
                Some(key) => {
                    window.busy.remove(&key);
                }
                // Nothing in flight, so nothing could hold a message back: all went.
                None => break,
            }
        }
    }

    /// Counts a finished send; one that failed for a reason that may pass waits in the node's
    /// sleeping queue when the gateway asks for that.
    fn settle(&self, ready: Ready, result: Result<(), GatewayError>) {
        let Ready { msg, labels } = ready;
        match result {
            Ok(()) => self.stats.add_sent(),
            Err(e) => {
                if matches!(e, GatewayError::NoAck { .. }) {
                    self.stats.add_ack_timeout();
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::AckRequest;
    use async_trait::async_trait;
    use std::time::Duration;
    use switchyard_bus::{EmbeddedBus, EmbeddedBusConfig};
    use switchyard_core::bus::{Bus, BusExt};
    use switchyard_core::{MessageType, Payload, topics};

    const ECHO_DELAY: Duration = Duration::from_millis(50);
    const ACK_TIMEOUT: Duration = Duration::from_millis(200);

    /// A device that echoes every send after [`ECHO_DELAY`], except the first send of `lose`.
    struct SlowEcho {
        acks: Arc<AckWaiters>,
        window: usize,
        lose: Option<&'static str>,
        start: Instant,
        /// (time of the send, "node/child=value")
        posts: Mutex<Vec<(Duration, String)>>,
    }

    fn key(msg: &Message) -> String {
        format!("{}/{}", msg.node_id, msg.source_id)
    }

    #[async_trait]
    impl Provider for SlowEcho {
        fn ack_request(&self, msg: &Message) -> Option<AckRequest> {
            Some(AckRequest {
                key: key(msg),
                timeout: ACK_TIMEOUT,
                attempts: 3,
            })
        }

        fn max_in_flight(&self) -> usize {
            self.window
        }

        async fn post(&self, msg: &Message) -> Result<(), GatewayError> {
            let key = key(msg);
            let value = &msg.payloads[0].value;
            let first = {
                let mut posts = self.posts.lock();
                let first = !posts.iter().any(|(_, p)| p.starts_with(&format!("{key}=")));
                posts.push((self.start.elapsed(), format!("{key}={value}")));
                first
            };
            if first && self.lose == Some(key.as_str()) {
                return Ok(());
            }
            let acks = self.acks.clone();
            tokio::spawn(async move {
                tokio::time::sleep(ECHO_DELAY).await;
                acks.acknowledge(&key);
            });
            Ok(())
        }
    }

    struct Running {
        bus: Arc<dyn Bus>,
        device: Arc<SlowEcho>,
        stats: Arc<GatewayStats>,
        cancel: CancellationToken,
        _dir: tempfile::TempDir,
    }

    async fn start(window: usize, lose: Option<&'static str>) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let bus: Arc<dyn Bus> = Arc::new(EmbeddedBus::new(&EmbeddedBusConfig::default()).unwrap());
        let storage = switchyard_storage::MemoryStorage::open(dir.path(), &Default::default())
            .await
            .unwrap();
        let acks = Arc::new(AckWaiters::default());
        let device = Arc::new(SlowEcho {
            acks: acks.clone(),
            window,
            lose,
            start: Instant::now(),
            posts: Mutex::new(Vec::new()),
        });
        let (_tx, provider) = watch::channel(Some(device.clone() as Arc<dyn Provider>));
        let stats = Arc::new(GatewayStats::default());
        let outbound = Outbound {
            gateway_id: "gw".into(),
            store: Store::new(Arc::new(storage)),
            queue: Arc::new(Mutex::new(SleepingQueue::new())),
            stats: stats.clone(),
            acks,
            provider,
            queue_failed_message: false,
            log: Arc::new(RateLimitedLog::new(Duration::from_secs(1))),
        };
        let subscription = bus.subscribe(&topics::to_gateway("gw")).await.unwrap();
        let cancel = CancellationToken::new();
        let run_cancel = cancel.clone();
        tokio::spawn(async move {
            // Keeps the provider's sender alive as long as the worker runs.
            let _tx = _tx;
            outbound.run(subscription, run_cancel).await
        });
        Running {
            bus,
            device,
            stats,
            cancel,
            _dir: dir,
        }
    }

    impl Running {
        async fn set(&self, node: &str, child: &str, value: &str) {
            let msg = Message::new(MessageType::Set, "gw", node, child)
                .with_payload(Payload::new("V_STATUS", value));
            self.bus
                .publish_json(&topics::to_gateway("gw"), &msg)
                .await
                .unwrap();
        }

        fn posts(&self) -> Vec<(Duration, String)> {
            self.device.posts.lock().clone()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_window_has_several_sets_waiting_for_their_echo_at_once() {
        for (window, sent_after_one_echo) in [(8, 8), (1, 1)] {
            let r = start(window, None).await;
            for child in 0..8 {
                r.set("1", &child.to_string(), "1").await;
            }
            tokio::time::sleep(ECHO_DELAY + Duration::from_millis(5)).await;
            let stats = r.stats.snapshot();
            assert_eq!(stats.sent, sent_after_one_echo, "window {window}");
            // One at a time, the eighth goes out after seven echoes.
            tokio::time::sleep(ECHO_DELAY * 8).await;
            let stats = r.stats.snapshot();
            assert_eq!((stats.sent, stats.ack_timeouts), (8, 0), "window {window}");
            let posts = r.posts();
            let sent: Vec<_> = posts.iter().map(|(_, p)| p.as_str()).collect();
            let in_order: Vec<_> = (0..8).map(|c| format!("1/{c}=1")).collect();
            assert_eq!(
                sent, in_order,
                "window {window}: first sends keep queue order"
            );
            let last = posts.last().unwrap().0;
            if window == 8 {
                assert_eq!(last, Duration::ZERO);
            } else {
                assert_eq!(last, ECHO_DELAY * 7);
            }
            r.cancel.cancel();
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_key_holds_its_node_and_a_lost_echo_is_resent() {
        let r = start(8, None).await;
        r.set("1", "a", "1").await;
        r.set("1", "a", "2").await;
        r.set("1", "b", "1").await;
        r.set("2", "a", "1").await;
        tokio::time::sleep(ECHO_DELAY * 3).await;
        let at = |ms: u64| Duration::from_millis(ms);
        assert_eq!(
            r.posts(),
            vec![
                (at(0), "1/a=1".to_string()),
                // Node 1's next value for `a` waits for the echo of the first; its `b` waits
                // behind it; node 2 goes at once.
                (at(0), "2/a=1".to_string()),
                (ECHO_DELAY, "1/a=2".to_string()),
                (ECHO_DELAY, "1/b=1".to_string()),
            ]
        );
        assert_eq!(r.stats.snapshot().sent, 4);
        r.cancel.cancel();

        let r = start(8, Some("1/a")).await;
        r.set("1", "a", "1").await;
        r.set("1", "b", "1").await;
        r.set("2", "a", "1").await;
        tokio::time::sleep(ECHO_DELAY + Duration::from_millis(5)).await;
        // The two echoed sets are done while the lost one still waits.
        assert_eq!(r.stats.snapshot().sent, 2);
        tokio::time::sleep(ACK_TIMEOUT + ECHO_DELAY).await;
        let stats = r.stats.snapshot();
        assert_eq!((stats.sent, stats.ack_timeouts), (3, 0));
        assert_eq!(
            r.posts(),
            vec![
                (at(0), "1/a=1".to_string()),
                (at(0), "1/b=1".to_string()),
                (at(0), "2/a=1".to_string()),
                (ACK_TIMEOUT, "1/a=1".to_string()),
            ]
        );
        r.cancel.cancel();
    }
}
