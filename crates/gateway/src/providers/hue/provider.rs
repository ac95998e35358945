//! The running provider: a poll loop reading lights, groups and sensors (or, on an API v2 bridge, its
//! event stream, see [`super::events`]), and the outbound half turning sets and actions into
//! bridge requests (re-reading what changed, so the controller sees the bridge's state rather
//! than what was asked).

use super::command::{Command, to_command};
use super::events::{self, EventStream};
use super::parse::{self, HueError};
use super::pin::PinnedCertificate;
use crate::context::ProviderContext;
use crate::error::{GatewayError, TransportError};
use crate::provider::Provider;
use crate::transport::http::HttpClient;
use async_trait::async_trait;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::Message;

pub(super) struct Bridge {
    /// API v1, `…/api/<username>/`.
    pub client: HttpClient,
    /// API v2, the bridge's root, with the `hue-application-key` header.
    pub v2: HttpClient,
    /// The certificate check of an HTTPS bridge, to say why a handshake was refused.
    pub pin: Option<Arc<PinnedCertificate>>,
    pub ctx: ProviderContext,
}

impl Bridge {
    /// A request that failed: a refused certificate is a config error (reconnecting will not
    /// help until the config or the remembered fingerprint changes), anything else a transport
    /// error (the gateway goes down and is restarted).
    pub fn transport_error(&self, e: TransportError) -> GatewayError {
        match self.pin.as_ref().and_then(|p| p.take_refusal()) {
            Some(why) => GatewayError::Config(format!("philips_hue: {why}")),
            None => e.into(),
        }
    }

    /// `Err` when the bridge cannot be reached (the gateway goes down); `Ok(Err)` for an answer
    /// that is not what was asked (status, garbage, the bridge's error list).
    pub async fn read(&self, path: &str) -> Result<Result<Value, HueError>, GatewayError> {
        let resp = self
            .client
            .get(path)
            .await
            .map_err(|e| self.transport_error(e))?;
        Ok(answer(resp.status, &resp.body))
    }

    pub async fn emit_all(&self, messages: Vec<Message>) {
        for m in messages {
            self.ctx.emit(m).await;
        }
    }

    /// Reads `path` and emits what it says; bad answers are rejected with a reason.
    async fn sync(
        &self,
        path: &str,
        parse: impl Fn(&Value) -> Result<Vec<Message>, HueError>,
    ) -> Result<(), GatewayError> {
        match self.read(path).await? {
            Ok(body) => match parse(&body) {
                Ok(messages) => self.emit_all(messages).await,
                Err(e) => self.ctx.reject(format!("{path}: {e}")),
            },
            Err(e) if e.is_unauthorized() => {
                return Err(GatewayError::Config(format!(
                    "philips_hue: {e}; the username is no longer whitelisted"
                )));
            }
            Err(e) => self.ctx.reject(format!("{path}: {e}")),
        }
        Ok(())
    }

    pub async fn sync_all(&self) -> Result<(), GatewayError> {
        self.sync("lights", parse::lights).await?;
        self.sync("groups", parse::groups).await?;
        // Group 0 (every light of the bridge) is left out of `GET groups`.
        self.sync("groups/0", |v| parse::group("0", v)).await?;
        self.sync("sensors", parse::sensors).await
    }

    /// Reads one light, group or sensor again (`lights/1`, `groups/2`, `sensors/5`).
    pub async fn sync_one(&self, path: &str) -> Result<(), GatewayError> {
        let id = path.rsplit('/').next().unwrap_or_default().to_string();
        if path.starts_with("lights/") {
            self.sync(path, |v| parse::light(&id, v)).await
        } else if path.starts_with("groups/") {
            // A group's action changes its lights too.
            self.sync(path, |v| parse::group(&id, v)).await?;
            self.sync("lights", parse::lights).await
        } else {
            self.sync(path, |v| parse::sensor(&id, v)).await
        }
    }
}

pub(super) fn answer(status: u16, body: &[u8]) -> Result<Value, HueError> {
    if !(200..300).contains(&status) {
        let text: String = String::from_utf8_lossy(body).chars().take(120).collect();
        return Err(HueError::Shape(format!("HTTP {status}: {text}")));
    }
    parse::parse_body(body)
}

pub(super) struct HueProvider {
    pub bridge: Arc<Bridge>,
}

#[async_trait]
impl Provider for HueProvider {
    async fn post(&self, msg: &Message) -> Result<(), GatewayError> {
        let command = to_command(msg).map_err(|e| GatewayError::Unsupported(e.to_string()))?;
        let bridge = &self.bridge;
        match command {
            Command::Put {
                path,
                body,
                refresh,
            } => {
                let resp = bridge
                    .client
                    .request(reqwest::Method::PUT, &path, Some(&body))
                    .await
                    .map_err(|e| bridge.transport_error(e))?;
                if let Err(e) = answer(resp.status, &resp.body) {
                    // The bridge refused (unknown light, value out of range): sending again
                    // will not help.
                    return Err(GatewayError::Unsupported(format!("PUT {path}: {e}")));
                }
                bridge.sync_one(&refresh).await
            }
            Command::Refresh(path) => bridge.sync_one(&path).await,
            Command::Discover => {
                for path in ["lights", "sensors"] {
                    let resp = bridge
                        .client
                        .request(reqwest::Method::POST, path, None)
                        .await
                        .map_err(|e| bridge.transport_error(e))?;
                    if let Err(e) = answer(resp.status, &resp.body) {
                        bridge.ctx.reject(format!("POST {path}: {e}"));
                    }
                }
                bridge.sync_all().await
            }
        }
    }
}

/// Polls every `interval`, or follows the event stream when the bridge has one.
pub(super) async fn run_inbound(
    bridge: Arc<Bridge>,
    interval: Duration,
    events: Option<EventStream>,
) -> Result<(), GatewayError> {
    if let Some(stream) = events {
        return events::run(bridge, stream, interval).await;
    }
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = bridge.ctx.cancel().cancelled() => return Ok(()),
            _ = tick.tick() => {}
        }
        tokio::select! {
            _ = bridge.ctx.cancel().cancelled() => return Ok(()),
            r = bridge.sync_all() => r?,
        }
    }
}
