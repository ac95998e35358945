//! `provider: {type: esphome, password, timeout, aliveCheckInterval, reconnectDelay, nodes:
//! {<nodeId>: {address, password, encryptionKey, disabled}}}`: the factory of the running
//! provider.

use super::node::{NodeClient, NodeSettings};
use super::provider::EsphomeProvider;
use crate::context::ProviderContext;
use crate::error::GatewayError;
use crate::provider::{ProviderConfig, RunningProvider};
use async_trait::async_trait;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EsphomeConfig {
    /// The API password of nodes that set none of their own.
    #[serde(default)]
    pub password: String,
    /// The encryption key of nodes that set none of their own (base64, 32 bytes).
    #[serde(default)]
    pub encryption_key: String,
    /// How long connecting and each handshake step may take (default `5s`).
    #[serde(default = "default_timeout")]
    pub timeout: String,
    /// How often an idle connection is pinged; no answer within two intervals drops it
    /// (default `15s`).
    #[serde(default = "default_alive")]
    pub alive_check_interval: String,
    /// How long to wait before dialling a lost node again (default `10s`).
    #[serde(default = "default_reconnect")]
    pub reconnect_delay: String,
    pub nodes: BTreeMap<String, EsphomeNodeConfig>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EsphomeNodeConfig {
    /// `host:port` of the node's native API (ESPHome's port is 6053).
    pub address: String,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub encryption_key: Option<String>,
    #[serde(default)]
    pub disabled: bool,
}

fn default_timeout() -> String {
    "5s".into()
}
fn default_alive() -> String {
    "15s".into()
}
fn default_reconnect() -> String {
    "10s".into()
}

fn duration(key: &str, value: &str) -> Result<Duration, GatewayError> {
    switchyard_core::value::parse_duration(value)
        .ok()
        .and_then(|d| d.to_std().ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| GatewayError::Config(format!("`{key}`: {value:?} is not a duration")))
}

impl EsphomeConfig {
    /// The settings of each enabled node.
    pub(super) fn node_settings(&self) -> Result<Vec<NodeSettings>, GatewayError> {
        let timeout = duration("timeout", &self.timeout)?;
        let alive_check = duration("aliveCheckInterval", &self.alive_check_interval)?;
        let reconnect_delay = duration("reconnectDelay", &self.reconnect_delay)?;
        let mut out = Vec::new();
        for (id, node) in &self.nodes {
            if node.disabled {
                continue;
            }
            if id.is_empty() || node.address.is_empty() {
                return Err(GatewayError::Config(format!(
                    "esphome node {id:?} needs an id and an `address` (host:port)"
                )));
            }
            let key = node.encryption_key.as_ref().unwrap_or(&self.encryption_key);
            let psk = if key.is_empty() {
                None
            } else {
                Some(
                    super::noise::parse_key(key)
                        .map_err(|e| GatewayError::Config(format!("esphome node {id:?}: {e}")))?,
                )
            };
            out.push(NodeSettings {
                node_id: id.clone(),
                address: node.address.clone(),
                password: node
                    .password
                    .clone()
                    .unwrap_or_else(|| self.password.clone()),
                timeout,
                alive_check,
                reconnect_delay,
                psk,
            });
        }
        Ok(out)
    }
}

#[async_trait]
impl ProviderConfig for EsphomeConfig {
    async fn start(&self, ctx: ProviderContext) -> Result<RunningProvider, GatewayError> {
        let settings = self.node_settings()?;
        let mut nodes = BTreeMap::new();
        let mut tasks = Vec::new();
        for s in settings {
            let (client, handle) = NodeClient::new(s, ctx.clone());
            nodes.insert(client.node_id().to_string(), handle);
            tasks.push(client.run());
        }
        let inbound = Box::pin(async move {
            futures::future::join_all(tasks).await;
            Ok(())
        });
        Ok(RunningProvider {
            outbound: Arc::new(EsphomeProvider { nodes }),
            inbound,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn node_settings_inherit_and_explain() {
        let c: EsphomeConfig = serde_json::from_value(json!({
            "password": "global",
            "nodes": {
                "kitchen": {"address": "10.0.0.5:6053"},
                "hall": {"address": "10.0.0.6:6053", "password": "own"},
                "off": {"address": "x:1", "disabled": true}
            }
        }))
        .unwrap();
        let s = c.node_settings().unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].node_id.as_str(), s[0].password.as_str()),
            ("hall", "own")
        );
        assert_eq!(s[1].password, "global");
        assert_eq!(s[1].alive_check, Duration::from_secs(15));

        let bad: EsphomeConfig = serde_json::from_value(json!({
            "nodes": {"n": {"address": "x:1", "encryptionKey": "AAAA"}}
        }))
        .unwrap();
        let err = bad.node_settings().err().unwrap().to_string();
        assert!(err.contains("32 bytes in base64"), "{err}");
        let bad: EsphomeConfig =
            serde_json::from_value(json!({"timeout": "soon", "nodes": {}})).unwrap();
        assert!(
            bad.node_settings()
                .err()
                .unwrap()
                .to_string()
                .contains("timeout")
        );
    }
}
