use super::{MARKER, publish_text, settle_subscriptions, until_marker};
use std::sync::Arc;
use switchyard_core::bus::Bus;

pub async fn dropping_a_subscription_unsubscribes_it(bus: Arc<dyn Bus>) {
    let mut staying = bus.subscribe("a").await.unwrap();
    let leaving = bus.subscribe("a").await.unwrap();
    let leaving_member = bus.queue_subscribe("a", "g").await.unwrap();
    assert_eq!(bus.stats().subscriptions, 3);

    drop(leaving);
    drop(leaving_member);
    settle_subscriptions(&*bus, 1).await;
    publish_text(&*bus, "a", "1").await;
    publish_text(&*bus, "a", MARKER).await;
    assert_eq!(until_marker(&mut staying, MARKER).await.len(), 1);
    let stats = bus.stats();
    assert_eq!((stats.delivered, stats.dropped), (2, 0));
}

pub async fn a_queue_group_member_that_leaves_gets_no_more_work(bus: Arc<dyn Bus>) {
    let leaving = bus.queue_subscribe("job", "workers").await.unwrap();
    let mut staying = bus.queue_subscribe("job", "workers").await.unwrap();
    drop(leaving);
    settle_subscriptions(&*bus, 1).await;
    for i in 0..5 {
        publish_text(&*bus, "job", &i.to_string()).await;
    }
    publish_text(&*bus, "job", MARKER).await;
    assert_eq!(until_marker(&mut staying, MARKER).await.len(), 5);
}
