//! What gateways and the processor exchange over the bus.

use crate::model::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The four message kinds: a value (`set`), a request for a value, a description of a node or
/// source (`presentation`), and a command (`action`, e.g. `reboot`, `discover_nodes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageType {
    Set,
    Request,
    Presentation,
    Action,
}

impl MessageType {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Set => "set",
            MessageType::Request => "request",
            MessageType::Presentation => "presentation",
            MessageType::Action => "action",
        }
    }
}

/// One keyed value in a message. `metricType` is a string so that a device's bad value can be
/// rejected with a reason by the processor rather than failing the whole message's decoding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Payload {
    pub key: String,
    pub value: String,
    pub metric_type: String,
    pub unit: String,
    pub labels: Labels,
    pub others: serde_json::Map<String, serde_json::Value>,
}

impl Payload {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Payload {
            key: key.into(),
            value: value.into(),
            ..Default::default()
        }
    }

    pub fn with_metric_type(mut self, metric_type: impl Into<String>) -> Self {
        self.metric_type = metric_type.into();
        self
    }

    pub fn with_unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = unit.into();
        self
    }
}

/// A message between a device (through its gateway) and the system. Addressing: a `sourceId` makes
/// it about fields of that source; only a `nodeId` makes it about the node; neither, the gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Message {
    pub id: String,
    pub gateway_id: String,
    pub node_id: String,
    pub source_id: String,
    #[serde(rename = "type")]
    pub message_type: MessageType,
    pub payloads: Vec<Payload>,
    /// Transport hints; node labels are merged in before a message goes to a provider.
    pub labels: Labels,
    pub is_ack: bool,
    /// True when the message came from a device, false when the system sends it.
    pub is_received: bool,
    pub is_ack_enabled: bool,
    pub is_sleep_node: bool,
    #[serde(with = "crate::timestamp::opt")]
    pub timestamp: Option<DateTime<Utc>>,
    /// How long a message may wait in a sleeping queue (duration string).
    pub validity: String,
}

impl Default for Message {
    fn default() -> Self {
        Message {
            id: String::new(),
            gateway_id: String::new(),
            node_id: String::new(),
            source_id: String::new(),
            message_type: MessageType::Set,
            payloads: Vec::new(),
            labels: Labels::new(),
            is_ack: false,
            is_received: false,
            is_ack_enabled: false,
            is_sleep_node: false,
            timestamp: None,
            validity: String::new(),
        }
    }
}

impl Message {
    pub fn new(
        message_type: MessageType,
        gateway_id: impl Into<String>,
        node_id: impl Into<String>,
        source_id: impl Into<String>,
    ) -> Self {
        Message {
            gateway_id: gateway_id.into(),
            node_id: node_id.into(),
            source_id: source_id.into(),
            message_type,
            ..Default::default()
        }
    }

    pub fn with_payload(mut self, payload: Payload) -> Self {
        self.payloads.push(payload);
        self
    }

    pub fn received(mut self) -> Self {
        self.is_received = true;
        self
    }

    /// The key that identifies "the same message" in a sleeping queue (newest wins):
    /// gateway, node, source, payload keys and type.
    pub fn dedup_key(&self) -> String {
        let mut key = format!("{}-{}-{}", self.gateway_id, self.node_id, self.source_id);
        for p in &self.payloads {
            key.push('-');
            key.push_str(&p.key);
        }
        key.push('-');
        key.push_str(self.message_type.as_str());
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_camel_case() {
        let m = Message::new(MessageType::Set, "gw", "1", "2")
            .with_payload(Payload::new("V_TEMP", "21.5").with_metric_type("gauge_float"))
            .received();
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["gatewayId"], "gw");
        assert_eq!(v["type"], "set");
        assert_eq!(v["isReceived"], true);
        assert_eq!(v["payloads"][0]["metricType"], "gauge_float");
        let back: Message = serde_json::from_value(v).unwrap();
        assert_eq!(back, m);
        assert_eq!(m.dedup_key(), "gw-1-2-V_TEMP-set");
    }
}
