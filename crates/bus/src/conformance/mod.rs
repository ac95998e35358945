//! What every bus owes the services, as runnable checks: the embedded bus and the NATS bus both
//! run them (one suite, two buses), so a service behaves the same on either. A bus's integration
//! test calls [`run_all`] with a function returning a fresh bus; a failed check panics naming
//! what broke. The checks use only the [`Bus`] trait and never time anything: a network bus
//! delivers later than the publish returns, so they wait for what must arrive and publish a
//! marker after what must not.

pub mod delivery;
pub mod lifecycle;
pub mod queue_group;
pub mod request;
pub mod validation;

use bytes::Bytes;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::bus::{Bus, BusMessage, Subscription};

/// Runs every check, each on its own fresh bus from `make`. Call it inside a multi-threaded
/// Tokio runtime: the checks spawn publishers and readers.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Bus>>,
{
    delivery::wildcards_deliver_as_nats_does(make().await).await;
    delivery::stats_count_what_was_published_and_delivered(make().await).await;
    delivery::each_subscriber_gets_every_publishers_messages_in_order(make().await).await;
    delivery::sixteen_publishers_reach_one_subscriber(make().await).await;
    queue_group::a_queue_group_shares_the_messages_and_plain_subscribers_get_all(make().await)
        .await;
    request::a_request_gets_the_responders_answer(make().await).await;
    request::concurrent_requests_each_get_their_own_answer(make().await).await;
    request::a_request_nobody_answers_times_out(make().await).await;
    request::a_request_nobody_listens_to_fails_at_once(make().await).await;
    request::a_queue_group_of_responders_answers_once(make().await).await;
    lifecycle::dropping_a_subscription_unsubscribes_it(make().await).await;
    lifecycle::a_queue_group_member_that_leaves_gets_no_more_work(make().await).await;
    validation::publishing_on_an_invalid_subject_is_rejected(make().await).await;
    validation::subscribing_to_an_invalid_pattern_is_rejected(make().await).await;
    validation::requesting_on_an_invalid_subject_is_rejected(make().await).await;
}

/// Longest any check waits for a message that must come; far above any real delivery, so it
/// only turns a hang into a failure.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The next message; fails the check instead of hanging when none comes.
pub async fn next(subscription: &mut Subscription) -> BusMessage {
    tokio::time::timeout(PATIENCE, subscription.next())
        .await
        .expect("no message within 30 s")
        .expect("the subscription ended")
}

/// Every message up to (not including) the first whose payload is `marker`. Publish the marker
/// last, from the same task: messages from one publisher arrive in order, so anything that was
/// going to arrive before it has.
pub async fn until_marker(subscription: &mut Subscription, marker: &str) -> Vec<BusMessage> {
    let mut messages = Vec::new();
    loop {
        let message = next(subscription).await;
        if message.payload == marker.as_bytes() {
            return messages;
        }
        messages.push(message);
    }
}

pub fn text(message: &BusMessage) -> String {
    String::from_utf8_lossy(&message.payload).into_owned()
}

pub fn texts(messages: &[BusMessage]) -> Vec<String> {
    messages.iter().map(text).collect()
}

pub(crate) const MARKER: &str = "--marker--";

pub(crate) async fn publish_text(bus: &dyn Bus, subject: &str, payload: &str) {
    bus.publish(subject, Bytes::from(payload.to_string()))
        .await
        .unwrap_or_else(|e| panic!("publish on {subject}: {e}"));
}

/// Waits (bounded) until the bus counts `expected` subscriptions: a network bus may drop a
/// subscription's registration a moment after the `Subscription` itself is dropped.
pub(crate) async fn settle_subscriptions(bus: &dyn Bus, expected: u64) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while bus.stats().subscriptions != expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} subscriptions, expected {expected}",
            bus.stats().subscriptions
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
