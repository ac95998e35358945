use super::*;
use crate::providers::mysensors::protocol::mapping::frame_to_inbound;
use crate::providers::mysensors::protocol::mapping::inbound::Inbound;
use crate::providers::mysensors::protocol::parse_line;
use proptest::prelude::*;

fn set(node: &str, source: &str, payload: Payload) -> Message {
    Message::new(MessageType::Set, "gw", node, source).with_payload(payload)
}

fn line(message: &Message) -> String {
    message_to_frame(message).unwrap().to_string()
}

#[test]
fn set_uses_the_key_as_v_name_and_normalises_binary_values() {
    assert_eq!(
        line(&set("4", "1", Payload::new("V_STATUS", "on"))),
        "4;1;1;0;2;1"
    );
    assert_eq!(
        line(&set("4", "1", Payload::new("V_LIGHT", "FALSE"))),
        "4;1;1;0;2;0"
    );
    assert_eq!(
        line(&set("4", "1", Payload::new("V_PERCENTAGE", "on"))),
        "4;1;1;0;3;on"
    );
    assert_eq!(
        line(&set("4", "1", Payload::new("V_TEXT", "a;b"))),
        "4;1;1;0;47;a;b"
    );
    let custom_binary = Payload::new("V_VAR1", "true").with_metric_type("binary");
    assert_eq!(line(&set("4", "1", custom_binary)), "4;1;1;0;24;1");
}

#[test]
fn the_ms_type_label_wins_over_the_key() {
    let mut renamed = Payload::new("relay", "off");
    renamed.labels.insert("ms_type".into(), "2".into());
    assert_eq!(line(&set("4", "1", renamed.clone())), "4;1;1;0;2;0");
    renamed.labels.insert("ms_type".into(), "V_STATUS".into());
    assert_eq!(line(&set("4", "1", renamed)), "4;1;1;0;2;0");
    let mut unknown = Payload::new("V_UNKNOWN_99", "x");
    assert_eq!(line(&set("4", "1", unknown.clone())), "4;1;1;0;99;x");
    unknown.key = "whatever".into();
    assert_eq!(
        message_to_frame(&set("4", "1", unknown)),
        Err(ProtocolError::UnknownValueType("whatever".into()))
    );
}

#[test]
fn request_and_simple_actions() {
    let req =
        Message::new(MessageType::Request, "gw", "4", "1").with_payload(Payload::new("V_TEMP", ""));
    assert_eq!(line(&req), "4;1;2;0;0;");
    let action = |key: &str, node: &str| {
        Message::new(MessageType::Action, "gw", node, "").with_payload(Payload::new(key, ""))
    };
    assert_eq!(line(&action("discover_nodes", "")), "255;255;3;0;20;");
    assert_eq!(line(&action("heartbeat_request", "9")), "9;255;3;0;18;");
    assert_eq!(line(&action("reboot", "9")), "9;255;3;0;13;");
    assert_eq!(line(&action("refresh_node_info", "9")), "9;255;3;0;19;");
    assert!(matches!(
        message_to_frame(&action("I_TIME", "9")),
        Err(ProtocolError::Unsupported(_))
    ));
}

#[test]
fn unsendable_messages_are_rejected_with_reasons() {
    let empty = Message::new(MessageType::Set, "gw", "4", "1");
    assert_eq!(message_to_frame(&empty), Err(ProtocolError::MissingPayload));
    let bad_node = set("node-4", "1", Payload::new("V_TEMP", "1"));
    assert!(matches!(
        message_to_frame(&bad_node),
        Err(ProtocolError::InvalidAddress {
            what: "node id",
            ..
        })
    ));
    let bad_source = set("4", "256", Payload::new("V_TEMP", "1"));
    assert!(matches!(
        message_to_frame(&bad_source),
        Err(ProtocolError::InvalidAddress {
            what: "source id",
            ..
        })
    ));
    let too_long = set("4", "1", Payload::new("V_TEXT", "x".repeat(26)));
    assert_eq!(
        message_to_frame(&too_long),
        Err(ProtocolError::PayloadTooLong { len: 26, max: 25 })
    );
    let presentation = Message::new(MessageType::Presentation, "gw", "4", "1")
        .with_payload(Payload::new("name", "x"));
    assert!(matches!(
        message_to_frame(&presentation),
        Err(ProtocolError::Unsupported(_))
    ));
}

