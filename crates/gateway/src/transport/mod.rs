//! Transports shared by every provider: they move bytes, providers give them meaning.
//!
//! `serial` and `ethernet` are byte streams cut into frames at a provider-chosen delimiter
//! ([`Framing`]); `mqtt` frames are MQTT publishes (topic and payload); `http` is a request/response
//! client ([`http::HttpClient`]) for providers that poll. A stream transport is opened with
//! [`connect`], which returns a [`Connection`]: a [`FrameSink`] to send with and a
//! [`FrameSource`] to read from.

pub mod ethernet;
pub mod framing;
pub mod http;
pub mod mqtt;
pub mod serial;
mod stream;
pub(crate) mod tls;

use crate::error::TransportError;
use crate::message_logger::MessageLogger;
use async_trait::async_trait;
use bytes::Bytes;
use serde::Deserialize;
use std::sync::Arc;

pub use framing::Framing;
pub use tls::install_crypto_provider;

/// A gateway's `provider.protocol`: which transport, and its settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TransportConfig {
    Serial(serial::SerialConfig),
    Ethernet(ethernet::EthernetConfig),
    Mqtt(mqtt::MqttConfig),
    Http(http::HttpConfig),
}

impl TransportConfig {
    pub fn kind(&self) -> &'static str {
        match self {
            TransportConfig::Serial(_) => "serial",
            TransportConfig::Ethernet(_) => "ethernet",
            TransportConfig::Mqtt(_) => "mqtt",
            TransportConfig::Http(_) => "http",
        }
    }
}

/// What a transport needs from the gateway it serves.
#[derive(Clone, Default)]
pub struct TransportContext {
    pub gateway_id: String,
    pub traffic: MessageLogger,
    /// The gateway's counters: a transport that reads ahead of its provider counts here what it
    /// drops when the provider falls behind (`readDropped`).
    pub stats: std::sync::Arc<crate::stats::GatewayStats>,
}

/// One unit of traffic: a line (topic empty) or an MQTT publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    /// The MQTT topic (inbound: the full topic; outbound: relative to the `publish` prefix).
    /// Empty for serial and ethernet.
    pub topic: String,
    /// Inbound: without the delimiter. Outbound: the transport appends the delimiter.
    pub payload: Bytes,
}

impl RawFrame {
    pub fn line(payload: impl Into<Bytes>) -> Self {
        RawFrame {
            topic: String::new(),
            payload: payload.into(),
        }
    }

    pub fn publish(topic: impl Into<String>, payload: impl Into<Bytes>) -> Self {
        RawFrame {
            topic: topic.into(),
            payload: payload.into(),
        }
    }
}

/// What a [`FrameSource`] yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    Frame(RawFrame),
    /// Input the transport threw away (a line over the length bound, …): the provider should
    /// [`crate::ProviderContext::reject`] it; the connection carries on.
    Rejected(String),
}

#[async_trait]
pub trait FrameSink: Send + Sync {
    /// Sends one frame. `Err(Lost)` when the connection is gone.
    async fn send(&self, frame: RawFrame) -> Result<(), TransportError>;
}

#[async_trait]
pub trait FrameSource: Send {
    /// The next frame. `Err(Lost)` when the connection has ended (the gateway goes down).
    /// Cancel-safe: may be dropped inside `select!` without losing a frame already read.
    async fn next(&mut self) -> Result<Inbound, TransportError>;
}

pub struct Connection {
    pub sink: Arc<dyn FrameSink>,
    pub source: Box<dyn FrameSource>,
}

/// Opens a stream transport (`serial`, `ethernet` or `mqtt`). `framing` cuts serial and ethernet
/// streams into frames (MQTT frames are its publishes). `http` is not a stream: use
/// [`http::HttpClient`].
pub async fn connect(
    config: &TransportConfig,
    ctx: &TransportContext,
    framing: Framing,
) -> Result<Connection, TransportError> {
    match config {
        TransportConfig::Serial(c) => serial::connect(c, ctx, framing).await,
        TransportConfig::Ethernet(c) => ethernet::connect(c, ctx, framing).await,
        TransportConfig::Mqtt(c) => mqtt::connect(c, ctx).await,
        TransportConfig::Http(_) => Err(TransportError::Config {
            transport: "http",
            reason: "this provider needs a stream transport (serial, ethernet or mqtt)".into(),
        }),
    }
}

/// Reads a duration setting (`transmitPreDelay`, `keepAlive`, …), naming the key in the error.
pub(crate) fn duration_setting(
    transport: &'static str,
    key: &str,
    value: &Option<String>,
    default: std::time::Duration,
) -> Result<std::time::Duration, TransportError> {
    match value {
        None => Ok(default),
        Some(s) => {
            switchyard_core::value::parse_std_duration(s).map_err(|e| TransportError::Config {
                transport,
                reason: format!("`{key}`: {e}"),
            })
        }
    }
}

/// A sink that accepts every frame and sends it nowhere: for tests of what sits above a
/// transport.
#[cfg(test)]
pub(crate) struct Nowhere;

#[cfg(test)]
#[async_trait]
impl FrameSink for Nowhere {
    async fn send(&self, _frame: RawFrame) -> Result<(), TransportError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_transport_reads_its_keys_and_refuses_others() {
        let c: TransportConfig = serde_json::from_value(json!({
            "type": "serial", "portname": "/dev/ttyUSB0", "baudrate": 115200
        }))
        .unwrap();
        assert_eq!(c.kind(), "serial");
        let c: TransportConfig =
            serde_json::from_value(json!({"type": "ethernet", "server": "tcp://10.0.0.5:5003"}))
                .unwrap();
        assert_eq!(c.kind(), "ethernet");
        let c: TransportConfig = serde_json::from_value(json!({
            "type": "mqtt", "broker": "tcp://127.0.0.1:1883",
            "subscribe": "a/#,b/#", "publish": "c", "qos": 1
        }))
        .unwrap();
        assert_eq!(c.kind(), "mqtt");
        let err = serde_json::from_value::<TransportConfig>(
            json!({"type": "serial", "portname": "/dev/x", "baud": 9600}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("baud"), "{err}");
        let err = serde_json::from_value::<TransportConfig>(json!({"type": "carrier_pigeon"}))
            .unwrap_err();
        assert!(err.to_string().contains("carrier_pigeon"), "{err}");
    }
}
