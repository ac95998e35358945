//! Bridge → controller: `GET config`, `GET lights`, `GET sensors`, `GET groups` bodies into messages.
//!
//! Lights: node `light_<id>` (name, type, model, software version), source `state` with fields
//! `power`, `brightness`, `hue`, `saturation`, `color_temperature`, `reachable` (plus `alert`,
//! `effect`, `color_mode`, and the CIE colour `xy` as `color_x`, `color_y`). Sensors: node `sensor_<id>`, source `state` with every state value
//! but `lastupdated` (booleans binary, numbers gauges; a ZLLTemperature's hundredths of a degree
//! become °C) and source `config` with `on`, `reachable`, `battery`. Groups: node `group_<id>`
//! (name, type, class, member lights), source `state` with the light fields of the group's last
//! `action` and `all_on`, `any_on` from its `state`.

use serde_json::{Map, Value};
use switchyard_core::{Message, MessageType, Payload};
use thiserror::Error;

pub const BRIDGE_NODE: &str = "bridge";
pub const LIGHT_PREFIX: &str = "light_";
pub const SENSOR_PREFIX: &str = "sensor_";
pub const GROUP_PREFIX: &str = "group_";
pub const STATE_SOURCE: &str = "state";
pub const CONFIG_SOURCE: &str = "config";

#[derive(Debug, Error, PartialEq)]
pub enum HueError {
    #[error("not JSON: {0}")]
    NotJson(String),
    /// The bridge answered with its error list (`[{"error": {type, address, description}}]`).
    #[error("bridge error {kind} at {address}: {description}")]
    Bridge {
        kind: i64,
        address: String,
        description: String,
    },
    #[error("unexpected shape: {0}")]
    Shape(String),
    #[error("unsupported: {0}")]
    Unsupported(String),
}

impl HueError {
    /// Error type 1: the username is not (or no longer) whitelisted; polling again will not help.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, HueError::Bridge { kind: 1, .. })
    }
}

/// Parses a body, turning the bridge's error list into [`HueError::Bridge`].
pub fn parse_body(body: &[u8]) -> Result<Value, HueError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| HueError::NotJson(e.to_string()))?;
    if let Some(e) = v
        .as_array()
        .and_then(|a| a.iter().find_map(|i| i.get("error")))
    {
        return Err(HueError::Bridge {
            kind: e.get("type").and_then(Value::as_i64).unwrap_or(0),
            address: str_of(e.get("address")),
            description: str_of(e.get("description")),
        });
    }
    Ok(v)
}

fn str_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, HueError> {
    v.as_object()
        .ok_or_else(|| HueError::Shape(format!("{what} is not an object")))
}

/// A node's presentation: `name` plus the descriptive keys that exist.
fn node_presentation(node: &str, item: &Map<String, Value>, keys: &[(&str, &str)]) -> Message {
    let mut m = Message::new(MessageType::Presentation, "", node, "");
    if let Some(Value::String(name)) = item.get("name") {
        m.payloads.push(Payload::new("name", name.clone()));
    }
    for (from, to) in keys {
        if let Some(v) = item.get(*from).filter(|v| !v.is_null()) {
            m.payloads.push(Payload::new(*to, str_of(Some(v))));
        }
    }
    m.received()
}

fn source_presentation(node: &str, source: &str) -> Message {
    Message::new(MessageType::Presentation, "", node, source)
        .with_payload(Payload::new("name", source))
        .received()
}

pub(super) fn binary(key: &str, b: bool) -> Payload {
    Payload::new(key, if b { "1" } else { "0" }).with_metric_type("binary")
}

/// One JSON value as a field, or nothing for what is not a scalar.
fn scalar(key: &str, v: &Value) -> Option<Payload> {
    match v {
        Value::Bool(b) => Some(binary(key, *b)),
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            Some(Payload::new(key, n.to_string()).with_metric_type("gauge"))
        }
        Value::Number(n) => Some(Payload::new(key, n.to_string()).with_metric_type("gauge_float")),
        Value::String(s) => Some(Payload::new(key, s.clone()).with_metric_type("string")),
        _ => None,
    }
}

/// `GET config` → the `bridge` node.
pub fn bridge(body: &Value) -> Result<Vec<Message>, HueError> {
    let c = object(body, "the bridge config")?;
    Ok(vec![node_presentation(
        BRIDGE_NODE,
        c,
        &[
            ("bridgeid", "bridge_id"),
            ("mac", "mac"),
            ("ipaddress", "ip_address"),
            ("swversion", "version"),
            ("apiversion", "api_version"),
            ("modelid", "model"),
        ],
    )])
}

