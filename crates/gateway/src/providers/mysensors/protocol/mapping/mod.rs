//! MySensors frames ↔ Switchyard [`Message`]s, following MyController's MySensors provider so that
//! fields, labels and actions look the same to users coming from it.
//!
//! Addressing: node 255 (broadcast, or a node without an id yet) becomes an empty `nodeId`; child
//! 255 (the node itself) becomes an empty `sourceId`. Every payload carries the MySensors type in
//! labels: `ms_type` is the numeric code (as MyController stores it, so migrated fields keep
//! working) and `ms_type_string` the name (`V_TEMP`).

mod inbound;
mod outbound;

pub use inbound::{Inbound, frame_to_inbound};
pub use outbound::{
    AckPolicy, UnitSystem, config_response, discover_request, firmware_config_response,
    firmware_response, first_free_node_id, heartbeat_request, id_response, message_to_frame,
    presentation_request, reboot, time_response,
};

use switchyard_core::Message;

/// Payload labels the mapping sets and reads.
pub mod labels {
    /// Numeric MySensors type code of the frame (`"0"` for V_TEMP); outbound also accepts a name.
    pub const TYPE: &str = "ms_type";
    /// MySensors type name (`"V_TEMP"`, `"S_TEMP"`, `"I_TIME"`).
    pub const TYPE_STRING: &str = "ms_type_string";
    pub const NODE_ID: &str = "ms_node_id";
    pub const SENSOR_ID: &str = "ms_sensor_id";
    /// `repeater` for nodes that presented as S_ARDUINO_REPEATER_NODE.
    pub const NODE_TYPE: &str = "ms_node_type";
    pub const LOCKED_REASON: &str = "ms_locked_reason";
    pub const SMART_SLEEP_NODE: &str = "ms_smart_sleep_node";
    /// Node label: the next firmware config response erases EEPROM (MYSBootloader `reset`).
    pub const ERASE_EEPROM: &str = "ms_erase_eeprom";
    /// Gateway label: answer I_CONFIG with imperial units.
    pub const IMPERIAL_SYSTEM: &str = "ms_imperial_system";
    /// Firmware labels: the MySensors type and version ids of a firmware.
    pub const FIRMWARE_TYPE_ID: &str = "ms_type_id";
    pub const FIRMWARE_VERSION_ID: &str = "ms_version_id";
    /// Decoded fields of firmware stream requests.
    pub const FW_TYPE: &str = "ms_fw_type";
    pub const FW_VERSION: &str = "ms_fw_version";
    pub const FW_BLOCKS: &str = "ms_fw_blocks";
    pub const FW_CRC: &str = "ms_fw_crc";
    pub const FW_BLOCK: &str = "ms_fw_block";
    pub const BOOTLOADER_VERSION: &str = "ms_bl_version";
}

/// Node-level payload keys (MyController's node fields).
pub mod keys {
    pub const NAME: &str = "name";
    pub const BATTERY_LEVEL: &str = "battery_level";
    pub const VERSION: &str = "version";
    pub const LIBRARY_VERSION: &str = "library_version";
    pub const SIGNAL_STRENGTH: &str = "signal_strength";
    pub const HEARTBEAT: &str = "heartbeat";
    pub const PARENT_ID: &str = "parent_id";
    pub const LOCKED: &str = "locked";
    pub const AWAKE_DURATION: &str = "awake_duration";
    pub const SLEEP_DURATION: &str = "sleep_duration";
    /// Key of an action payload whose value names the action (`awake`).
    pub const ACTION: &str = "action";
}

/// Action names exchanged with the gateway service and the API.
pub mod actions {
    /// The node is listening now: the gateway service flushes its sleeping queue.
    pub const AWAKE: &str = "awake";
    pub const DISCOVER_NODES: &str = "discover_nodes";
    pub const HEARTBEAT_REQUEST: &str = "heartbeat_request";
    pub const REBOOT: &str = "reboot";
    pub const REFRESH_NODE_INFO: &str = "refresh_node_info";
    /// MYSBootloader only: set `ms_erase_eeprom`, then reboot.
    pub const RESET: &str = "reset";
    pub const FIRMWARE_UPDATE: &str = "firmware_update";
}

fn address(id: u8) -> String {
    if id == super::BROADCAST_ID {
        String::new()
    } else {
        id.to_string()
    }
}

/// The first payload, where MyController keeps the value of a single-valued message.
fn first_payload(message: &Message) -> Option<&switchyard_core::Payload> {
    message.payloads.first()
}
