//! The documented bridge responses of `tests/data/hue` through the pure parsers.

use super::parse::{self, HueError};
use super::parse_v2;
use super::sse::SseDecoder;
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
fn documented_groups() {
    let body = parse::parse_body(&fixture("groups.json")).unwrap();
    let out = parse::groups(&body).unwrap();
    let node = find(&out, "group_1", "", MessageType::Presentation);
    assert_eq!(value(node, "name").as_deref(), Some("Living room"));
    assert_eq!(value(node, "type").as_deref(), Some("Room"));
    assert_eq!(value(node, "lights").as_deref(), Some("1,2"));
    let s = find(&out, "group_1", "state", MessageType::Set);
    for (k, v) in [
        ("power", "1"),
        ("brightness", "144"),
        ("color_temperature", "467"),
        ("color_x", "0.5128"),
        ("all_on", "0"),
        ("any_on", "1"),
    ] {
        assert_eq!(value(s, k).as_deref(), Some(v), "{k}");
    }
    // The same names and metric types as a light's fields.
    let lights = parse::lights(&parse::parse_body(&fixture("lights.json")).unwrap()).unwrap();
    let light = find(&lights, "light_1", "state", MessageType::Set);
    for p in s.payloads.iter().filter(|p| !p.key.ends_with("_on")) {
        assert!(
            light
                .payloads
                .iter()
                .any(|q| q.key == p.key && q.metric_type == p.metric_type),
            "{} is not a light field",
            p.key
        );
    }
    let s2 = find(&out, "group_2", "state", MessageType::Set);
    assert_eq!(value(s2, "any_on").as_deref(), Some("0"));
    let zero = parse::group("0", &parse::parse_body(&fixture("group_0.json")).unwrap()).unwrap();
    assert_eq!(zero[0].node_id, "group_0");
    assert!(parse::groups(&serde_json::json!({"1": {"name": "x"}})).is_err());
    assert!(parse::groups(&serde_json::json!({"1": {"state": {"any_on": "yes"}}})).is_err());
    assert!(parse::groups(&serde_json::json!({"1": {"action": {"xy": "red"}}})).is_err());
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

/// The v2 events of `v2/events.sse` land on the same nodes and fields as v1 reports them.
#[test]
fn recorded_v2_events_map_to_v1_fields() {
    let body = parse::parse_body(&fixture("v2/resource.json")).unwrap();
    let mut known = parse_v2::resources(&body).unwrap();
    let mut out = Vec::new();
    for item in SseDecoder::new().push(&fixture("v2/events.sse")) {
        let event = item.unwrap();
        assert!(event.id.is_some());
        let d = parse_v2::events(event.data.as_bytes(), &mut known).unwrap();
        assert!(d.rejected.is_empty(), "{:?}", d.rejected);
        out.extend(d.messages);
    }
    let field = |node: &str, source: &str, key: &str| {
        out.iter()
            .filter(|m| m.node_id == node && m.source_id == source)
            .filter_map(|m| value(m, key))
            .next_back()
            .unwrap_or_else(|| panic!("no {node}.{source}.{key} in {out:#?}"))
    };
    assert_eq!(field("light_1", "state", "power"), "0");
    assert_eq!(field("light_1", "state", "brightness"), "200");
    assert_eq!(field("light_1", "state", "color_temperature"), "366");
    assert_eq!(field("light_1", "state", "color_x"), "0.4573");
    assert_eq!(field("light_1", "state", "color_y"), "0.41");
    assert_eq!(field("light_1", "state", "reachable"), "0");
    assert_eq!(field("sensor_6", "state", "presence"), "1");
    assert_eq!(field("sensor_5", "state", "temperature"), "23.4");
    assert_eq!(field("sensor_7", "state", "lightlevel"), "16000");
    // control_id 1 (from the resource list) and a long release.
    assert_eq!(field("sensor_8", "state", "buttonevent"), "1003");
    assert_eq!(field("sensor_5", "config", "battery"), "90");
    assert_eq!(field("sensor_5", "", "battery_level"), "90");
    // The grouped light of group 0 (every light) switched off.
    assert_eq!(field("group_0", "state", "power"), "0");
    assert!(
        out.iter()
            .all(|m| m.is_received && m.message_type == MessageType::Set)
    );

    // v1 reports the same fields under the same names: a v2 event only ever updates what a
    // v1 poll created.
    let lights = parse::lights(&parse::parse_body(&fixture("lights.json")).unwrap()).unwrap();
    let sensors = parse::sensors(&parse::parse_body(&fixture("sensors.json")).unwrap()).unwrap();
    let group0 = parse::group("0", &parse::parse_body(&fixture("group_0.json")).unwrap()).unwrap();
    let v1: Vec<&Message> = lights.iter().chain(&sensors).chain(&group0).collect();
    for m in &out {
        for p in &m.payloads {
            assert!(
                v1.iter().any(|v| v.node_id == m.node_id
                    && v.source_id == m.source_id
                    && v.payloads
                        .iter()
                        .any(|q| q.key == p.key && q.metric_type == p.metric_type)),
                "{}.{}.{} ({}) is not a v1 field",
                m.node_id,
                m.source_id,
                p.key,
                p.metric_type
            );
        }
    }
}
