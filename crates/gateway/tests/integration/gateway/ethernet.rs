//! The runtime over TCP with a real listener as the device: data both ways, bad input, state,
//! reconnects, edits, commands, sleeping queues and acknowledgements.

use super::harness::{Harness, WAIT, echo_gateway, eventually};
use serde_json::json;
use std::time::Duration;
use switchyard_core::model::{Gateway, Node, Status};
use switchyard_core::{Event, Message, MessageType, Payload};
use switchyard_gateway::service::{
    CommandReply, SleepingQueueCommand, SleepingQueueReply, SleepingQueueRequest, subjects,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

struct Device {
    lines: tokio::io::Lines<BufReader<OwnedReadHalf>>,
    writer: OwnedWriteHalf,
}

impl Device {
    async fn accept(listener: &TcpListener) -> Device {
        let (socket, _) = tokio::time::timeout(WAIT, listener.accept())
            .await
            .expect("the gateway did not connect")
            .unwrap();
        let (r, w) = socket.into_split();
        Device {
            lines: BufReader::new(r).lines(),
            writer: w,
        }
    }

    async fn send(&mut self, text: &str) {
        self.writer.write_all(text.as_bytes()).await.unwrap();
    }

    async fn next_line(&mut self) -> String {
        tokio::time::timeout(WAIT, self.lines.next_line())
            .await
            .expect("no line from the gateway")
            .unwrap()
            .expect("the gateway closed the connection")
    }

    /// Whether the gateway closed this connection (EOF within the wait).
    async fn closed(&mut self) -> bool {
        loop {
            match tokio::time::timeout(WAIT, self.lines.next_line()).await {
                Ok(Ok(None)) | Ok(Err(_)) => return true,
                Ok(Ok(Some(_))) => continue,
                Err(_) => return false,
            }
        }
    }
}

async fn listener() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("tcp://{}", l.local_addr().unwrap());
    (l, addr)
}

fn set(node: &str, source: &str, key: &str, value: &str) -> Message {
    Message::new(MessageType::Set, "", node, source).with_payload(Payload::new(key, value))
}

async fn sleeping_queue(
    h: &Harness,
    gateway: &str,
    command: SleepingQueueCommand,
) -> SleepingQueueReply {
    let request = SleepingQueueRequest {
        command,
        gateway_id: gateway.into(),
        node_id: String::new(),
    };
    let reply = h
        .bus
        .request(
            subjects::SLEEPING_QUEUE,
            serde_json::to_vec(&request).unwrap().into(),
            WAIT,
        )
        .await
        .unwrap();
    reply.json().unwrap()
}

#[tokio::test]
async fn lines_become_fields_and_sets_become_lines() {
    let (l, addr) = listener().await;
    let h = Harness::start(&[echo_gateway(
        "gw",
        json!({"type": "ethernet", "server": addr}),
    )])
    .await;
    let mut device = Device::accept(&l).await;
    h.wait_status("gw", Status::Up).await;

    device.send("1;2;temp;21.5\n").await;
    let field = h.wait_field("gw.1.2.temp", json!("21.5")).await;
    assert!(field.current.is_received);

    // Garbage, then a 1 MiB line without a newline: both rejected and counted; the connection
    // carries on.
    device.send("garbage\n").await;
    let long = vec![b'x'; 1024 * 1024];
    device.writer.write_all(&long).await.unwrap();
    device.send("\n1;2;temp;22\n").await;
    h.wait_field("gw.1.2.temp", json!("22")).await;
    assert_eq!(h.gateway_stats("gw").rejected, 2);
    assert_eq!(h.gateway_state("gw").await.status, Status::Up);

    h.send_to_gateway("gw", &set("1", "2", "V_STATUS", "1"))
        .await;
    assert_eq!(device.next_line().await, "1;2;V_STATUS;1");
    // A message the provider cannot express is refused, not queued, and the next one still goes.
    h.send_to_gateway("gw", &Message::new(MessageType::Request, "", "1", "2"))
        .await;
    h.send_to_gateway("gw", &set("1", "2", "V_STATUS", "0"))
        .await;
    assert_eq!(device.next_line().await, "1;2;V_STATUS;0");
    let stats = h.gateway_stats("gw");
    assert_eq!((stats.sent, stats.send_failed), (2, 1));
    h.stop().await;
}

