//! The serial gateway on one end of a socat pty pair; the controller holds the other end.

use crate::scenario;
use crate::support::{LineLink, pty_pair, skip_without, socat_missing};
use std::time::Duration;
use switchyard_mysensors_sim::{Simulator, TransportConfig};
use tokio_serial::SerialPortBuilderExt;
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn the_scenario_over_a_serial_pty() {
    if socat_missing() && skip_without("socat is not installed") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (gateway_end, controller_end) = (dir.path().join("gw"), dir.path().join("ctl"));
    let _socat = pty_pair(&gateway_end, &controller_end).await;
    let port = tokio_serial::new(controller_end.to_string_lossy(), 115_200)
        .open_native_async()
        .unwrap();
    let mut link = LineLink::new(port);

    let config = scenario::config();
    let sim = Simulator::new(config.clone()).unwrap();
    let mut events = sim.events();
    let cancel = CancellationToken::new();
    let transport = TransportConfig::Serial {
        path: gateway_end.to_string_lossy().into_owned(),
        baud_rate: 115_200,
    };
    let running = tokio::spawn(sim.run(transport, cancel.clone()));
    let seen = scenario::drive(&mut link, &mut events, Duration::from_secs(60)).await;
    cancel.cancel();
    let stats = running.await.unwrap().unwrap();
    scenario::check(&config, &seen, Some(stats));
}
