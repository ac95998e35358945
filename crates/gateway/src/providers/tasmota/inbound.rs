//! Device → controller: one Tasmota publish (prefix, command, payload) into messages.
//!
//! - `tele/LWT` `Online`/`Offline` → the node's state (node payload [`NODE_STATE`]).
//! - `tele/STATE`, `stat/RESULT`, `tele/RESULT`, `StatusSTS` → source `Control` (`POWER<n>`,
//!   `Dimmer`, `Color`, `CT`, … and `HSBColor` split into `hue`, `saturation`, `brightness`),
//!   source `System` (`Heap`, `LoadAvg`, `Uptime`, …) and one source per nested object (`Wifi` →
//!   `WiFi`).
//! - `stat/POWER<n>` (plain `ON`/`OFF`) → `Control.POWER<n>`.
//! - `tele/SENSOR`, `StatusSNS` → one source per sensor (`AM2301`, `ENERGY`), nested values
//!   flattened (`Speed_Act`), scalars at the top level into source `Sensor`.
//! - `stat/STATUS`, `STATUS0..11` and `tele/INFO1..3` → node properties (name, version, IP
//!   address, MAC, …) and sources `Logging`, `Memory`, `Time`, `MQTT`, `Network`, `Firmware`.

use super::error::TasmotaError;
use super::json::{self, Units, field_payload, flatten, parse_object, sanitize_id};
use super::topic::Prefix;
use serde_json::{Map, Value};
use switchyard_core::{Message, MessageType, Payload};

/// Node payload carrying the node's state (`up`, `down`): the processor sets the node's state.
pub const NODE_STATE: &str = "state";
pub const SOURCE_CONTROL: &str = "Control";
pub const SOURCE_SYSTEM: &str = "System";
pub const SOURCE_SENSOR: &str = "Sensor";

/// `STATE` keys that describe the device rather than something it controls.
const SYSTEM_KEYS: &[&str] = &[
    "Uptime",
    "UptimeSec",
    "Heap",
    "SleepMode",
    "Sleep",
    "LoadAvg",
    "MqttCount",
    "Vcc",
    "BatteryPercentage",
];

/// The messages a publish carries (none for topics without data, such as `stat/UPGRADE`).
pub fn to_messages(
    node: &str,
    prefix: Prefix,
    command: &str,
    topic: &str,
    payload: &[u8],
) -> Result<Vec<Message>, TasmotaError> {
    let mut out = Vec::new();
    match (prefix, command) {
        (Prefix::Cmnd, _) => {}
        (Prefix::Tele, "LWT") => {
            let state = match json::text(payload)?.trim().to_ascii_lowercase().as_str() {
                "online" => "up",
                "offline" => "down",
                other => {
                    return Err(TasmotaError::NotJson {
                        topic: topic.into(),
                        reason: format!(
                            "LWT must be Online or Offline, not {:?}",
                            super::error::quote(other)
                        ),
                    });
                }
            };
            out.push(node_message(node, vec![Payload::new(NODE_STATE, state)]));
        }
        (_, "STATE" | "RESULT") => state(node, &parse_object(topic, payload)?, &mut out),
        (_, "SENSOR") => sensor(node, &parse_object(topic, payload)?, &mut out),
        (Prefix::Stat, c)
            if c.starts_with("POWER") && c[5..].chars().all(|d| d.is_ascii_digit()) =>
        {
            let text = json::text(payload)?.trim();
            let value = match switchyard_core::value::parse_bool(text) {
                Some(b) => {
                    if b {
                        "1"
                    } else {
                        "0"
                    }
                }
                None => {
                    return Err(TasmotaError::NotJson {
                        topic: topic.into(),
                        reason: format!(
                            "{c} must be ON or OFF, not {:?}",
                            super::error::quote(text)
                        ),
                    });
                }
            };
            out.push(
                source_message(node, SOURCE_CONTROL)
                    .with_payload(Payload::new(c, value).with_metric_type("binary")),
            );
        }
        (_, c) if c.starts_with("STATUS") || c.starts_with("INFO") => {
            status(node, &parse_object(topic, payload)?, &mut out)
        }
        _ => {}
    }
    Ok(out)
}

fn node_message(node: &str, payloads: Vec<Payload>) -> Message {
    let mut m = Message::new(MessageType::Presentation, "", node, "");
    m.payloads = payloads;
    m
}

