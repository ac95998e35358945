//! A node's entities and what they mean to Switchyard: each entity is a source (its object id),
//! its value a field. Pure: decoded protobuf in, messages out; messages in, command frames out.
//!
//! - sensor → field `value`, `gauge_float`, with the entity's unit (read only);
//! - binary_sensor → field `state`, `binary` (read only);
//! - switch → field `state`, `binary`; a set sends `SwitchCommandRequest`;
//! - light → fields `state` (`binary`) and `brightness` (`gauge_float`, percent); a set sends
//!   `LightCommandRequest`.

use super::error::EsphomeError;
use super::frame::Frame;
use super::messages::{self as pb, id};
use std::collections::HashMap;
use switchyard_core::{Message, MessageType, Payload};

pub const FIELD_VALUE: &str = "value";
pub const FIELD_STATE: &str = "state";
pub const FIELD_BRIGHTNESS: &str = "brightness";
/// Node payload carrying the node's state (`up`, `down`), as Tasmota's LWT does.
pub const NODE_STATE: &str = "state";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sensor,
    BinarySensor,
    Switch,
    Light,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub kind: Kind,
    pub key: u32,
    pub object_id: String,
    pub name: String,
    pub unit: String,
}

/// The entities a node listed, by key and by object id.
#[derive(Debug, Default, Clone)]
pub struct Entities {
    by_key: HashMap<u32, Entity>,
    by_object_id: HashMap<String, u32>,
}

/// What one frame from the device asks of the client.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// Messages for the processor.
    Messages(Vec<Message>),
    /// A frame to send back (the answer to the device's ping).
    Reply(Frame),
    /// The entity list is complete.
    ListDone,
    /// The device closes the connection (after we answer).
    Disconnect,
    /// Nothing to do (a message type this provider does not use).
    Ignored,
}

fn decode<M: prost::Message + Default>(frame: &Frame) -> Result<M, EsphomeError> {
    M::decode(frame.payload.as_slice()).map_err(|e| EsphomeError::Protobuf {
        message_type: frame.message_type,
        reason: e.to_string(),
    })
}

fn set(node: &str, source: &str, payloads: Vec<Payload>) -> Message {
    let mut m = Message::new(MessageType::Set, "", node, source);
    m.payloads = payloads;
    m
}

/// A node presentation (`name`, `version`, …) or state.
pub fn node_message(node: &str, payloads: Vec<Payload>) -> Message {
    let mut m = Message::new(MessageType::Presentation, "", node, "");
    m.payloads = payloads;
    m
}

pub fn device_info(node: &str, info: &pb::DeviceInfoResponse) -> Message {
    let name = if info.friendly_name.is_empty() {
        &info.name
    } else {
        &info.friendly_name
    };
    let payloads = [
        ("name", name.as_str()),
        ("version", info.esphome_version.as_str()),
        ("mac", info.mac_address.as_str()),
        ("model", info.model.as_str()),
        ("manufacturer", info.manufacturer.as_str()),
        ("compilation_time", info.compilation_time.as_str()),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| Payload::new(k, v))
    .collect();
    node_message(node, payloads)
}

impl Entities {
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    pub fn by_object_id(&self, object_id: &str) -> Option<&Entity> {
        self.by_object_id
            .get(object_id)
            .and_then(|k| self.by_key.get(k))
    }

    fn add(&mut self, entity: Entity) -> Result<Message, EsphomeError> {
        if entity.object_id.is_empty() {
            return Err(EsphomeError::Entity(format!(
                "entity with key {} has no object id",
                entity.key
            )));
        }
        let mut m = Message::new(MessageType::Presentation, "", "", entity.object_id.clone());
        if !entity.name.is_empty() {
            m.payloads.push(Payload::new("name", entity.name.clone()));
        }
        self.by_object_id
            .insert(entity.object_id.clone(), entity.key);
        self.by_key.insert(entity.key, entity);
        Ok(m)
    }

