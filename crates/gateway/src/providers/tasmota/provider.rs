//! The running provider: MQTT publishes in, messages out; messages in, `cmnd` publishes out.

use super::command::to_commands;
use super::device::Devices;
use super::discovery::{self, DiscoveryTopic};
use super::inbound::to_messages;
use crate::context::ProviderContext;
use crate::error::GatewayError;
use crate::provider::Provider;
use crate::transport::{FrameSink, FrameSource, Inbound, RawFrame};
use async_trait::async_trait;
use std::sync::Arc;
use switchyard_core::Message;

pub(super) struct TasmotaProvider {
    pub sink: Arc<dyn FrameSink>,
    pub devices: Arc<Devices>,
    pub group_topic: String,
}

#[async_trait]
impl Provider for TasmotaProvider {
    async fn post(&self, msg: &Message) -> Result<(), GatewayError> {
        let (device, pattern) = if msg.node_id.is_empty() {
            (
                self.group_topic.clone(),
                self.devices.default_pattern().clone(),
            )
        } else {
            self.devices.target(&msg.node_id)
        };
        let commands = to_commands(msg, &device, &pattern)
            .map_err(|e| GatewayError::Unsupported(e.to_string()))?;
        for c in commands {
            self.sink
                .send(RawFrame::publish(c.topic, c.payload))
                .await?;
        }
        Ok(())
    }
}

pub(super) async fn run_inbound(
    ctx: ProviderContext,
    mut source: Box<dyn FrameSource>,
    devices: Arc<Devices>,
    discovery_prefix: String,
) -> Result<(), GatewayError> {
    loop {
        let frame = tokio::select! {
            _ = ctx.cancel().cancelled() => return Ok(()),
            r = source.next() => r?,
        };
        let frame = match frame {
            Inbound::Frame(f) => f,
            Inbound::Rejected(reason) => {
                ctx.reject(reason);
                continue;
            }
        };
        match receive(&devices, &discovery_prefix, &frame) {
            Ok(messages) => {
                for m in messages {
                    ctx.emit(m).await;
                }
            }
            Err(reason) => ctx.reject(reason),
        }
    }
}

/// One publish into messages, or why it was rejected.
fn receive(
    devices: &Devices,
    discovery_prefix: &str,
    frame: &RawFrame,
) -> Result<Vec<Message>, String> {
    let topic = frame.topic.as_str();
    let why = |e: super::TasmotaError| format!("{}: {e}", super::error::quote(topic));
    if !discovery_prefix.is_empty()
        && let Some(d) = discovery::parse_topic(discovery_prefix, topic)
    {
        return match d {
            DiscoveryTopic::Config { mac } => {
                let Some((device, presentation)) =
                    discovery::parse_config(&mac, &frame.payload).map_err(why)?
                else {
                    return Ok(Vec::new());
                };
                let node = device.node_id.clone();
                let mut out = vec![presentation];
                if let Some(sensors) = devices.discovered(device) {
                    out.extend(discovery::parse_sensors(&node, &sensors).map_err(why)?);
                }
                Ok(out)
            }
            DiscoveryTopic::Sensors { mac } => match devices.node_of_mac(&mac, &frame.payload) {
                Some(node) => discovery::parse_sensors(&node, &frame.payload).map_err(why),
                None => Ok(Vec::new()),
            },
        };
    }
    let Some(device) = devices.parse(topic) else {
        return Err(format!(
            "{}: not a Tasmota topic of this gateway's fullTopic",
            super::error::quote(topic)
        ));
    };
    let node = devices.seen(&device, topic);
    to_messages(&node, device.prefix, &device.command, topic, &frame.payload).map_err(why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::tasmota::TopicPattern;

    #[test]
    fn discovery_learns_patterns_and_waits_for_config() {
        let devices = Devices::new(TopicPattern::default_pattern());
        let prefix = "tasmota/discovery";
        let frame = |t: &str, p: &str| RawFrame::publish(t, p.as_bytes().to_vec());
        // Sensors before config: kept, then delivered with the config.
        let sensors = r#"{"sn":{"Time":"x","DHT11":{"Temperature":20.5}}}"#;
        assert!(
            receive(
                &devices,
                prefix,
                &frame("tasmota/discovery/AA/sensors", sensors)
            )
            .unwrap()
            .is_empty()
        );
        let config = r#"{"t":"plug","ft":"%topic%/%prefix%/","tp":["cmnd","stat","tele"],"fn":["Plug"],"mac":"AA"}"#;
        let out = receive(
            &devices,
            prefix,
            &frame("tasmota/discovery/AA/config", config),
        )
        .unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].source_id, "DHT11");
        // The device's own pattern now parses its telemetry and addresses its commands.
        let out = receive(&devices, prefix, &frame("plug/stat/POWER", "ON")).unwrap();
        assert_eq!(out[0].node_id, "plug");
        assert_eq!(
            devices.target("plug").1.command_topic("plug", "POWER"),
            "plug/cmnd/POWER"
        );
        let err = receive(&devices, prefix, &frame("random/topic", "x")).unwrap_err();
        assert!(err.contains("not a Tasmota topic"), "{err}");
        let err = receive(&devices, prefix, &frame("tele/plug2/SENSOR", "{garbage")).unwrap_err();
        assert!(err.contains("not JSON"), "{err}");
    }
}
