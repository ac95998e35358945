//! On a durable bus the processor acks after its commit, and a message delivered again after
//! its commit (the process died before the ack) is skipped, also by a new processor.

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use parking_lot::Mutex;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use switchyard_bus::EmbeddedBus;
use switchyard_core::bus::{Bus, BusError, BusExt, BusMessage, BusStats, Delivery, Subscription};
use switchyard_core::model::{Field, Gateway};
use switchyard_core::store::Store;
use switchyard_core::{Message, MessageType, Payload, topics};
use switchyard_metrics::MetricsConfig;
use switchyard_processor::{Processor, ProcessorConfig, ProcessorStats};
use switchyard_storage::StorageConfig;
use tokio_util::sync::CancellationToken;

type Log = Arc<Mutex<Vec<(String, &'static str)>>>;

#[derive(Debug)]
struct Recorded {
    id: String,
    log: Log,
}

#[async_trait]
impl Delivery for Recorded {
    fn message_id(&self) -> &str {
        &self.id
    }
    fn attempt(&self) -> u64 {
        1
    }
    async fn ack(&self) -> Result<(), BusError> {
        self.log.lock().push((self.id.clone(), "ack"));
        Ok(())
    }
    async fn nak(&self) -> Result<(), BusError> {
        self.log.lock().push((self.id.clone(), "nak"));
        Ok(())
    }
}

/// The embedded bus, with every message on `message.to_processor` delivered as a durable one
/// whose id is the message's `id` (so a test can deliver "the same message" again).
struct DurableBus {
    inner: EmbeddedBus,
    log: Log,
}

#[async_trait]
impl Bus for DurableBus {
    fn name(&self) -> &'static str {
        "durable-test"
    }
    async fn publish_message(&self, message: BusMessage) -> Result<(), BusError> {
        self.inner.publish_message(message).await
    }
    async fn subscribe(&self, pattern: &str) -> Result<Subscription, BusError> {
        self.inner.subscribe(pattern).await
    }
    async fn queue_subscribe(&self, pattern: &str, group: &str) -> Result<Subscription, BusError> {
        let log = self.log.clone();
        let sub = self.inner.queue_subscribe(pattern, group).await?;
        Ok(Subscription::new(sub.map(move |m| {
            let id = m
                .json::<serde_json::Value>()
                .ok()
                .and_then(|v| v["id"].as_str().map(str::to_string))
                .unwrap_or_default();
            m.with_delivery(Arc::new(Recorded {
                id,
                log: log.clone(),
            }))
        })))
    }
    async fn request(&self, s: &str, p: Bytes, t: Duration) -> Result<BusMessage, BusError> {
        self.inner.request(s, p, t).await
    }
    fn stats(&self) -> BusStats {
        self.inner.stats()
    }
}

fn reading(id: &str, value: &str) -> Message {
    let mut m = Message::new(MessageType::Set, "gw", "1", "2")
        .with_payload(Payload::new("V_TEMP", value).with_metric_type("gauge_float"))
        .received();
    m.id = id.into();
    m
}

async fn start(
    bus: Arc<dyn Bus>,
    store: &Store,
    dir: &std::path::Path,
    instance: &str,
) -> (
    CancellationToken,
    tokio::task::JoinHandle<()>,
    Arc<ProcessorStats>,
) {
    let metrics = switchyard_metrics::open(&MetricsConfig::default(), &dir.join(instance))
        .await
        .unwrap();
    let processor =
        Processor::new(bus, store.clone(), metrics, ProcessorConfig::default()).instance(instance);
    let stats = processor.stats();
    let cancel = CancellationToken::new();
    let task = processor.start(cancel.clone()).await.unwrap();
    (cancel, task, stats)
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..3000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("not within 30 s: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_after_the_commit_and_does_a_redelivered_message_once() {
    let dir = tempfile::tempdir().unwrap();
    let storage = switchyard_storage::open(&StorageConfig::default(), dir.path())
        .await
        .unwrap();
    let store = Store::new(storage);
    store
        .upsert(&Gateway {
            id: "gw".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let log: Log = Arc::default();
    let bus: Arc<dyn Bus> = Arc::new(DurableBus {
        inner: EmbeddedBus::default(),
        log: log.clone(),
    });
    let field = || async { store.get::<Field>("gw.1.2.V_TEMP").await.unwrap().unwrap() };

    let (cancel, task, stats) = start(bus.clone(), &store, dir.path(), "core").await;
    bus.publish_json(topics::TO_PROCESSOR, &reading("m1", "21"))
        .await
        .unwrap();
    until("m1 acked", || log.lock().contains(&("m1".into(), "ack"))).await;
    assert_eq!(
        field().await.current.value,
        json!(21.0),
        "committed before the ack"
    );

    // The same message again (its ack was lost): acked, not applied a second time.
    bus.publish_json(topics::TO_PROCESSOR, &reading("m1", "99"))
        .await
        .unwrap();
    until("the redelivery acked", || log.lock().len() == 2).await;
    assert_eq!(stats.duplicate_count(), 1);
    assert_eq!(field().await.current.value, json!(21.0));
    assert_eq!(field().await.previous.value, json!(null), "applied once");

    // The process dies; a new one on the same storage still knows m1.
    cancel.cancel();
    task.await.unwrap();
    let (cancel, task, stats) = start(bus.clone(), &store, dir.path(), "core-restarted").await;
    bus.publish_json(topics::TO_PROCESSOR, &reading("m1", "99"))
        .await
        .unwrap();
    bus.publish_json(topics::TO_PROCESSOR, &reading("m2", "22"))
        .await
        .unwrap();
    until("m2 acked", || log.lock().contains(&("m2".into(), "ack"))).await;
    assert_eq!(stats.duplicate_count(), 1);
    let f = field().await;
    assert_eq!(
        (f.current.value, f.previous.value),
        (json!(22.0), json!(21.0))
    );
    assert!(log.lock().iter().all(|(_, what)| *what == "ack"));
    cancel.cancel();
    task.await.unwrap();
}
