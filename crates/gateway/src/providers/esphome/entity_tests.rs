use super::*;
use prost::Message as _;

fn got(e: &mut Entities, f: Frame) -> Vec<Message> {
    match e.receive("n1", &f).unwrap() {
        Inbound::Messages(m) => m,
        other => panic!("{f:?}: {other:?}"),
    }
}

fn head(object_id: &str, key: u32) -> pb::ListEntitiesResponse {
    pb::ListEntitiesResponse {
        object_id: object_id.into(),
        key,
        name: object_id.to_uppercase(),
        unique_id: String::new(),
    }
}

fn sample() -> Entities {
    let mut e = Entities::default();
    let p = got(
        &mut e,
        frame(
            id::LIST_ENTITIES_SENSOR_RESPONSE,
            &pb::ListEntitiesSensorResponse {
                object_id: "temp".into(),
                key: 1,
                name: "Temp".into(),
                unit_of_measurement: "°C".into(),
                ..Default::default()
            },
        ),
    )
    .remove(0);
    assert_eq!(p.message_type, MessageType::Presentation);
    assert_eq!((p.node_id.as_str(), p.source_id.as_str()), ("n1", "temp"));
    assert_eq!(
        p.payloads,
        vec![Payload::new("name", "Temp"), Payload::new("kind", "sensor")]
    );
    let list = [
        frame(id::LIST_ENTITIES_BINARY_SENSOR_RESPONSE, &head("door", 2)),
        frame(id::LIST_ENTITIES_SWITCH_RESPONSE, &head("relay", 3)),
        // A light that lists no colour modes is dimmable (older firmware).
        frame(id::LIST_ENTITIES_LIGHT_RESPONSE, &head("lamp", 4)),
        frame(id::LIST_ENTITIES_TEXT_SENSOR_RESPONSE, &head("wifi", 5)),
        frame(
            id::LIST_ENTITIES_LIGHT_RESPONSE,
            &pb::ListEntitiesLightResponse {
                object_id: "strip".into(),
                key: 6,
                supported_color_modes: vec![35, 11],
                min_mireds: 153.0,
                max_mireds: 500.0,
                ..Default::default()
            },
        ),
        frame(
            id::LIST_ENTITIES_FAN_RESPONSE,
            &pb::ListEntitiesFanResponse {
                object_id: "fan".into(),
                key: 7,
                supports_oscillation: true,
                supports_speed: true,
                supports_direction: true,
                supported_speed_count: 3,
                ..Default::default()
            },
        ),
        frame(
            id::LIST_ENTITIES_COVER_RESPONSE,
            &pb::ListEntitiesCoverResponse {
                object_id: "blind".into(),
                key: 8,
                supports_position: true,
                supports_tilt: true,
                supports_stop: true,
                ..Default::default()
            },
        ),
        frame(
            id::LIST_ENTITIES_CLIMATE_RESPONSE,
            &pb::ListEntitiesClimateResponse {
                object_id: "hvac".into(),
                key: 9,
                supports_current_temperature: true,
                supported_modes: vec![0, 3, 6],
                visual_min_temperature: 7.0,
                visual_max_temperature: 30.0,
                supports_action: true,
                ..Default::default()
            },
        ),
        frame(
            id::LIST_ENTITIES_NUMBER_RESPONSE,
            &pb::ListEntitiesNumberResponse {
                object_id: "level".into(),
                key: 10,
                min_value: 0.0,
                max_value: 50.0,
                step: 0.5,
                unit_of_measurement: "cm".into(),
                ..Default::default()
            },
        ),
        frame(
            id::LIST_ENTITIES_SELECT_RESPONSE,
            &pb::ListEntitiesSelectResponse {
                object_id: "preset".into(),
                key: 11,
                options: vec!["eco".into(), "comfort".into()],
                ..Default::default()
            },
        ),
        frame(id::LIST_ENTITIES_BUTTON_RESPONSE, &head("restart", 12)),
        frame(
            id::LIST_ENTITIES_LOCK_RESPONSE,
            &pb::ListEntitiesLockResponse {
                object_id: "front".into(),
                key: 13,
                supports_open: false,
                ..Default::default()
            },
        ),
    ];
    for f in list {
        got(&mut e, f);
    }
    e
}

