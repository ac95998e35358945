use switchyard_bus::{ConfigError, EmbeddedBus, EmbeddedBusConfig};

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