fn source_message(node: &str, source: &str) -> Message {
    Message::new(MessageType::Set, "", node, sanitize_id(source))
}

fn push_nonempty(out: &mut Vec<Message>, m: Message) {
    if !m.payloads.is_empty() {
        out.push(m);
    }
}

/// `STATE`, `RESULT` and `StatusSTS`.
fn state(node: &str, map: &Map<String, Value>, out: &mut Vec<Message>) {
    let units = Units::default();
    let mut control = source_message(node, SOURCE_CONTROL);
    let mut system = source_message(node, SOURCE_SYSTEM);
    for (key, value) in map {
        if key == "Time" {
            continue;
        }
        match value {
            Value::Object(_) | Value::Array(_) => {
                let source = if key == "Wifi" { "WiFi" } else { key.as_str() };
                leaf_fields(node, source, value, &units, out);
            }
            _ if SYSTEM_KEYS.contains(&key.as_str()) => {
                system
                    .payloads
                    .extend(field_payload(&sanitize_id(key), value, &units));
            }
            Value::String(s) if key == "HSBColor" => {
                control.payloads.extend(
                    field_payload(key, value, &units).map(|p| p.with_metric_type("string")),
                );
                let parts: Vec<&str> = s.split(',').collect();
                if let [h, s, b] = parts.as_slice() {
                    for (k, v, unit) in [
                        ("hue", h, "°"),
                        ("saturation", s, "%"),
                        ("brightness", b, "%"),
                    ] {
                        control.payloads.push(
                            Payload::new(k, v.trim())
                                .with_metric_type("gauge_float")
                                .with_unit(unit),
                        );
                    }
                }
            }
            // Colour strings such as `Color: "FF8000"` are text, not numbers.
            Value::String(_) if key.starts_with("Color") => control
                .payloads
                .extend(field_payload(key, value, &units).map(|p| p.with_metric_type("string"))),
            _ => control
                .payloads
                .extend(field_payload(&sanitize_id(key), value, &units)),
        }
    }
    push_nonempty(out, control);
    push_nonempty(out, system);
}

/// One source named `source` with the flattened leaves of `value`.
fn leaf_fields(node: &str, source: &str, value: &Value, units: &Units, out: &mut Vec<Message>) {
    let mut leaves = Vec::new();
    flatten("", value, &mut leaves);
    let mut m = source_message(node, source);
    for (k, v) in leaves {
        if k.is_empty() {
            continue;
        }
        m.payloads.extend(field_payload(&k, v, units));
    }
    push_nonempty(out, m);
}

/// `SENSOR` and `StatusSNS`.
fn sensor(node: &str, map: &Map<String, Value>, out: &mut Vec<Message>) {
    let units = Units::from_payload(map);
    let mut top = source_message(node, SOURCE_SENSOR);
    for (key, value) in map {
        match key.as_str() {
            "Time" | "TempUnit" | "PressureUnit" | "SpeedUnit" => {}
            _ if value.is_object() || value.is_array() => {
                leaf_fields(node, key, value, &units, out)
            }
            _ => top
                .payloads
                .extend(field_payload(&sanitize_id(key), value, &units)),
        }
    }
    push_nonempty(out, top);
}

/// Node properties: Tasmota's name → the node's key.
const NODE_KEYS: &[(&str, &str)] = &[
    ("FriendlyName", "name"),
    ("Version", "version"),
    ("IPAddress", "ip_address"),
    ("Hostname", "hostname"),
    ("Mac", "mac"),
    ("Module", "module"),
    ("Core", "core"),
    ("SDK", "sdk"),
    ("Hardware", "hardware"),
    ("OtaUrl", "ota_url"),
    ("RestartReason", "restart_reason"),
    ("BootCount", "boot_count"),
    ("Uptime", "uptime"),
    ("Topic", "topic"),
    ("GroupTopic", "group_topic"),
    ("DeviceName", "device_name"),
    ("BuildDateTime", "build_date_time"),
    ("WebServerMode", "web_server_mode"),
];

/// Status sections that become a source of their own.
const STATUS_SOURCES: &[(&str, &str)] = &[
    ("StatusLOG", "Logging"),
    ("StatusMEM", "Memory"),
    ("StatusTIM", "Time"),
    ("StatusMQT", "MQTT"),
];

