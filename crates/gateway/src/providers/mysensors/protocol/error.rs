//! Every way MySensors input can be rejected, each with a reason a user can act on.

use std::fmt;

/// Which field of a frame was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameField {
    NodeId,
    ChildId,
    Command,
    Ack,
    Type,
}

impl fmt::Display for FrameField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FrameField::NodeId => "node id",
            FrameField::ChildId => "child id",
            FrameField::Command => "command",
            FrameField::Ack => "ack",
            FrameField::Type => "type",
        })
    }
}

/// Why one line of an Intel HEX file was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexReason {
    #[error("does not start with ':'")]
    MissingColon,
    #[error("contains a character that is not a hex digit")]
    NotHex,
    #[error("has an odd number of hex digits")]
    OddDigits,
    #[error("is {0} characters long, too short for a record")]
    TooShort(usize),
    #[error("byte count says {declared} data bytes but the record holds {actual}")]
    LengthMismatch { declared: usize, actual: usize },
    #[error("checksum is {found:#04x}, expected {expected:#04x}")]
    Checksum { found: u8, expected: u8 },
    #[error("record type {0:#04x} is not supported (00, 01, 02, 03, 04, 05 are)")]
    UnknownRecordType(u8),
    #[error("record type {record_type:#04x} must carry {expected} data bytes, has {actual}")]
    BadRecordLength {
        record_type: u8,
        expected: usize,
        actual: usize,
    },
    #[error("data at address {0:#x} overlaps data given earlier")]
    Overlap(u64),
    #[error("record after the end-of-file record")]
    AfterEof,
    #[error("file ends without an end-of-file record (:00000001FF)")]
    MissingEof,
    #[error("file holds no data records")]
    NoData,
    #[error("image spans {0} bytes, more than the 1 MiB a u16 block count can address")]
    TooLarge(u64),
}

/// Errors of the MySensors protocol layer: bad frames from a device, messages that cannot be
/// expressed in MySensors, malformed firmware payloads and HEX files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("input is not UTF-8 (invalid byte at offset {valid_up_to})")]
    NotUtf8 { valid_up_to: usize },
    #[error("expected 6 fields 'node;child;command;ack;type;payload', found {found}")]
    FieldCount { found: usize },
    #[error("MQTT topic needs '<prefix>/node/child/command/ack/type', found {found} segments")]
    TopicSegments { found: usize },
    #[error("{field} {value:?} is not a decimal number")]
    NotANumber { field: FrameField, value: String },
    #[error("{field} {value} is out of range 0..={max}")]
    OutOfRange {
        field: FrameField,
        value: String,
        max: u8,
    },
    #[error("command {0} is not a MySensors 2.x command (0..=4)")]
    UnknownCommand(u8),
    #[error("ack {0:?} must be 0 or 1")]
    InvalidAck(String),
    #[error("payload is {len} bytes, more than the {max} accepted")]
    PayloadTooLong { len: usize, max: usize },
    #[error("payload contains a line break, which would split the line on the wire")]
    LineBreakInPayload,
    #[error("stream payload must be hex digits in pairs: {0}")]
    BadHexPayload(String),
    #[error("{what} payload must be {expected} bytes, got {actual}")]
    PayloadSize {
        what: &'static str,
        expected: &'static str,
        actual: usize,
    },
    #[error("{what} {value:?} is not a MySensors id (0..=255, empty for broadcast)")]
    InvalidAddress { what: &'static str, value: String },
    #[error("message has no payload")]
    MissingPayload,
    #[error("cannot tell which V_ type {0:?} is (set label ms_type or use a V_ name as key)")]
    UnknownValueType(String),
    #[error("{0} cannot be sent as a MySensors frame by the protocol alone")]
    Unsupported(String),
    #[error("firmware image is empty")]
    EmptyFirmware,
    #[error("firmware image of {bytes} bytes needs more than 65535 blocks")]
    FirmwareTooLarge { bytes: usize },
    #[error("firmware has {blocks} blocks, block {block} does not exist")]
    BlockOutOfRange { block: u16, blocks: u16 },
    #[error("Intel HEX line {line}: {reason}")]
    IntelHex { line: usize, reason: HexReason },
}

/// Error text quotes device input; long garbage is cut so a log line stays readable.
pub(crate) fn quote(value: &str) -> String {
    const MAX: usize = 24;
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_bounded() {
        assert_eq!(quote("short"), "short");
        let long = "x".repeat(100);
        assert_eq!(quote(&long).chars().count(), 25);
    }

    #[test]
    fn hex_errors_name_the_line() {
        let e = ProtocolError::IntelHex {
            line: 7,
            reason: HexReason::Checksum {
                found: 0x12,
                expected: 0x34,
            },
        };
        assert_eq!(
            e.to_string(),
            "Intel HEX line 7: checksum is 0x12, expected 0x34"
        );
    }
}