fn state(e: &mut Entities, t: u32, msg: &impl prost::Message) -> Vec<Payload> {
    let mut m = got(e, frame(t, msg));
    assert_eq!(m.len(), 1);
    m.remove(0).payloads
}

fn values(p: &[Payload]) -> Vec<(&str, &str, &str, &str)> {
    p.iter()
        .map(|p| {
            (
                p.key.as_str(),
                p.value.as_str(),
                p.metric_type.as_str(),
                p.unit.as_str(),
            )
        })
        .collect()
}

#[test]
fn states_become_fields() {
    let mut e = sample();
    let p = state(
        &mut e,
        id::SENSOR_STATE_RESPONSE,
        &pb::SensorStateResponse {
            key: 1,
            state: 21.5,
            missing_state: false,
        },
    );
    assert_eq!(values(&p), [("value", "21.5", "gauge_float", "°C")]);
    let p = state(
        &mut e,
        id::LIGHT_STATE_RESPONSE,
        &pb::LightStateResponse {
            key: 4,
            state: true,
            brightness: 0.5,
            ..Default::default()
        },
    );
    assert_eq!(
        values(&p),
        [
            ("state", "1", "binary", ""),
            ("brightness", "50", "gauge_float", "%")
        ]
    );
    let p = state(
        &mut e,
        id::SWITCH_STATE_RESPONSE,
        &pb::BoolStateResponse {
            key: 3,
            state: false,
            missing_state: false,
        },
    );
    assert_eq!(values(&p), [("state", "0", "binary", "")]);
    let p = state(
        &mut e,
        id::TEXT_SENSOR_STATE_RESPONSE,
        &pb::TextStateResponse {
            key: 5,
            state: "my-ssid".into(),
            missing_state: false,
        },
    );
    assert_eq!(values(&p), [("value", "my-ssid", "string", "")]);
    let p = state(
        &mut e,
        id::LIGHT_STATE_RESPONSE,
        &pb::LightStateResponse {
            key: 6,
            state: true,
            brightness: 1.0,
            red: 1.0,
            green: 0.5,
            blue: 0.0,
            color_temperature: 300.4,
            color_mode: 35,
        },
    );
    assert_eq!(
        values(&p),
        [
            ("state", "1", "binary", ""),
            ("brightness", "100", "gauge_float", "%"),
            ("rgb", "#ff8000", "string", ""),
            ("color_temperature", "300", "gauge_float", "mired"),
        ]
    );
    let p = state(
        &mut e,
        id::FAN_STATE_RESPONSE,
        &pb::FanStateResponse {
            key: 7,
            state: true,
            oscillating: true,
            direction: 1,
            speed_level: 2,
            ..Default::default()
        },
    );
    assert_eq!(
        values(&p),
        [
            ("state", "1", "binary", ""),
            ("speed", "67", "gauge_float", "%"),
            ("oscillating", "1", "binary", ""),
            ("direction", "reverse", "string", ""),
        ]
    );
    let p = state(
        &mut e,
        id::COVER_STATE_RESPONSE,
        &pb::CoverStateResponse {
            key: 8,
            position: 0.25,
            tilt: 1.0,
            current_operation: 2,
        },
    );
    assert_eq!(
        values(&p),
        [
            ("state", "open", "string", ""),
            ("position", "25", "gauge_float", "%"),
            ("tilt", "100", "gauge_float", "%"),
            ("operation", "closing", "string", ""),
        ]
    );
    let p = state(
        &mut e,
        id::CLIMATE_STATE_RESPONSE,
        &pb::ClimateStateResponse {
            key: 9,
            mode: 3,
            current_temperature: 19.5,
            target_temperature: 21.0,
            action: 3,
            missing_state: false,
            ..Default::default()
        },
    );
    assert_eq!(
        values(&p),
        [
            ("mode", "heat", "string", ""),
            ("target_temperature", "21", "gauge_float", "°C"),
            ("current_temperature", "19.5", "gauge_float", "°C"),
            ("action", "heating", "string", ""),
        ]
    );
    let p = state(
        &mut e,
        id::NUMBER_STATE_RESPONSE,
        &pb::SensorStateResponse {
            key: 10,
            state: 12.5,
            missing_state: false,
        },
    );
    assert_eq!(values(&p), [("value", "12.5", "gauge_float", "cm")]);
    let p = state(
        &mut e,
        id::SELECT_STATE_RESPONSE,
        &pb::TextStateResponse {
            key: 11,
            state: "eco".into(),
            missing_state: false,
        },
    );
    assert_eq!(values(&p), [("option", "eco", "string", "")]);
    let p = state(
        &mut e,
        id::LOCK_STATE_RESPONSE,
        &pb::LockStateResponse { key: 13, state: 3 },
    );
    assert_eq!(values(&p), [("state", "jammed", "string", "")]);

    // No state yet: nothing to report.
    let missing = frame(
        id::TEXT_SENSOR_STATE_RESPONSE,
        &pb::TextStateResponse {
            key: 5,
            state: String::new(),
            missing_state: true,
        },
    );
    assert_eq!(e.receive("n1", &missing).unwrap(), Inbound::Ignored);
}

