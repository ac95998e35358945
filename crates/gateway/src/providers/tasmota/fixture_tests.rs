//! The parsers against real Tasmota payloads (`tests/data/tasmota`, sources noted there).

use super::discovery::{parse_config, parse_sensors};
use super::inbound::to_messages;
use super::topic::Prefix;
use serde_json::Value;
use switchyard_core::Message;

fn fixture(name: &str) -> Vec<u8> {
    let text = match name {
        "status0" => include_str!("../../../tests/data/tasmota/status0_sonoff_basic.json"),
        "sht3x" => include_str!("../../../tests/data/tasmota/sensor_sht3x_dht11.json"),
        "pms5003" => include_str!("../../../tests/data/tasmota/sensor_pms5003_htu21.json"),
        "state" => include_str!("../../../tests/data/tasmota/tele_state_dimmer.json"),
        "config" => include_str!("../../../tests/data/tasmota/discovery_config.json"),
        "sensors" => include_str!("../../../tests/data/tasmota/discovery_sensors.json"),
        _ => unreachable!(),
    };
    let v: Value = serde_json::from_str(text).unwrap();
    v["payload"].to_string().into_bytes()
}

/// (value, metric type, unit) of field `source.key`.
fn field(msgs: &[Message], source: &str, key: &str) -> (String, String, String) {
    msgs.iter()
        .filter(|m| m.source_id == source)
        .flat_map(|m| &m.payloads)
        .find(|p| p.key == key)
        .map(|p| (p.value.clone(), p.metric_type.clone(), p.unit.clone()))
        .unwrap_or_else(|| panic!("no {source}.{key} in {msgs:#?}"))
}

fn node_prop(msgs: &[Message], key: &str) -> String {
    msgs.iter()
        .filter(|m| m.source_id.is_empty())
        .flat_map(|m| &m.payloads)
        .find(|p| p.key == key)
        .map(|p| p.value.clone())
        .unwrap_or_else(|| panic!("no node {key}"))
}

fn t(v: &str, m: &str, u: &str) -> (String, String, String) {
    (v.into(), m.into(), u.into())
}

#[test]
fn status0_gives_node_info_and_sources() {
    let m = to_messages("sonoff", Prefix::Stat, "STATUS0", "t", &fixture("status0")).unwrap();
    assert_eq!(node_prop(&m, "name"), "XXX");
    assert_eq!(node_prop(&m, "version"), "5.12.0a");
    assert_eq!(node_prop(&m, "ip_address"), "192.168.178.XX");
    assert_eq!(node_prop(&m, "mac"), "2C:3A:E8:XX:XX:XX");
    assert_eq!(node_prop(&m, "ota_url"), "XXX");
    assert_eq!(field(&m, "Memory", "Heap"), t("23", "gauge_float", "kB"));
    assert_eq!(field(&m, "Logging", "TelePeriod").0, "300");
    assert_eq!(field(&m, "Control", "POWER"), t("0", "binary", ""));
    assert_eq!(field(&m, "System", "Vcc"), t("3.504", "gauge_float", "V"));
    assert_eq!(field(&m, "WiFi", "RSSI"), t("100", "gauge_float", "%"));
    assert_eq!(field(&m, "Sensor", "Switch1"), t("0", "binary", ""));
    assert!(m.iter().all(|m| !m.source_id.contains('.')));
}

#[test]
fn sensors_one_source_each_with_units() {
    let m = to_messages("d", Prefix::Tele, "SENSOR", "t", &fixture("sht3x")).unwrap();
    assert_eq!(
        field(&m, "SHT3X", "Temperature"),
        t("74.8", "gauge_float", "°F")
    );
    assert_eq!(
        field(&m, "DHT11", "Humidity"),
        t("27.0", "gauge_float", "%")
    );
    let m = to_messages("d", Prefix::Tele, "SENSOR", "t", &fixture("pms5003")).unwrap();
    assert_eq!(field(&m, "PMS5003", "PM2_5").0, "2");
    assert_eq!(field(&m, "HTU21", "Temperature").2, "°C");
    assert_eq!(m.len(), 2, "Time and TempUnit are not fields");
}

#[test]
fn state_of_a_dimmer() {
    let m = to_messages("huzzah_1", Prefix::Tele, "STATE", "t", &fixture("state")).unwrap();
    assert_eq!(field(&m, "Control", "POWER"), t("1", "binary", ""));
    assert_eq!(field(&m, "Control", "Dimmer"), t("7", "gauge_float", "%"));
    assert_eq!(field(&m, "System", "UptimeSec").0, "309");
    assert_eq!(field(&m, "WiFi", "Signal"), t("-69", "gauge_float", "dBm"));
    assert_eq!(field(&m, "WiFi", "SSId"), t("xxxx", "string", ""));
}

#[test]
fn discovery_config_and_sensors() {
    let (device, msg) = parse_config("00000049A3BC", &fixture("config"))
        .unwrap()
        .unwrap();
    assert_eq!(device.node_id, "tasmota_49A3BC");
    assert_eq!(
        device.pattern.command_topic("tasmota_49A3BC", "POWER"),
        "tasmota_49A3BC/cmnd/POWER"
    );
    let props = std::slice::from_ref(&msg);
    assert_eq!(node_prop(props, "name"), "Test");
    assert_eq!(node_prop(props, "version"), "8.4.0.2");
    assert_eq!(node_prop(props, "model"), "Sonoff Basic");
    let m = parse_sensors(&device.node_id, &fixture("sensors")).unwrap();
    assert_eq!(
        field(&m, "ENERGY", "Total"),
        t("0.017", "gauge_float", "kWh")
    );
    assert_eq!(field(&m, "ENERGY", "TotalTariff_1").0, "0.017");
    assert_eq!(field(&m, "ENERGY", "TotalStartTime").1, "string");
    assert_eq!(m[0].node_id, "tasmota_49A3BC");
}