    /// One frame from the device into what the client does with it.
    pub fn receive(&mut self, node: &str, frame: &Frame) -> Result<Inbound, EsphomeError> {
        let listed = |kind: Kind, e: pb::ListEntitiesResponse| Entity {
            kind,
            key: e.key,
            object_id: e.object_id,
            name: e.name,
            unit: String::new(),
        };
        let entity = match frame.message_type {
            id::PING_REQUEST => {
                return Ok(Inbound::Reply(Frame {
                    message_type: id::PING_RESPONSE,
                    payload: Vec::new(),
                }));
            }
            id::DISCONNECT_REQUEST => return Ok(Inbound::Disconnect),
            id::LIST_ENTITIES_DONE_RESPONSE => return Ok(Inbound::ListDone),
            id::DEVICE_INFO_RESPONSE => {
                let info: pb::DeviceInfoResponse = decode(frame)?;
                return Ok(Inbound::Messages(vec![device_info(node, &info)]));
            }
            id::LIST_ENTITIES_SENSOR_RESPONSE => {
                let e: pb::ListEntitiesSensorResponse = decode(frame)?;
                Entity {
                    kind: Kind::Sensor,
                    key: e.key,
                    object_id: e.object_id,
                    name: e.name,
                    unit: e.unit_of_measurement,
                }
            }
            id::LIST_ENTITIES_BINARY_SENSOR_RESPONSE => listed(Kind::BinarySensor, decode(frame)?),
            id::LIST_ENTITIES_SWITCH_RESPONSE => listed(Kind::Switch, decode(frame)?),
            id::LIST_ENTITIES_LIGHT_RESPONSE => listed(Kind::Light, decode(frame)?),
            id::SENSOR_STATE_RESPONSE => {
                let s: pb::SensorStateResponse = decode(frame)?;
                let e = self.known(s.key)?;
                if s.missing_state || !s.state.is_finite() {
                    return Ok(Inbound::Ignored);
                }
                let mut p =
                    Payload::new(FIELD_VALUE, s.state.to_string()).with_metric_type("gauge_float");
                if !e.unit.is_empty() {
                    p = p.with_unit(e.unit.clone());
                }
                return Ok(Inbound::Messages(vec![set(node, &e.object_id, vec![p])]));
            }
            id::BINARY_SENSOR_STATE_RESPONSE | id::SWITCH_STATE_RESPONSE => {
                let s: pb::BoolStateResponse = decode(frame)?;
                let e = self.known(s.key)?;
                if s.missing_state {
                    return Ok(Inbound::Ignored);
                }
                return Ok(Inbound::Messages(vec![set(
                    node,
                    &e.object_id,
                    vec![binary(FIELD_STATE, s.state)],
                )]));
            }
            id::LIGHT_STATE_RESPONSE => {
                let s: pb::LightStateResponse = decode(frame)?;
                let e = self.known(s.key)?;
                let mut payloads = vec![binary(FIELD_STATE, s.state)];
                if s.brightness.is_finite() {
                    payloads.push(
                        Payload::new(
                            FIELD_BRIGHTNESS,
                            format!("{}", (s.brightness.clamp(0.0, 1.0) * 100.0).round()),
                        )
                        .with_metric_type("gauge_float")
                        .with_unit("%"),
                    );
                }
                return Ok(Inbound::Messages(vec![set(node, &e.object_id, payloads)]));
            }
            _ => return Ok(Inbound::Ignored),
        };
        let mut presentation = self.add(entity)?;
        presentation.node_id = node.to_string();
        Ok(Inbound::Messages(vec![presentation]))
    }

    fn known(&self, key: u32) -> Result<&Entity, EsphomeError> {
        self.by_key
            .get(&key)
            .ok_or_else(|| EsphomeError::Entity(format!("state for unknown entity key {key}")))
    }

    /// The command frames for a set from Switchyard.
    pub fn commands(&self, msg: &Message) -> Result<Vec<Frame>, EsphomeError> {
        let unsupported = |what: String| EsphomeError::Unsupported(what);
        if msg.message_type != MessageType::Set {
            return Err(unsupported(format!("a {}", msg.message_type.as_str())));
        }
        let Some(entity) = self.by_object_id(&msg.source_id) else {
            return Err(unsupported(format!(
                "source {:?} (not an entity of node {:?})",
                msg.source_id, msg.node_id
            )));
        };
        let mut out = Vec::new();
        match entity.kind {
            Kind::Switch => {
                for p in &msg.payloads {
                    if p.key != FIELD_STATE {
                        return Err(unsupported(format!("switch field {:?}", p.key)));
                    }
                    let state = parse_bool(&p.value)?;
                    out.push(frame(
                        id::SWITCH_COMMAND_REQUEST,
                        &pb::SwitchCommandRequest {
                            key: entity.key,
                            state,
                        },
                    ));
                }
            }
            Kind::Light => {
                let mut cmd = pb::LightCommandRequest {
                    key: entity.key,
                    ..Default::default()
                };
                for p in &msg.payloads {
                    match p.key.as_str() {
                        FIELD_STATE => {
                            cmd.has_state = true;
                            cmd.state = parse_bool(&p.value)?;
                        }
                        FIELD_BRIGHTNESS => {
                            let v: f32 = p.value.trim().parse().map_err(|_| {
                                EsphomeError::Value(format!(
                                    "brightness {:?} is not a number (0–100)",
                                    p.value
                                ))
                            })?;
                            if !(0.0..=100.0).contains(&v) {
                                return Err(EsphomeError::Value(format!(
                                    "brightness {v} is outside 0–100"
                                )));
                            }
                            cmd.has_brightness = true;
                            cmd.brightness = v / 100.0;
                        }
                        other => return Err(unsupported(format!("light field {other:?}"))),
                    }
                }
                out.push(frame(id::LIGHT_COMMAND_REQUEST, &cmd));
            }
            Kind::Sensor | Kind::BinarySensor => {
                return Err(unsupported(format!(
                    "a set of read-only entity {:?}",
                    entity.object_id
                )));
            }
        }
        Ok(out)
    }
}