#[test]
fn bad_states_are_rejected_with_a_reason() {
    let mut e = sample();
    let err = e
        .receive(
            "n1",
            &frame(
                id::SWITCH_STATE_RESPONSE,
                &pb::BoolStateResponse {
                    key: 99,
                    state: true,
                    missing_state: false,
                },
            ),
        )
        .unwrap_err();
    assert!(err.to_string().contains("unknown entity key 99"), "{err}");
    // A state of the wrong kind for the key.
    let err = e
        .receive(
            "n1",
            &frame(
                id::LOCK_STATE_RESPONSE,
                &pb::LockStateResponse { key: 1, state: 1 },
            ),
        )
        .unwrap_err();
    assert!(err.to_string().contains("a sensor"), "{err}");
    let err = e
        .receive(
            "n1",
            &Frame {
                message_type: id::SENSOR_STATE_RESPONSE,
                payload: vec![0xff, 0xff],
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("type 25"), "{err}");
    let err = e
        .receive(
            "n1",
            &frame(id::LIST_ENTITIES_SWITCH_RESPONSE, &head("a.b", 40)),
        )
        .unwrap_err();
    assert!(err.to_string().contains("object id"), "{err}");
    assert_eq!(
        e.receive(
            "n1",
            &Frame {
                message_type: id::PING_REQUEST,
                payload: vec![]
            }
        )
        .unwrap(),
        Inbound::Reply(Frame {
            message_type: id::PING_RESPONSE,
            payload: vec![]
        })
    );
}

fn set(source: &str, fields: &[(&str, &str)]) -> Message {
    let mut m = Message::new(MessageType::Set, "gw", "n1", source);
    m.payloads = fields.iter().map(|(k, v)| Payload::new(*k, *v)).collect();
    m
}

/// The one command frame of a set, decoded as `M`.
fn command<M: prost::Message + Default>(e: &Entities, t: u32, m: &Message) -> M {
    let f = e.commands(m).unwrap();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].message_type, t);
    M::decode(f[0].payload.as_slice()).unwrap()
}

fn refused(e: &Entities, m: &Message, why: &str) {
    let err = e.commands(m).unwrap_err().to_string();
    assert!(err.contains(why), "{m:?}: {err}");
}

