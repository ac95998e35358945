use bytes::Bytes;
use switchyard_bus::{ConfigError, EmbeddedBus, EmbeddedBusConfig};
use switchyard_core::bus::{Bus, BusError, BusMessage};

fn is_invalid_subject<T>(result: Result<T, BusError>) -> bool {
    matches!(result, Err(BusError::InvalidSubject { .. }))
}

#[tokio::test]
async fn publishing_on_an_invalid_subject_is_rejected() {
    let bus = EmbeddedBus::default();
    let _all = bus.subscribe(">").await.unwrap();
    for subject in ["", "a..b", ".a", "a.", "a.*", "a.>", "a b", "a\tb", "a.b*"] {
        assert!(
            is_invalid_subject(bus.publish(subject, Bytes::new()).await),
            "{subject:?}"
        );
    }
    let mut message = BusMessage::new("a", Bytes::new());
    message.reply = Some("reply.*".into());
    assert!(is_invalid_subject(bus.publish_message(message).await));
    assert_eq!(bus.stats().published, 0);
}

#[tokio::test]
async fn subscribing_to_an_invalid_pattern_is_rejected() {
    let bus = EmbeddedBus::default();
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

#[tokio::test]
async fn requesting_on_an_invalid_subject_is_rejected() {
    let bus = EmbeddedBus::default();
    let result = bus
        .request("a.*", Bytes::new(), std::time::Duration::from_secs(1))
        .await;
    assert!(is_invalid_subject(result));
    assert_eq!(bus.stats().subscriptions, 0);
}

#[test]
fn a_bus_is_not_built_from_an_invalid_config() {
    let zero = EmbeddedBusConfig {
        subscriber_capacity: 0,
        ..Default::default()
    };
    assert!(matches!(
        EmbeddedBus::new(&zero),
        Err(ConfigError::SubscriberCapacity { .. })
    ));
    let garbled = EmbeddedBusConfig {
        publish_wait: "two seconds".into(),
        ..Default::default()
    };
    let err = EmbeddedBus::new(&garbled).err().unwrap();
    assert!(err.to_string().contains("publish_wait"), "{err}");
}
