//! Tasmota's own discovery (`SetOption19 0`, the default since 9.2): each device publishes,
//! retained, `tasmota/discovery/<MAC>/config` (who it is and its topics) and
//! `tasmota/discovery/<MAC>/sensors` (a `SENSOR` payload under `sn`). Nodes appear from these
//! without any configuration.

use super::error::{TasmotaError, quote};
use super::inbound;
use super::json::{parse_object, sanitize_id};
use super::topic::{Prefixes, TopicPattern};
use serde_json::Value;
use switchyard_core::{Message, MessageType, Payload};

pub const DEFAULT_PREFIX: &str = "tasmota/discovery";

/// Which discovery document a topic carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscoveryTopic {
    Config { mac: String },
    Sensors { mac: String },
}

/// `<prefix>/<MAC>/config|sensors`, or `None` when the topic is not a discovery topic.
pub fn parse_topic(prefix: &str, topic: &str) -> Option<DiscoveryTopic> {
    let rest = topic
        .strip_prefix(prefix.trim_end_matches('/'))?
        .strip_prefix('/')?;
    let (mac, kind) = rest.split_once('/')?;
    if mac.is_empty() || mac.contains('/') || !mac.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    match kind {
        "config" => Some(DiscoveryTopic::Config { mac: mac.into() }),
        "sensors" => Some(DiscoveryTopic::Sensors { mac: mac.into() }),
        _ => None,
    }
}

/// A discovered device: its node id, topic and the topic pattern it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub mac: String,
    /// The node id: the device topic with reserved characters replaced.
    pub node_id: String,
    /// The device's `%topic%`.
    pub topic: String,
    pub pattern: TopicPattern,
}

/// A `config` document: the device and its node presentation. `Ok(None)` for an empty payload
/// (the device's discovery was cleared).
pub fn parse_config(mac: &str, payload: &[u8]) -> Result<Option<(Device, Message)>, TasmotaError> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let bad = |reason: String| TasmotaError::Discovery {
        mac: quote(mac),
        reason,
    };
    let map = parse_object("discovery config", payload)?;
    let text = |k: &str| map.get(k).and_then(Value::as_str).unwrap_or_default();
    let topic = text("t");
    if topic.is_empty() || topic.contains(['/', '+', '#']) {
        return Err(bad(format!(
            "topic `t` {:?} is missing or not one level",
            quote(topic)
        )));
    }
    let full_topic = match text("ft") {
        "" => super::topic::DEFAULT_FULL_TOPIC,
        ft => ft,
    };
    let prefixes = match map.get("tp").and_then(Value::as_array) {
        Some(tp) if tp.len() == 3 => {
            let p = |i: usize| tp[i].as_str().unwrap_or_default().to_string();
            Prefixes {
                cmnd: p(0),
                stat: p(1),
                tele: p(2),
            }
        }
        Some(_) => return Err(bad("prefixes `tp` must be [cmnd, stat, tele]".into())),
        None => Prefixes::default(),
    };
    let pattern = TopicPattern::new(full_topic, prefixes).map_err(bad)?;
    let node_id = sanitize_id(topic);
    let mut props = Vec::new();
    let name = map
        .get("fn")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().find_map(Value::as_str))
        .filter(|s| !s.is_empty())
        .unwrap_or(text("dn"));
    for (key, value) in [
        ("name", name),
        ("version", text("sw")),
        ("ip_address", text("ip")),
        ("hostname", text("hn")),
        ("mac", text("mac")),
        ("model", text("md")),
        ("topic", topic),
    ] {
        if !value.is_empty() {
            props.push(Payload::new(key, value));
        }
    }
    let mut msg = Message::new(MessageType::Presentation, "", node_id.clone(), "");
    msg.payloads = props;
    let device = Device {
        mac: mac.to_string(),
        node_id,
        topic: topic.to_string(),
        pattern,
    };
    Ok(Some((device, msg)))
}

/// A `sensors` document of a known device: its sensors' values as `SENSOR` would give them.
pub fn parse_sensors(node_id: &str, payload: &[u8]) -> Result<Vec<Message>, TasmotaError> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let map = parse_object("discovery sensors", payload)?;
    match map.get("sn") {
        Some(sn @ Value::Object(_)) => inbound::to_messages(
            node_id,
            super::topic::Prefix::Tele,
            "SENSOR",
            "discovery sensors",
            sn.to_string().as_bytes(),
        ),
        _ => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics() {
        assert_eq!(
            parse_topic(DEFAULT_PREFIX, "tasmota/discovery/00000049A3BC/config"),
            Some(DiscoveryTopic::Config {
                mac: "00000049A3BC".into()
            })
        );
        assert_eq!(
            parse_topic("tasmota/discovery/", "tasmota/discovery/AB/sensors"),
            Some(DiscoveryTopic::Sensors { mac: "AB".into() })
        );
        for t in [
            "tasmota/discovery/AB/other",
            "tasmota/discovery/AB",
            "tele/x/STATE",
            "tasmota/discovery//config",
        ] {
            assert_eq!(parse_topic(DEFAULT_PREFIX, t), None, "{t}");
        }
    }

    #[test]
    fn bad_configs_say_why() {
        let err = parse_config("AB", br#"{"t":"a/b"}"#).unwrap_err();
        assert!(err.to_string().contains("`t`"), "{err}");
        let err = parse_config("AB", br#"{"t":"x","ft":"%topic%"}"#).unwrap_err();
        assert!(err.to_string().contains("%prefix%"), "{err}");
        assert_eq!(parse_config("AB", b"").unwrap(), None);
    }
}