#[test]
fn sets_become_commands() {
    let e = sample();
    let c: pb::SwitchCommandRequest = command(
        &e,
        id::SWITCH_COMMAND_REQUEST,
        &set("relay", &[("state", "on")]),
    );
    assert_eq!((c.key, c.state), (3, true));

    let c: pb::LightCommandRequest = command(
        &e,
        id::LIGHT_COMMAND_REQUEST,
        &set("lamp", &[("state", "on"), ("brightness", "40")]),
    );
    assert!(c.has_state && c.state && c.has_brightness && !c.has_rgb);
    assert!((c.brightness - 0.4).abs() < 1e-6);
    refused(&e, &set("lamp", &[("brightness", "400")]), "outside");
    refused(&e, &set("lamp", &[("rgb", "#ff0000")]), "writable");
    let c: pb::LightCommandRequest = command(
        &e,
        id::LIGHT_COMMAND_REQUEST,
        &set("strip", &[("rgb", "#ff8000"), ("color_temperature", "250")]),
    );
    assert!(c.has_rgb && c.has_color_temperature && !c.has_state);
    assert_eq!((c.red, c.blue, c.color_temperature), (1.0, 0.0, 250.0));
    refused(
        &e,
        &set("strip", &[("color_temperature", "100")]),
        "153–500",
    );

    let c: pb::FanCommandRequest = command(
        &e,
        id::FAN_COMMAND_REQUEST,
        &set(
            "fan",
            &[
                ("speed", "34"),
                ("oscillating", "off"),
                ("direction", "reverse"),
            ],
        ),
    );
    assert!(c.has_speed_level && c.has_oscillating && c.has_direction && !c.has_state);
    assert_eq!((c.speed_level, c.oscillating, c.direction), (2, false, 1));
    let c: pb::FanCommandRequest =
        command(&e, id::FAN_COMMAND_REQUEST, &set("fan", &[("speed", "33")]));
    assert_eq!(c.speed_level, 1);
    let c: pb::FanCommandRequest =
        command(&e, id::FAN_COMMAND_REQUEST, &set("fan", &[("speed", "0")]));
    assert!(c.has_state && !c.state && !c.has_speed_level);
    refused(&e, &set("fan", &[("direction", "up")]), "forward");

    let c: pb::CoverCommandRequest = command(
        &e,
        id::COVER_COMMAND_REQUEST,
        &set("blind", &[("position", "30"), ("tilt", "50")]),
    );
    assert!(c.has_position && c.has_tilt && !c.stop);
    assert!((c.position - 0.3).abs() < 1e-6 && c.tilt == 0.5);
    let c: pb::CoverCommandRequest = command(
        &e,
        id::COVER_COMMAND_REQUEST,
        &set("blind", &[("state", "open")]),
    );
    assert_eq!((c.has_position, c.position), (true, 1.0));
    let c: pb::CoverCommandRequest = command(
        &e,
        id::COVER_COMMAND_REQUEST,
        &set("blind", &[("state", "stop")]),
    );
    assert!(c.stop && !c.has_position);
    refused(
        &e,
        &set("blind", &[("state", "half")]),
        "open, close or stop",
    );

    let c: pb::ClimateCommandRequest = command(
        &e,
        id::CLIMATE_COMMAND_REQUEST,
        &set("hvac", &[("mode", "heat"), ("target_temperature", "22.5")]),
    );
    assert_eq!(
        (
            c.has_mode,
            c.mode,
            c.has_target_temperature,
            c.target_temperature
        ),
        (true, 3, true, 22.5)
    );
    refused(&e, &set("hvac", &[("mode", "cool")]), "does not list it");
    refused(&e, &set("hvac", &[("target_temperature", "45")]), "outside");
    refused(
        &e,
        &set("hvac", &[("current_temperature", "20")]),
        "writable",
    );

    let c: pb::NumberCommandRequest = command(
        &e,
        id::NUMBER_COMMAND_REQUEST,
        &set("level", &[("value", "12.5")]),
    );
    assert_eq!((c.key, c.state), (10, 12.5));
    refused(&e, &set("level", &[("value", "NaN")]), "not a number");
    refused(&e, &set("level", &[("value", "51")]), "outside 0–50");

    let c: pb::SelectCommandRequest = command(
        &e,
        id::SELECT_COMMAND_REQUEST,
        &set("preset", &[("option", "comfort")]),
    );
    assert_eq!((c.key, c.state.as_str()), (11, "comfort"));
    refused(&e, &set("preset", &[("option", "turbo")]), "not one of");

    let c: pb::KeyOnly = command(
        &e,
        id::BUTTON_COMMAND_REQUEST,
        &set("restart", &[("press", "")]),
    );
    assert_eq!(c.key, 12);

    let c: pb::LockCommandRequest = command(
        &e,
        id::LOCK_COMMAND_REQUEST,
        &set("front", &[("state", "LOCK")]),
    );
    assert_eq!((c.key, c.command), (13, 1));
    let c: pb::LockCommandRequest = command(
        &e,
        id::LOCK_COMMAND_REQUEST,
        &set("front", &[("state", "unlocked")]),
    );
    assert_eq!(c.command, 0);
    refused(&e, &set("front", &[("state", "open")]), "does not support");

    refused(&e, &set("temp", &[("value", "1")]), "read-only");
    refused(&e, &set("wifi", &[("value", "x")]), "read-only");
    refused(&e, &set("relay", &[]), "no field");
    refused(&e, &set("nope", &[("state", "1")]), "not an entity");
}

