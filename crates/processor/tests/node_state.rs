use crate::common::Harness;
use chrono::Utc;
use switchyard_core::model::{Node, Status};
use switchyard_core::{Message, MessageType, Payload};
use switchyard_processor::mark_inactive_nodes;

#[tokio::test]
async fn quiet_nodes_are_marked_down_with_per_node_override() {
    let h = Harness::start().await;
    for node in ["1", "2"] {
        h.send(
            &Message::new(MessageType::Set, "gw", node, "1")
                .with_payload(Payload::new("V_TEMP", "1")),
        )
        .await;
    }
    h.settle(2, 0).await;
    // Node 2 may stay quiet for a day.
    let mut n2: Node = h.store.get("gw.2").await.unwrap().unwrap();
    n2.labels.insert("inactive_duration".into(), "1d".into());
    h.store.upsert(&n2).await.unwrap();

    let mut events = h.bus.subscribe("event.node.updated").await.unwrap();
    let later = Utc::now() + chrono::Duration::hours(1);
    let n = mark_inactive_nodes(
        &h.store,
        h.bus.as_ref(),
        later,
        chrono::Duration::minutes(15),
    )
    .await
    .unwrap();
    assert_eq!(n, 1);
    let n1: Node = h.store.get("gw.1").await.unwrap().unwrap();
    assert_eq!(n1.state.status, Status::Down);
    assert!(n1.state.message.contains("no message since"));
    let n2: Node = h.store.get("gw.2").await.unwrap().unwrap();
    assert_eq!(n2.state.status, Status::Up);
    let e = events.next().await.unwrap();
    assert_eq!(
        e.json::<switchyard_core::Event>().unwrap().entity_id,
        "gw.1"
    );

    // The next message brings it back up.
    h.send(
        &Message::new(MessageType::Set, "gw", "1", "1").with_payload(Payload::new("V_TEMP", "2")),
    )
    .await;
    h.settle(3, 0).await;
    let n1: Node = h.store.get("gw.1").await.unwrap().unwrap();
    assert_eq!(n1.state.status, Status::Up);
    h.stop().await;
}
