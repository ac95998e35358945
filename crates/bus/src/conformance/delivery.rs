use super::{MARKER, next, publish_text, text, texts, until_marker};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Arc;
use switchyard_core::bus::{Bus, Subscription};

pub async fn wildcards_deliver_as_nats_does(bus: Arc<dyn Bus>) {
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
        publish_text(&*bus, subject, subject).await;
    }
    // Each subscription also matches one marker subject, published after everything else.
    for subject in ["event.x.updated", "event.node.updated", "command.x"] {
        publish_text(&*bus, subject, MARKER).await;
    }

    assert_eq!(
        texts(&until_marker(&mut one_token, MARKER).await),
        ["event.node.updated", "event.field.updated"]
    );
    assert_eq!(
        texts(&until_marker(&mut rest, MARKER).await),
        [
            "event.node.updated",
            "event.field.updated",
            "event.node.created",
            "event.node.updated.late"
        ]
    );
    assert_eq!(
        texts(&until_marker(&mut exact, MARKER).await),
        ["event.node.updated"]
    );
    assert!(until_marker(&mut elsewhere, MARKER).await.is_empty());
}

pub async fn stats_count_what_was_published_and_delivered(bus: Arc<dyn Bus>) {
    let mut a = bus.subscribe("a.>").await.unwrap();
    let mut b = bus.subscribe("a.b").await.unwrap();
    bus.publish("a.b", Bytes::new()).await.unwrap();
    bus.publish("nobody.listens", Bytes::new()).await.unwrap();
    next(&mut a).await;
    next(&mut b).await;
    let stats = bus.stats();
    assert_eq!(
        (
            stats.published,
            stats.delivered,
            stats.dropped,
            stats.subscriptions
        ),
        (2, 2, 0, 2)
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
fn read(mut subscription: Subscription, count: usize) -> tokio::task::JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let mut payloads = Vec::with_capacity(count);
        for _ in 0..count {
            payloads.push(text(&next(&mut subscription).await));
        }
        payloads
    })
}

pub async fn each_subscriber_gets_every_publishers_messages_in_order(bus: Arc<dyn Bus>) {
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

pub async fn sixteen_publishers_reach_one_subscriber(bus: Arc<dyn Bus>) {
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
