//! TCP client (a MySensors Ethernet gateway, any line protocol over TCP).

use super::{Connection, Framing, TransportContext, duration_setting, stream};
use crate::error::TransportError;
use serde::Deserialize;
use std::time::Duration;
use tokio::net::TcpStream;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `protocol: {type: ethernet, server: "tcp://192.168.1.50:5003"}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EthernetConfig {
    /// `tcp://host:port` or `host:port`.
    pub server: String,
    /// Pause before each write (default `1ms`, MyController's).
    #[serde(default)]
    pub transmit_pre_delay: Option<String>,
    /// MyController key, accepted and ignored (plain TCP has no certificate to check).
    #[serde(default)]
    pub insecure: Option<bool>,
}

/// `host:port` of a `server` setting.
pub fn server_address(server: &str) -> Result<String, TransportError> {
    let bad = |reason: &str| TransportError::Config {
        transport: "ethernet",
        reason: format!("`server` {server:?}: {reason}; expected tcp://host:port"),
    };
    let s = server.trim();
    let rest = match s.split_once("://") {
        Some(("tcp", rest)) => rest,
        Some((scheme, _)) => return Err(bad(&format!("scheme `{scheme}` is not tcp"))),
        None => s,
    };
    let rest = rest.trim_end_matches('/');
    match rest.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
            Ok(rest.to_string())
        }
        _ => Err(bad("no host and port")),
    }
}

pub(crate) async fn connect(
    config: &EthernetConfig,
    ctx: &TransportContext,
    framing: Framing,
) -> Result<Connection, TransportError> {
    let address = server_address(&config.server)?;
    let pre_delay = duration_setting(
        "ethernet",
        "transmitPreDelay",
        &config.transmit_pre_delay,
        Duration::from_millis(1),
    )?;
    let connect_err = |reason: String| TransportError::Connect {
        target: address.clone(),
        reason,
    };
    let socket = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&address))
        .await
        .map_err(|_| connect_err(format!("no answer within {CONNECT_TIMEOUT:?}")))?
        .map_err(|e| connect_err(e.to_string()))?;
    // Without it, small writes wait for the previous one's ACK (Nagle + delayed ACK: ~40 ms).
    socket
        .set_nodelay(true)
        .map_err(|e| connect_err(format!("TCP_NODELAY: {e}")))?;
    let (reader, writer) = socket.into_split();
    Ok(stream::connection(
        reader, writer, address, ctx, framing, pre_delay,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_forms() {
        assert_eq!(
            server_address("tcp://10.0.0.5:5003").unwrap(),
            "10.0.0.5:5003"
        );
        assert_eq!(server_address("gw.local:5003").unwrap(), "gw.local:5003");
        assert_eq!(server_address("tcp://[::1]:5003/").unwrap(), "[::1]:5003");
        for bad in ["udp://a:1", "tcp://a", "a:port", ":5003", ""] {
            assert!(server_address(bad).is_err(), "{bad}");
        }
    }
}
