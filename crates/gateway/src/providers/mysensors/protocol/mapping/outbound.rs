//! System → device: frames for `set`/`request`/simple action messages, and builders for the
//! answers the controller gives (ids, time, units, firmware).

use super::{actions, first_payload, labels};
use crate::providers::mysensors::protocol::error::quote;
use crate::providers::mysensors::protocol::firmware::{FirmwareConfig, FirmwareResponse};
use crate::providers::mysensors::protocol::{
    BROADCAST_ID, Command, InternalType, MAX_PAYLOAD_BYTES, NODE_CHILD_ID, ProtocolError, RawFrame,
    StreamType, ValueType,
};
use switchyard_core::model::MetricType;
use switchyard_core::{Message, MessageType, Payload};

/// Which frames ask the node for an echo. Set and req always do, so the runtime can tell a node
/// that did not hear them; internal and stream frames only if configured
/// (`enableInternalMessageAck`, `enableStreamMessageAck`); broadcasts never, nobody would answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AckPolicy {
    pub internal: bool,
    pub stream: bool,
}

impl AckPolicy {
    pub fn wants_ack(&self, frame: &RawFrame) -> bool {
        if frame.node_id == BROADCAST_ID {
            return false;
        }
        match frame.command {
            Command::Set | Command::Req => true,
            Command::Internal => self.internal,
            Command::Stream => self.stream,
            Command::Presentation => false,
        }
    }

    pub fn apply(&self, frame: RawFrame) -> RawFrame {
        let ack = self.wants_ack(&frame);
        frame.with_ack(ack)
    }
}

/// The unit system nodes are told to use when they ask (I_CONFIG).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnitSystem {
    #[default]
    Metric,
    Imperial,
}

/// Turns a message for a device into a frame (ack off: apply an [`AckPolicy`]). Handles `set`,
/// `request` and the actions that need no state; the others (id, time, firmware) are answered
/// with the builders below by the provider, which has the state they need.
pub fn message_to_frame(message: &Message) -> Result<RawFrame, ProtocolError> {
    let payload = first_payload(message).ok_or(ProtocolError::MissingPayload)?;
    let node = id("node id", &message.node_id)?;
    let child = id("source id", &message.source_id)?;
    match message.message_type {
        MessageType::Set => {
            let value_type = value_type_of(payload)?;
            let value = wire_value(value_type, payload);
            checked(RawFrame::new(
                node,
                child,
                Command::Set,
                value_type.code(),
                value,
            ))
        }
        MessageType::Request => {
            let value_type = value_type_of(payload)?;
            Ok(RawFrame::new(
                node,
                child,
                Command::Req,
                value_type.code(),
                "",
            ))
        }
        MessageType::Action => match payload.key.as_str() {
            actions::DISCOVER_NODES => Ok(discover_request()),
            actions::HEARTBEAT_REQUEST => Ok(heartbeat_request(node)),
            actions::REBOOT => Ok(reboot(node)),
            actions::REFRESH_NODE_INFO => Ok(presentation_request(node)),
            other => Err(ProtocolError::Unsupported(format!(
                "action {:?}",
                quote(other)
            ))),
        },
        MessageType::Presentation => Err(ProtocolError::Unsupported("a presentation".into())),
    }
}

/// An empty id means broadcast (node) or the node itself (source).
fn id(what: &'static str, value: &str) -> Result<u8, ProtocolError> {
    if value.is_empty() {
        return Ok(BROADCAST_ID);
    }
    value
        .parse()
        .ok()
        .filter(|_| value.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| ProtocolError::InvalidAddress {
            what,
            value: quote(value),
        })
}

/// The `ms_type` label wins (a code, or a name), then the payload key as a V_ name.
fn value_type_of(payload: &Payload) -> Result<ValueType, ProtocolError> {
    let from_label = payload.labels.get(labels::TYPE).and_then(|t| {
        let t = t.trim();
        t.parse::<u8>()
            .ok()
            .map(ValueType)
            .or_else(|| ValueType::from_name(t))
    });
    from_label
        .or_else(|| ValueType::from_name(&payload.key))
        .ok_or_else(|| ProtocolError::UnknownValueType(quote(&payload.key)))
}

