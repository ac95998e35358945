//! A serial gateway: the simulator holds one end of a serial line (a pty from socat in tests).
//! When the port goes away it is reopened every second, like a gateway that was unplugged.

use super::lines::{Ended, serve};
use super::{GatewaySide, RECONNECT_DELAY};
use tokio_serial::SerialPortBuilderExt;
use tokio_util::sync::CancellationToken;

pub async fn run(path: &str, baud_rate: u32, mut side: GatewaySide, cancel: CancellationToken) {
    while !cancel.is_cancelled() {
        match tokio_serial::new(path, baud_rate).open_native_async() {
            Ok(port) => {
                tracing::info!(path, "serial port open");
                match serve(port, &mut side, std::future::pending::<()>(), &cancel).await {
                    Ended::Cancelled => return,
                    Ended::Closed(reason) => side.controller_down(format!("{path}: {reason}")),
                    Ended::Preempted(()) => {}
                }
            }
            Err(e) => tracing::debug!(path, "cannot open the serial port: {e}"),
        }
        side.drop_outbound_for(RECONNECT_DELAY, &cancel).await;
    }
}
