use crate::common::{bus_with, texts, waiting};
use bytes::Bytes;
use std::time::Duration;
use switchyard_core::bus::Bus;
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn a_full_subscriber_delays_the_publisher_by_the_wait_then_loses_that_message_only() {
    let bus = bus_with(2, "2s");
    let mut stuck = bus.subscribe("sensor.>").await.unwrap();
    let mut keeping_up = bus.subscribe("sensor.>").await.unwrap();
    let mut kept_up = Vec::new();

    for i in 1..=2 {
        bus.publish("sensor.t", Bytes::from(format!("m{i}")))
            .await
            .unwrap();
        kept_up.extend(waiting(&mut keeping_up));
    }
    let start = Instant::now();
    bus.publish("sensor.t", Bytes::from("m3")).await.unwrap();
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_millis(2100),
        "waited {waited:?}"
    );
    kept_up.extend(waiting(&mut keeping_up));

    let stats = bus.stats();
    assert_eq!((stats.published, stats.dropped), (3, 1));
    assert_eq!(stats.delivered, 5);
    assert_eq!(texts(&waiting(&mut stuck)), ["m1", "m2"]);
    assert_eq!(texts(&kept_up), ["m1", "m2", "m3"]);

    // Once it reads again, it gets messages again, without delay.
    let start = Instant::now();
    bus.publish("sensor.t", Bytes::from("m4")).await.unwrap();
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(texts(&waiting(&mut stuck)), ["m4"]);
    assert_eq!(bus.stats().dropped, 1);
}

#[tokio::test(start_paused = true)]
async fn one_publish_waits_once_however_many_subscribers_are_full() {
    let bus = bus_with(1, "2s");
    let _stuck = [
        bus.subscribe("a").await.unwrap(),
        bus.subscribe("a").await.unwrap(),
        bus.subscribe("a").await.unwrap(),
    ];
    bus.publish("a", Bytes::new()).await.unwrap();
    let start = Instant::now();
    bus.publish("a", Bytes::new()).await.unwrap();
    assert!(
        start.elapsed() < Duration::from_millis(2100),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(bus.stats().dropped, 3);
}

#[tokio::test(start_paused = true)]
async fn a_zero_wait_drops_at_once() {
    let bus = bus_with(1, "0s");
    let _stuck = bus.subscribe("a").await.unwrap();
    bus.publish("a", Bytes::new()).await.unwrap();
    let start = Instant::now();
    bus.publish("a", Bytes::new()).await.unwrap();
    assert!(
        start.elapsed() < Duration::from_millis(10),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(bus.stats().dropped, 1);
}

#[tokio::test(start_paused = true)]
async fn a_reader_that_catches_up_in_time_loses_nothing() {
    let bus = bus_with(1, "2s");
    let mut slow = bus.subscribe("a").await.unwrap();
    bus.publish("a", Bytes::from("1")).await.unwrap();
    let reader = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut got = Vec::new();
        for _ in 0..2 {
            got.push(crate::common::next(&mut slow).await);
        }
        got
    });
    bus.publish("a", Bytes::from("2")).await.unwrap();
    assert_eq!(texts(&reader.await.unwrap()), ["1", "2"]);
    assert_eq!(bus.stats().dropped, 0);
}
