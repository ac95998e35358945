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

/// Reads a message as gateways publish it to the processor (JSON, the form of
/// `serde_json::to_vec(&Message)`).
pub fn decode(bytes: &[u8]) -> Result<Message, serde_json::Error> {
    serde_json::from_slice(bytes)
}

impl Message {
    /// The JSON gateways publish to the processor. Fields holding their default (empty strings,
    /// maps and lists, `false`, no timestamp) are left out: every field of [`Message`] and
    /// [`Payload`] is `#[serde(default)]`, so [`decode`] (and any version of the processor, over
    /// NATS too) reads the same message, from less text. The buffer is sized once from the
    /// message (`to_vec` starts at 128 bytes and grows two or three times for a typical one).
    pub fn encode(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut out = Vec::with_capacity(self.encoded_len_hint());
        serde_json::to_writer(&mut out, &Wire(self))?;
        Ok(out)
    }

    /// About the length of the JSON: the text of every string plus the names and punctuation.
    fn encoded_len_hint(&self) -> usize {
        let labels = |l: &Labels| l.iter().map(|(k, v)| k.len() + v.len() + 6).sum::<usize>();
        let payloads: usize = self
            .payloads
            .iter()
            .map(|p| {
                64 + p.key.len()
                    + p.value.len()
                    + p.metric_type.len()
                    + p.unit.len()
                    + labels(&p.labels)
                    + if p.others.is_empty() { 0 } else { 64 }
            })
            .sum();
        160 + self.id.len()
            + self.gateway_id.len()
            + self.node_id.len()
            + self.source_id.len()
            + self.validity.len()
            + labels(&self.labels)
            + payloads
    }
}

/// [`Message::encode`]'s form: the message's own field names, defaults left out.
struct Wire<'a>(&'a Message);

impl Serialize for Wire<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let m = self.0;
        let mut map = serializer.serialize_map(None)?;
        let text = |map: &mut S::SerializeMap, key: &str, value: &str| {
            if value.is_empty() {
                Ok(())
            } else {
                map.serialize_entry(key, value)
            }
        };
        let flag = |map: &mut S::SerializeMap, key: &str, value: bool| {
            if value {
                map.serialize_entry(key, &true)
            } else {
                Ok(())
            }
        };
        text(&mut map, "id", &m.id)?;
        text(&mut map, "gatewayId", &m.gateway_id)?;
        text(&mut map, "nodeId", &m.node_id)?;
        text(&mut map, "sourceId", &m.source_id)?;
        map.serialize_entry("type", &m.message_type)?;
        if !m.payloads.is_empty() {
            map.serialize_entry("payloads", &WirePayloads(&m.payloads))?;
        }
        if !m.labels.is_empty() {
            map.serialize_entry("labels", &m.labels)?;
        }
        flag(&mut map, "isAck", m.is_ack)?;
        flag(&mut map, "isReceived", m.is_received)?;
        flag(&mut map, "isAckEnabled", m.is_ack_enabled)?;
        flag(&mut map, "isSleepNode", m.is_sleep_node)?;
        if let Some(t) = &m.timestamp {
            map.serialize_entry("timestamp", &WireTime(t))?;
        }
        text(&mut map, "validity", &m.validity)?;
        map.end()
    }
}

struct WirePayloads<'a>(&'a [Payload]);

impl Serialize for WirePayloads<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(WirePayload))
    }
}

struct WirePayload<'a>(&'a Payload);

impl Serialize for WirePayload<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let p = self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("key", &p.key)?;
        for (key, value) in [
            ("value", &p.value),
            ("metricType", &p.metric_type),
            ("unit", &p.unit),
        ] {
            if !value.is_empty() {
                map.serialize_entry(key, value)?;
            }
        }
        if !p.labels.is_empty() {
            map.serialize_entry("labels", &p.labels)?;
        }
        if !p.others.is_empty() {
            map.serialize_entry("others", &p.others)?;
        }
        map.end()
    }
}

struct WireTime<'a>(&'a DateTime<Utc>);

impl Serialize for WireTime<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::timestamp::serialize(self.0, serializer)
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

    fn full() -> Message {
        let mut p = Payload::new("V_TEMP", "21.5")
            .with_metric_type("gauge_float")
            .with_unit("°C");
        p.labels.insert("ms_type".into(), "0".into());
        p.others.insert(
            "why \"quoted\"".into(),
            serde_json::json!({"a": [1, 2.5, null]}),
        );
        let mut m = Message::new(MessageType::Set, "gw", "1", "2")
            .with_payload(p)
            .with_payload(Payload::new("k", ""))
            .received();
        m.id = "m-1".into();
        m.labels.insert("l".into(), "v\n".into());
        m.is_ack = true;
        m.is_ack_enabled = true;
        m.is_sleep_node = true;
        m.timestamp = Some("2026-11-25T06:00:00.123Z".parse().unwrap());
        m.validity = "5m".into();
        m
    }

    /// What the bus carries decodes to the message, whether a field holds its default or not,
    /// and so does the full form older gateways publish; the bus form leaves the defaults out.
    #[test]
    fn the_bus_form_decodes_to_the_same_message() {
        let sparse = Message::new(MessageType::Action, "gw", "", "")
            .with_payload(Payload::new("discover_nodes", ""));
        for m in [full(), sparse.clone(), Message::default()] {
            let bytes = m.encode().unwrap();
            assert_eq!(
                decode(&bytes).unwrap(),
                m,
                "{}",
                String::from_utf8_lossy(&bytes)
            );
            assert_eq!(decode(&serde_json::to_vec(&m).unwrap()).unwrap(), m);
            assert!(bytes.len() <= serde_json::to_vec(&m).unwrap().len());
        }
        assert_eq!(
            String::from_utf8(sparse.encode().unwrap()).unwrap(),
            r#"{"gatewayId":"gw","type":"action","payloads":[{"key":"discover_nodes"}]}"#
        );
        // Every field is written when set, under the names of the full form.
        let mut all = full();
        all.payloads.truncate(1);
        let full_form: serde_json::Value = serde_json::to_value(&all).unwrap();
        let bus_form: serde_json::Value = serde_json::from_slice(&all.encode().unwrap()).unwrap();
        assert_eq!(bus_form, full_form);
    }
}
