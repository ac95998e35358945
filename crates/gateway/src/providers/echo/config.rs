use super::line::{Line, encode_set, parse_line};
use crate::context::ProviderContext;
use crate::error::GatewayError;
use crate::provider::{AckRequest, Provider, ProviderConfig, RunningProvider};
use crate::sleeping_queue::AWAKE;
use crate::transport::{self, FrameSink, Framing, Inbound, RawFrame, TransportConfig};
use async_trait::async_trait;
use serde::Deserialize;
use std::sync::Arc;
use switchyard_core::{Message, MessageType, Payload};

/// `provider: {type: echo, protocol: {…}, ackTimeout: 200ms, retryCount: 2}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EchoConfig {
    pub protocol: TransportConfig,
    /// Wait for the device's echo of an acknowledged send (default `200ms`).
    #[serde(default)]
    pub ack_timeout: Option<String>,
    /// Sends after the first when no echo comes (default 2).
    #[serde(default = "default_retry_count")]
    pub retry_count: u32,
}

fn default_retry_count() -> u32 {
    2
}

#[async_trait]
impl ProviderConfig for EchoConfig {
    async fn start(&self, ctx: ProviderContext) -> Result<RunningProvider, GatewayError> {
        let ack_timeout = match &self.ack_timeout {
            None => AckRequest::DEFAULT_TIMEOUT,
            Some(s) => switchyard_core::value::parse_std_duration(s)
                .map_err(|e| GatewayError::Config(format!("ackTimeout: {e}")))?,
        };
        let conn =
            transport::connect(&self.protocol, &ctx.transport_context(), Framing::lines()).await?;
        let outbound = Arc::new(EchoProvider {
            sink: conn.sink,
            ack_timeout,
            attempts: self.retry_count.saturating_add(1),
        });
        let mut source = conn.source;
        let inbound = async move {
            loop {
                let frame = tokio::select! {
                    _ = ctx.cancel().cancelled() => return Ok(()),
                    r = source.next() => r?,
                };
                match frame {
                    Inbound::Frame(frame) => receive(&ctx, &frame.payload).await,
                    Inbound::Rejected(reason) => ctx.reject(reason),
                }
            }
        };
        Ok(RunningProvider {
            outbound,
            inbound: Box::pin(inbound),
        })
    }
}

async fn receive(ctx: &ProviderContext, payload: &[u8]) {
    let line = match parse_line(payload) {
        Ok(l) => l,
        Err(reason) => return ctx.reject(reason),
    };
    match line {
        Line::Awake { node } => {
            let msg = Message::new(MessageType::Action, "", node, "")
                .with_payload(Payload::new("action", AWAKE));
            ctx.emit(msg).await;
        }
        Line::Set {
            node,
            source,
            key,
            value,
            ack,
        } => {
            if ack {
                ctx.acknowledge(&ack_key(&node, &source, &key));
            }
            let mut msg = Message::new(MessageType::Set, "", node, source)
                .with_payload(Payload::new(key, value));
            msg.is_ack = ack;
            ctx.emit(msg).await;
        }
    }
}

fn ack_key(node: &str, source: &str, key: &str) -> String {
    format!("{node};{source};{key}")
}

struct EchoProvider {
    sink: Arc<dyn FrameSink>,
    ack_timeout: std::time::Duration,
    attempts: u32,
}

#[async_trait]
impl Provider for EchoProvider {
    fn ack_request(&self, msg: &Message) -> Option<AckRequest> {
        let first = msg.payloads.first()?;
        (msg.is_ack_enabled && msg.message_type == MessageType::Set).then(|| AckRequest {
            key: ack_key(&msg.node_id, &msg.source_id, &first.key),
            timeout: self.ack_timeout,
            attempts: self.attempts,
        })
    }

    async fn post(&self, msg: &Message) -> Result<(), GatewayError> {
        if msg.message_type != MessageType::Set {
            return Err(GatewayError::Unsupported(format!(
                "echo sends only `set`, not `{}`",
                msg.message_type.as_str()
            )));
        }
        for payload in &msg.payloads {
            let line = encode_set(msg, payload).map_err(GatewayError::Unsupported)?;
            self.sink
                .send(RawFrame::publish(msg.node_id.clone(), line))
                .await?;
        }
        Ok(())
    }
}
