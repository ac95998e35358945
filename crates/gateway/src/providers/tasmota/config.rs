//! `provider: {type: tasmota, protocol: {type: mqtt, …}, fullTopic, prefixes, discoveryPrefix,
//! groupTopic, discoverOnStart}`: the factory of the running provider.

use super::device::Devices;
use super::provider::{TasmotaProvider, run_inbound};
use super::topic::{DEFAULT_FULL_TOPIC, Prefixes, TopicPattern};
use crate::context::ProviderContext;
use crate::error::GatewayError;
use crate::provider::{Provider, ProviderConfig, RunningProvider};
use crate::transport::{self, Framing, RawFrame, TransportConfig};
use async_trait::async_trait;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TasmotaConfig {
    /// Must be `mqtt`. When `subscribe` is empty the provider subscribes to the `stat` and `tele`
    /// topics of every device and to discovery; `publish` must be empty (command topics are
    /// whole topics).
    pub protocol: TransportConfig,
    /// Tasmota's FullTopic (default `%prefix%/%topic%/`).
    #[serde(default = "default_full_topic")]
    pub full_topic: String,
    #[serde(default)]
    pub prefixes: Prefixes,
    /// Where devices publish discovery (default `tasmota/discovery`); empty turns it off.
    #[serde(default = "default_discovery_prefix")]
    pub discovery_prefix: String,
    /// The topic every device listens to (Tasmota's GroupTopic, default `tasmotas`): gateway
    /// action `discover_nodes` asks it for `STATUS 0`.
    #[serde(default = "default_group_topic")]
    pub group_topic: String,
    /// Ask every device for `STATUS 0` when connected (default true), so nodes appear and hold
    /// current values without waiting for the next telemetry period.
    #[serde(default = "yes")]
    pub discover_on_start: bool,
}

fn default_full_topic() -> String {
    DEFAULT_FULL_TOPIC.into()
}
fn default_discovery_prefix() -> String {
    super::discovery::DEFAULT_PREFIX.into()
}
fn default_group_topic() -> String {
    "tasmotas".into()
}
fn yes() -> bool {
    true
}

#[async_trait]
impl ProviderConfig for TasmotaConfig {
    async fn start(&self, ctx: ProviderContext) -> Result<RunningProvider, GatewayError> {
        let TransportConfig::Mqtt(mut mqtt) = self.protocol.clone() else {
            return Err(GatewayError::Config(format!(
                "tasmota speaks MQTT only, not `{}`",
                self.protocol.kind()
            )));
        };
        let pattern = TopicPattern::new(&self.full_topic, self.prefixes.clone())
            .map_err(|e| GatewayError::Config(format!("fullTopic: {e}")))?;
        if !mqtt.publish.is_empty() {
            return Err(GatewayError::Config(
                "tasmota: leave `protocol.publish` empty; commands go to the devices' cmnd topics"
                    .into(),
            ));
        }
        if mqtt.subscribe.0.is_empty() {
            mqtt.subscribe.0 = pattern.subscriptions();
            let prefix = self.discovery_prefix.trim_end_matches('/');
            if !prefix.is_empty() {
                mqtt.subscribe.0.push(format!("{prefix}/+/config"));
                mqtt.subscribe.0.push(format!("{prefix}/+/sensors"));
            }
        }
        let conn = transport::connect(
            &TransportConfig::Mqtt(mqtt),
            &ctx.transport_context(),
            Framing::lines(),
        )
        .await?;
        let devices = Arc::new(Devices::new(pattern));
        let outbound = Arc::new(TasmotaProvider {
            sink: conn.sink.clone(),
            devices: devices.clone(),
            group_topic: self.group_topic.clone(),
        });
        if self.discover_on_start && !self.group_topic.is_empty() {
            let topic = devices
                .default_pattern()
                .command_topic(&self.group_topic, "STATUS");
            conn.sink.send(RawFrame::publish(topic, "0")).await?;
        }
        let discovery_prefix = self.discovery_prefix.clone();
        Ok(RunningProvider {
            outbound: outbound as Arc<dyn Provider>,
            inbound: Box::pin(run_inbound(ctx, conn.source, devices, discovery_prefix)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_unknown_keys() {
        let c: TasmotaConfig = serde_json::from_value(json!({
            "protocol": {"type": "mqtt", "broker": "tcp://127.0.0.1:1883"}
        }))
        .unwrap();
        assert_eq!(c.full_topic, "%prefix%/%topic%/");
        assert_eq!(c.discovery_prefix, "tasmota/discovery");
        assert_eq!(c.group_topic, "tasmotas");
        assert!(c.discover_on_start);
        let err = serde_json::from_value::<TasmotaConfig>(json!({
            "protocol": {"type": "mqtt", "broker": "tcp://h:1"}, "fulltopic": "x"
        }))
        .unwrap_err();
        assert!(err.to_string().contains("fulltopic"), "{err}");
    }
}
