use crate::common::bus_with;
use std::sync::Arc;
use switchyard_bus::conformance;

/// The shared check, with queues so small that publishers often wait and wake in some other
/// order; the long wait keeps a busy test machine from turning that into drops.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn order_holds_when_publishers_wait_for_room() {
    conformance::delivery::each_subscriber_gets_every_publishers_messages_in_order(Arc::new(
        bus_with(8, "60s"),
    ))
    .await;
}
