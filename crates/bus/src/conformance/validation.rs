use bytes::Bytes;
use std::sync::Arc;
use switchyard_core::bus::{Bus, BusError, BusMessage};

fn is_invalid_subject<T>(result: Result<T, BusError>) -> bool {
    matches!(result, Err(BusError::InvalidSubject { .. }))
}

pub async fn publishing_on_an_invalid_subject_is_rejected(bus: Arc<dyn Bus>) {
    let _all = bus.subscribe(">").await.unwrap();
    for subject in ["", "a..b", ".a", "a.", "a.*", "a.>", "a b", "a\tb", "a.b*"] {
        assert!(
            is_invalid_subject(bus.publish(subject, Bytes::new()).await),
            "{subject:?}"
        );
    }
    let message = BusMessage::new("a", Bytes::new()).with_reply("reply.*");
    assert!(is_invalid_subject(bus.publish_message(message).await));
    assert_eq!(bus.stats().published, 0);
}

pub async fn subscribing_to_an_invalid_pattern_is_rejected(bus: Arc<dyn Bus>) {
    for pattern in ["", "a.>.b", "a*", "a..b", "a b"] {
        assert!(
            is_invalid_subject(bus.subscribe(pattern).await),
            "{pattern:?}"
        );
        assert!(
            is_invalid_subject(bus.queue_subscribe(pattern, "g").await),
            "{pattern:?}"
        );
    }
    for group in ["", "two words", "tab\t"] {
        assert!(
            is_invalid_subject(bus.queue_subscribe("a", group).await),
            "{group:?}"
        );
    }
    assert_eq!(bus.stats().subscriptions, 0);
}

pub async fn requesting_on_an_invalid_subject_is_rejected(bus: Arc<dyn Bus>) {
    let result = bus
        .request("a.*", Bytes::new(), std::time::Duration::from_secs(1))
        .await;
    assert!(is_invalid_subject(result));
    assert_eq!(bus.stats().subscriptions, 0);
}