#[tokio::test]
async fn a_dropped_connection_is_down_and_comes_back_up_with_events() {
    let (l, addr) = listener().await;
    let h = Harness::start(&[]).await;
    let mut events = h.bus.subscribe("event.gateway.updated").await.unwrap();
    // Created through an event, as the API does.
    h.save_gateway(&echo_gateway(
        "gw",
        json!({"type": "ethernet", "server": addr}),
    ))
    .await;
    let device = Device::accept(&l).await;
    h.wait_status("gw", Status::Up).await;

    drop(device);
    let down = h.wait_status("gw", Status::Down).await;
    assert!(down.message.contains("closed"), "{down:?}");

    // reconnectDelay later it dials again.
    let mut device = Device::accept(&l).await;
    let up = h.wait_status("gw", Status::Up).await;
    assert!(up.since > down.since);
    device.send("3;1;hum;40\n").await;
    h.wait_field("gw.3.1.hum", json!("40")).await;

    let mut seen = Vec::new();
    while seen.len() < 3 {
        let m = tokio::time::timeout(WAIT, events.next())
            .await
            .unwrap()
            .unwrap();
        let e: Event = m.json().unwrap();
        let g: Gateway = serde_json::from_value(e.entity).unwrap();
        seen.push(g.state.status);
    }
    assert_eq!(seen, vec![Status::Up, Status::Down, Status::Up]);
    h.stop().await;
}

#[tokio::test]
async fn an_edited_gateway_restarts_with_its_new_config_and_a_disabled_one_stops() {
    let (a, addr_a) = listener().await;
    let (b, addr_b) = listener().await;
    let gw = echo_gateway("gw", json!({"type": "ethernet", "server": addr_a}));
    let h = Harness::start(std::slice::from_ref(&gw)).await;
    let mut on_a = Device::accept(&a).await;
    h.wait_status("gw", Status::Up).await;

    // Saving it back unchanged (as a state update does) keeps the connection.
    let stored = h.store.get::<Gateway>("gw").await.unwrap().unwrap();
    h.save_gateway(&stored).await;
    let mut edited = stored.clone();
    edited.provider = echo_gateway("gw", json!({"type": "ethernet", "server": addr_b})).provider;
    h.save_gateway(&edited).await;
    let mut on_b = Device::accept(&b).await;
    assert!(on_a.closed().await, "the old connection stays open");
    on_b.send("1;1;t;5\n").await;
    h.wait_field("gw.1.1.t", json!("5")).await;
    assert_eq!(
        h.gateway_stats("gw").restarts,
        1,
        "a fresh runtime after the edit"
    );

    edited.enabled = false;
    h.save_gateway(&edited).await;
    assert!(on_b.closed().await);
    let state = h.wait_status("gw", Status::Down).await;
    assert_eq!(state.message, "disabled");
    h.stop().await;
}

