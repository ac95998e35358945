//! `provider: {type: generic, protocol: {type: mqtt|http, …}, script: {onReceive, onSend},
//! endpoints: {…}, scriptLimits}`: the factory of the running provider.

use super::provider::{GenericProvider, Scripted, run_http, run_mqtt};
use crate::context::ProviderContext;
use crate::error::GatewayError;
use crate::provider::{Provider, ProviderConfig, RunningProvider};
use crate::transport::http::HttpClient;
use crate::transport::{self, Framing, TransportConfig};
use async_trait::async_trait;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use switchyard_script::{ScriptEngine, ScriptLimits};

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scripts {
    /// JavaScript: `dataIn` (the payload: JSON when it parses, else text; MQTT also `topic`,
    /// HTTP also `statusCode` and `endpoint`) → `{dataOut: [message…]}`.
    #[serde(default)]
    pub on_receive: String,
    /// JavaScript: `dataIn` (the message) → `{topicOut, dataOut}` (MQTT only).
    #[serde(default)]
    pub on_send: String,
}

/// One polled HTTP endpoint.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Endpoint {
    /// Path under `protocol.url`, or a whole URL.
    pub url: String,
    /// `GET` (default) or `POST` …
    #[serde(default)]
    pub method: Option<String>,
    /// JSON body sent with the request.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// How often (default `10m`, at least `100ms`).
    #[serde(default)]
    pub execution_interval: Option<String>,
    /// This endpoint's `onReceive`, instead of the provider's.
    #[serde(default)]
    pub script: String,
    #[serde(default)]
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenericConfig {
    pub protocol: TransportConfig,
    #[serde(default)]
    pub script: Scripts,
    /// HTTP: the endpoints to poll, by name.
    #[serde(default)]
    pub endpoints: BTreeMap<String, Endpoint>,
    /// Memory and time limits of every script run (defaults: 32 MiB, 5 s, 4 at once).
    #[serde(default)]
    pub script_limits: ScriptLimits,
}

pub(super) struct PolledEndpoint {
    pub name: String,
    pub path: String,
    pub method: reqwest::Method,
    pub body: Option<serde_json::Value>,
    pub interval: Duration,
    pub script: String,
}

fn config_err(e: impl std::fmt::Display) -> GatewayError {
    GatewayError::Config(format!("generic: {e}"))
}

impl GenericConfig {
    pub(super) fn polled(&self) -> Result<Vec<PolledEndpoint>, GatewayError> {
        let mut out = Vec::new();
        for (name, e) in self.endpoints.iter().filter(|(_, e)| !e.disabled) {
            let interval = match &e.execution_interval {
                None => Duration::from_secs(600),
                Some(s) => switchyard_core::value::parse_std_duration(s).map_err(|err| {
                    config_err(format!("endpoint {name}: executionInterval: {err}"))
                })?,
            };
            if interval < Duration::from_millis(100) {
                return Err(config_err(format!(
                    "endpoint {name}: executionInterval must be at least 100ms"
                )));
            }
            let method = e.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
            let method = reqwest::Method::from_bytes(method.as_bytes())
                .map_err(|err| config_err(format!("endpoint {name}: method: {err}")))?;
            let script = if e.script.is_empty() {
                self.script.on_receive.clone()
            } else {
                e.script.clone()
            };
            out.push(PolledEndpoint {
                name: name.clone(),
                path: e.url.clone(),
                method,
                body: e.body.clone(),
                interval,
                script,
            });
        }
        Ok(out)
    }
}

#[async_trait]
impl ProviderConfig for GenericConfig {
    async fn start(&self, ctx: ProviderContext) -> Result<RunningProvider, GatewayError> {
        let engine = ScriptEngine::new(self.script_limits.clone()).map_err(config_err)?;
        let scripted = Arc::new(Scripted {
            engine,
            scripts: self.script.clone(),
            ctx,
        });
        match &self.protocol {
            TransportConfig::Mqtt(mqtt) => {
                if mqtt.subscribe.0.is_empty() {
                    return Err(config_err("`protocol.subscribe` lists no topic"));
                }
                let conn = transport::connect(
                    &self.protocol,
                    &scripted.ctx.transport_context(),
                    Framing::lines(),
                )
                .await?;
                let outbound = Arc::new(GenericProvider {
                    scripted: scripted.clone(),
                    sink: Some(conn.sink.clone()),
                });
                Ok(RunningProvider {
                    outbound: outbound as Arc<dyn Provider>,
                    inbound: Box::pin(run_mqtt(scripted, conn.source)),
                })
            }
            TransportConfig::Http(http) => {
                let endpoints = self.polled()?;
                if endpoints.is_empty() {
                    return Err(config_err("`endpoints` lists no enabled endpoint"));
                }
                let client = HttpClient::new(http)?;
                let outbound = Arc::new(GenericProvider {
                    scripted: scripted.clone(),
                    sink: None,
                });
                Ok(RunningProvider {
                    outbound: outbound as Arc<dyn Provider>,
                    inbound: Box::pin(run_http(scripted, client, endpoints)),
                })
            }
            other => Err(config_err(format!(
                "speaks MQTT or HTTP, not `{}`",
                other.kind()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn endpoints_and_unknown_keys() {
        let c: GenericConfig = serde_json::from_value(json!({
            "protocol": {"type": "http", "url": "http://127.0.0.1:9"},
            "script": {"onReceive": "[]"},
            "endpoints": {
                "a": {"url": "status", "executionInterval": "2s"},
                "b": {"url": "x", "disabled": true},
                "c": {"url": "y", "method": "post", "script": "null"}
            }
        }))
        .unwrap();
        let p = c.polled().unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(
            (p[0].interval, p[0].script.as_str()),
            (Duration::from_secs(2), "[]")
        );
        assert_eq!(
            (p[1].method.as_str(), p[1].script.as_str()),
            ("POST", "null")
        );
        let e = serde_json::from_value::<GenericConfig>(json!({
            "protocol": {"type": "http", "url": "http://h"}, "scripts": {}
        }))
        .unwrap_err();
        assert!(e.to_string().contains("scripts"), "{e}");
    }
}
