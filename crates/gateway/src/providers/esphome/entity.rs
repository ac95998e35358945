//! A node's entities and what they mean to Switchyard: each entity is a source (its object id),
//! its state one or more fields ([`super::state`]), a set of a writable field a command
//! ([`super::command`]). Pure: decoded protobuf in, messages out; messages in, command frames out.
//! The field of every kind is listed in `docs/providers/esphome.md`.

use super::error::EsphomeError;
use super::frame::Frame;
use super::messages::{self as pb, color_mode, id};
use std::collections::HashMap;
use switchyard_core::{Message, MessageType, Payload};

pub const FIELD_VALUE: &str = "value";
pub const FIELD_STATE: &str = "state";
pub const FIELD_BRIGHTNESS: &str = "brightness";
pub const FIELD_RGB: &str = "rgb";
pub const FIELD_COLOR_TEMPERATURE: &str = "color_temperature";
pub const FIELD_SPEED: &str = "speed";
pub const FIELD_OSCILLATING: &str = "oscillating";
pub const FIELD_DIRECTION: &str = "direction";
pub const FIELD_POSITION: &str = "position";
pub const FIELD_TILT: &str = "tilt";
pub const FIELD_OPERATION: &str = "operation";
pub const FIELD_MODE: &str = "mode";
pub const FIELD_TARGET_TEMPERATURE: &str = "target_temperature";
pub const FIELD_CURRENT_TEMPERATURE: &str = "current_temperature";
pub const FIELD_ACTION: &str = "action";
pub const FIELD_TARGET_TEMPERATURE_LOW: &str = "target_temperature_low";
pub const FIELD_TARGET_TEMPERATURE_HIGH: &str = "target_temperature_high";
pub const FIELD_FAN_MODE: &str = "fan_mode";
pub const FIELD_SWING_MODE: &str = "swing_mode";
pub const FIELD_PRESET: &str = "preset";
pub const FIELD_OPTION: &str = "option";
pub const FIELD_PRESS: &str = "press";
/// Node payload carrying the node's state (`up`, `down`), as Tasmota's LWT does.
pub const NODE_STATE: &str = "state";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sensor,
    BinarySensor,
    TextSensor,
    Switch,
    Light,
    Fan,
    Cover,
    Climate,
    Number,
    Select,
    Button,
    Lock,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sensor => "sensor",
            Kind::BinarySensor => "binary_sensor",
            Kind::TextSensor => "text_sensor",
            Kind::Switch => "switch",
            Kind::Light => "light",
            Kind::Fan => "fan",
            Kind::Cover => "cover",
            Kind::Climate => "climate",
            Kind::Number => "number",
            Kind::Select => "select",
            Kind::Button => "button",
            Kind::Lock => "lock",
        }
    }
}

/// What an entity said it supports when it was listed (the kinds read what concerns them).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Caps {
    /// The field unit: a sensor's or number's unit, a climate's temperature unit.
    pub unit: String,
    pub brightness: bool,
    pub rgb: bool,
    pub color_temperature: bool,
    /// A light's colour temperature range, a number's or climate's value range (both 0: none).
    pub min: f32,
    pub max: f32,
    pub oscillation: bool,
    pub direction: bool,
    /// A fan's speed levels (0: no speed).
    pub speed_count: i32,
    pub position: bool,
    pub tilt: bool,
    pub current_temperature: bool,
    pub action: bool,
    /// A climate's `ClimateMode`s.
    pub modes: Vec<i32>,
    /// A climate with low and high target temperatures.
    pub two_point: bool,
    /// A climate's `ClimateFanMode`s and its own named fan modes.
    pub fan_modes: Vec<i32>,
    pub custom_fan_modes: Vec<String>,
    /// A climate's `ClimateSwingMode`s.
    pub swing_modes: Vec<i32>,
    /// A climate's `ClimatePreset`s and its own named presets.
    pub presets: Vec<i32>,
    pub custom_presets: Vec<String>,
    /// A select's options.
    pub options: Vec<String>,
    /// A lock that opens the door too.
    pub open: bool,
    /// A lock that wants a code with each command.
    pub requires_code: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub kind: Kind,
    pub key: u32,
    pub object_id: String,
    pub name: String,
    pub caps: Caps,
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