/// `GET lights` (every light by id) → messages.
pub fn lights(body: &Value) -> Result<Vec<Message>, HueError> {
    let all = object(body, "the lights list")?;
    let mut out = Vec::new();
    for (id, item) in all {
        out.extend(light(id, item)?);
    }
    Ok(out)
}

/// `GET lights/<id>` → messages for one light.
pub fn light(id: &str, item: &Value) -> Result<Vec<Message>, HueError> {
    check_id(id)?;
    let item = object(item, &format!("light {id}"))?;
    let node = format!("{LIGHT_PREFIX}{id}");
    let state = object(
        item.get("state")
            .ok_or_else(|| HueError::Shape(format!("light {id} has no state")))?,
        &format!("light {id} state"),
    )?;
    let mut set = Message::new(MessageType::Set, "", &node, STATE_SOURCE);
    set.payloads = light_fields(&format!("light {id}"), state)?;
    Ok(vec![
        node_presentation(
            &node,
            item,
            &[
                ("type", "type"),
                ("modelid", "model"),
                ("manufacturername", "manufacturer"),
                ("swversion", "version"),
                ("uniqueid", "unique_id"),
            ],
        ),
        source_presentation(&node, STATE_SOURCE),
        set.received(),
    ])
}

/// A light's `state` (or a group's `action`, which has the same keys) → the `state` fields.
fn light_fields(what: &str, state: &Map<String, Value>) -> Result<Vec<Payload>, HueError> {
    let mut out = Vec::new();
    for (from, to) in [
        ("on", "power"),
        ("bri", "brightness"),
        ("hue", "hue"),
        ("sat", "saturation"),
        ("ct", "color_temperature"),
        ("reachable", "reachable"),
        ("alert", "alert"),
        ("effect", "effect"),
        ("colormode", "color_mode"),
    ] {
        let Some(v) = state.get(from) else { continue };
        match scalar(to, v) {
            Some(p) => out.push(p),
            None => return Err(HueError::Shape(format!("{what} `{from}` is {v}"))),
        }
    }
    if let Some(xy) = state.get("xy") {
        let pair = xy
            .as_array()
            .filter(|a| a.len() == 2)
            .and_then(|a| Some((a[0].as_f64()?, a[1].as_f64()?)))
            .ok_or_else(|| HueError::Shape(format!("{what} `xy` is {xy}")))?;
        out.extend(color_xy(pair.0, pair.1));
    }
    Ok(out)
}

/// `GET groups` (rooms, zones, light groups by id) → messages.
pub fn groups(body: &Value) -> Result<Vec<Message>, HueError> {
    let all = object(body, "the groups list")?;
    let mut out = Vec::new();
    for (id, item) in all {
        out.extend(group(id, item)?);
    }
    Ok(out)
}

/// `GET groups/<id>` → messages for one group: node `group_<id>`, source `state` with the
/// light fields of its last `action` plus `all_on` and `any_on` from its `state`.
pub fn group(id: &str, item: &Value) -> Result<Vec<Message>, HueError> {
    check_id(id)?;
    let what = format!("group {id}");
    let item = object(item, &what)?;
    let node = format!("{GROUP_PREFIX}{id}");
    let mut set = Message::new(MessageType::Set, "", &node, STATE_SOURCE);
    if let Some(action) = item.get("action") {
        set.payloads = light_fields(&what, object(action, &format!("{what} action"))?)?;
    }
    if let Some(state) = item.get("state") {
        let state = object(state, &format!("{what} state"))?;
        for key in ["all_on", "any_on"] {
            match state.get(key) {
                None => {}
                Some(Value::Bool(b)) => set.payloads.push(binary(key, *b)),
                Some(v) => return Err(HueError::Shape(format!("{what} `{key}` is {v}"))),
            }
        }
    }
    if set.payloads.is_empty() {
        return Err(HueError::Shape(format!(
            "{what} has neither action nor state"
        )));
    }
    let mut presentation = node_presentation(&node, item, &[("type", "type"), ("class", "class")]);
    if let Some(lights) = item.get("lights").and_then(Value::as_array) {
        let ids: Vec<String> = lights.iter().map(|l| str_of(Some(l))).collect();
        presentation
            .payloads
            .push(Payload::new("lights", ids.join(",")));
    }
    Ok(vec![
        presentation,
        source_presentation(&node, STATE_SOURCE),
        set.received(),
    ])
}