/// `STATUS*` (any section, or all of them for `STATUS0`) and `INFO1..3`.
fn status(node: &str, map: &Map<String, Value>, out: &mut Vec<Message>) {
    let mut props = Vec::new();
    for (section, value) in map {
        match (section.as_str(), value) {
            ("StatusSNS", Value::Object(m)) => sensor(node, m, out),
            ("StatusSTS", Value::Object(m)) => state(node, m, out),
            (s, Value::Object(m)) => {
                if let Some((_, source)) = STATUS_SOURCES.iter().find(|(k, _)| *k == s) {
                    leaf_fields(node, source, value, &Units::default(), out);
                }
                node_props(m, &mut props);
            }
            // INFO1 of older firmware is flat: `{"Module":"Sonoff Basic","Version":"…"}`.
            (_, leaf) => {
                let single: Map<String, Value> =
                    [(section.clone(), leaf.clone())].into_iter().collect();
                node_props(&single, &mut props);
            }
        }
    }
    if !props.is_empty() {
        out.push(node_message(node, props));
    }
}

fn node_props(map: &Map<String, Value>, props: &mut Vec<Payload>) {
    for (k, v) in map {
        let Some((_, key)) = NODE_KEYS.iter().find(|(t, _)| t == k) else {
            continue;
        };
        let text = match v {
            // `FriendlyName` is a list (one name per relay) since 8.x: the first names the node.
            Value::Array(a) => a.iter().find_map(Value::as_str).map(str::to_string),
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        if let Some(text) = text.filter(|t| !t.is_empty())
            && !props.iter().any(|p: &Payload| p.key == *key)
        {
            props.push(Payload::new(*key, text));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msgs(prefix: Prefix, cmd: &str, payload: &str) -> Vec<Message> {
        to_messages("dev", prefix, cmd, "t", payload.as_bytes()).unwrap()
    }

    fn value(msgs: &[Message], source: &str, key: &str) -> Option<(String, String)> {
        msgs.iter()
            .filter(|m| m.source_id == source)
            .flat_map(|m| &m.payloads)
            .find(|p| p.key == key)
            .map(|p| (p.value.clone(), p.metric_type.clone()))
    }

    /// Found by the fuzz target `tasmota_json` (fuzz/): `{"": 0}` as STATE made a field with
    /// an empty id.
    #[test]
    fn an_empty_key_makes_no_field() {
        for prefix in [Prefix::Tele, Prefix::Stat] {
            for cmd in ["STATE", "RESULT", "SENSOR"] {
                for m in msgs(prefix, cmd, "{\n  \"\": 0, \"POWER\": \"ON\"}") {
                    assert!(m.payloads.iter().all(|p| !p.key.is_empty()), "{cmd}: {m:?}");
                }
            }
        }
    }

    #[test]
    fn lwt_sets_the_node_state() {
        let m = msgs(Prefix::Tele, "LWT", "Offline");
        assert_eq!(m[0].payloads[0], Payload::new(NODE_STATE, "down"));
        assert_eq!(
            msgs(Prefix::Tele, "LWT", "Online")[0].payloads[0].value,
            "up"
        );
        assert!(to_messages("d", Prefix::Tele, "LWT", "t", b"maybe").is_err());
    }

    #[test]
    fn hsb_colour_is_split() {
        let m = msgs(
            Prefix::Stat,
            "RESULT",
            r#"{"POWER":"ON","Dimmer":50,"Color":"FF8000","HSBColor":"30,100,50"}"#,
        );
        assert_eq!(
            value(&m, "Control", "POWER"),
            Some(("1".into(), "binary".into()))
        );
        assert_eq!(
            value(&m, "Control", "hue"),
            Some(("30".into(), "gauge_float".into()))
        );
        assert_eq!(
            value(&m, "Control", "Color"),
            Some(("FF8000".into(), "string".into()))
        );
    }

    #[test]
    fn plain_power_and_ignored_topics() {
        let m = msgs(Prefix::Stat, "POWER2", "OFF");
        assert_eq!(
            value(&m, "Control", "POWER2"),
            Some(("0".into(), "binary".into()))
        );
        assert!(msgs(Prefix::Stat, "UPGRADE", "x").is_empty());
        assert!(msgs(Prefix::Cmnd, "POWER", "ON").is_empty());
        assert!(to_messages("d", Prefix::Stat, "POWER", "t", b"dim").is_err());
    }
}
