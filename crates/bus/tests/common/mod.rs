use futures::FutureExt;
use std::time::Duration;
use switchyard_bus::{EmbeddedBus, EmbeddedBusConfig};
use switchyard_core::bus::{BusMessage, Subscription};

pub fn bus_with(subscriber_capacity: usize, publish_wait: &str) -> EmbeddedBus {
    EmbeddedBus::new(&EmbeddedBusConfig {
        subscriber_capacity,
        publish_wait: publish_wait.into(),
    })
    .unwrap()
}

/// The next message; fails the test instead of hanging when none comes.
pub async fn next(subscription: &mut Subscription) -> BusMessage {
    tokio::time::timeout(Duration::from_secs(30), subscription.next())
        .await
        .expect("no message within 30 s")
        .expect("the subscription ended")
}

/// Every message already waiting, without waiting for more. Unconstrained, or tokio's
/// cooperative budget would cut a long drain short.
pub fn waiting(subscription: &mut Subscription) -> Vec<BusMessage> {
    let mut messages = Vec::new();
    while let Some(Some(message)) = tokio::task::unconstrained(subscription.next()).now_or_never() {
        messages.push(message);
    }
    messages
}

pub fn text(message: &BusMessage) -> &str {
    std::str::from_utf8(&message.payload).unwrap()
}

pub fn texts(messages: &[BusMessage]) -> Vec<&str> {
    messages.iter().map(text).collect()
}
