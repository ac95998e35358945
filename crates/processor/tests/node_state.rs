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

#[tokio::test]
async fn a_node_state_payload_sets_the_state_and_traffic_brings_it_back() {
    let h = Harness::start().await;
    let state = |s: &str| {
        Message::new(MessageType::Presentation, "gw", "plug", "")
            .with_payload(Payload::new("state", s))
    };
    h.send(&state("up")).await;
    h.send(&state("down")).await;
    h.settle(2, 0).await;
    let n: Node = h.store.get("gw.plug").await.unwrap().unwrap();
    assert_eq!(n.state.status, Status::Down);
    assert!(!n.others.contains_key("state"), "state is not an 'other'");
    // An unknown word is ignored, any message from the device brings the node up.
    h.send(&state("sleepy")).await;
    h.settle(3, 0).await;
    let n: Node = h.store.get("gw.plug").await.unwrap().unwrap();
    assert_eq!(n.state.status, Status::Up);
    h.stop().await;
}
