use crate::common::{bus_with, next, text, texts, waiting};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Arc;
use switchyard_bus::EmbeddedBus;
use switchyard_core::bus::{Bus, BusStats};

#[tokio::test]
async fn wildcards_deliver_as_nats_does() {
    let bus = EmbeddedBus::default();
    let mut one_token = bus.subscribe("event.*.updated").await.unwrap();
    let mut rest = bus.subscribe("event.>").await.unwrap();
    let mut exact = bus.subscribe("event.node.updated").await.unwrap();
    let mut elsewhere = bus.subscribe("command.>").await.unwrap();

    for subject in [
        "event.node.updated",
        "event.field.updated",
        "event",
        "event.node.created",
        "event.node.updated.late",
    ] {
        bus.publish(subject, Bytes::from(subject)).await.unwrap();
    }

    assert_eq!(
        texts(&waiting(&mut one_token)),
        ["event.node.updated", "event.field.updated"]
    );
    assert_eq!(
        texts(&waiting(&mut rest)),
        [
            "event.node.updated",
            "event.field.updated",
            "event.node.created",
            "event.node.updated.late"
        ]
    );
    assert_eq!(texts(&waiting(&mut exact)), ["event.node.updated"]);
    assert!(waiting(&mut elsewhere).is_empty());
}

#[tokio::test]
async fn stats_count_what_was_published_and_delivered() {
    let bus = EmbeddedBus::default();
    let _a = bus.subscribe("a.>").await.unwrap();
    let _b = bus.subscribe("a.b").await.unwrap();
    bus.publish("a.b", Bytes::new()).await.unwrap();
    bus.publish("nobody.listens", Bytes::new()).await.unwrap();
    assert_eq!(
        bus.stats(),
        BusStats {
            published: 2,
            delivered: 2,
            dropped: 0,
            subscriptions: 2,
        }
    );
}

/// Payloads are `publisher:sequence`; returns each publisher's sequence numbers in arrival order.
fn by_publisher(payloads: &[String]) -> HashMap<u32, Vec<u32>> {
    let mut seen: HashMap<u32, Vec<u32>> = HashMap::new();
    for payload in payloads {
        let (publisher, sequence) = payload.split_once(':').unwrap();
        seen.entry(publisher.parse().unwrap())
            .or_default()
            .push(sequence.parse().unwrap());
    }
    seen
}

/// Publishes `per_publisher` numbered messages from each of `publishers` tasks at once.
async fn publish_concurrently(
    bus: &Arc<dyn Bus>,
    subject: &str,
    publishers: u32,
    per_publisher: u32,
) {
    let mut tasks = Vec::new();
    for publisher in 0..publishers {
        let bus = bus.clone();
        let subject = subject.to_string();
        tasks.push(tokio::spawn(async move {
            for sequence in 0..per_publisher {
                let payload = Bytes::from(format!("{publisher}:{sequence}"));
                bus.publish(&subject, payload).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// Reads `count` messages in a task of its own, so publishers can outrun a full queue.
fn read(
    mut subscription: switchyard_core::bus::Subscription,
    count: usize,
) -> tokio::task::JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let mut payloads = Vec::with_capacity(count);
        for _ in 0..count {
            payloads.push(text(&next(&mut subscription).await).to_string());
        }
        payloads
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_subscriber_gets_every_publishers_messages_in_order() {
    // Small queues, so publishers often wait and wake in some other order.
    let bus: Arc<dyn Bus> = Arc::new(bus_with(8, "60s"));
    let readers = [
        read(bus.subscribe("order.>").await.unwrap(), 4 * 500),
        read(bus.subscribe("order.*").await.unwrap(), 4 * 500),
    ];
    publish_concurrently(&bus, "order.placed", 4, 500).await;

    for reader in readers {
        let seen = by_publisher(&reader.await.unwrap());
        assert_eq!(seen.len(), 4);
        for (publisher, sequences) in seen {
            assert_eq!(
                sequences,
                (0..500).collect::<Vec<_>>(),
                "publisher {publisher} out of order or incomplete"
            );
        }
    }
    assert_eq!(bus.stats().dropped, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_publishers_reach_one_subscriber() {
    // The default queue is smaller than the 16000 messages, so publishers must wait for the reader;
    // the long wait keeps a busy test machine from turning that into drops.
    let bus: Arc<dyn Bus> = Arc::new(bus_with(4096, "60s"));
    let reader = read(bus.subscribe("load").await.unwrap(), 16 * 1000);
    publish_concurrently(&bus, "load", 16, 1000).await;

    let seen = by_publisher(&reader.await.unwrap());
    assert_eq!(seen.len(), 16);
    for sequences in seen.values() {
        assert_eq!(sequences.len(), 1000);
    }
    let stats = bus.stats();
    assert_eq!(
        (stats.published, stats.delivered, stats.dropped),
        (16_000, 16_000, 0)
    );
}
