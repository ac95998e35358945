//! Device → system: what a received frame means for the processor.

use super::{actions, address, keys, labels};
use crate::providers::mysensors::protocol::firmware::{FirmwareConfigRequest, FirmwareRequest};
use crate::providers::mysensors::protocol::{
    BROADCAST_ID, Command, InternalType, NODE_CHILD_ID, ProtocolError, RawFrame, SensorType,
    StreamType, ValueType,
};
use switchyard_core::model::MetricType;
use switchyard_core::{Message, MessageType, Payload};

/// What the gateway runtime does with a received frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// Publish to the processor, in order. Timestamps are the runtime's to set.
    Messages(Vec<Message>),
    /// Text the gateway or a node logged (I_LOG_MESSAGE, I_DEBUG): log it, store nothing.
    Log { node_id: u8, text: String },
    /// Nothing for the system (radio housekeeping, echoes of internal frames); says why.
    Ignored(&'static str),
}

/// Internal requests the controller answers; they travel as `action` messages keyed by the I_ name
/// and come back to the provider, which builds the answer (see the outbound builders).
const ANSWERED_INTERNALS: [InternalType; 5] = [
    InternalType::I_ID_REQUEST,
    InternalType::I_TIME,
    InternalType::I_CONFIG,
    InternalType::I_GATEWAY_READY,
    InternalType::I_REGISTRATION_REQUEST,
];

/// Maps a received frame. Only firmware requests with malformed payloads are errors; anything
/// else that has no meaning for the system is [`Inbound::Ignored`] with a reason.
pub fn frame_to_inbound(gateway_id: &str, frame: &RawFrame) -> Result<Inbound, ProtocolError> {
    let ctx = Context { gateway_id, frame };
    match frame.command {
        Command::Internal => Ok(ctx.internal(InternalType(frame.type_code))),
        _ if frame.node_id == BROADCAST_ID => Ok(Inbound::Ignored(
            "only internal frames may come from the broadcast address",
        )),
        Command::Presentation => Ok(ctx.presentation(SensorType(frame.type_code))),
        Command::Set => Ok(ctx.value(MessageType::Set)),
        Command::Req => Ok(ctx.value(MessageType::Request)),
        Command::Stream => ctx.stream(StreamType(frame.type_code)),
    }
}

struct Context<'a> {
    gateway_id: &'a str,
    frame: &'a RawFrame,
}

