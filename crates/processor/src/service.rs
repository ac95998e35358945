//! The processor's run loop: one queue-group subscription, messages spread over workers by node
//! (so one node's messages stay in order), each worker turning a message into [`Changes`] and
//! committing them.

use crate::changes::Changes;
use crate::config::ProcessorConfig;
use crate::delivered::{self, Delivered};
use crate::stats::{ProcessorStats, Rejection};
use crate::validate::{Refusal, decode};
use crate::view::View;
use crate::{field_update, node_update};
use chrono::Utc;
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::bus::{Bus, BusError, BusExt, Delivery};
use switchyard_core::metrics::MetricStore;
use switchyard_core::model::Gateway;
use switchyard_core::rate_log::RateLimitedLog;
use switchyard_core::storage::StorageError;
use switchyard_core::store::Store;
use switchyard_core::{Message, MessageType, topics};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// The queue group processors join, so that several processes share the work.
pub const QUEUE_GROUP: &str = "processor";

static REJECT_LOG: RateLimitedLog = RateLimitedLog::new(Duration::from_secs(1));
static FAILURE_LOG: RateLimitedLog = RateLimitedLog::new(Duration::from_secs(1));

struct Shared {
    bus: Arc<dyn Bus>,
    store: Store,
    metrics: Arc<dyn MetricStore>,
    stats: Arc<ProcessorStats>,
}

pub struct Processor {
    shared: Arc<Shared>,
    config: ProcessorConfig,
    instance: String,
}

/// A message and, on a durable bus, its delivery, acknowledged after the commit.
type Work = (Message, Option<Arc<dyn Delivery>>);

impl Processor {
    pub fn new(
        bus: Arc<dyn Bus>,
        store: Store,
        metrics: Arc<dyn MetricStore>,
        config: ProcessorConfig,
    ) -> Self {
        Processor {
            shared: Arc::new(Shared {
                bus,
                store,
                metrics,
                stats: Arc::new(ProcessorStats::default()),
            }),
            config,
            instance: "local".into(),
        }
    }

    /// Names this process among the processors sharing one storage (default `local`): each
    /// keeps its record of committed durable messages under its name (see [`crate::delivered`]).
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = name.into();
        self
    }

    pub fn stats(&self) -> Arc<ProcessorStats> {
        self.shared.stats.clone()
    }

    /// Subscribes (so messages published after this returns are processed) and runs until
    /// `cancel` fires; then the workers finish what they hold and the task ends.
    pub async fn start(
        self,
        cancel: CancellationToken,
    ) -> Result<tokio::task::JoinHandle<()>, BusError> {
        let mut sub = self
            .shared
            .bus
            .queue_subscribe(topics::TO_PROCESSOR, QUEUE_GROUP)
            .await?;
        let workers = self.config.workers.max(1);
        let recovered = Arc::new(delivered::recover(&self.shared.store).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read the ids of committed durable messages; a redelivery after a crash may be processed twice");
            HashSet::new()
        }));
        let mut senders = Vec::with_capacity(workers);
        let mut tasks = JoinSet::new();
        for i in 0..workers {
            let (tx, rx) = mpsc::channel::<Work>(self.config.queue_capacity.max(1));
            senders.push(tx);
            let record = Delivered::new(&self.instance, i);
            tasks.spawn(worker(self.shared.clone(), rx, record, recovered.clone()));
        }
        let shared = self.shared.clone();
        let config = self.config.clone();
        Ok(tokio::spawn(async move {
            loop {
                let bus_msg = tokio::select! {
                    _ = cancel.cancelled() => break,
                    m = sub.next() => match m {
                        Some(m) => m,
                        None => break,
                    },
                };
                // A refused message is done with: dropping it acknowledges a durable one.
                let msg = match decode(&bus_msg.payload, &config) {
                    Ok(m) => m,
                    Err(refusal) => {
                        refuse(&shared.stats, refusal);
                        continue;
                    }
                };
                let delivery = bus_msg.delivery().cloned();
                let mut h = DefaultHasher::new();
                (&msg.gateway_id, &msg.node_id).hash(&mut h);
                let shard = (h.finish() % senders.len() as u64) as usize;
                if senders[shard].send((msg, delivery)).await.is_err() {
                    break;
                }
            }
            drop(senders);
            while tasks.join_next().await.is_some() {}
        }))
    }
}

fn refuse(stats: &ProcessorStats, (why, reason): Refusal) {
    stats.rejected(why);
    REJECT_LOG.log(|suppressed| {
        tracing::warn!(?why, %reason, suppressed, "message rejected");
    });
}

/// Most messages a worker commits in one storage write.
const MAX_BATCH: usize = 64;

