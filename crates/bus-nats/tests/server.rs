//! Helpers shared by the tests: a bus on a test server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use switchyard_bus_nats::{NatsBus, NatsBusConfig};
use switchyard_core::bus::Bus;

pub use switchyard_bus_nats::testing::NatsServer;

/// A config for `server`, with a prefix of its own so several buses in one test do not meet
/// unless they share it.
pub fn config(server: &NatsServer, prefix: &str) -> NatsBusConfig {
    NatsBusConfig {
        servers: vec![server.url()],
        subject_prefix: prefix.into(),
        ..Default::default()
    }
}

pub async fn bus(server: &NatsServer, prefix: &str) -> NatsBus {
    NatsBus::connect(&config(server, prefix))
        .await
        .expect("connect to the test nats-server")
}

/// A fresh prefix per call.
pub fn fresh_prefix() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("t{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

pub fn shared(bus: NatsBus) -> Arc<dyn Bus> {
    Arc::new(bus)
}
