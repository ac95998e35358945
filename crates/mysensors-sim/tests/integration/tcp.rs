//! The Ethernet gateway: the simulator listens, the controller connects.

use crate::scenario;
use crate::support::{LineLink, Link};
use std::time::Duration;
use switchyard_gateway::providers::mysensors::protocol::InternalType;
use switchyard_mysensors_sim::{SimEvent, Simulator, TransportConfig};
use tokio::net::TcpStream;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

async fn listening(events: &mut broadcast::Receiver<SimEvent>) -> std::net::SocketAddr {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
            Ok(Ok(SimEvent::Listening { addr })) => return addr,
            Ok(Ok(_)) => {}
            other => panic!("no Listening event: {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_scenario_over_tcp() {
    let config = scenario::config();
    let sim = Simulator::new(config.clone()).unwrap();
    let mut events = sim.events();
    let cancel = CancellationToken::new();
    let listen = "127.0.0.1:0".parse().unwrap();
    let running = tokio::spawn(sim.run(TransportConfig::Tcp { listen }, cancel.clone()));
    let addr = listening(&mut events).await;
    let mut link = LineLink::new(TcpStream::connect(addr).await.unwrap());
    let seen = scenario::drive(&mut link, &mut events, Duration::from_secs(60)).await;
    cancel.cancel();
    let stats = running.await.unwrap().unwrap();
    scenario::check(&config, &seen, Some(stats));
}

#[tokio::test]
async fn a_reconnecting_controller_replaces_the_old_connection() {
    let mut config = scenario::config();
    config.nodes.truncate(1);
    config.nodes[0].id = Some(3);
    config.nodes[0].firmware = None;
    let sim = Simulator::new(config).unwrap();
    let mut events = sim.events();
    let cancel = CancellationToken::new();
    let listen = "127.0.0.1:0".parse().unwrap();
    let running = tokio::spawn(sim.run(TransportConfig::Tcp { listen }, cancel.clone()));
    let addr = listening(&mut events).await;

    let mut first = LineLink::new(TcpStream::connect(addr).await.unwrap());
    let ready = first.recv().await.unwrap();
    assert_eq!(ready.internal_type(), Some(InternalType::I_GATEWAY_READY));
    let mut second = LineLink::new(TcpStream::connect(addr).await.unwrap());
    let ready = second.recv().await.unwrap();
    assert_eq!(ready.internal_type(), Some(InternalType::I_GATEWAY_READY));
    // The old socket is closed; the nodes now talk to the new one.
    let drained = tokio::time::timeout(Duration::from_secs(10), async {
        while first.recv().await.is_some() {}
    });
    drained.await.expect("the old connection stays open");
    let from_node = loop {
        let frame = second.recv().await.expect("a frame");
        if frame.node_id == 3 {
            break frame;
        }
    };
    assert_eq!(from_node.node_id, 3);
    cancel.cancel();
    running.await.unwrap().unwrap();
}
