//! Internal message types (`I_*`, MySensors 2.x `mysensors_internal_t`).

use super::table::code_table;

/// The `type` of an internal frame. Unknown codes are kept as their number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InternalType(pub u8);

code_table!(InternalType, "I_", {
    /// Battery level in percent, reported by the node.
    I_BATTERY_LEVEL = 0,
    /// A node asks for the time; the controller answers with local unix seconds.
    I_TIME = 1,
    /// MySensors library version (the gateway answers a request with it).
    I_VERSION = 2,
    /// A node without an id (sending from 255) asks for one.
    I_ID_REQUEST = 3,
    /// The controller's answer to `I_ID_REQUEST`, broadcast with the new id as payload.
    I_ID_RESPONSE = 4,
    I_INCLUSION_MODE = 5,
    /// A node asks for the unit system; the controller answers "M" (metric) or "I" (imperial).
    I_CONFIG = 6,
    I_FIND_PARENT_REQUEST = 7,
    I_FIND_PARENT_RESPONSE = 8,
    /// Free text logged by the gateway or a node (debug output).
    I_LOG_MESSAGE = 9,
    I_CHILDREN = 10,
    I_SKETCH_NAME = 11,
    I_SKETCH_VERSION = 12,
    I_REBOOT = 13,
    /// The gateway finished starting.
    I_GATEWAY_READY = 14,
    I_SIGNING_PRESENTATION = 15,
    I_NONCE_REQUEST = 16,
    I_NONCE_RESPONSE = 17,
    I_HEARTBEAT_REQUEST = 18,
    /// Asks a node to present itself again.
    I_PRESENTATION = 19,
    I_DISCOVER_REQUEST = 20,
    /// A node's answer to a discover request; the payload is its parent id.
    I_DISCOVER_RESPONSE = 21,
    I_HEARTBEAT_RESPONSE = 22,
    /// The node is locked; the payload says why.
    I_LOCKED = 23,
    I_PING = 24,
    I_PONG = 25,
    I_REGISTRATION_REQUEST = 26,
    I_REGISTRATION_RESPONSE = 27,
    I_DEBUG = 28,
    I_SIGNAL_REPORT_REQUEST = 29,
    I_SIGNAL_REPORT_REVERSE = 30,
    I_SIGNAL_REPORT_RESPONSE = 31,
    /// A smart-sleep node is about to sleep; the payload is how long it stays awake (ms).
    I_PRE_SLEEP_NOTIFICATION = 32,
    /// A smart-sleep node woke up; the payload is how long it slept (ms).
    I_POST_SLEEP_NOTIFICATION = 33,
} aliases {
    I_FIND_PARENT = I_FIND_PARENT_REQUEST,
    I_REQUEST_SIGNING = I_SIGNING_PRESENTATION,
    I_GET_NONCE = I_NONCE_REQUEST,
    I_GET_NONCE_RESPONSE = I_NONCE_RESPONSE,
    I_HEARTBEAT = I_HEARTBEAT_REQUEST,
    I_DISCOVER = I_DISCOVER_REQUEST,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_dense_from_0_to_33() {
        let codes: Vec<u8> = InternalType::KNOWN.iter().map(|t| t.code()).collect();
        assert_eq!(codes, (0..=33).collect::<Vec<u8>>());
        assert_eq!(InternalType(31).name(), Some("I_SIGNAL_REPORT_RESPONSE"));
        assert_eq!(InternalType(33).name(), Some("I_POST_SLEEP_NOTIFICATION"));
    }

    #[test]
    fn aliases_resolve_to_the_current_names() {
        assert_eq!(
            InternalType::from_name("I_HEARTBEAT"),
            Some(InternalType::I_HEARTBEAT_REQUEST)
        );
        assert_eq!(
            InternalType::from_name("I_FIND_PARENT"),
            Some(InternalType(7))
        );
        assert_eq!(InternalType(99).to_string(), "I_UNKNOWN_99");
    }
}
