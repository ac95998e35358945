use super::*;
use crate::providers::mysensors::protocol::parse_line;

fn inbound(line: &str) -> Inbound {
    let frame = parse_line(line.as_bytes()).unwrap();
    frame_to_inbound("gw1", &frame).unwrap()
}

fn messages(line: &str) -> Vec<Message> {
    match inbound(line) {
        Inbound::Messages(m) => m,
        other => panic!("expected messages for {line:?}, got {other:?}"),
    }
}

fn single(line: &str) -> (Message, Payload) {
    let mut m = messages(line);
    assert_eq!(m.len(), 1, "{line}");
    let message = m.remove(0);
    let payload = message.payloads[0].clone();
    (message, payload)
}

#[test]
fn set_becomes_a_field_value_with_metric_type_and_unit() {
    let (m, p) = single("12;6;1;0;0;36.5");
    assert_eq!(
        (
            m.gateway_id.as_str(),
            m.node_id.as_str(),
            m.source_id.as_str()
        ),
        ("gw1", "12", "6")
    );
    assert_eq!(m.message_type, MessageType::Set);
    assert!(m.is_received && !m.is_ack);
    assert_eq!((p.key.as_str(), p.value.as_str()), ("V_TEMP", "36.5"));
    assert_eq!(
        (p.metric_type.as_str(), p.unit.as_str()),
        ("gauge_float", "°C")
    );
    assert_eq!(p.labels["ms_type"], "0");
    assert_eq!(p.labels["ms_type_string"], "V_TEMP");
    assert_eq!(p.labels["ms_node_id"], "12");
    assert_eq!(p.labels["ms_sensor_id"], "6");
}

#[test]
fn echoed_sets_are_marked_as_acks() {
    let (m, p) = single("4;1;1;1;2;1");
    assert!(m.is_ack);
    assert_eq!(
        (p.key.as_str(), p.metric_type.as_str()),
        ("V_STATUS", "binary")
    );
}

#[test]
fn unknown_value_types_keep_their_code() {
    let (_, p) = single("4;1;1;0;99;abc");
    assert_eq!(p.key, "V_UNKNOWN_99");
    assert_eq!(p.labels["ms_type"], "99");
    assert_eq!(p.metric_type, "none");
}

#[test]
fn req_becomes_a_request() {
    let (m, p) = single("4;1;2;0;3;");
    assert_eq!(m.message_type, MessageType::Request);
    assert_eq!(p.key, "V_PERCENTAGE");
}

#[test]
fn child_presentation_names_the_source() {
    let (m, p) = single("5;2;0;0;6;Outdoor temp");
    assert_eq!(
        (m.message_type, m.source_id.as_str()),
        (MessageType::Presentation, "2")
    );
    assert_eq!((p.key.as_str(), p.value.as_str()), ("name", "Outdoor temp"));
    assert_eq!(p.labels["ms_type_string"], "S_TEMP");
}

#[test]
fn node_presentation_carries_the_library_version() {
    let (m, p) = single("5;255;0;0;18;2.3.2");
    assert_eq!((m.node_id.as_str(), m.source_id.as_str()), ("5", ""));
    assert_eq!(
        (p.key.as_str(), p.value.as_str()),
        ("library_version", "2.3.2")
    );
    assert_eq!(p.labels["library_version"], "2.3.2");
    assert_eq!(p.labels["ms_node_type"], "repeater");
    assert!(!p.labels.contains_key("ms_sensor_id"));
    let (_, p) = single("5;255;0;0;17;2.3.2");
    assert!(!p.labels.contains_key("ms_node_type"));
    assert!(matches!(inbound("5;255;0;0;6;x"), Inbound::Ignored(_)));
}

#[test]
fn node_internals_become_node_fields() {
    let (m, p) = single("7;255;3;0;0;87");
    assert_eq!(
        (m.message_type, m.source_id.as_str()),
        (MessageType::Set, "")
    );
    assert_eq!(
        (p.key.as_str(), p.metric_type.as_str(), p.unit.as_str()),
        ("battery_level", "gauge_float", "%")
    );
    assert_eq!(single("7;255;3;0;11;Garage door").1.key, "name");
    let (_, p) = single("7;255;3;0;12;1.4");
    assert_eq!(
        (p.key.as_str(), p.labels["version"].as_str()),
        ("version", "1.4")
    );
    assert_eq!(single("0;255;3;0;2;2.3.2").1.key, "library_version");
    assert_eq!(single("7;255;3;0;31;-42").1.key, "signal_strength");
    let (_, p) = single("7;255;3;0;23;TMFV");
    assert_eq!((p.key.as_str(), p.value.as_str()), ("locked", "true"));
    assert_eq!(p.others["ms_locked_reason"], "TMFV");
    let (_, p) = single("7;255;3;0;33;60000");
    assert_eq!(
        (p.key.as_str(), p.labels["sleep_node"].as_str()),
        ("sleep_duration", "true")
    );
}

