//! Stream types (`ST_*`, MySensors 2.x `mysensors_stream_t`): firmware transfer and binary data.

use super::table::code_table;

/// The `type` of a stream frame. Unknown codes are kept as their number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamType(pub u8);

code_table!(StreamType, "ST_", {
    /// A node (its bootloader) reports its firmware and asks whether there is a new one.
    ST_FIRMWARE_CONFIG_REQUEST = 0,
    /// The controller names the firmware the node should run (type, version, blocks, CRC).
    ST_FIRMWARE_CONFIG_RESPONSE = 1,
    /// A node asks for one 16-byte block of firmware.
    ST_FIRMWARE_REQUEST = 2,
    /// The controller sends one block.
    ST_FIRMWARE_RESPONSE = 3,
    ST_SOUND = 4,
    ST_IMAGE = 5,
    /// Marks the running firmware as good (MySensors 2.3, MyOTAFirmwareUpdateNVM/mcuboot).
    ST_FIRMWARE_CONFIRM = 6,
    /// A run-length encoded block response (MySensors 2.3).
    ST_FIRMWARE_RESPONSE_RLE = 7,
} aliases {});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_dense_from_0_to_7() {
        let codes: Vec<u8> = StreamType::KNOWN.iter().map(|t| t.code()).collect();
        assert_eq!(codes, (0..=7).collect::<Vec<u8>>());
        assert_eq!(StreamType(0).name(), Some("ST_FIRMWARE_CONFIG_REQUEST"));
        assert_eq!(StreamType(5).name(), Some("ST_IMAGE"));
        assert_eq!(StreamType(8).to_string(), "ST_UNKNOWN_8");
    }
}
