//! The running provider: payloads through `onReceive` into messages, messages through `onSend`
//! (the node's script, else the provider's) into publishes or HTTP requests, and the HTTP
//! endpoints' poll loops with their `preRun`/`postRun` calls.

use super::config::{NodeConfig, PolledEndpoint, Scripts};
use super::http::{Answer, Call, CookieJar, GenericHttp};
use super::mapping;
use crate::context::ProviderContext;
use crate::error::{GatewayError, TransportError};
use crate::provider::{Provider, ProviderState};
use crate::transport::{FrameSink, FrameSource, Inbound, RawFrame};
use async_trait::async_trait;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use switchyard_core::Message;
use switchyard_script::ScriptEngine;

/// The key of `nodes` that applies to a node without an entry of its own.
pub const DEFAULT_NODE: &str = "default";

pub(super) struct Scripted {
    pub engine: ScriptEngine,
    pub scripts: Scripts,
    pub nodes: BTreeMap<String, NodeConfig>,
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
            Ok(messages) => self.emit(messages).await,
            Err(reason) => self.ctx.reject(format!("{what}: {reason}")),
        }
    }

    async fn emit(&self, messages: Vec<Message>) {
        for m in messages {
            self.ctx.emit(m).await;
        }
    }

    /// The node's config (or `default`'s) and the `onSend` result for `msg`.
    async fn on_send(&self, msg: &Message) -> Result<(Option<&NodeConfig>, Value), GatewayError> {
        let node = self
            .nodes
            .get(&msg.node_id)
            .or_else(|| self.nodes.get(DEFAULT_NODE));
        let script = match node {
            Some(n) if !n.script.trim().is_empty() => &n.script,
            _ => &self.scripts.on_send,
        };
        if script.trim().is_empty() {
            return Err(GatewayError::Unsupported(format!(
                "no `script.onSend` (nor a script in `nodes`) for node `{}`",
                msg.node_id
            )));
        }
        let config_in = node
            .map(|n| serde_json::to_value(n).unwrap_or(Value::Null))
            .unwrap_or(Value::Null);
        let result = self
            .engine
            .run(script, &mapping::send_globals(msg, config_in))
            .await
            .map_err(|e| GatewayError::Unsupported(format!("onSend: {e}")))?;
        Ok((node, result))
    }
}

/// Where messages for devices go.
pub(super) enum Outlet {
    Mqtt(Arc<dyn FrameSink>),
    Http(GenericHttp),
}

pub(super) struct GenericProvider {
    pub scripted: Arc<Scripted>,
    pub outlet: Outlet,
}

fn unsupported(e: String) -> GatewayError {
    GatewayError::Unsupported(format!("onSend: {e}"))
}

#[async_trait]
impl Provider for GenericProvider {
    async fn post(&self, msg: &Message) -> Result<(), GatewayError> {
        let (node, result) = self.scripted.on_send(msg).await?;
        match &self.outlet {
            Outlet::Mqtt(sink) => {
                let topics = node.map(|n| n.topic.as_slice()).unwrap_or_default();
                for (topic, payload) in mapping::publishes(&result, topics).map_err(unsupported)? {
                    sink.send(RawFrame::publish(topic, payload)).await?;
                }
                Ok(())
            }
            Outlet::Http(http) => {
                let base = node.map(NodeConfig::call).unwrap_or_default();
                let send = mapping::http_send(&result, base).map_err(unsupported)?;
                self.scripted.emit(send.messages).await;
                let Some(call) = send.call else {
                    return Ok(());
                };
                let answer = http.call(&call, &CookieJar::default()).await?;
                if call.succeeded(answer.status) {
                    Ok(())
                } else {
                    Err(TransportError::Send(format!(
                        "{} {}: HTTP {}",
                        call.method.as_deref().unwrap_or("GET"),
                        call.url,
                        answer.status
                    ))
                    .into())
                }
            }
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
    client: GenericHttp,
    endpoints: Vec<PolledEndpoint>,
) -> Result<(), GatewayError> {
    // Up only once the server has answered (see `GenericConfig::start`).
    let answered = Arc::new(AtomicBool::new(false));
    let mut polls = tokio::task::JoinSet::new();
    for e in endpoints {
        polls.spawn(poll(scripted.clone(), client.clone(), e, answered.clone()));
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

/// One call of a poll; the server's first answer (any status) brings the gateway up.
async fn call(
    scripted: &Scripted,
    client: &GenericHttp,
    call: &Call,
    jar: &CookieJar,
    answered: &AtomicBool,
) -> Result<Answer, TransportError> {
    let answer = client.call(call, jar).await?;
    if !answered.swap(true, Ordering::Relaxed) {
        scripted
            .ctx
            .report_state(ProviderState::Up("connected".into()));
    }
    Ok(answer)
}

async fn poll(
    scripted: Arc<Scripted>,
    client: GenericHttp,
    e: PolledEndpoint,
    answered: Arc<AtomicBool>,
) -> Result<(), GatewayError> {
    let mut tick = tokio::time::interval(e.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let what = format!("endpoint {}", e.name);
    loop {
        tick.tick().await;
        let mut jar = CookieJar::default();
        let mut pre_run = Map::new();
        let mut failed = None;
        for (name, c) in &e.pre_run {
            let answer = call(&scripted, &client, c, &jar, &answered).await?;
            jar.keep(&answer.cookies);
            if !c.succeeded(answer.status) {
                failed = Some(format!("{what}: preRun {name}: HTTP {}", answer.status));
                break;
            }
            pre_run.insert(name.clone(), answer.to_script());
        }
        if let Some(reason) = failed {
            scripted.ctx.reject(reason);
            continue;
        }
        let answer = call(&scripted, &client, &e.call, &jar, &answered).await?;
        if e.call.succeeded(answer.status) {
            let extra = [
                ("statusCode", json!(answer.status)),
                ("endpoint", json!(e.name)),
                ("preRunResponse", Value::Object(pre_run)),
            ];
            scripted
                .receive(&what, &e.script, &answer.body, &extra)
                .await;
        } else {
            scripted
                .ctx
                .reject(format!("{what}: HTTP {}", answer.status));
        }
        for (name, c) in &e.post_run {
            let answer = call(&scripted, &client, c, &jar, &answered).await?;
            if !c.succeeded(answer.status) {
                scripted
                    .ctx
                    .reject(format!("{what}: postRun {name}: HTTP {}", answer.status));
            }
        }
    }
}
