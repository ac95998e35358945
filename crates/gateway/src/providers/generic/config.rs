//! `provider: {type: generic, protocol: {type: mqtt|http, …}, script: {onReceive, onSend},
//! endpoints: {…}, scriptLimits}`: the factory of the running provider.

use super::http::{Call, GenericHttp};
use super::provider::{GenericProvider, Outlet, Scripted, run_http, run_mqtt};
use crate::context::ProviderContext;
use crate::error::GatewayError;
use crate::provider::{Provider, ProviderConfig, ProviderState, RunningProvider};
use crate::transport::{self, Framing, TransportConfig};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
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
    /// JavaScript: `dataIn` (the message), `configIn` (its node's entry in `nodes`, or null) →
    /// MQTT `{topicOut, dataOut}`; HTTP `{execute, url, method, headers, queryParameters, body,
    /// dataOut}` (`dataOut` there: messages to take in as if received).
    #[serde(default)]
    pub on_send: String,
}

/// One polled HTTP endpoint: its request, how often, its script, and the calls around it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Endpoint {
    /// Path under `protocol.url`, or a whole URL.
    pub url: String,
    /// `GET` (default), `POST` …
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub query_parameters: BTreeMap<String, String>,
    /// Text is sent as it is, anything else as JSON.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// The status that counts as success; default any 2xx.
    #[serde(default)]
    pub response_code: Option<u16>,
    /// How often (default `10m`, at least `100ms`).
    #[serde(default)]
    pub execution_interval: Option<String>,
    /// This endpoint's `onReceive`, instead of the provider's.
    #[serde(default)]
    pub script: String,
    #[serde(default)]
    pub disabled: bool,
    /// Calls made before each poll, in name order (a login); the cookies they answer with go
    /// with the endpoint's call and the `postRun` calls, their answers to the script as
    /// `preRunResponse`.
    #[serde(default)]
    pub pre_run: BTreeMap<String, Call>,
    /// Calls made after each poll, in name order (a logout).
    #[serde(default)]
    pub post_run: BTreeMap<String, Call>,
}

/// How a message for one node (or, under `default`, any other node) goes out.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeConfig {
    /// MQTT: where the publish goes when the script gives no `topicOut` (a comma-separated
    /// string or a list: one publish to each).
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "topics")]
    pub topic: Vec<String>,
    /// HTTP: the request a set becomes when the script says `execute: true`; the script's
    /// `url`, `method`, `headers`, `queryParameters` and `body` replace these.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query_parameters: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_code: Option<u16>,
    /// This node's `onSend`, instead of the provider's. It sees the node's config as `configIn`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub script: String,
}

/// `topic` as a comma-separated string or a list, like `protocol.subscribe`.
mod topics {
    use crate::transport::mqtt::Topics;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        Ok(Topics::deserialize(d)?.0)
    }

    pub fn serialize<S: Serializer>(t: &[String], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(t)
    }
}

impl NodeConfig {
    /// The request this node's config describes.
    pub fn call(&self) -> Call {
        Call {
            url: self.url.clone(),
            method: self.method.clone(),
            headers: self.headers.clone(),
            query_parameters: self.query_parameters.clone(),
            body: self.body.clone(),
            response_code: self.response_code,
        }
    }
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
    /// Per node id (or `default`): where and how a message for it is sent.
    #[serde(default)]
    pub nodes: BTreeMap<String, NodeConfig>,
    /// Memory and time limits of every script run (defaults: 32 MiB, 5 s, 4 at once).
    #[serde(default)]
    pub script_limits: ScriptLimits,
}

pub(super) struct PolledEndpoint {
    pub name: String,
    pub call: Call,
    pub interval: Duration,
    pub script: String,
    pub pre_run: Vec<(String, Call)>,
    pub post_run: Vec<(String, Call)>,
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
            let call = Call {
                url: e.url.clone(),
                method: e.method.clone(),
                headers: e.headers.clone(),
                query_parameters: e.query_parameters.clone(),
                body: e.body.clone(),
                response_code: e.response_code,
            };
            let around = e.pre_run.iter().chain(&e.post_run);
            for (what, c) in std::iter::once((name, &call)).chain(around) {
                c.check()
                    .map_err(|err| config_err(format!("endpoint {name}: {what}: {err}")))?;
            }
            let script = if e.script.is_empty() {
                self.script.on_receive.clone()
            } else {
                e.script.clone()
            };
            let list = |m: &BTreeMap<String, Call>| {
                m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
            };
            out.push(PolledEndpoint {
                name: name.clone(),
                call,
                interval,
                script,
                pre_run: list(&e.pre_run),
                post_run: list(&e.post_run),
            });
        }
        Ok(out)
    }

    /// The node configs, checked against the protocol: topics for MQTT, requests for HTTP.
    fn checked_nodes(&self) -> Result<BTreeMap<String, NodeConfig>, GatewayError> {
        let http = matches!(self.protocol, TransportConfig::Http(_));
        for (id, n) in &self.nodes {
            let wrong = if http {
                (!n.topic.is_empty()).then_some("`topic` (an MQTT key) on an HTTP gateway")
            } else {
                (!n.url.is_empty() || n.method.is_some() || n.body.is_some())
                    .then_some("`url`, `method` or `body` (HTTP keys) on an MQTT gateway")
            };
            if let Some(wrong) = wrong {
                return Err(config_err(format!("node {id}: {wrong}")));
            }
            if let Some(t) = n.topic.iter().find(|t| t.contains(['+', '#'])) {
                return Err(config_err(format!("node {id}: topic {t:?} has a wildcard")));
            }
            n.call()
                .check()
                .map_err(|err| config_err(format!("node {id}: {err}")))?;
        }
        Ok(self.nodes.clone())
    }
}