#[test]
fn ack_policy() {
    let policy = AckPolicy {
        internal: true,
        stream: false,
    };
    assert!(policy.apply(RawFrame::new(4, 1, Command::Set, 2, "1")).ack);
    assert!(policy.apply(reboot(4)).ack);
    assert!(
        !policy
            .apply(firmware_response(
                4,
                &FirmwareResponse {
                    firmware_type: 1,
                    version: 1,
                    block: 0,
                    data: [0; 16]
                }
            ))
            .ack
    );
    assert!(!policy.apply(discover_request()).ack);
    assert!(!AckPolicy::default().apply(reboot(4)).ack);
}

#[test]
fn builders_write_what_mysensors_expects() {
    assert_eq!(id_response(12).to_string(), "255;255;3;0;4;12");
    assert_eq!(
        time_response(9, 1_700_000_000).to_string(),
        "9;255;3;0;1;1700000000"
    );
    assert_eq!(
        config_response(9, UnitSystem::Metric).to_string(),
        "9;255;3;0;6;M"
    );
    assert_eq!(
        config_response(9, UnitSystem::Imperial).to_string(),
        "9;255;3;0;6;I"
    );
    assert_eq!(discover_request().to_string(), "255;255;3;0;20;");
    assert_eq!(heartbeat_request(3).to_string(), "3;255;3;0;18;");
    assert_eq!(reboot(3).to_string(), "3;255;3;0;13;");
    assert_eq!(presentation_request(3).to_string(), "3;255;3;0;19;");
    let erase = firmware_config_response(3, &FirmwareConfig::erase_eeprom());
    assert_eq!(erase.to_string(), "3;255;4;0;1;0100000000007ADA");
    let block = FirmwareResponse {
        firmware_type: 1,
        version: 2,
        block: 3,
        data: [0xAB; 16],
    };
    let frame = firmware_response(3, &block);
    assert_eq!(
        frame.to_string(),
        format!("3;255;4;0;3;010002000300{}", "AB".repeat(16))
    );
    assert_eq!(parse_line(frame.encode_line().as_bytes()), Ok(frame));
}

#[test]
fn node_ids_are_handed_out_lowest_first() {
    assert_eq!(first_free_node_id([]), Some(1));
    assert_eq!(first_free_node_id([0, 1, 2, 4]), Some(3));
    assert_eq!(first_free_node_id(1..=254), None);
    assert_eq!(first_free_node_id((1..=253).chain([255])), Some(254));
}

proptest! {
    /// A value a node reports, sent back as a set, is the same frame: the mapping loses nothing.
    #[test]
    fn set_frames_survive_the_round_trip_through_a_message(
        node in 0u8..255, child in 0u8..255, type_code in any::<u8>(), value in "[a-zA-Z0-9.;-]{0,25}",
    ) {
        let frame = RawFrame::new(node, child, Command::Set, type_code, value);
        let Ok(Inbound::Messages(messages)) = frame_to_inbound("gw", &frame) else {
            return Err(TestCaseError::fail("a set frame maps to messages"));
        };
        let mut outgoing = messages[0].clone();
        outgoing.is_received = false;
        let back = message_to_frame(&outgoing)?;
        let binary = ValueType(type_code).metric().metric_type == MetricType::Binary;
        let normalised = matches!(frame.payload.to_ascii_lowercase().as_str(), "on" | "off" | "true" | "false");
        if !(binary && normalised) {
            prop_assert_eq!(back, frame);
        }
    }
}
