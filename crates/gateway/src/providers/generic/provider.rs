//! The running provider: payloads through `onReceive` into messages, messages through `onSend`
//! into publishes, and the HTTP endpoints' poll loops.

use super::config::{PolledEndpoint, Scripts};
use super::mapping;
use crate::context::ProviderContext;
use crate::error::GatewayError;
use crate::provider::Provider;
use crate::transport::http::HttpClient;
use crate::transport::{FrameSink, FrameSource, Inbound, RawFrame};
use async_trait::async_trait;
use serde_json::{Value, json};
use std::sync::Arc;
use switchyard_core::Message;
use switchyard_script::ScriptEngine;

pub(super) struct Scripted {
    pub engine: ScriptEngine,
    pub scripts: Scripts,
    pub ctx: ProviderContext,
}

impl Scripted {
    /// Raw data through `script` (or taken as messages when there is none) and out to the
    /// processor; what cannot be read is rejected with the reason.
    async fn receive(&self, what: &str, script: &str, payload: &[u8], extra: &[(&str, Value)]) {
        let result = if script.trim().is_empty() {
            Ok(mapping::data_in(payload))
        } else {
            let globals = mapping::receive_globals(payload, extra);
            self.engine
                .run(script, &globals)
                .await
                .map_err(|e| format!("onReceive: {e}"))
        };
        match result.and_then(|v| mapping::messages(&v)) {
            Ok(messages) => {
                for m in messages {
                    self.ctx.emit(m).await;
                }
            }
            Err(reason) => self.ctx.reject(format!("{what}: {reason}")),
        }
    }
}

pub(super) struct GenericProvider {
    pub scripted: Arc<Scripted>,
    /// The MQTT connection; `None` over HTTP.
    pub sink: Option<Arc<dyn FrameSink>>,
}

#[async_trait]
impl Provider for GenericProvider {
    async fn post(&self, msg: &Message) -> Result<(), GatewayError> {
        let Some(sink) = &self.sink else {
            return Err(GatewayError::Unsupported(
                "generic HTTP gateways only poll; sending is not supported yet".into(),
            ));
        };
        let script = &self.scripted.scripts.on_send;
        if script.trim().is_empty() {
            return Err(GatewayError::Unsupported(
                "no `script.onSend` to turn the message into a publish".into(),
            ));
        }
        let result = self
            .scripted
            .engine
            .run(script, &mapping::send_globals(msg))
            .await
            .map_err(|e| GatewayError::Unsupported(format!("onSend: {e}")))?;
        match mapping::publish(&result)
            .map_err(|e| GatewayError::Unsupported(format!("onSend: {e}")))?
        {
            Some((topic, payload)) => Ok(sink.send(RawFrame::publish(topic, payload)).await?),
            None => Ok(()),
        }
    }
}

pub(super) async fn run_mqtt(
    scripted: Arc<Scripted>,
    mut source: Box<dyn FrameSource>,
) -> Result<(), GatewayError> {
    let ctx = scripted.ctx.clone();
    loop {
        let frame = tokio::select! {
            _ = ctx.cancel().cancelled() => return Ok(()),
            r = source.next() => r?,
        };
        match frame {
            Inbound::Frame(f) => {
                let topic = json!(f.topic);
                scripted
                    .receive(
                        &f.topic,
                        &scripted.scripts.on_receive,
                        &f.payload,
                        &[("topic", topic)],
                    )
                    .await
            }
            Inbound::Rejected(reason) => ctx.reject(reason),
        }
    }
}

pub(super) async fn run_http(
    scripted: Arc<Scripted>,
    client: HttpClient,
    endpoints: Vec<PolledEndpoint>,
) -> Result<(), GatewayError> {
    let mut polls = tokio::task::JoinSet::new();
    for e in endpoints {
        polls.spawn(poll(scripted.clone(), client.clone(), e));
    }
    let ctx = scripted.ctx.clone();
    tokio::select! {
        _ = ctx.cancel().cancelled() => Ok(()),
        // The first endpoint that cannot reach its server takes the gateway down (all restart).
        Some(r) = polls.join_next() => match r {
            Ok(r) => r,
            Err(e) => Err(GatewayError::Config(format!("generic: poll task: {e}"))),
        },
    }
}

async fn poll(
    scripted: Arc<Scripted>,
    client: HttpClient,
    e: PolledEndpoint,
) -> Result<(), GatewayError> {
    let mut tick = tokio::time::interval(e.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let resp = client
            .request(e.method.clone(), &e.path, e.body.as_ref())
            .await?;
        let what = format!("endpoint {}", e.name);
        if !(200..300).contains(&resp.status) {
            scripted.ctx.reject(format!("{what}: HTTP {}", resp.status));
            continue;
        }
        let extra = [
            ("statusCode", json!(resp.status)),
            ("endpoint", json!(e.name)),
        ];
        scripted.receive(&what, &e.script, &resp.body, &extra).await;
    }
}