#[async_trait]
impl ProviderConfig for GenericConfig {
    async fn start(&self, ctx: ProviderContext) -> Result<RunningProvider, GatewayError> {
        let engine = ScriptEngine::new(self.script_limits.clone()).map_err(config_err)?;
        let scripted = Arc::new(Scripted {
            engine,
            scripts: self.script.clone(),
            nodes: self.checked_nodes()?,
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
                    outlet: Outlet::Mqtt(conn.sink.clone()),
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
                let client = GenericHttp::new(http)?;
                // Up only once the server has answered (any status; the first poll reports it):
                // until then the gateway waits, `down`, so a restart while the device is away
                // does not show it `up` for a moment.
                scripted.ctx.report_state(ProviderState::Waiting(format!(
                    "waiting for the first answer of {}",
                    client.url("").map(|u| u.to_string()).unwrap_or_default()
                )));
                let outbound = Arc::new(GenericProvider {
                    scripted: scripted.clone(),
                    outlet: Outlet::Http(client.clone()),
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
                "a": {"url": "status", "executionInterval": "2s",
                      "preRun": {"login": {"url": "login", "method": "POST",
                                           "body": {"user": "u"}, "responseCode": 302}},
                      "postRun": {"logout": {"url": "logout"}}},
                "b": {"url": "x", "disabled": true},
                "c": {"url": "y", "method": "post", "script": "null",
                      "headers": {"Accept": "application/json"},
                      "queryParameters": {"page": "1"}}
            }
        }))
        .unwrap();
        let p = c.polled().unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(
            (p[0].interval, p[0].script.as_str()),
            (Duration::from_secs(2), "[]")
        );
        assert_eq!(p[0].pre_run[0].0, "login");
        assert_eq!(p[0].pre_run[0].1.response_code, Some(302));
        assert_eq!(p[0].post_run[0].1.url, "logout");
        assert_eq!(
            (p[1].call.method().unwrap().as_str(), p[1].script.as_str()),
            ("POST", "null")
        );
        assert_eq!(p[1].call.query_parameters["page"], "1");
        let e = serde_json::from_value::<GenericConfig>(json!({
            "protocol": {"type": "http", "url": "http://h"}, "scripts": {}
        }))
        .unwrap_err();
        assert!(e.to_string().contains("scripts"), "{e}");
        let bad = |endpoint: serde_json::Value| {
            serde_json::from_value::<GenericConfig>(json!({
                "protocol": {"type": "http", "url": "http://h"},
                "endpoints": {"e": endpoint}
            }))
            .unwrap()
            .polled()
            .err()
        };
        assert!(bad(json!({"url": "x", "executionInterval": "10ms"})).is_some());
        assert!(bad(json!({"url": "x", "headers": {"bad name": "v"}})).is_some());
        assert!(
            bad(json!({"url": "x", "preRun": {"l": {"url": "l", "method": "NO T"}}})).is_some()
        );
    }

    #[test]
    fn nodes_are_checked_against_the_protocol() {
        let config = |protocol: serde_json::Value, nodes: serde_json::Value| {
            serde_json::from_value::<GenericConfig>(json!({"protocol": protocol, "nodes": nodes}))
                .unwrap()
        };
        let mqtt = json!({"type": "mqtt", "broker": "tcp://127.0.0.1:1883", "subscribe": "a/#"});
        let http = json!({"type": "http", "url": "http://h"});
        let c = config(
            mqtt.clone(),
            json!({"lamp": {"topic": "lamp/set, lamp/set2"}}),
        );
        assert_eq!(
            c.checked_nodes().unwrap()["lamp"].topic,
            ["lamp/set", "lamp/set2"]
        );
        assert!(
            config(mqtt.clone(), json!({"lamp": {"topic": "lamp/+"}}))
                .checked_nodes()
                .is_err()
        );
        assert!(
            config(mqtt, json!({"lamp": {"url": "x"}}))
                .checked_nodes()
                .is_err()
        );
        let c = config(
            http.clone(),
            json!({"default": {"url": "relay", "method": "PUT",
                                                         "headers": {"X-Key": "k"}}}),
        );
        let call = c.checked_nodes().unwrap()["default"].call();
        assert_eq!(
            (call.url.as_str(), call.method.as_deref()),
            ("relay", Some("PUT"))
        );
        assert!(
            config(http, json!({"lamp": {"topic": "t"}}))
                .checked_nodes()
                .is_err()
        );
        // configIn: what the script sees of a node, without the keys it does not use.
        let n = &c.nodes["default"];
        assert_eq!(
            serde_json::to_value(n).unwrap(),
            json!({"url": "relay", "method": "PUT", "headers": {"X-Key": "k"}})
        );
    }
}
