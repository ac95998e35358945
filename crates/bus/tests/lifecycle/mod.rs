use crate::common::{bus_with, waiting};
use bytes::Bytes;
use std::time::Duration;
use switchyard_bus::EmbeddedBus;
use switchyard_core::bus::Bus;
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn dropping_a_subscription_unsubscribes_it() {
    let bus = bus_with(1, "2s");
    let mut staying = bus.subscribe("a").await.unwrap();
    let leaving = bus.subscribe("a").await.unwrap();
    let leaving_member = bus.queue_subscribe("a", "g").await.unwrap();
    assert_eq!(bus.stats().subscriptions, 3);

    bus.publish("a", Bytes::from("1")).await.unwrap();
    drop(leaving);
    drop(leaving_member);
    assert_eq!(bus.stats().subscriptions, 1);
    waiting(&mut staying);

    // `leaving` was full; gone, it is not waited on, not counted as a drop.
    let start = Instant::now();
    bus.publish("a", Bytes::from("2")).await.unwrap();
    assert_eq!(start.elapsed(), Duration::ZERO);
    let stats = bus.stats();
    assert_eq!((stats.delivered, stats.dropped), (4, 0));
}

#[tokio::test(start_paused = true)]
async fn dropping_a_subscription_releases_a_publisher_waiting_on_it() {
    let bus = bus_with(1, "2s");
    let full = bus.subscribe("a").await.unwrap();
    bus.publish("a", Bytes::new()).await.unwrap();

    let publisher = {
        let bus = bus.clone();
        tokio::spawn(async move {
            let start = Instant::now();
            bus.publish("a", Bytes::new()).await.unwrap();
            start.elapsed()
        })
    };
    // Let the publisher reach its wait, then unsubscribe under it.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(!publisher.is_finished(), "the publisher should be waiting");
    drop(full);
    assert_eq!(publisher.await.unwrap(), Duration::ZERO);
    assert_eq!(bus.stats().dropped, 0);
}

#[tokio::test]
async fn dropping_the_bus_ends_its_subscriptions() {
    let bus = EmbeddedBus::default();
    let mut subscription = bus.subscribe("a").await.unwrap();
    bus.publish("a", Bytes::from("last")).await.unwrap();
    drop(bus);
    assert!(
        subscription.next().await.is_some(),
        "queued messages are still read"
    );
    assert!(subscription.next().await.is_none());
}

#[tokio::test]
async fn clones_are_the_same_bus() {
    let bus = EmbeddedBus::default();
    let mut subscription = bus.subscribe("a").await.unwrap();
    bus.clone().publish("a", Bytes::new()).await.unwrap();
    assert_eq!(waiting(&mut subscription).len(), 1);
    assert_eq!(bus.name(), "embedded");
}