/// The CIE 1931 colour point as two fields (both APIs report it, v1 as `[x, y]`, v2 as `{x, y}`).
pub(super) fn color_xy(x: f64, y: f64) -> [Payload; 2] {
    [
        Payload::new("color_x", x.to_string()).with_metric_type("gauge_float"),
        Payload::new("color_y", y.to_string()).with_metric_type("gauge_float"),
    ]
}

/// A temperature in °C, as every sensor's `temperature` field holds it.
pub(super) fn celsius(key: &str, t: f64) -> Payload {
    Payload::new(key, t.to_string())
        .with_metric_type("gauge_float")
        .with_unit("°C")
}

/// `GET sensors` → messages.
pub fn sensors(body: &Value) -> Result<Vec<Message>, HueError> {
    let all = object(body, "the sensors list")?;
    let mut out = Vec::new();
    for (id, item) in all {
        out.extend(sensor(id, item)?);
    }
    Ok(out)
}

/// `GET sensors/<id>` → messages for one sensor.
pub fn sensor(id: &str, item: &Value) -> Result<Vec<Message>, HueError> {
    check_id(id)?;
    let item = object(item, &format!("sensor {id}"))?;
    let node = format!("{SENSOR_PREFIX}{id}");
    let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
    let mut out = vec![node_presentation(
        &node,
        item,
        &[
            ("type", "type"),
            ("modelid", "model"),
            ("manufacturername", "manufacturer"),
            ("swversion", "version"),
            ("uniqueid", "unique_id"),
        ],
    )];
    if let Some(state) = item.get("state") {
        let state = object(state, &format!("sensor {id} state"))?;
        let mut set = Message::new(MessageType::Set, "", &node, STATE_SOURCE);
        for (k, v) in state {
            if k == "lastupdated" {
                continue;
            }
            let p = match (k.as_str(), v.as_f64()) {
                // ZLLTemperature reports hundredths of a degree Celsius.
                ("temperature", Some(t)) if kind.contains("Temperature") => {
                    Some(celsius(k, t / 100.0))
                }
                _ => scalar(k, v),
            };
            set.payloads.extend(p);
        }
        if !set.payloads.is_empty() {
            out.push(source_presentation(&node, STATE_SOURCE));
            out.push(set.received());
        }
    }
    if let Some(config) = item.get("config").and_then(Value::as_object) {
        let mut set = Message::new(MessageType::Set, "", &node, CONFIG_SOURCE);
        for key in ["on", "reachable", "battery"] {
            if let Some(p) = config.get(key).and_then(|v| scalar(key, v)) {
                set.payloads.push(p);
            }
        }
        if !set.payloads.is_empty() {
            out.push(source_presentation(&node, CONFIG_SOURCE));
            out.push(set.received());
        }
        if let Some(b) = config.get("battery").and_then(Value::as_f64) {
            out.push(
                Message::new(MessageType::Set, "", &node, "")
                    .with_payload(Payload::new("battery_level", b.to_string()))
                    .received(),
            );
        }
    }
    Ok(out)
}

/// Bridge ids are small numbers; anything else would make a strange node id or request path.
pub(super) fn check_id(id: &str) -> Result<(), HueError> {
    if id.is_empty() || id.len() > 16 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(HueError::Shape(format!("id {id:?}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_and_garbage_are_reasons() {
        assert!(matches!(parse_body(b"<html>"), Err(HueError::NotJson(_))));
        let e = parse_body(
            br#"[{"error":{"type":1,"address":"/","description":"unauthorized user"}}]"#,
        )
        .unwrap_err();
        assert!(e.is_unauthorized());
        assert_eq!(e.to_string(), "bridge error 1 at /: unauthorized user");
        assert!(lights(&json!([1, 2])).is_err());
        assert!(lights(&json!({"1": {"name": "x"}})).is_err());
        assert!(lights(&json!({"../x": {"state": {}}})).is_err());
        assert!(lights(&json!({"1": {"state": {"on": [1]}}})).is_err());
        assert!(lights(&json!({"1": {"state": {"xy": [0.1]}}})).is_err());
        assert!(lights(&json!({"1": {"state": {"xy": "red"}}})).is_err());
    }
}
