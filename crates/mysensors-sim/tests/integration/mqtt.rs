//! The MQTT gateway on the local Mosquitto; the controller is another client on it.

use crate::scenario;
use crate::support::{BROKER, MqttLink, broker_missing, skip_without, unique};
use std::time::Duration;
use switchyard_mysensors_sim::{Simulator, TransportConfig};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn the_scenario_over_mosquitto() {
    if broker_missing().await && skip_without(&format!("no MQTT broker answers on {BROKER}")) {
        return;
    }
    // A prefix of its own, so that other runs on the same broker are not heard.
    let base = unique("sim");
    let (from_gateway, to_gateway) = (
        format!("{base}/mygateway1-out"),
        format!("{base}/mygateway1-in"),
    );
    let mut link = MqttLink::connect(&from_gateway, &to_gateway).await;

    let config = scenario::config();
    let sim = Simulator::new(config.clone()).unwrap();
    let mut events = sim.events();
    let cancel = CancellationToken::new();
    let transport = TransportConfig::Mqtt {
        broker: format!("tcp://{BROKER}"),
        publish_prefix: from_gateway,
        subscribe_prefix: to_gateway,
        client_id: unique("sim-gateway"),
    };
    let running = tokio::spawn(sim.run(transport, cancel.clone()));
    let seen = scenario::drive(&mut link, &mut events, Duration::from_secs(60)).await;
    cancel.cancel();
    let stats = running.await.unwrap().unwrap();
    scenario::check(&config, &seen, Some(stats));
}