#[test]
fn answers_from_a_node_say_it_is_awake() {
    for (line, key) in [
        ("7;255;3;0;22;13", "heartbeat"),
        ("7;255;3;0;21;0", "parent_id"),
        ("7;255;3;0;32;500", "awake_duration"),
    ] {
        let m = messages(line);
        assert_eq!(m.len(), 2, "{line}");
        assert_eq!(
            (m[0].message_type, m[0].payloads[0].key.as_str()),
            (MessageType::Set, key)
        );
        assert_eq!(m[1].message_type, MessageType::Action);
        assert_eq!(m[1].node_id, "7");
        assert_eq!(
            (
                m[1].payloads[0].key.as_str(),
                m[1].payloads[0].value.as_str()
            ),
            ("action", "awake")
        );
    }
    assert_eq!(
        messages("7;255;3;0;32;500")[0].payloads[0].labels["ms_smart_sleep_node"],
        "true"
    );
}

#[test]
fn requests_the_controller_answers_become_actions() {
    let (m, p) = single("255;255;3;0;3;");
    assert_eq!(
        (m.message_type, m.node_id.as_str()),
        (MessageType::Action, "")
    );
    assert_eq!(p.key, "I_ID_REQUEST");
    assert!(!p.labels.contains_key("ms_node_id"));
    for (line, key) in [
        ("9;255;3;0;1;", "I_TIME"),
        ("9;255;3;0;6;0", "I_CONFIG"),
        ("0;255;3;0;14;Gateway startup complete.", "I_GATEWAY_READY"),
    ] {
        let (m, p) = single(line);
        assert_eq!((m.message_type, p.key.as_str()), (MessageType::Action, key));
    }
}

#[test]
fn logs_echoes_and_radio_housekeeping_are_not_messages() {
    assert_eq!(
        inbound("0;255;3;0;9;TSF:MSG:READ,7-7-0"),
        Inbound::Log {
            node_id: 0,
            text: "TSF:MSG:READ,7-7-0".into()
        }
    );
    assert!(matches!(inbound("7;255;3;1;0;87"), Inbound::Ignored(_)));
    assert!(matches!(inbound("7;255;3;0;24;1"), Inbound::Ignored(_)));
    assert!(matches!(inbound("255;255;3;0;0;87"), Inbound::Ignored(_)));
    assert!(matches!(inbound("255;3;1;0;0;20"), Inbound::Ignored(_)));
    assert!(matches!(inbound("7;255;4;0;4;0102"), Inbound::Ignored(_)));
}

#[test]
fn firmware_requests_become_actions_with_decoded_fields() {
    let (m, p) = single("7;255;4;0;0;0100020010003412FFFF");
    assert_eq!(
        (m.message_type, p.key.as_str()),
        (MessageType::Action, "ST_FIRMWARE_CONFIG_REQUEST")
    );
    assert_eq!(p.value, "0100020010003412FFFF");
    let label = |k: &str| p.labels[k].clone();
    assert_eq!(
        (
            label("ms_fw_type"),
            label("ms_fw_version"),
            label("ms_fw_blocks")
        ),
        ("1".into(), "2".into(), "16".into())
    );
    assert_eq!(
        (label("ms_fw_crc"), label("ms_bl_version")),
        ("1234".into(), "65535".into())
    );
    let (_, p) = single("7;255;4;0;2;010002000F00");
    assert_eq!(p.key, "ST_FIRMWARE_REQUEST");
    assert_eq!(p.labels["ms_fw_block"], "15");
}

#[test]
fn malformed_firmware_requests_are_errors() {
    let frame = parse_line(b"7;255;4;0;2;0100").unwrap();
    assert!(matches!(
        frame_to_inbound("gw", &frame),
        Err(ProtocolError::PayloadSize { .. })
    ));
    let frame = parse_line(b"7;255;4;0;0;zz").unwrap();
    assert!(matches!(
        frame_to_inbound("gw", &frame),
        Err(ProtocolError::BadHexPayload(_))
    ));
}
