use std::sync::Arc;
use switchyard_bus::{EmbeddedBus, conformance};
use switchyard_core::bus::Bus;

/// The checks the NATS bus runs too.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_embedded_bus_passes_the_conformance_suite() {
    conformance::run_all(|| async { Arc::new(EmbeddedBus::default()) as Arc<dyn Bus> }).await;
}