#[tokio::test]
async fn stop_start_and_reload_commands() {
    let (l, addr) = listener().await;
    let h = Harness::start(&[echo_gateway(
        "gw",
        json!({"type": "ethernet", "server": addr}),
    )])
    .await;
    let mut device = Device::accept(&l).await;
    h.wait_status("gw", Status::Up).await;
    let command = |subject: &'static str, ids: serde_json::Value| {
        let bus = h.bus.clone();
        async move {
            let r = bus
                .request(subject, serde_json::to_vec(&ids).unwrap().into(), WAIT)
                .await
                .unwrap();
            r.json::<CommandReply>().unwrap()
        }
    };

    let r = command(subjects::STOP, json!(["gw", "nope"])).await;
    assert_eq!(r.stopped, vec!["gw"]);
    assert_eq!(r.failed["nope"], "not running");
    assert!(device.closed().await);
    assert_eq!(h.wait_status("gw", Status::Down).await.message, "stopped");

    let r = command(subjects::START, json!(["gw"])).await;
    assert_eq!(r.started, vec!["gw"]);
    let _device = Device::accept(&l).await;
    h.wait_status("gw", Status::Up).await;
    let r = command(subjects::START, json!(["gw"])).await;
    assert_eq!(r.failed["gw"], "already running");
    let r = command(subjects::RELOAD, json!(["gw"])).await;
    assert_eq!((r.stopped.len(), r.started.len()), (1, 1));
    let _device = Device::accept(&l).await;
    let r = command(subjects::RELOAD, json!({"not": "a list"})).await;
    assert!(r.failed[""].contains("JSON array"), "{r:?}");
    h.stop().await;
}

#[tokio::test]
async fn a_sleeping_node_gets_its_queue_when_it_wakes() {
    let (l, addr) = listener().await;
    let h = Harness::start(&[echo_gateway(
        "gw",
        json!({"type": "ethernet", "server": addr}),
    )])
    .await;
    let mut device = Device::accept(&l).await;
    h.wait_status("gw", Status::Up).await;
    // Node 7 is a sleep node by label.
    let mut labels = switchyard_core::model::Labels::new();
    labels.insert("sleep_node".into(), "true".into());
    h.store
        .upsert(&Node {
            id: "gw.7".into(),
            gateway_id: "gw".into(),
            node_id: "7".into(),
            labels,
            ..Default::default()
        })
        .await
        .unwrap();

    let mut first = set("5", "1", "V_STATUS", "1");
    first.is_sleep_node = true;
    let mut newer = set("5", "1", "V_STATUS", "0");
    newer.is_sleep_node = true;
    let mut other = set("5", "1", "V_DIMMER", "40");
    other.is_sleep_node = true;
    for m in [&first, &newer, &other, &set("7", "1", "V_STATUS", "1")] {
        h.send_to_gateway("gw", m).await;
    }
    // Node 6 is awake: its message passes the queued ones.
    h.send_to_gateway("gw", &set("6", "1", "V_STATUS", "1"))
        .await;
    assert_eq!(device.next_line().await, "6;1;V_STATUS;1");
    let listed = sleeping_queue(&h, "gw", SleepingQueueCommand::List).await;
    let queued: Vec<String> = listed
        .messages
        .iter()
        .map(|q| format!("{}:{}", q.message.node_id, q.message.payloads[0].value))
        .collect();
    assert_eq!(queued, vec!["5:0", "5:40", "7:1"]);
    assert_eq!(listed.counts.replaced, 1);
    assert!(listed.messages[0].expires_at > listed.messages[0].queued_at);

    device.send("5;awake\n").await;
    assert_eq!(device.next_line().await, "5;1;V_STATUS;0");
    assert_eq!(device.next_line().await, "5;1;V_DIMMER;40");
    device.send("7;awake\n").await;
    assert_eq!(device.next_line().await, "7;1;V_STATUS;1");
    let listed = sleeping_queue(&h, "gw", SleepingQueueCommand::List).await;
    assert!(listed.messages.is_empty());

    let mut later = set("5", "1", "V_STATUS", "1");
    later.is_sleep_node = true;
    h.send_to_gateway("gw", &later).await;
    eventually("queued", || async {
        (h.gateway_stats("gw").queued == 4).then_some(())
    })
    .await;
    let cleared = sleeping_queue(&h, "gw", SleepingQueueCommand::Clear).await;
    assert_eq!(cleared.cleared, 1);
    h.stop().await;
}

