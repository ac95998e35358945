//! Any bytes an ESPHome device may send on a plaintext connection: the frame decoder always
//! makes progress (a frame or a bad frame consumes at least one byte, never more than it has),
//! and every frame it yields, fed to a node that listed an entity of every kind, maps to
//! addressable messages without panicking. The frame's payload is also tried as the value of
//! every writable field (sets into commands).

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_core::{Message, MessageType, Payload};
use switchyard_gateway::providers::esphome::entity::{Entities, Inbound, frame as pb_frame};
use switchyard_gateway::providers::esphome::frame::{Decoded, decode};
use switchyard_gateway::providers::esphome::messages::{self as pb, id};

/// A node that listed one entity of every kind (keys 1..=12).
fn node() -> Entities {
    let mut e = Entities::default();
    let head = |object_id: &str, key| pb::ListEntitiesResponse {
        object_id: object_id.into(),
        key,
        ..Default::default()
    };
    let frames = [
        pb_frame(
            id::LIST_ENTITIES_SENSOR_RESPONSE,
            &pb::ListEntitiesSensorResponse {
                object_id: "temp".into(),
                key: 1,
                unit_of_measurement: "°C".into(),
                ..Default::default()
            },
        ),
        pb_frame(id::LIST_ENTITIES_BINARY_SENSOR_RESPONSE, &head("door", 2)),
        pb_frame(id::LIST_ENTITIES_TEXT_SENSOR_RESPONSE, &head("wifi", 3)),
        pb_frame(id::LIST_ENTITIES_SWITCH_RESPONSE, &head("relay", 4)),
        pb_frame(
            id::LIST_ENTITIES_LIGHT_RESPONSE,
            &pb::ListEntitiesLightResponse {
                object_id: "strip".into(),
                key: 5,
                supported_color_modes: vec![35, 11],
                min_mireds: 153.0,
                max_mireds: 500.0,
                ..Default::default()
            },
        ),
        pb_frame(
            id::LIST_ENTITIES_FAN_RESPONSE,
            &pb::ListEntitiesFanResponse {
                object_id: "fan".into(),
                key: 6,
                supports_oscillation: true,
                supports_speed: true,
                supports_direction: true,
                supported_speed_count: 3,
                ..Default::default()
            },
        ),
        pb_frame(
            id::LIST_ENTITIES_COVER_RESPONSE,
            &pb::ListEntitiesCoverResponse {
                object_id: "blind".into(),
                key: 7,
                supports_position: true,
                supports_tilt: true,
                ..Default::default()
            },
        ),
        pb_frame(
            id::LIST_ENTITIES_CLIMATE_RESPONSE,
            &pb::ListEntitiesClimateResponse {
                object_id: "hvac".into(),
                key: 8,
                supports_current_temperature: true,
                supports_action: true,
                supported_modes: vec![0, 3],
                visual_min_temperature: 7.0,
                visual_max_temperature: 30.0,
                ..Default::default()
            },
        ),
        pb_frame(
            id::LIST_ENTITIES_NUMBER_RESPONSE,
            &pb::ListEntitiesNumberResponse {
                object_id: "level".into(),
                key: 9,
                max_value: 50.0,
                ..Default::default()
            },
        ),
        pb_frame(
            id::LIST_ENTITIES_SELECT_RESPONSE,
            &pb::ListEntitiesSelectResponse {
                object_id: "preset".into(),
                key: 10,
                options: vec!["eco".into()],
                ..Default::default()
            },
        ),
        pb_frame(id::LIST_ENTITIES_BUTTON_RESPONSE, &head("restart", 11)),
        pb_frame(
            id::LIST_ENTITIES_LOCK_RESPONSE,
            &pb::ListEntitiesLockResponse {
                object_id: "front".into(),
                key: 12,
                supports_open: true,
                ..Default::default()
            },
        ),
    ];
    for f in frames {
        e.receive("n", &f).expect("a valid listing");
    }
    e
}

const WRITABLE: [(&str, &str); 18] = [
    ("relay", "state"),
    ("strip", "state"),
    ("strip", "brightness"),
    ("strip", "rgb"),
    ("strip", "color_temperature"),
    ("fan", "speed"),
    ("fan", "direction"),
    ("fan", "oscillating"),
    ("blind", "state"),
    ("blind", "position"),
    ("hvac", "mode"),
    ("hvac", "target_temperature"),
    ("level", "value"),
    ("preset", "option"),
    ("restart", "press"),
    ("front", "state"),
    ("temp", "value"),
    ("nope", "state"),
];

fuzz_target!(|data: &[u8]| {
    let mut entities = node();
    let mut buf = data;
    while let Some(d) = decode(buf) {
        let n = match d {
            Decoded::Frame(f, n) => {
                if let Ok(Inbound::Messages(msgs)) = entities.receive("n", &f) {
                    for m in msgs {
                        assert!(!m.source_id.contains('.'), "{m:?}");
                        for p in &m.payloads {
                            assert!(!p.key.is_empty() && !p.key.contains('.'), "{m:?}");
                        }
                    }
                }
                let value = String::from_utf8_lossy(&f.payload);
                let (source, field) = WRITABLE[f.message_type as usize % WRITABLE.len()];
                let mut set = Message::new(MessageType::Set, "gw", "n", source);
                set.payloads.push(Payload::new(field, value.as_ref()));
                if let Ok(frames) = entities.commands(&set) {
                    assert!(!frames.is_empty());
                }
                n
            }
            Decoded::Bad(_, n) => n,
        };
        assert!(n >= 1 && n <= buf.len(), "{n} of {}", buf.len());
        buf = &buf[n..];
    }
});