fn binary(key: &str, state: bool) -> Payload {
    Payload::new(key, if state { "1" } else { "0" }).with_metric_type("binary")
}

fn parse_bool(value: &str) -> Result<bool, EsphomeError> {
    switchyard_core::value::parse_bool(value.trim())
        .ok_or_else(|| EsphomeError::Value(format!("{value:?} is not on/off (true/false, 1/0)")))
}

/// A frame carrying `msg`.
pub fn frame(message_type: u32, msg: &impl prost::Message) -> Frame {
    Frame {
        message_type,
        payload: msg.encode_to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    fn listed(entities: &mut Entities, t: u32, msg: &impl prost::Message) -> Message {
        match entities.receive("n1", &frame(t, msg)).unwrap() {
            Inbound::Messages(mut m) => m.remove(0),
            other => panic!("{other:?}"),
        }
    }

    fn sample() -> Entities {
        let mut e = Entities::default();
        let head = |object_id: &str, key| pb::ListEntitiesResponse {
            object_id: object_id.into(),
            key,
            name: object_id.to_uppercase(),
            unique_id: String::new(),
        };
        let p = listed(
            &mut e,
            id::LIST_ENTITIES_SENSOR_RESPONSE,
            &pb::ListEntitiesSensorResponse {
                object_id: "temp".into(),
                key: 1,
                name: "Temp".into(),
                unit_of_measurement: "°C".into(),
                ..Default::default()
            },
        );
        assert_eq!(p.message_type, MessageType::Presentation);
        assert_eq!((p.node_id.as_str(), p.source_id.as_str()), ("n1", "temp"));
        listed(
            &mut e,
            id::LIST_ENTITIES_BINARY_SENSOR_RESPONSE,
            &head("door", 2),
        );
        listed(&mut e, id::LIST_ENTITIES_SWITCH_RESPONSE, &head("relay", 3));
        listed(&mut e, id::LIST_ENTITIES_LIGHT_RESPONSE, &head("lamp", 4));
        e
    }

    #[test]
    fn states_become_fields() {
        let mut e = sample();
        let got = |e: &mut Entities, t, m: &dyn Fn() -> Frame| match e.receive("n1", &m()).unwrap()
        {
            Inbound::Messages(m) => m,
            other => panic!("{t}: {other:?}"),
        };
        let m = got(&mut e, "sensor", &|| {
            frame(
                id::SENSOR_STATE_RESPONSE,
                &pb::SensorStateResponse {
                    key: 1,
                    state: 21.5,
                    missing_state: false,
                },
            )
        });
        assert_eq!(m[0].source_id, "temp");
        assert_eq!(
            m[0].payloads[0],
            Payload::new("value", "21.5")
                .with_metric_type("gauge_float")
                .with_unit("°C")
        );
        let m = got(&mut e, "light", &|| {
            frame(
                id::LIGHT_STATE_RESPONSE,
                &pb::LightStateResponse {
                    key: 4,
                    state: true,
                    brightness: 0.5,
                },
            )
        });
        assert_eq!(
            m[0].payloads[0],
            Payload::new("state", "1").with_metric_type("binary")
        );
        assert_eq!(m[0].payloads[1].value, "50");
        let m = got(&mut e, "switch", &|| {
            frame(
                id::SWITCH_STATE_RESPONSE,
                &pb::BoolStateResponse {
                    key: 3,
                    state: false,
                    missing_state: false,
                },
            )
        });
        assert_eq!(
            (m[0].source_id.as_str(), m[0].payloads[0].value.as_str()),
            ("relay", "0")
        );
        // Unknown keys and garbage are rejected with a reason.
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

    #[test]
    fn sets_become_commands() {
        let e = sample();
        let mut m = Message::new(MessageType::Set, "gw", "n1", "relay");
        m.payloads.push(Payload::new("state", "on"));
        assert_eq!(
            e.commands(&m).unwrap(),
            vec![frame(
                id::SWITCH_COMMAND_REQUEST,
                &pb::SwitchCommandRequest {
                    key: 3,
                    state: true
                }
            )]
        );
        m.source_id = "lamp".into();
        m.payloads.push(Payload::new("brightness", "40"));
        let f = e.commands(&m).unwrap();
        let cmd = pb::LightCommandRequest::decode(f[0].payload.as_slice()).unwrap();
        assert!(cmd.has_state && cmd.state && cmd.has_brightness);
        assert!((cmd.brightness - 0.4).abs() < 1e-6);
        m.payloads[1].value = "400".into();
        assert!(e.commands(&m).unwrap_err().to_string().contains("outside"));
        m.source_id = "temp".into();
        assert!(
            e.commands(&m)
                .unwrap_err()
                .to_string()
                .contains("read-only")
        );
        m.source_id = "nope".into();
        assert!(
            e.commands(&m)
                .unwrap_err()
                .to_string()
                .contains("not an entity")
        );
    }
}