#[tokio::test]
async fn unacknowledged_sends_are_retried_then_wait_in_the_sleeping_queue() {
    let (l, addr) = listener().await;
    let mut gw = echo_gateway("gw", json!({"type": "ethernet", "server": addr}));
    gw.queue_failed_message = true;
    let h = Harness::start(&[gw]).await;
    let mut device = Device::accept(&l).await;
    h.wait_status("gw", Status::Up).await;

    // Acknowledged at once: sent once.
    let mut acked = set("1", "2", "V_STATUS", "1");
    acked.is_ack_enabled = true;
    h.send_to_gateway("gw", &acked).await;
    assert_eq!(device.next_line().await, "1;2;V_STATUS;1;ack");
    device.send("1;2;V_STATUS;1;ack\n").await;
    // The echo is also the device's report of the value.
    h.wait_field("gw.1.2.V_STATUS", json!("1")).await;

    // Never acknowledged: sent twice (retryCount 1), then queued for node 1.
    let mut lost = set("1", "2", "V_DIMMER", "30");
    lost.is_ack_enabled = true;
    h.send_to_gateway("gw", &lost).await;
    assert_eq!(device.next_line().await, "1;2;V_DIMMER;30;ack");
    assert_eq!(device.next_line().await, "1;2;V_DIMMER;30;ack");
    let listed = eventually("the failed send in the queue", || async {
        let l = sleeping_queue(&h, "gw", SleepingQueueCommand::List).await;
        (!l.messages.is_empty()).then_some(l)
    })
    .await;
    assert_eq!(listed.messages[0].message.payloads[0].key, "V_DIMMER");
    let stats = h.gateway_stats("gw");
    assert_eq!((stats.sent, stats.ack_timeouts, stats.queued), (1, 1, 1));

    // When node 1 wakes it is sent again, and this time acknowledged.
    device.send("1;awake\n").await;
    assert_eq!(device.next_line().await, "1;2;V_DIMMER;30;ack");
    device.send("1;2;V_DIMMER;30;ack\n").await;
    eventually("sent", || async {
        (h.gateway_stats("gw").sent == 2).then_some(())
    })
    .await;
    assert!(
        sleeping_queue(&h, "gw", SleepingQueueCommand::List)
            .await
            .messages
            .is_empty()
    );

    // With `sleep_queue_disabled` on the node a failed send is dropped instead.
    let mut labels = switchyard_core::model::Labels::new();
    labels.insert("sleep_queue_disabled".into(), "true".into());
    h.store
        .upsert(&Node {
            id: "gw.1".into(),
            gateway_id: "gw".into(),
            node_id: "1".into(),
            labels,
            ..Default::default()
        })
        .await
        .unwrap();
    h.send_to_gateway("gw", &lost).await;
    device.next_line().await;
    device.next_line().await;
    eventually("dropped", || async {
        (h.gateway_stats("gw").send_failed == 1).then_some(())
    })
    .await;
    assert!(
        sleeping_queue(&h, "gw", SleepingQueueCommand::List)
            .await
            .messages
            .is_empty()
    );
    h.stop().await;
}

#[tokio::test]
async fn a_gateway_that_cannot_connect_is_in_error_and_a_bad_config_says_why() {
    // A port nobody listens on.
    let (l, addr) = listener().await;
    drop(l);
    let mut bad = echo_gateway(
        "bad",
        json!({"type": "ethernet", "server": "tcp://no-port"}),
    );
    bad.reconnect_delay = "1s".into();
    let h = Harness::start(&[
        echo_gateway("gw", json!({"type": "ethernet", "server": addr})),
        bad,
    ])
    .await;
    let state = h.wait_status("gw", Status::Error).await;
    assert!(state.message.contains("cannot connect"), "{state:?}");
    let state = h.wait_status("bad", Status::Error).await;
    assert!(state.message.contains("server"), "{state:?}");
    // Retried with back-off while it fails.
    eventually("a retry", || async {
        (h.gateway_stats("gw").restarts >= 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    h.stop().await;
}
