//! The provider plugin interface.
//!
//! A provider turns one kind of device traffic (MySensors lines, Tasmota JSON, ESPHome frames, a
//! Hue bridge's REST API, the host's own metrics) into [`Message`]s and back. The gateway's
//! `provider` JSON picks it by `type`; the [`ProviderRegistry`] deserializes the rest into that
//! type's [`ProviderConfig`], which is the factory: [`ProviderConfig::start`] connects and returns a
//! [`RunningProvider`]. The runtime (see [`crate::service`]) owns everything around it: queues,
//! acknowledgement waits, sleeping queues, state, restarts.

use crate::context::ProviderContext;
use crate::error::GatewayError;
use async_trait::async_trait;
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::Message;

/// A provider type's configuration: deserialized from the gateway's `provider` map (without its
/// `type` key), and the factory of the running provider.
#[async_trait]
pub trait ProviderConfig: Send + Sync + 'static {
    /// Connects (opens the port, dials the server, logs in to the broker, …) and returns the
    /// running provider. An `Err` marks the gateway `error` and the runtime tries again after
    /// `reconnectDelay`, backing off while it keeps failing.
    async fn start(&self, ctx: ProviderContext) -> Result<RunningProvider, GatewayError>;
}

/// A started provider: its outbound half and its inbound loop.
pub struct RunningProvider {
    /// Takes messages for devices while `inbound` runs. One worker makes every first send, in
    /// order; resends after a missing acknowledgement may run beside it (see
    /// [`Provider::max_in_flight`]).
    pub outbound: Arc<dyn Provider>,
    /// Reads the devices and emits what they say through the context, until the connection ends
    /// (`Err`, or `Ok` when the provider stops on its own) or the context's cancellation token
    /// fires (then it returns promptly). When it ends, the gateway is down and is restarted after
    /// `reconnectDelay`.
    pub inbound: BoxFuture<'static, Result<(), GatewayError>>,
}

/// The outbound half of a running provider.
#[async_trait]
pub trait Provider: Send + Sync {
    /// Whether sending `msg` asks the device to acknowledge it, and which echo to wait for. Asked
    /// before every send; the runtime then waits for [`ProviderContext::acknowledge`] with the same
    /// key, resending up to `attempts` times in all.
    fn ack_request(&self, _msg: &Message) -> Option<AckRequest> {
        None
    }

    /// How many sends that wait for their acknowledgement may be outstanding at once (at least
    /// 1; the runtime caps it at its outbound queue's size). With more than 1 the runtime sends
    /// the next messages while earlier ones wait for their echo: first sends stay in queue order,
    /// a message never overtakes an earlier one for the same node, and two with the same ack key
    /// are never outstanding together (the later waits). The default, 1, sends one at a time.
    fn max_in_flight(&self) -> usize {
        1
    }

    /// Sends one message to the device. `Err(GatewayError::Unsupported)` for a message this
    /// provider cannot express (never queued for later); other errors may put the message in the
    /// node's sleeping queue when the gateway has `queueFailedMessage`.
    async fn post(&self, msg: &Message) -> Result<(), GatewayError>;
}

/// An acknowledgement a send waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckRequest {
    /// What the provider will pass to [`ProviderContext::acknowledge`] when the echo arrives
    /// (MySensors: node, child, command and type of the echoed line).
    pub key: String,
    /// How long to wait for the echo after each send (MyController's default: 200 ms).
    pub timeout: Duration,
    /// Sends in all, at least 1: the first and the retries. (MyController's MySensors
    /// `retryCount` counts sends in all, so it maps here unchanged.)
    pub attempts: u32,
}

impl AckRequest {
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(200);
}

/// What a provider reports about its connection, besides starting and ending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderState {
    /// Working (the runtime already sets this when `start` succeeds; a provider may refine the
    /// message).
    Up(String),
    /// Not working: the runtime stops the provider and restarts it after `reconnectDelay`.
    Down(String),
    /// Like `Down`, for a failure rather than a disconnection.
    Error(String),
    /// Not working yet, waiting for something outside (a Hue bridge's link button to be
    /// pressed): the gateway shows `down` with this message, and the provider keeps running.
    Waiting(String),
}

