use bytes::Bytes;
use std::time::Duration;
use switchyard_bus::EmbeddedBus;
use switchyard_core::bus::{Bus, BusError};
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn a_request_nobody_answers_times_out() {
    let bus = EmbeddedBus::default();
    let _silent = bus.subscribe("service.silent").await.unwrap();
    let start = Instant::now();
    let result = bus
        .request("service.silent", Bytes::new(), Duration::from_secs(5))
        .await;
    assert_eq!(result, Err(BusError::Timeout(Duration::from_secs(5))));
    assert!(start.elapsed() >= Duration::from_secs(5));
    assert_eq!(bus.stats().subscriptions, 1, "the inbox is gone");
}

#[tokio::test(start_paused = true)]
async fn a_request_nobody_listens_to_fails_at_once() {
    let bus = EmbeddedBus::default();
    let gone = bus.subscribe("service.gone").await.unwrap();
    drop(gone);
    let start = Instant::now();
    let result = bus
        .request("service.gone", Bytes::new(), Duration::from_secs(5))
        .await;
    assert_eq!(result, Err(BusError::NoResponders("service.gone".into())));
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(bus.stats().subscriptions, 0, "the inbox is gone");
}
