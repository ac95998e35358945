//! The MySensors 2.x serial/Ethernet/MQTT protocol as pure functions: no I/O, no clocks, no tasks.
//! A transport hands over one line (or one MQTT topic and body); these functions turn it into a
//! [`RawFrame`], a [`RawFrame`] into Switchyard [`Message`](switchyard_core::Message)s, and back.
//! Firmware updates (Intel HEX, 16-byte blocks, the bootloader's CRC) live here too.

mod table;

pub mod command;
pub mod error;
pub mod firmware;
pub mod intel_hex;
pub mod internal;
pub mod line;
pub mod mapping;
pub mod mqtt;
pub mod presentation;
pub mod set_req;
pub mod stream;

pub use command::Command;
pub use error::{FrameField, HexReason, ProtocolError};
pub use internal::InternalType;
pub use line::{RawFrame, parse_line};
pub use mqtt::parse_mqtt;
pub use presentation::SensorType;
pub use set_req::ValueType;
pub use stream::StreamType;

/// Node id that addresses every node, and that a node without an id yet sends from.
pub const BROADCAST_ID: u8 = 255;
/// Child id of the node itself (internal, stream and node presentation frames).
pub const NODE_CHILD_ID: u8 = 255;
/// The radio payload size: 32-byte radio frame minus the 7-byte header (`MAX_PAYLOAD_SIZE`).
pub const MAX_PAYLOAD_BYTES: usize = 25;
