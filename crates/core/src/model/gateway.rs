use super::{Labels, Others, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A connection to a network of devices, run by a provider plugin (`provider.type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Gateway {
    pub id: String,
    pub description: String,
    pub enabled: bool,
    /// How long to wait before reconnecting a gateway that is not up (duration string).
    pub reconnect_delay: String,
    /// Put messages the provider fails to send into the node's sleeping queue.
    pub queue_failed_message: bool,
    /// Provider config: `{type: mysensors|tasmota|…, protocol: {…}, …}`.
    pub provider: serde_json::Map<String, serde_json::Value>,
    /// Raw traffic logger config: `{type: file_logger|none, …}`.
    pub message_logger: serde_json::Map<String, serde_json::Value>,
    pub labels: Labels,
    pub others: Others,
    pub state: State,
    pub modified_on: Option<DateTime<Utc>>,
}

impl Default for Gateway {
    fn default() -> Self {
        Gateway {
            id: String::new(),
            description: String::new(),
            enabled: true,
            reconnect_delay: "15s".into(),
            queue_failed_message: false,
            provider: Default::default(),
            message_logger: Default::default(),
            labels: Labels::new(),
            others: Others::new(),
            state: State::default(),
            modified_on: None,
        }
    }
}

impl Gateway {
    /// The provider type (`provider.type`), empty when unset.
    pub fn provider_type(&self) -> &str {
        self.provider
            .get("type")
            .and_then(|v| v.as_str())
            .unwrap_or("")
    }
}
