//! Pairing: a gateway without `username` asks the bridge for an app key (`POST /api` with
//! `{"devicetype": "switchyard#<gateway>", "generateclientkey": true}`) every `pairingInterval`
//! while the bridge answers error 101 ("link button not pressed"), showing `down` with "press
//! the link button on the bridge". The key the bridge hands out is stored encrypted
//! ([`super::app_key`]) and this run connects with it; later runs read it from there.

use super::app_key::{AppKey, AppKeyFile};
use super::config::PhilipsHueConfig;
use super::parse::HueError;
use super::pin::PinnedCertificate;
use super::provider::answer;
use crate::context::ProviderContext;
use crate::error::GatewayError;
use crate::provider::{Provider, ProviderState, RunningProvider};
use crate::transport::http::HttpClient;
use async_trait::async_trait;
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use switchyard_core::Message;

/// The bridge takes an application name of up to 20 characters and a device name of up to 19.
pub fn devicetype(gateway: &str) -> String {
    let device: String = gateway.chars().take(19).collect();
    format!("switchyard#{device}")
}

/// The answer to `POST /api`: the app key, or the bridge's error (101 while the button is not
/// pressed).
pub fn pairing_answer(body: &Value) -> Result<AppKey, HueError> {
    let success = body
        .as_array()
        .and_then(|a| a.iter().find_map(|i| i.get("success")))
        .ok_or_else(|| HueError::Shape(format!("pairing answer {body}")))?;
    let username = success
        .get("username")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty() && u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .ok_or_else(|| HueError::Shape(format!("pairing answer without a username: {body}")))?;
    Ok(AppKey {
        username: username.to_string(),
        clientkey: success
            .get("clientkey")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// Sets wait for the pairing; once paired they go to the connected provider.
struct Deferred {
    inner: Arc<OnceLock<Arc<dyn Provider>>>,
}

#[async_trait]
impl Provider for Deferred {
    async fn post(&self, msg: &Message) -> Result<(), GatewayError> {
        match self.inner.get() {
            Some(p) => p.post(msg).await,
            None => Err(GatewayError::Unsupported(
                "philips_hue: not paired yet; press the link button on the bridge".into(),
            )),
        }
    }
}

pub(super) struct Pairing {
    pub config: PhilipsHueConfig,
    pub ctx: ProviderContext,
    pub file: AppKeyFile,
    /// `https://bridge/`, for `POST api`.
    pub client: HttpClient,
    pub pin: Option<Arc<PinnedCertificate>>,
    pub interval: Duration,
}

impl Pairing {
    pub fn running(self) -> RunningProvider {
        let inner = Arc::new(OnceLock::new());
        let outbound = Arc::new(Deferred {
            inner: inner.clone(),
        });
        RunningProvider {
            outbound: outbound as Arc<dyn Provider>,
            inbound: Box::pin(self.run(inner)),
        }
    }

    async fn run(self, slot: Arc<OnceLock<Arc<dyn Provider>>>) -> Result<(), GatewayError> {
        let Some(key) = self.pair().await? else {
            return Ok(());
        };
        let stored = self.file.store(&key);
        let path = self.file.path();
        let running = self.config.connect(self.ctx.clone(), key.username).await?;
        let _ = slot.set(running.outbound);
        match stored {
            Ok(()) => {
                tracing::info!(gateway = %self.ctx.gateway_id(), file = %path.display(),
                    "philips_hue: paired; the app key is stored encrypted");
                self.ctx
                    .report_state(ProviderState::Up("paired with the bridge".into()));
            }
            Err(e) => {
                tracing::error!(gateway = %self.ctx.gateway_id(), error = %e,
                    "philips_hue: paired, but the app key could not be stored");
                self.ctx.report_state(ProviderState::Up(format!(
                    "paired, but the app key could not be stored ({e}); the next start pairs again"
                )));
            }
        }
        running.inbound.await
    }

    /// Asks until the bridge hands out a key; `None` when stopped first.
    async fn pair(&self) -> Result<Option<AppKey>, GatewayError> {
        let body = json!({
            "devicetype": devicetype(self.ctx.gateway_id()),
            "generateclientkey": true,
        });
        let mut told = false;
        loop {
            let resp = self
                .client
                .request(reqwest::Method::POST, "api", Some(&body))
                .await
                .map_err(|e| match self.pin.as_ref().and_then(|p| p.take_refusal()) {
                    Some(why) => GatewayError::Config(format!("philips_hue: {why}")),
                    None => e.into(),
                })?;
            match answer(resp.status, &resp.body).and_then(|v| pairing_answer(&v)) {
                Ok(key) => return Ok(Some(key)),
                Err(HueError::Bridge { kind: 101, .. }) => {
                    if !told {
                        told = true;
                        tracing::info!(gateway = %self.ctx.gateway_id(),
                            "philips_hue: no app key; press the link button on the bridge");
                        self.ctx.report_state(ProviderState::Waiting(format!(
                            "pairing: press the link button on the bridge (asking every {:?} as {})",
                            self.interval,
                            body["devicetype"].as_str().unwrap_or_default()
                        )));
                    }
                }
                Err(e @ HueError::Bridge { .. }) => {
                    return Err(GatewayError::Config(format!("philips_hue: pairing: {e}")));
                }
                Err(e) => self.ctx.reject(format!("POST /api: {e}")),
            }
            tokio::select! {
                _ = self.ctx.cancel().cancelled() => return Ok(None),
                _ = tokio::time::sleep(self.interval) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn answers() {
        let ok = parse::parse_body(
            br#"[{"success":{"username":"83b7780291a6ceffbe0bd049104df","clientkey":"33DDAEA5A2CE5BD5BD5A9E7E8B8F3B5D"}}]"#,
        )
        .unwrap();
        let key = pairing_answer(&ok).unwrap();
        assert_eq!(key.username, "83b7780291a6ceffbe0bd049104df");
        assert!(key.clientkey.is_some());
        let e = parse::parse_body(
            br#"[{"error":{"type":101,"address":"","description":"link button not pressed"}}]"#,
        )
        .unwrap_err();
        assert!(matches!(e, HueError::Bridge { kind: 101, .. }));
        assert!(pairing_answer(&json!([{"success": {"username": "../x"}}])).is_err());
        assert!(pairing_answer(&json!({"a": 1})).is_err());
        assert_eq!(devicetype("hue"), "switchyard#hue");
        assert_eq!(devicetype(&"x".repeat(40)).len(), 11 + 19);
    }
}