impl Context<'_> {
    fn message(&self, message_type: MessageType, on_source: bool) -> Message {
        let source = if on_source {
            address(self.frame.child_id)
        } else {
            String::new()
        };
        let mut message = Message::new(
            message_type,
            self.gateway_id,
            address(self.frame.node_id),
            source,
        )
        .received();
        message.is_ack = self.frame.ack;
        message
    }

    /// A payload with the MySensors addressing and type labels MyController sets.
    fn payload(&self, key: &str, value: &str, type_name: String) -> Payload {
        let mut payload = Payload::new(key, value);
        let f = self.frame;
        payload
            .labels
            .insert(labels::TYPE.into(), f.type_code.to_string());
        payload.labels.insert(labels::TYPE_STRING.into(), type_name);
        if f.node_id != BROADCAST_ID {
            payload
                .labels
                .insert(labels::NODE_ID.into(), f.node_id.to_string());
        }
        if f.child_id != NODE_CHILD_ID {
            payload
                .labels
                .insert(labels::SENSOR_ID.into(), f.child_id.to_string());
        }
        payload
    }

    fn one(&self, message: Message, payload: Payload) -> Inbound {
        Inbound::Messages(vec![message.with_payload(payload)])
    }

    fn presentation(&self, sensor: SensorType) -> Inbound {
        let f = self.frame;
        if f.child_id != NODE_CHILD_ID {
            let payload = self.payload(keys::NAME, &f.payload, sensor.to_string());
            return self.one(self.message(MessageType::Presentation, true), payload);
        }
        if !sensor.is_node() {
            return Inbound::Ignored("presentation of the node itself with a non-node S_ type");
        }
        let mut payload = self.payload(keys::LIBRARY_VERSION, &f.payload, sensor.to_string());
        payload
            .labels
            .insert(keys::LIBRARY_VERSION.into(), f.payload.clone());
        if sensor == SensorType::S_ARDUINO_REPEATER_NODE {
            payload
                .labels
                .insert(labels::NODE_TYPE.into(), "repeater".into());
        }
        self.one(self.message(MessageType::Presentation, false), payload)
    }

    fn value(&self, message_type: MessageType) -> Inbound {
        let value_type = ValueType(self.frame.type_code);
        let name = value_type.to_string();
        let metric = value_type.metric();
        let payload = self
            .payload(&name, &self.frame.payload, name.clone())
            .with_metric_type(metric.metric_type.as_str())
            .with_unit(metric.unit);
        self.one(self.message(message_type, true), payload)
    }

    fn internal(&self, internal: InternalType) -> Inbound {
        let f = self.frame;
        if matches!(
            internal,
            InternalType::I_LOG_MESSAGE | InternalType::I_DEBUG
        ) {
            return Inbound::Log {
                node_id: f.node_id,
                text: f.payload.clone(),
            };
        }
        if f.ack {
            return Inbound::Ignored("echo of an internal frame");
        }
        if ANSWERED_INTERNALS.contains(&internal) {
            let payload = self.payload(&internal.to_string(), &f.payload, internal.to_string());
            return self.one(self.message(MessageType::Action, false), payload);
        }
        if f.node_id == BROADCAST_ID {
            return Inbound::Ignored("internal frame from the broadcast address");
        }
        let node_set = |key: &str| self.payload(key, &f.payload, internal.to_string());
        let payload = match internal {
            InternalType::I_BATTERY_LEVEL => node_set(keys::BATTERY_LEVEL)
                .with_metric_type(MetricType::GaugeFloat.as_str())
                .with_unit("%"),
            InternalType::I_SKETCH_NAME => node_set(keys::NAME),
            InternalType::I_SKETCH_VERSION => {
                labelled(node_set(keys::VERSION), keys::VERSION, &f.payload)
            }
            InternalType::I_VERSION => labelled(
                node_set(keys::LIBRARY_VERSION),
                keys::LIBRARY_VERSION,
                &f.payload,
            ),
            InternalType::I_SIGNAL_REPORT_RESPONSE => {
                node_set(keys::SIGNAL_STRENGTH).with_metric_type(MetricType::GaugeFloat.as_str())
            }
            InternalType::I_LOCKED => {
                let mut payload = self.payload(keys::LOCKED, "true", internal.to_string());
                payload
                    .others
                    .insert(labels::LOCKED_REASON.into(), f.payload.clone().into());
                payload
            }
            InternalType::I_HEARTBEAT_RESPONSE => return self.awake(node_set(keys::HEARTBEAT)),
            InternalType::I_DISCOVER_RESPONSE => {
                let payload = labelled(node_set(keys::PARENT_ID), keys::PARENT_ID, &f.payload);
                return self.awake(payload);
            }
            InternalType::I_PRE_SLEEP_NOTIFICATION => {
                return self.awake(sleeping(node_set(keys::AWAKE_DURATION)));
            }
            InternalType::I_POST_SLEEP_NOTIFICATION => sleeping(node_set(keys::SLEEP_DURATION)),
            _ => return Inbound::Ignored("internal frame handled by the MySensors network itself"),
        };
        self.one(self.message(MessageType::Set, false), payload)
    }

    /// The node set plus an `awake` action: a node that answers is listening now, so the gateway
    /// service sends what it queued for it.
    fn awake(&self, node_payload: Payload) -> Inbound {
        let set = self
            .message(MessageType::Set, false)
            .with_payload(node_payload);
        let name = InternalType(self.frame.type_code).to_string();
        let awake = self
            .message(MessageType::Action, false)
            .with_payload(self.payload(keys::ACTION, actions::AWAKE, name));
        Inbound::Messages(vec![set, awake])
    }

    fn stream(&self, stream: StreamType) -> Result<Inbound, ProtocolError> {
        let f = self.frame;
        let mut payload = self.payload(&stream.to_string(), &f.payload, stream.to_string());
        let mut label = |key: &str, value: String| payload.labels.insert(key.into(), value);
        match stream {
            StreamType::ST_FIRMWARE_CONFIG_REQUEST => {
                let request = FirmwareConfigRequest::decode_hex(&f.payload)?;
                label(labels::FW_TYPE, request.current.firmware_type.to_string());
                label(labels::FW_VERSION, request.current.version.to_string());
                label(labels::FW_BLOCKS, request.current.blocks.to_string());
                label(labels::FW_CRC, format!("{:04X}", request.current.crc));
                label(
                    labels::BOOTLOADER_VERSION,
                    request.bootloader_version.to_string(),
                );
            }
            StreamType::ST_FIRMWARE_REQUEST => {
                let request = FirmwareRequest::decode_hex(&f.payload)?;
                label(labels::FW_TYPE, request.firmware_type.to_string());
                label(labels::FW_VERSION, request.version.to_string());
                label(labels::FW_BLOCK, request.block.to_string());
            }
            _ => return Ok(Inbound::Ignored("stream data other than firmware requests")),
        }
        Ok(self.one(self.message(MessageType::Action, false), payload))
    }
}

fn labelled(mut payload: Payload, key: &str, value: &str) -> Payload {
    payload.labels.insert(key.into(), value.into());
    payload
}

fn sleeping(mut payload: Payload) -> Payload {
    payload.labels.insert(
        switchyard_core::model::node_labels::SLEEP_NODE.into(),
        "true".into(),
    );
    payload
        .labels
        .insert(labels::SMART_SLEEP_NODE.into(), "true".into());
    payload
}

#[cfg(test)]
#[path = "inbound_tests.rs"]
mod tests;