/// Takes whatever is waiting (up to [`MAX_BATCH`]) and commits it together: under load many
/// messages share one disk sync; when idle a message is committed alone, at once.
///
/// Durable messages (see [`crate::delivered`]) are acked after the commit, naked (delivered
/// again) when it fails, and skipped when their id shows they were committed before.
async fn worker(
    shared: Arc<Shared>,
    mut rx: mpsc::Receiver<Work>,
    mut record: Delivered,
    recovered: Arc<HashSet<String>>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut view = View::new(&shared.store);
        let mut all = Changes::default();
        let mut accepted = 0;
        let mut deliveries = Vec::new();
        let mut committed_ids = Vec::new();
        let mut gateways = KnownGateways::default();
        for (msg, delivery) in batch.drain(..) {
            if let Some(d) = &delivery {
                let id = d.message_id();
                let seen = record.contains(id) || recovered.contains(id);
                if seen || committed_ids.iter().any(|c| c == id) {
                    shared.stats.duplicate();
                    deliveries.push(delivery);
                    continue;
                }
            }
            let processed = match gateways.check(&shared.store, &msg.gateway_id).await {
                Ok(()) => process(&view, &msg).await,
                Err(refusal) => Err(refusal),
            };
            match processed {
                Ok(mut changes) => {
                    view.stage(std::mem::take(&mut changes.ops));
                    all.absorb(changes);
                    accepted += 1;
                    if let Some(d) = &delivery {
                        committed_ids.push(d.message_id().to_string());
                    }
                }
                Err(refusal) => refuse(&shared.stats, refusal),
            }
            deliveries.push(delivery);
        }
        all.ops = view.into_ops();
        if !committed_ids.is_empty() && !all.ops.is_empty() {
            all.ops.push(record.record_op(&committed_ids));
        }
        let stored = commit(&shared, all, accepted).await;
        if stored {
            record.committed(committed_ids);
        }
        for delivery in deliveries.into_iter().flatten() {
            let settled = if stored {
                delivery.ack().await
            } else {
                delivery.nak().await
            };
            if let Err(e) = settled {
                FAILURE_LOG.log(|suppressed| tracing::warn!(error = %e, suppressed, "durable ack failed; the message will come again and be skipped"));
            }
        }
    }
}

/// The gateways a batch has found in storage, so that a batch of 64 messages from one gateway
/// reads (and decodes) the gateway once, not 64 times. It lives for one batch: a gateway
/// deleted meanwhile is noticed by the next one.
#[derive(Default)]
struct KnownGateways(Vec<String>);

impl KnownGateways {
    async fn check(&mut self, store: &Store, id: &str) -> Result<(), Refusal> {
        if self.0.iter().any(|known| known == id) {
            return Ok(());
        }
        match store.get::<Gateway>(id).await {
            Ok(Some(_)) => {
                self.0.push(id.to_string());
                Ok(())
            }
            Ok(None) => Err((Rejection::UnknownGateway, format!("no gateway `{id}`"))),
            Err(e) => Err((Rejection::StorageFailed, e.to_string())),
        }
    }
}

async fn process(store: &View<'_>, msg: &Message) -> Result<Changes, Refusal> {
    let storage_err = |e: StorageError| (Rejection::StorageFailed, e.to_string());
    let now = msg.timestamp.unwrap_or_else(Utc::now);
    let mut changes = Changes::default();
    let node_level = msg.source_id.is_empty();
    match msg.message_type {
        MessageType::Action => changes.outbound.push(msg.clone()),
        MessageType::Request if !node_level => {
            field_update::answer_request(store, msg, &mut changes)
                .await
                .map_err(storage_err)?;
            node_update::touch_node(store, msg, now, &mut changes, |_, _| {})
                .await
                .map_err(storage_err)?;
        }
        MessageType::Set | MessageType::Presentation if node_level => {
            node_update::touch_node(store, msg, now, &mut changes, |node, ch| {
                node_update::apply_node_payloads(node, &msg.payloads, now, ch)
            })
            .await
            .map_err(storage_err)?;
        }
        MessageType::Set => {
            field_update::apply_set(store, msg, now, &mut changes)
                .await
                .map_err(storage_err)?;
            node_update::touch_source(store, msg, now, &mut changes, |_| {})
                .await
                .map_err(storage_err)?;
            node_update::touch_node(store, msg, now, &mut changes, |_, _| {})
                .await
                .map_err(storage_err)?;
        }
        MessageType::Presentation => {
            node_update::touch_source(store, msg, now, &mut changes, |s| {
                node_update::apply_source_payloads(s, &msg.payloads)
            })
            .await
            .map_err(storage_err)?;
            node_update::touch_node(store, msg, now, &mut changes, |_, _| {})
                .await
                .map_err(storage_err)?;
        }
        MessageType::Request => {
            node_update::touch_node(store, msg, now, &mut changes, |_, _| {})
                .await
                .map_err(storage_err)?;
        }
    }
    Ok(changes)
}

/// Commits the changes of `messages` messages: one atomic write, then metrics, events, outbound.
/// Returns whether the write was stored.
async fn commit(shared: &Shared, changes: Changes, messages: u64) -> bool {
    for refusal in changes.refusals {
        refuse(&shared.stats, refusal);
    }
    if !changes.ops.is_empty()
        && let Err(e) = shared.store.apply(changes.ops).await
    {
        for _ in 0..messages {
            shared.stats.rejected(Rejection::StorageFailed);
        }
        FAILURE_LOG.log(|suppressed| tracing::warn!(error = %e, messages, suppressed, "storage write failed; messages lost unless the bus is durable"));
        return false;
    }
    shared.stats.processed(messages);
    if !changes.points.is_empty()
        && let Err(e) = shared.metrics.write(changes.points).await
    {
        shared.stats.metric_failed();
        FAILURE_LOG.log(|suppressed| tracing::warn!(error = %e, suppressed, "metric write failed"));
    }
    for event in changes.events {
        if let Err(e) = shared.bus.publish(&event.subject, event.payload).await {
            FAILURE_LOG.log(|suppressed| tracing::warn!(subject = %event.subject, error = %e, suppressed, "publish failed"));
        }
    }
    for msg in &changes.outbound {
        publish(shared, &topics::to_gateway(&msg.gateway_id), msg).await;
    }
    true
}

async fn publish<T: serde::Serialize + Sync>(shared: &Shared, subject: &str, value: &T) {
    if let Err(e) = shared.bus.publish_json(subject, value).await {
        FAILURE_LOG
            .log(|suppressed| tracing::warn!(%subject, error = %e, suppressed, "publish failed"));
    }
}