#[test]
fn wire_bytes_of_a_command() {
    // ButtonCommandRequest{key}: tag 1, fixed32.
    let e = sample();
    let f = e.commands(&set("restart", &[("press", "1")])).unwrap();
    assert_eq!(f[0].payload, vec![0x0d, 12, 0, 0, 0]);
    // LockCommandRequest{key 13, command LOCK_OPEN=2}: enum on tag 2 as a varint.
    let bytes = pb::LockCommandRequest {
        key: 13,
        command: 2,
        ..Default::default()
    }
    .encode_to_vec();
    assert_eq!(bytes, vec![0x0d, 13, 0, 0, 0, 0x10, 2]);
}

/// A climate with two target temperatures, fan modes (standard and its own), swing modes and
/// presets (standard and its own): each is a field, and each can be set, within what it lists.
#[test]
fn climate_modes_presets_and_two_targets() {
    let mut e = Entities::default();
    got(
        &mut e,
        frame(
            id::LIST_ENTITIES_CLIMATE_RESPONSE,
            &pb::ListEntitiesClimateResponse {
                object_id: "ac".into(),
                key: 20,
                supported_modes: vec![0, 1, 2],
                visual_min_temperature: 16.0,
                visual_max_temperature: 30.0,
                feature_flags: 2,
                supported_fan_modes: vec![2, 3, 5],
                supported_custom_fan_modes: vec!["Turbo".into()],
                supported_swing_modes: vec![0, 2],
                supported_presets: vec![0, 5],
                supported_custom_presets: vec!["Night".into()],
                ..Default::default()
            },
        ),
    );
    let p = state(
        &mut e,
        id::CLIMATE_STATE_RESPONSE,
        &pb::ClimateStateResponse {
            key: 20,
            mode: 1,
            target_temperature_low: 19.0,
            target_temperature_high: 24.5,
            fan_mode: 3,
            swing_mode: 2,
            custom_preset: "Night".into(),
            preset: 0,
            ..Default::default()
        },
    );
    let v = values(&p);
    for want in [
        ("mode", "heat_cool", "string", ""),
        ("target_temperature_low", "19", "gauge_float", "°C"),
        ("target_temperature_high", "24.5", "gauge_float", "°C"),
        ("fan_mode", "low", "string", ""),
        ("swing_mode", "vertical", "string", ""),
        ("preset", "Night", "string", ""),
    ] {
        assert!(v.contains(&want), "{want:?} in {v:?}");
    }

    let c: pb::ClimateCommandRequest = command(
        &e,
        id::CLIMATE_COMMAND_REQUEST,
        &set(
            "ac",
            &[
                ("target_temperature_low", "18"),
                ("target_temperature_high", "25"),
                ("fan_mode", "HIGH"),
                ("swing_mode", "off"),
                ("preset", "eco"),
            ],
        ),
    );
    assert_eq!(
        (c.has_target_temperature_low, c.target_temperature_low),
        (true, 18.0)
    );
    assert_eq!(
        (c.has_target_temperature_high, c.target_temperature_high),
        (true, 25.0)
    );
    assert_eq!(
        (c.has_fan_mode, c.fan_mode, c.has_custom_fan_mode),
        (true, 5, false)
    );
    assert_eq!((c.has_swing_mode, c.swing_mode), (true, 0));
    assert_eq!(
        (c.has_preset, c.preset, c.has_custom_preset),
        (true, 5, false)
    );
    let c: pb::ClimateCommandRequest = command(
        &e,
        id::CLIMATE_COMMAND_REQUEST,
        &set("ac", &[("fan_mode", "Turbo"), ("preset", "Night")]),
    );
    assert_eq!(
        (
            c.has_fan_mode,
            c.has_custom_fan_mode,
            c.custom_fan_mode.as_str()
        ),
        (false, true, "Turbo")
    );
    assert_eq!(
        (c.has_preset, c.has_custom_preset, c.custom_preset.as_str()),
        (false, true, "Night")
    );
    // What it does not list is refused, with what it offers.
    refused(
        &e,
        &set("ac", &[("fan_mode", "quiet")]),
        r#"offers ["auto", "low", "high", "Turbo"]"#,
    );
    refused(&e, &set("ac", &[("swing_mode", "both")]), "offers");
    refused(&e, &set("ac", &[("preset", "away")]), "offers");
    refused(
        &e,
        &set("ac", &[("target_temperature_low", "5")]),
        "outside",
    );

    // A climate without them has no such fields and refuses such sets.
    got(
        &mut e,
        frame(
            id::LIST_ENTITIES_CLIMATE_RESPONSE,
            &pb::ListEntitiesClimateResponse {
                object_id: "plain".into(),
                key: 21,
                ..Default::default()
            },
        ),
    );
    let p = state(
        &mut e,
        id::CLIMATE_STATE_RESPONSE,
        &pb::ClimateStateResponse {
            key: 21,
            fan_mode: 3,
            ..Default::default()
        },
    );
    let keys: Vec<&str> = p.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["mode", "target_temperature"]);
    for f in ["fan_mode", "swing_mode", "preset", "target_temperature_low"] {
        refused(&e, &set("plain", &[(f, "x")]), "writable");
    }
}

