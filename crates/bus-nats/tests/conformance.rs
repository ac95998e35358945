use crate::server::{NatsServer, bus, fresh_prefix, shared};
use switchyard_bus::conformance;

/// The embedded bus's suite, on NATS: each check on a bus with a subject prefix of its own, so
/// the checks cannot see each other's messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_nats_bus_passes_the_conformance_suite() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    conformance::run_all(|| async { shared(bus(&server, &fresh_prefix()).await) }).await;
}

/// The same checks with durable delivery off (plain NATS for every subject).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_nats_bus_without_jetstream_passes_too() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    conformance::run_all(|| async {
        let mut config = crate::server::config(&server, &fresh_prefix());
        config.durable.enabled = false;
        shared(
            switchyard_bus_nats::NatsBus::connect(&config)
                .await
                .unwrap(),
        )
    })
    .await;
}
