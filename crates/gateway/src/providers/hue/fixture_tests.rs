//! The documented bridge responses of `tests/data/hue` through the pure parser.

use super::parse::{self, HueError};
use serde_json::Value;
use switchyard_core::{Message, MessageType};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/hue/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn value(m: &Message, key: &str) -> Option<String> {
    m.payloads
        .iter()
        .find(|p| p.key == key)
        .map(|p| p.value.clone())
}

fn find<'a>(all: &'a [Message], node: &str, source: &str, t: MessageType) -> &'a Message {
    all.iter()
        .find(|m| m.node_id == node && m.source_id == source && m.message_type == t)
        .unwrap_or_else(|| panic!("no {t:?} for {node}.{source} in {all:#?}"))
}

#[test]
fn documented_lights() {
    let body: Value = parse::parse_body(&fixture("lights.json")).unwrap();
    let out = parse::lights(&body).unwrap();
    let node = find(&out, "light_1", "", MessageType::Presentation);
    assert_eq!(value(node, "name").as_deref(), Some("Hue Lamp 1"));
    assert_eq!(value(node, "model").as_deref(), Some("LCT001"));
    assert_eq!(value(node, "version").as_deref(), Some("66009461"));
    let s = find(&out, "light_1", "state", MessageType::Set);
    for (k, v) in [
        ("power", "1"),
        ("brightness", "144"),
        ("hue", "13088"),
        ("saturation", "212"),
        ("color_temperature", "467"),
        ("reachable", "1"),
        ("color_mode", "xy"),
    ] {
        assert_eq!(value(s, k).as_deref(), Some(v), "{k}");
    }
    let p = s.payloads.iter().find(|p| p.key == "power").unwrap();
    assert_eq!(p.metric_type, "binary");
    let s2 = find(&out, "light_2", "state", MessageType::Set);
    assert_eq!(value(s2, "power").as_deref(), Some("0"));
    assert!(out.iter().all(|m| m.is_received));
}

#[test]
fn documented_sensors() {
    let body = parse::parse_body(&fixture("sensors.json")).unwrap();
    let out = parse::sensors(&body).unwrap();
    let daylight = find(&out, "sensor_1", "state", MessageType::Set);
    assert_eq!(value(daylight, "daylight").as_deref(), Some("0"));
    assert_eq!(value(daylight, "lastupdated"), None);
    let tap = find(&out, "sensor_2", "state", MessageType::Set);
    assert_eq!(value(tap, "buttonevent").as_deref(), Some("0"));
    let temp = find(&out, "sensor_5", "state", MessageType::Set);
    let t = temp
        .payloads
        .iter()
        .find(|p| p.key == "temperature")
        .unwrap();
    assert_eq!((t.value.as_str(), t.unit.as_str()), ("22.15", "°C"));
    let config = find(&out, "sensor_5", "config", MessageType::Set);
    assert_eq!(value(config, "battery").as_deref(), Some("100"));
    assert_eq!(value(config, "reachable").as_deref(), Some("1"));
    let battery = find(&out, "sensor_5", "", MessageType::Set);
    assert_eq!(value(battery, "battery_level").as_deref(), Some("100"));
}

#[test]
fn documented_config_and_errors() {
    let body = parse::parse_body(&fixture("config.json")).unwrap();
    let out = parse::bridge(&body).unwrap();
    assert_eq!(out[0].node_id, "bridge");
    assert_eq!(value(&out[0], "name").as_deref(), Some("Philips hue"));
    assert_eq!(value(&out[0], "api_version").as_deref(), Some("1.3.0"));
    let e = parse::parse_body(&fixture("unauthorized.json")).unwrap_err();
    assert!(e.is_unauthorized(), "{e}");
    assert!(matches!(e, HueError::Bridge { .. }));
    assert!(parse::parse_body(&fixture("set_light_state.json")).is_ok());
}