pub(super) fn decode<M: prost::Message + Default>(frame: &Frame) -> Result<M, EsphomeError> {
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

fn entity(kind: Kind, key: u32, object_id: String, name: String, caps: Caps) -> Entity {
    Entity {
        kind,
        key,
        object_id,
        name,
        caps,
    }
}

/// A `ListEntities…Response` into the entity it lists; `None` for other message types.
fn listed(frame: &Frame) -> Result<Option<Entity>, EsphomeError> {
    let head = |kind: Kind, e: pb::ListEntitiesResponse| {
        entity(kind, e.key, e.object_id, e.name, Caps::default())
    };
    let e = match frame.message_type {
        id::LIST_ENTITIES_SENSOR_RESPONSE => {
            let e: pb::ListEntitiesSensorResponse = decode(frame)?;
            let caps = Caps {
                unit: e.unit_of_measurement,
                ..Caps::default()
            };
            entity(Kind::Sensor, e.key, e.object_id, e.name, caps)
        }
        id::LIST_ENTITIES_BINARY_SENSOR_RESPONSE => head(Kind::BinarySensor, decode(frame)?),
        id::LIST_ENTITIES_TEXT_SENSOR_RESPONSE => head(Kind::TextSensor, decode(frame)?),
        id::LIST_ENTITIES_SWITCH_RESPONSE => head(Kind::Switch, decode(frame)?),
        id::LIST_ENTITIES_BUTTON_RESPONSE => head(Kind::Button, decode(frame)?),
        id::LIST_ENTITIES_LIGHT_RESPONSE => {
            let e: pb::ListEntitiesLightResponse = decode(frame)?;
            let any = |bit: i32| e.supported_color_modes.iter().any(|m| m & bit != 0);
            let modern = !e.supported_color_modes.is_empty();
            let legacy = e.legacy_supports_brightness
                || e.legacy_supports_rgb
                || e.legacy_supports_color_temperature;
            let caps = Caps {
                // A light that says nothing of its modes is taken as dimmable, as before.
                brightness: if modern {
                    any(color_mode::BRIGHTNESS)
                } else {
                    e.legacy_supports_brightness || !legacy
                },
                rgb: any(color_mode::RGB) || (!modern && e.legacy_supports_rgb),
                color_temperature: any(color_mode::COLOR_TEMPERATURE)
                    || (!modern && e.legacy_supports_color_temperature),
                min: e.min_mireds,
                max: e.max_mireds,
                ..Caps::default()
            };
            entity(Kind::Light, e.key, e.object_id, e.name, caps)
        }
        id::LIST_ENTITIES_FAN_RESPONSE => {
            let e: pb::ListEntitiesFanResponse = decode(frame)?;
            let caps = Caps {
                oscillation: e.supports_oscillation,
                direction: e.supports_direction,
                speed_count: if e.supports_speed {
                    e.supported_speed_count.max(0)
                } else {
                    0
                },
                // A fan's preset modes are all its own names.
                custom_presets: e.supported_preset_modes,
                ..Caps::default()
            };
            entity(Kind::Fan, e.key, e.object_id, e.name, caps)
        }
        id::LIST_ENTITIES_COVER_RESPONSE => {
            let e: pb::ListEntitiesCoverResponse = decode(frame)?;
            let caps = Caps {
                position: e.supports_position,
                tilt: e.supports_tilt,
                ..Caps::default()
            };
            entity(Kind::Cover, e.key, e.object_id, e.name, caps)
        }
        id::LIST_ENTITIES_CLIMATE_RESPONSE => {
            let e: pb::ListEntitiesClimateResponse = decode(frame)?;
            let caps = Caps {
                unit: usize::try_from(e.temperature_unit)
                    .ok()
                    .and_then(|u| pb::TEMPERATURE_UNITS.get(u))
                    .copied()
                    .unwrap_or("°C")
                    .to_string(),
                current_temperature: e.supports_current_temperature,
                action: e.supports_action,
                modes: e.supported_modes,
                two_point: e.supports_two_point_target_temperature
                    || e.feature_flags & pb::CLIMATE_TWO_POINT_FLAGS != 0,
                fan_modes: e.supported_fan_modes,
                custom_fan_modes: e.supported_custom_fan_modes,
                swing_modes: e.supported_swing_modes,
                presets: e.supported_presets,
                custom_presets: e.supported_custom_presets,
                min: e.visual_min_temperature,
                max: e.visual_max_temperature,
                ..Caps::default()
            };
            entity(Kind::Climate, e.key, e.object_id, e.name, caps)
        }
        id::LIST_ENTITIES_NUMBER_RESPONSE => {
            let e: pb::ListEntitiesNumberResponse = decode(frame)?;
            let caps = Caps {
                unit: e.unit_of_measurement,
                min: e.min_value,
                max: e.max_value,
                ..Caps::default()
            };
            entity(Kind::Number, e.key, e.object_id, e.name, caps)
        }
        id::LIST_ENTITIES_SELECT_RESPONSE => {
            let e: pb::ListEntitiesSelectResponse = decode(frame)?;
            let caps = Caps {
                options: e.options,
                ..Caps::default()
            };
            entity(Kind::Select, e.key, e.object_id, e.name, caps)
        }
        id::LIST_ENTITIES_LOCK_RESPONSE => {
            let e: pb::ListEntitiesLockResponse = decode(frame)?;
            let caps = Caps {
                open: e.supports_open,
                requires_code: e.requires_code,
                ..Caps::default()
            };
            entity(Kind::Lock, e.key, e.object_id, e.name, caps)
        }
        _ => return Ok(None),
    };
    Ok(Some(e))
}

/// The entity kind whose state a message type carries.
fn state_kind(message_type: u32) -> Option<Kind> {
    Some(match message_type {
        id::SENSOR_STATE_RESPONSE => Kind::Sensor,
        id::BINARY_SENSOR_STATE_RESPONSE => Kind::BinarySensor,
        id::TEXT_SENSOR_STATE_RESPONSE => Kind::TextSensor,
        id::SWITCH_STATE_RESPONSE => Kind::Switch,
        id::LIGHT_STATE_RESPONSE => Kind::Light,
        id::FAN_STATE_RESPONSE => Kind::Fan,
        id::COVER_STATE_RESPONSE => Kind::Cover,
        id::CLIMATE_STATE_RESPONSE => Kind::Climate,
        id::NUMBER_STATE_RESPONSE => Kind::Number,
        id::SELECT_STATE_RESPONSE => Kind::Select,
        id::LOCK_STATE_RESPONSE => Kind::Lock,
        _ => return None,
    })
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
        if entity.object_id.is_empty() || entity.object_id.contains('.') {
            return Err(EsphomeError::Entity(format!(
                "{} entity with key {} has no usable object id ({:?}: empty or with a `.`)",
                entity.kind.name(),
                entity.key,
                entity.object_id
            )));
        }
        let mut m = Message::new(MessageType::Presentation, "", "", entity.object_id.clone());
        if !entity.name.is_empty() {
            m.payloads.push(Payload::new("name", entity.name.clone()));
        }
        m.payloads.push(Payload::new("kind", entity.kind.name()));
        self.by_object_id
            .insert(entity.object_id.clone(), entity.key);
        self.by_key.insert(entity.key, entity);
        Ok(m)
    }

    /// One frame from the device into what the client does with it.
    pub fn receive(&mut self, node: &str, frame: &Frame) -> Result<Inbound, EsphomeError> {
        match frame.message_type {
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
            _ => {}
        }
        if let Some(kind) = state_kind(frame.message_type) {
            let key = decode::<pb::KeyOnly>(frame)?.key;
            let e = self.by_key.get(&key).ok_or_else(|| {
                EsphomeError::Entity(format!("state for unknown entity key {key}"))
            })?;
            if e.kind != kind {
                return Err(EsphomeError::Entity(format!(
                    "{} state for entity {:?}, a {}",
                    kind.name(),
                    e.object_id,
                    e.kind.name()
                )));
            }
            return Ok(match super::state::payloads(e, frame)? {
                Some(p) if !p.is_empty() => Inbound::Messages(vec![set(node, &e.object_id, p)]),
                _ => Inbound::Ignored,
            });
        }
        let Some(entity) = listed(frame)? else {
            return Ok(Inbound::Ignored);
        };
        let mut presentation = self.add(entity)?;
        presentation.node_id = node.to_string();
        Ok(Inbound::Messages(vec![presentation]))
    }

    /// The command frames for a set from Switchyard.
    pub fn commands(&self, msg: &Message) -> Result<Vec<Frame>, EsphomeError> {
        if msg.message_type != MessageType::Set {
            return Err(EsphomeError::Unsupported(format!(
                "a {}",
                msg.message_type.as_str()
            )));
        }
        let Some(entity) = self.by_object_id(&msg.source_id) else {
            return Err(EsphomeError::Unsupported(format!(
                "source {:?} (not an entity of node {:?})",
                msg.source_id, msg.node_id
            )));
        };
        super::command::frames(entity, &msg.payloads)
    }
}

/// A frame carrying `msg`.
pub fn frame(message_type: u32, msg: &impl prost::Message) -> Frame {
    Frame {
        message_type,
        payload: msg.encode_to_vec(),
    }
}

#[cfg(test)]
#[path = "entity_tests.rs"]
mod tests;