type Build = fn(Value) -> Result<Box<dyn ProviderConfig>, GatewayError>;

fn build<C: ProviderConfig + DeserializeOwned>(
    config: Value,
) -> Result<Box<dyn ProviderConfig>, GatewayError> {
    serde_json::from_value::<C>(config)
        .map(|c| Box::new(c) as Box<dyn ProviderConfig>)
        .map_err(|e| GatewayError::Config(format!("provider: {e}")))
}

/// Provider types by name.
#[derive(Default)]
pub struct ProviderRegistry {
    builders: BTreeMap<String, Build>,
}

impl ProviderRegistry {
    /// A registry with no provider.
    pub fn empty() -> Self {
        ProviderRegistry::default()
    }

    /// Every provider this crate ships.
    pub fn builtin() -> Self {
        let mut registry = ProviderRegistry::empty();
        registry.register::<crate::providers::echo::EchoConfig>("echo");
        registry.register::<crate::providers::esphome::EsphomeConfig>("esphome");
        registry.register::<crate::providers::tasmota::TasmotaConfig>("tasmota");
        registry.register::<crate::providers::sysmon::SystemMonitoringConfig>("system_monitoring");
        registry.register::<crate::providers::mysensors::MySensorsConfig>("mysensors");
        registry.register::<crate::providers::mysensors::MySensorsConfig>("mysensors_v2");
        registry.register::<crate::providers::hue::PhilipsHueConfig>("philips_hue");
        registry.register::<crate::providers::generic::GenericConfig>("generic");
        registry
    }

    /// Registers `C` under `type_name` (again under another name for an alias, such as
    /// MyController's `mysensors_v2`). A later registration of a name replaces the earlier.
    pub fn register<C: ProviderConfig + DeserializeOwned>(&mut self, type_name: &str) {
        self.builders.insert(type_name.to_string(), build::<C>);
    }

    pub fn types(&self) -> impl Iterator<Item = &str> {
        self.builders.keys().map(String::as_str)
    }

    /// The config of a gateway's provider: `provider.type` picks the type, the other keys are its
    /// configuration.
    pub fn config(
        &self,
        provider: &Map<String, Value>,
    ) -> Result<Box<dyn ProviderConfig>, GatewayError> {
        let given = match provider.get("type") {
            Some(Value::String(s)) if !s.is_empty() => s.as_str(),
            _ => return Err(GatewayError::Config("`provider.type` is missing".into())),
        };
        let Some(build) = self.builders.get(given) else {
            return Err(GatewayError::UnknownProvider {
                given: given.chars().take(64).collect(),
                known: self.types().collect::<Vec<_>>().join(", "),
            });
        };
        let mut rest = provider.clone();
        rest.remove("type");
        build(Value::Object(rest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn picks_the_type_and_explains_what_is_wrong() {
        let registry = ProviderRegistry::builtin();
        let ok = registry.config(&map(json!({
            "type": "echo",
            "protocol": {"type": "ethernet", "server": "tcp://127.0.0.1:9"}
        })));
        assert!(ok.is_ok(), "{:?}", ok.err());

        let err = registry
            .config(&map(json!({"type": "zigbee"})))
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "unknown provider type `zigbee` (known: echo, esphome, generic, mysensors, mysensors_v2, philips_hue, system_monitoring, tasmota)"
        );
        let err = registry.config(&map(json!({}))).err().unwrap();
        assert!(err.to_string().contains("provider.type"), "{err}");
        let err = registry
            .config(&map(
                json!({"type": "echo", "protocol": {"type": "serial"}}),
            ))
            .err()
            .unwrap();
        assert!(err.to_string().contains("portname"), "{err}");
    }
}
