use super::{PATIENCE, next, publish_text, text};
use futures::StreamExt;
use std::collections::BTreeSet;
use std::sync::Arc;
use switchyard_core::bus::Bus;

pub async fn a_queue_group_shares_the_messages_and_plain_subscribers_get_all(bus: Arc<dyn Bus>) {
    let mut members = Vec::new();
    for _ in 0..3 {
        members.push(bus.queue_subscribe("job.*", "workers").await.unwrap());
    }
    let mut watcher = bus.subscribe("job.>").await.unwrap();

    for i in 0..300 {
        publish_text(&*bus, "job.run", &i.to_string()).await;
    }

    let mut everything = BTreeSet::new();
    let mut all_members = futures::stream::select_all(members);
    for _ in 0..300 {
        let message = tokio::time::timeout(PATIENCE, all_members.next())
            .await
            .expect("a member got a message within 30 s")
            .expect("members stay subscribed");
        assert!(
            everything.insert(text(&message).parse::<u32>().unwrap()),
            "delivered twice"
        );
    }
    assert_eq!(everything, (0..300).collect());

    let mut watched = Vec::new();
    for _ in 0..300 {
        watched.push(text(&next(&mut watcher).await).parse::<u32>().unwrap());
    }
    assert_eq!(watched, (0..300).collect::<Vec<_>>());
    assert_eq!(bus.stats().delivered, 600);
}
