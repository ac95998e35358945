//! Serial ports (USB radios such as a MySensors serial gateway).

use super::{Connection, Framing, TransportContext, duration_setting, stream};
use crate::error::TransportError;
use serde::Deserialize;
use std::time::Duration;
use tokio_serial::SerialPortBuilderExt;

/// `protocol: {type: serial, portname: /dev/ttyUSB0, baudrate: 115200}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SerialConfig {
    /// The device, e.g. `/dev/ttyUSB0` or `/dev/serial/by-id/…`.
    #[serde(alias = "port_name", alias = "portName")]
    pub portname: String,
    /// Default 115200.
    #[serde(default = "default_baudrate", alias = "baud_rate", alias = "baudRate")]
    pub baudrate: u32,
    /// Pause before each write (a duration, default `1ms`, MyController's), so a slow radio is
    /// not overrun.
    #[serde(default)]
    pub transmit_pre_delay: Option<String>,
}

fn default_baudrate() -> u32 {
    115_200
}

pub(crate) async fn connect(
    config: &SerialConfig,
    ctx: &TransportContext,
    framing: Framing,
) -> Result<Connection, TransportError> {
    if config.portname.trim().is_empty() {
        return Err(TransportError::Config {
            transport: "serial",
            reason: "`portname` is empty".into(),
        });
    }
    let pre_delay = duration_setting(
        "serial",
        "transmitPreDelay",
        &config.transmit_pre_delay,
        Duration::from_millis(1),
    )?;
    let port = tokio_serial::new(&config.portname, config.baudrate)
        .open_native_async()
        .map_err(|e| TransportError::Connect {
            target: config.portname.clone(),
            reason: e.to_string(),
        })?;
    let (reader, writer) = tokio::io::split(port);
    Ok(stream::connection(
        reader,
        writer,
        config.portname.clone(),
        ctx,
        framing,
        pre_delay,
    ))
}