/// A fan's preset modes (its own names) are a field and can be set; a lock that wants a code
/// gets it from the set (`unlock 1234`) and refuses a command without one.
#[test]
fn fan_presets_and_lock_codes() {
    let mut e = Entities::default();
    got(
        &mut e,
        frame(
            id::LIST_ENTITIES_FAN_RESPONSE,
            &pb::ListEntitiesFanResponse {
                object_id: "vent".into(),
                key: 30,
                supported_preset_modes: vec!["Sleep".into(), "Breeze".into()],
                ..Default::default()
            },
        ),
    );
    got(
        &mut e,
        frame(
            id::LIST_ENTITIES_LOCK_RESPONSE,
            &pb::ListEntitiesLockResponse {
                object_id: "safe".into(),
                key: 31,
                requires_code: true,
                ..Default::default()
            },
        ),
    );
    let fan = |preset: &str| pb::FanStateResponse {
        key: 30,
        state: true,
        preset_mode: preset.into(),
        ..Default::default()
    };
    let p = state(&mut e, id::FAN_STATE_RESPONSE, &fan("Breeze"));
    assert!(
        values(&p).contains(&("preset", "Breeze", "string", "")),
        "{p:?}"
    );
    let p = state(&mut e, id::FAN_STATE_RESPONSE, &fan(""));
    assert!(
        values(&p).contains(&("preset", "none", "string", "")),
        "{p:?}"
    );
    let c: pb::FanCommandRequest = command(
        &e,
        id::FAN_COMMAND_REQUEST,
        &set("vent", &[("preset", "Sleep")]),
    );
    assert_eq!((c.has_preset_mode, c.preset_mode.as_str()), (true, "Sleep"));
    refused(
        &e,
        &set("vent", &[("preset", "Turbo")]),
        r#"offers ["Sleep", "Breeze"]"#,
    );

    let c: pb::LockCommandRequest = command(
        &e,
        id::LOCK_COMMAND_REQUEST,
        &set("safe", &[("state", "unlock  1234 ")]),
    );
    assert_eq!((c.command, c.has_code, c.code.as_str()), (0, true, "1234"));
    refused(
        &e,
        &set("safe", &[("state", "lock")]),
        "wants a code: send `lock <code>`",
    );
    // A lock without a code: the plain command, no code on the wire.
    let plain = sample();
    let c: pb::LockCommandRequest = command(
        &plain,
        id::LOCK_COMMAND_REQUEST,
        &set("front", &[("state", "lock")]),
    );
    assert!(!c.has_code && c.code.is_empty());
}
