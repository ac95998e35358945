//! An MQTT gateway: node frames are published as `<publish_prefix>/node/child/cmd/ack/type`, the
//! controller's frames arrive on `<subscribe_prefix>/#`. The client reconnects every second while
//! the broker is away; frames nodes send meanwhile are dropped and counted.

use super::{GatewaySide, RECONNECT_DELAY};
use crate::error::SimError;
use crate::event::SimStats;
use crate::radio::gateway_ready;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, NetworkOptions, Packet, QoS};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use switchyard_gateway::providers::mysensors::protocol::{RawFrame, parse_mqtt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Requests rumqttc queues before `publish` waits.
const REQUEST_CAPACITY: usize = 256;
/// Largest MQTT packet in either direction; a MySensors frame is well under 1 KiB.
const MAX_PACKET: usize = 64 * 1024;
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub struct MqttLink {
    client: AsyncClient,
    eventloop: EventLoop,
    publish_prefix: String,
    subscribe_filter: String,
}

/// `tcp://host:port`, `mqtt://host:port` or `host:port` (port 1883 if left out).
pub fn broker_address(broker: &str) -> Result<(String, u16), SimError> {
    let bad = |why: &str| SimError::Config(format!("broker {broker:?}: {why}"));
    let rest = match broker.trim().split_once("://") {
        Some(("tcp" | "mqtt", rest)) => rest,
        Some((scheme, _)) => {
            return Err(bad(&format!(
                "scheme {scheme}:// is not supported (tcp:// only; the simulator has no TLS)"
            )));
        }
        None => broker.trim(),
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse::<u16>()
                .map_err(|_| bad(&format!("port {port:?} is not a number")))?,
        ),
        None => (rest, 1883),
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    Ok((host.trim_matches(['[', ']']).to_string(), port))
}

impl MqttLink {
    pub fn new(
        broker: &str,
        client_id: &str,
        publish_prefix: &str,
        subscribe_prefix: &str,
    ) -> Result<Self, SimError> {
        let (host, port) = broker_address(broker)?;
        let mut options = MqttOptions::new(client_id, host, port);
        options
            .set_keep_alive(KEEP_ALIVE)
            .set_max_packet_size(MAX_PACKET, MAX_PACKET)
            .set_clean_session(true);
        let (client, mut eventloop) = AsyncClient::new(options, REQUEST_CAPACITY);
        // Without it every small publish waits for the broker's delayed ACK (~40 ms tails).
        let mut network = NetworkOptions::new();
        network.set_tcp_nodelay(true);
        eventloop.set_network_options(network);
        Ok(MqttLink {
            client,
            eventloop,
            publish_prefix: publish_prefix.trim_end_matches('/').to_string(),
            subscribe_filter: format!("{}/#", subscribe_prefix.trim_end_matches('/')),
        })
    }

    pub async fn run(self, mut side: GatewaySide, cancel: CancellationToken) {
        let MqttLink {
            client,
            mut eventloop,
            publish_prefix,
            subscribe_filter,
        } = self;
        let connected = Arc::new(AtomicBool::new(false));
        // The publisher task owns the nodes' queue from here on.
        let outbound = std::mem::replace(&mut side.outbound, mpsc::channel(1).1);
        let publisher = tokio::spawn(publish(
            client.clone(),
            outbound,
            publish_prefix,
            connected.clone(),
            side.radio.shared().stats.clone(),
            cancel.clone(),
        ));
        loop {
            let event = tokio::select! {
                _ = cancel.cancelled() => break,
                event = eventloop.poll() => event,
            };
            match event {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    if let Err(e) = client.try_subscribe(subscribe_filter.as_str(), QoS::AtMostOnce)
                    {
                        tracing::warn!("subscribe {subscribe_filter}: {e}");
                    }
                }
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    connected.store(true, Ordering::Relaxed);
                    side.controller_up();
                    let _ = side.radio.shared().outbound.try_send(gateway_ready());
                }
                Ok(Event::Incoming(Packet::Publish(publish))) => {
                    match parse_mqtt(&publish.topic, &publish.payload) {
                        Ok(frame) => side.radio.deliver(frame),
                        Err(e) => side
                            .radio
                            .shared()
                            .garbage(format!("{e}: topic {:?}", publish.topic)),
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    if connected.swap(false, Ordering::Relaxed) {
                        side.controller_down(format!("broker: {e}"));
                    } else {
                        tracing::debug!("broker: {e}");
                    }
                    tokio::select! {
                        _ = cancel.cancelled() => break,
                        _ = tokio::time::sleep(RECONNECT_DELAY) => {}
                    }
                }
            }
        }
        let _ = client.try_disconnect();
        let _ = publisher.await;
    }
}

/// Publishes the nodes' frames while the broker is there, drops (and counts) them while not.
async fn publish(
    client: AsyncClient,
    mut outbound: mpsc::Receiver<RawFrame>,
    prefix: String,
    connected: Arc<AtomicBool>,
    stats: Arc<SimStats>,
    cancel: CancellationToken,
) {
    loop {
        let frame = tokio::select! {
            _ = cancel.cancelled() => return,
            frame = outbound.recv() => match frame {
                Some(frame) => frame,
                None => return,
            },
        };
        if !connected.load(Ordering::Relaxed) {
            SimStats::add(&stats.dropped_offline);
            continue;
        }
        let topic = frame.mqtt_topic(&prefix);
        let sent = tokio::select! {
            _ = cancel.cancelled() => return,
            sent = client.publish(topic, QoS::AtMostOnce, false, frame.payload) => sent,
        };
        match sent {
            Ok(()) => SimStats::add(&stats.frames_out),
            Err(_) => SimStats::add(&stats.dropped_offline),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_addresses() {
        assert_eq!(
            broker_address("tcp://127.0.0.1:1883").unwrap(),
            ("127.0.0.1".into(), 1883)
        );
        assert_eq!(
            broker_address("mqtt://broker").unwrap(),
            ("broker".into(), 1883)
        );
        assert_eq!(
            broker_address("localhost:1884").unwrap(),
            ("localhost".into(), 1884)
        );
        assert!(broker_address("ssl://x:8883").is_err());
        assert!(broker_address("tcp://x:port").is_err());
        assert!(broker_address("tcp://:1883").is_err());
    }
}
