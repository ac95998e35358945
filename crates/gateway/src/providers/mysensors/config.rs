//! `provider: {type: mysensors, protocol: {…}, …}`: the MySensors provider's settings, and the
//! factory that connects and starts it.

use super::inbound;
use super::link::Link;
use super::network::Network;
use super::provider::MySensorsProvider;
use crate::context::ProviderContext;
use crate::error::GatewayError;
use crate::provider::{AckRequest, ProviderConfig, RunningProvider};
use crate::transport::{self, Framing, TransportConfig};
use async_trait::async_trait;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::value::parse_std_duration;

/// Shortest echo wait accepted (MyController's minimum).
pub const MIN_TIMEOUT: Duration = Duration::from_millis(10);
/// How often every node is asked who its parent is (I_DISCOVER_REQUEST) unless configured.
pub const DEFAULT_DISCOVERY_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// Sends in all for a frame that asks for an echo, unless configured.
pub const DEFAULT_RETRY_COUNT: u32 = 3;
/// Sets awaiting their echo at once over Ethernet and MQTT, unless configured: the broker and
/// the TCP stack buffer them. A serial gateway defaults to 1, as an Arduino's few bytes of
/// serial buffer overflow while its radio sends.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 16;
/// The most `maxInFlight` accepted (the runtime's outbound queue holds no more).
pub const MAX_IN_FLIGHT: usize = crate::service::OUTBOUND_QUEUE_CAPACITY;

/// MyController's `mysensors_v2` settings, plus `discoveryInterval`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MySensorsConfig {
    /// `serial`, `ethernet` or `mqtt` (see docs/gateways.md).
    pub protocol: TransportConfig,
    /// Ask nodes to echo stream frames (firmware config responses the runtime sends).
    #[serde(default)]
    pub enable_stream_message_ack: bool,
    /// Ask nodes to echo internal frames (reboot, heartbeat and presentation requests).
    #[serde(default)]
    pub enable_internal_message_ack: bool,
    /// Sends in all (at least 1) for a frame whose echo does not come (default 3).
    #[serde(default = "default_retry_count")]
    pub retry_count: u32,
    /// Wait for an echo after each send (default `200ms`, at least `10ms`).
    #[serde(default)]
    pub timeout: Option<String>,
    /// Broadcast I_DISCOVER_REQUEST this often (default `15m`; `0s` turns it off).
    #[serde(default)]
    pub discovery_interval: Option<String>,
    /// Frames awaiting their echo at once (default 16 over Ethernet and MQTT, 1 over serial).
    #[serde(default)]
    pub max_in_flight: Option<usize>,
}

fn default_retry_count() -> u32 {
    DEFAULT_RETRY_COUNT
}

/// The settings as the running provider uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settings {
    pub ack_timeout: Duration,
    pub attempts: u32,
    pub internal_ack: bool,
    pub stream_ack: bool,
    pub discovery_interval: Option<Duration>,
    pub max_in_flight: usize,
}

impl MySensorsConfig {
    pub(crate) fn settings(&self) -> Result<Settings, GatewayError> {
        let duration = |key: &str, value: &Option<String>, default: Duration| match value {
            None => Ok(default),
            Some(s) => {
                parse_std_duration(s).map_err(|e| GatewayError::Config(format!("{key}: {e}")))
            }
        };
        let ack_timeout = duration("timeout", &self.timeout, AckRequest::DEFAULT_TIMEOUT)?;
        if ack_timeout < MIN_TIMEOUT {
            return Err(GatewayError::Config(format!(
                "timeout: {ack_timeout:?} is below the minimum of {MIN_TIMEOUT:?}"
            )));
        }
        if self.retry_count == 0 {
            return Err(GatewayError::Config(
                "retryCount: counts sends in all, so it is at least 1".into(),
            ));
        }
        let discovery = duration(
            "discoveryInterval",
            &self.discovery_interval,
            DEFAULT_DISCOVERY_INTERVAL,
        )?;
        let max_in_flight = match (self.max_in_flight, &self.protocol) {
            (Some(n), _) if (1..=MAX_IN_FLIGHT).contains(&n) => n,
            (Some(n), _) => {
                return Err(GatewayError::Config(format!(
                    "maxInFlight: {n} is not between 1 and {MAX_IN_FLIGHT}"
                )));
            }
            (None, TransportConfig::Serial(_)) => 1,
            (None, _) => DEFAULT_MAX_IN_FLIGHT,
        };
        Ok(Settings {
            max_in_flight,
            ack_timeout,
            attempts: self.retry_count,
            internal_ack: self.enable_internal_message_ack,
            stream_ack: self.enable_stream_message_ack,
            discovery_interval: (!discovery.is_zero()).then_some(discovery),
        })
    }
}

#[async_trait]
impl ProviderConfig for MySensorsConfig {
    async fn start(&self, ctx: ProviderContext) -> Result<RunningProvider, GatewayError> {
        let settings = self.settings()?;
        if matches!(self.protocol, TransportConfig::Http(_)) {
            return Err(GatewayError::Config(
                "MySensors speaks over serial, ethernet or mqtt, not http".into(),
            ));
        }
        let is_mqtt = matches!(self.protocol, TransportConfig::Mqtt(_));
        let conn =
            transport::connect(&self.protocol, &ctx.transport_context(), Framing::lines()).await?;
        let network = Arc::new(Network::new(ctx, Link::new(conn.sink, is_mqtt), settings));
        let outbound = Arc::new(MySensorsProvider::new(network.clone()));
        let inbound = inbound::run(network, conn.source);
        Ok(RunningProvider {
            outbound,
            inbound: Box::pin(inbound),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(v: serde_json::Value) -> Result<MySensorsConfig, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn defaults_and_limits() {
        let c = config(json!({"protocol": {"type": "ethernet", "server": "tcp://127.0.0.1:5003"}}))
            .unwrap();
        let s = c.settings().unwrap();
        assert_eq!(s.ack_timeout, Duration::from_millis(200));
        assert_eq!(s.attempts, 3);
        assert_eq!(s.discovery_interval, Some(Duration::from_secs(900)));
        assert!(!s.internal_ack && !s.stream_ack);
        assert_eq!(s.max_in_flight, DEFAULT_MAX_IN_FLIGHT);

        let c = config(json!({
            "protocol": {"type": "serial", "portname": "/dev/ttyUSB0"},
            "timeout": "5ms", "retryCount": 1
        }))
        .unwrap();
        let err = c.settings().unwrap_err().to_string();
        assert!(err.contains("timeout") && err.contains("minimum"), "{err}");

        let c = config(json!({
            "protocol": {"type": "serial", "portname": "/dev/ttyUSB0"},
            "discoveryInterval": "0s", "enableInternalMessageAck": true, "retryCount": 0
        }))
        .unwrap();
        assert!(c.settings().unwrap_err().to_string().contains("retryCount"));

        let serial = json!({"type": "serial", "portname": "/dev/ttyUSB0"});
        let c = config(json!({"protocol": serial})).unwrap();
        assert_eq!(c.settings().unwrap().max_in_flight, 1);
        let c = config(json!({"protocol": serial, "maxInFlight": 4})).unwrap();
        assert_eq!(c.settings().unwrap().max_in_flight, 4);
        for bad in [0, MAX_IN_FLIGHT + 1] {
            let c = config(json!({"protocol": serial, "maxInFlight": bad})).unwrap();
            let err = c.settings().unwrap_err().to_string();
            assert!(err.contains("maxInFlight"), "{err}");
        }

        let err = config(json!({"protocol": {"type": "serial", "portname": "/x"}, "retries": 2}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("retries"), "{err}");
    }
}