/// Binary values reach nodes as 1/0 whatever the UI or a rule wrote.
fn wire_value(value_type: ValueType, payload: &Payload) -> String {
    let binary = value_type.metric().metric_type == MetricType::Binary
        || payload.metric_type == MetricType::Binary.as_str();
    if binary {
        match payload.value.trim().to_ascii_lowercase().as_str() {
            "on" | "true" => return "1".into(),
            "off" | "false" => return "0".into(),
            _ => {}
        }
    }
    payload.value.clone()
}

/// A node's radio takes 25 payload bytes; a gateway would cut a longer value silently.
fn checked(frame: RawFrame) -> Result<RawFrame, ProtocolError> {
    let max = match frame.command {
        Command::Stream => 2 * MAX_PAYLOAD_BYTES,
        _ => MAX_PAYLOAD_BYTES,
    };
    if frame.payload.len() > max {
        return Err(ProtocolError::PayloadTooLong {
            len: frame.payload.len(),
            max,
        });
    }
    Ok(frame)
}

fn internal(node_id: u8, internal: InternalType, payload: impl Into<String>) -> RawFrame {
    RawFrame::new(
        node_id,
        NODE_CHILD_ID,
        Command::Internal,
        internal.code(),
        payload,
    )
}

/// Answers I_ID_REQUEST: broadcast, since the asking node has no id yet.
pub fn id_response(new_node_id: u8) -> RawFrame {
    internal(
        BROADCAST_ID,
        InternalType::I_ID_RESPONSE,
        new_node_id.to_string(),
    )
}

/// The id to hand out: the lowest of 1..=254 not in use (0 is the gateway, 255 broadcast).
pub fn first_free_node_id(used: impl IntoIterator<Item = u8>) -> Option<u8> {
    let mut taken = [false; 256];
    for id in used {
        taken[usize::from(id)] = true;
    }
    (1..=254).find(|id| !taken[usize::from(*id)])
}

/// Answers I_TIME. Nodes have no time zone, so this is unix seconds plus the local UTC offset
/// (the gateway's `timezone` label), which the runtime computes.
pub fn time_response(node_id: u8, local_unix_seconds: i64) -> RawFrame {
    internal(
        node_id,
        InternalType::I_TIME,
        local_unix_seconds.to_string(),
    )
}

/// Answers I_CONFIG: "M" metric, "I" imperial (gateway label `ms_imperial_system`).
pub fn config_response(node_id: u8, units: UnitSystem) -> RawFrame {
    let payload = match units {
        UnitSystem::Metric => "M",
        UnitSystem::Imperial => "I",
    };
    internal(node_id, InternalType::I_CONFIG, payload)
}

/// Asks every node to report its parent (I_DISCOVER_RESPONSE), which also shows who is alive.
pub fn discover_request() -> RawFrame {
    internal(BROADCAST_ID, InternalType::I_DISCOVER_REQUEST, "")
}

pub fn heartbeat_request(node_id: u8) -> RawFrame {
    internal(node_id, InternalType::I_HEARTBEAT_REQUEST, "")
}

pub fn reboot(node_id: u8) -> RawFrame {
    internal(node_id, InternalType::I_REBOOT, "")
}

/// Asks a node to present itself and its children again (`refresh_node_info`).
pub fn presentation_request(node_id: u8) -> RawFrame {
    internal(node_id, InternalType::I_PRESENTATION, "")
}

/// Tells a node which firmware to run; use [`FirmwareConfig::erase_eeprom`] for a `reset`.
pub fn firmware_config_response(node_id: u8, config: &FirmwareConfig) -> RawFrame {
    let code = StreamType::ST_FIRMWARE_CONFIG_RESPONSE.code();
    RawFrame::new(
        node_id,
        NODE_CHILD_ID,
        Command::Stream,
        code,
        config.encode_hex(),
    )
}

pub fn firmware_response(node_id: u8, response: &FirmwareResponse) -> RawFrame {
    let code = StreamType::ST_FIRMWARE_RESPONSE.code();
    RawFrame::new(
        node_id,
        NODE_CHILD_ID,
        Command::Stream,
        code,
        response.encode_hex(),
    )
}

#[cfg(test)]
#[path = "outbound_tests.rs"]
mod tests;
