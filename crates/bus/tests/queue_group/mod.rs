use crate::common::{bus_with, next, text, waiting};
use bytes::Bytes;
use std::collections::BTreeSet;
use switchyard_bus::EmbeddedBus;
use switchyard_core::bus::Bus;
use tokio::time::Instant;

#[tokio::test]
async fn a_queue_group_shares_the_messages_and_plain_subscribers_get_all() {
    let bus = EmbeddedBus::default();
    let mut members = Vec::new();
    for _ in 0..3 {
        members.push(bus.queue_subscribe("job.*", "workers").await.unwrap());
    }
    let mut watcher = bus.subscribe("job.>").await.unwrap();

    for i in 0..300 {
        bus.publish("job.run", Bytes::from(i.to_string()))
            .await
            .unwrap();
    }

    let mut everything = BTreeSet::new();
    for member in &mut members {
        let got = waiting(member);
        assert_eq!(got.len(), 100, "round robin over members with room");
        for message in &got {
            assert!(
                everything.insert(text(message).parse::<u32>().unwrap()),
                "delivered twice"
            );
        }
    }
    assert_eq!(everything, (0..300).collect());

    let watched: Vec<u32> = waiting(&mut watcher)
        .iter()
        .map(|m| text(m).parse().unwrap())
        .collect();
    assert_eq!(watched, (0..300).collect::<Vec<_>>());
    assert_eq!(bus.stats().delivered, 600);
}

#[tokio::test(start_paused = true)]
async fn a_stuck_member_does_not_hold_up_its_group() {
    let bus = bus_with(2, "2s");
    let mut stuck = bus.queue_subscribe("job", "workers").await.unwrap();
    let mut working = bus.queue_subscribe("job", "workers").await.unwrap();
    let reader = tokio::spawn(async move {
        let mut count = 0;
        while count < 18 {
            next(&mut working).await;
            count += 1;
        }
        count
    });

    let start = Instant::now();
    for i in 0..20 {
        bus.publish("job", Bytes::from(i.to_string()))
            .await
            .unwrap();
    }
    assert_eq!(
        start.elapsed(),
        std::time::Duration::ZERO,
        "never waited out publish_wait"
    );
    assert_eq!(reader.await.unwrap(), 18);
    assert_eq!(
        waiting(&mut stuck).len(),
        2,
        "only what fitted before it stopped reading"
    );
    assert_eq!(bus.stats().dropped, 0);
}

/// Embedded only: NATS itself groups queue subscribers by name across every pattern that matches
/// (the NATS bus's suite shows it), so services must not rely on either.
#[tokio::test]
async fn a_group_name_groups_only_subscriptions_on_the_same_pattern() {
    let bus = EmbeddedBus::default();
    let mut narrow = bus.queue_subscribe("job.run", "workers").await.unwrap();
    let mut wide = bus.queue_subscribe("job.*", "workers").await.unwrap();
    bus.publish("job.run", Bytes::from_static(b"x"))
        .await
        .unwrap();
    assert_eq!(waiting(&mut narrow).len(), 1);
    assert_eq!(waiting(&mut wide).len(), 1);
}
