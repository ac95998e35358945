//! Over-the-air firmware for MySensors bootloaders (MYSBootloader, DualOptiboot via MySensors OTA).
//!
//! The node's bootloader asks which firmware it should run (`ST_FIRMWARE_CONFIG_REQUEST`), is told
//! type, version, block count and CRC (`ST_FIRMWARE_CONFIG_RESPONSE`), then asks for 16-byte blocks
//! one by one (`ST_FIRMWARE_REQUEST` → `ST_FIRMWARE_RESPONSE`), by default counting down from the
//! last block to 0, and checks the CRC over all blocks before it boots the new image. All payloads
//! are little-endian packed structs written as hex (`MyOTAFirmwareUpdate.h`).

use super::error::ProtocolError;
use super::intel_hex::parse_intel_hex;

/// Bytes per firmware block (MySensors `FIRMWARE_BLOCK_SIZE` for 32-byte radio frames).
pub const BLOCK_SIZE: usize = 16;
/// Images are padded to whole flash pages (ATmega328: 128 bytes) so the last page is fully written.
pub const PAGE_SIZE: usize = 128;
/// MYSBootloader's "erase EEPROM" marker: a config response with 0 blocks and this CRC.
pub const ERASE_EEPROM_CRC: u16 = 0xDA7A;

/// CRC-16 as the bootloaders compute it over the received image: init 0xFFFF, reflected polynomial
/// 0xA001, no final xor (CRC-16/MODBUS).
pub fn crc16(data: &[u8]) -> u16 {
    data.iter().fold(0xFFFF, |crc, byte| {
        (0..8).fold(crc ^ u16::from(*byte), |crc, _| {
            if crc & 1 == 1 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            }
        })
    })
}

/// A firmware ready to serve: padded with 0xFF to whole pages, at most `u16::MAX` blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmwareImage {
    bytes: Vec<u8>,
}

impl FirmwareImage {
    /// Pads to a multiple of [`PAGE_SIZE`] (only if needed: MyController and pymysensors add a whole
    /// extra 0xFF page when the image is already aligned; the bootloader accepts either, as long as
    /// blocks and CRC describe what is served).
    pub fn from_binary(mut bytes: Vec<u8>) -> Result<Self, ProtocolError> {
        if bytes.is_empty() {
            return Err(ProtocolError::EmptyFirmware);
        }
        let padded = bytes.len().div_ceil(PAGE_SIZE) * PAGE_SIZE;
        if padded / BLOCK_SIZE > usize::from(u16::MAX) {
            return Err(ProtocolError::FirmwareTooLarge { bytes: padded });
        }
        bytes.resize(padded, 0xFF);
        Ok(FirmwareImage { bytes })
    }

    /// Reads an Intel HEX file; the image starts at the file's lowest address.
    pub fn from_intel_hex(text: &[u8]) -> Result<Self, ProtocolError> {
        Self::from_binary(parse_intel_hex(text)?.bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn blocks(&self) -> u16 {
        u16::try_from(self.bytes.len() / BLOCK_SIZE).unwrap_or(u16::MAX)
    }

    pub fn crc(&self) -> u16 {
        crc16(&self.bytes)
    }

    /// What to answer a config request with, for this image under the given type and version.
    pub fn config(&self, firmware_type: u16, version: u16) -> FirmwareConfig {
        FirmwareConfig {
            firmware_type,
            version,
            blocks: self.blocks(),
            crc: self.crc(),
        }
    }

    pub fn block(&self, index: u16) -> Option<[u8; BLOCK_SIZE]> {
        let start = usize::from(index) * BLOCK_SIZE;
        self.bytes.get(start..start + BLOCK_SIZE)?.try_into().ok()
    }

    /// Serves whatever block is asked for, in whatever order; type and version are echoed.
    pub fn respond(&self, request: &FirmwareRequest) -> Result<FirmwareResponse, ProtocolError> {
        let data = self
            .block(request.block)
            .ok_or(ProtocolError::BlockOutOfRange {
                block: request.block,
                blocks: self.blocks(),
            })?;
        Ok(FirmwareResponse {
            firmware_type: request.firmware_type,
            version: request.version,
            block: request.block,
            data,
        })
    }
}

/// The order in which a node asks for blocks (node label `ota_block_order`): MySensors' own OTA and
/// MYSBootloader count down; some bootloaders count up. Only progress reporting depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlockOrder {
    Forward,
    #[default]
    Reverse,
}

impl BlockOrder {
    pub fn from_label(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "forward" => Some(BlockOrder::Forward),
            "reverse" => Some(BlockOrder::Reverse),
            _ => None,
        }
    }

    /// The block numbers in the order the node will ask for them.
    pub fn sequence(self, blocks: u16) -> Box<dyn Iterator<Item = u16>> {
        match self {
            BlockOrder::Forward => Box::new(0..blocks),
            BlockOrder::Reverse => Box::new((0..blocks).rev()),
        }
    }

    /// How many blocks a node has received once it asks for `block`, for progress reports.
    pub fn blocks_done(self, block: u16, blocks: u16) -> u16 {
        match self {
            BlockOrder::Forward => block.min(blocks),
            BlockOrder::Reverse => blocks.saturating_sub(block.saturating_add(1)),
        }
    }
}

/// The firmware a node runs or should run: the body of `ST_FIRMWARE_CONFIG_RESPONSE` and the first
/// four fields of the request (`nodeFirmwareConfig_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirmwareConfig {
    pub firmware_type: u16,
    pub version: u16,
    pub blocks: u16,
    pub crc: u16,
}

impl FirmwareConfig {
    /// MYSBootloader erases the node's EEPROM when told to run type 1 with 0 blocks and CRC 0xDA7A
    /// (the `reset` action); it then asks again and gets the real firmware.
    pub fn erase_eeprom() -> Self {
        FirmwareConfig {
            firmware_type: 1,
            version: 0,
            blocks: 0,
            crc: ERASE_EEPROM_CRC,
        }
    }

    pub fn encode_hex(&self) -> String {
        encode_words(&[self.firmware_type, self.version, self.blocks, self.crc])
    }

    pub fn decode_hex(payload: &str) -> Result<Self, ProtocolError> {
        let [firmware_type, version, blocks, crc] =
            decode_words("firmware config", "8", payload, 8)?;
        Ok(FirmwareConfig {
            firmware_type,
            version,
            blocks,
            crc,
        })
    }
}

/// A bootloader's `ST_FIRMWARE_CONFIG_REQUEST`: what it runs now and its own version
/// (`requestFirmwareConfig_t`). MySensors 2.3 with `FIRMWARE_PROTOCOL_31` appends 8 more bytes
/// (block size, mcuboot image state); they are accepted and not needed to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirmwareConfigRequest {
    pub current: FirmwareConfig,
    pub bootloader_version: u16,
}

impl FirmwareConfigRequest {
    pub fn encode_hex(&self) -> String {
        let c = &self.current;
        encode_words(&[
            c.firmware_type,
            c.version,
            c.blocks,
            c.crc,
            self.bootloader_version,
        ])
    }

    pub fn decode_hex(payload: &str) -> Result<Self, ProtocolError> {
        let bytes = decode_hex(payload)?;
        if bytes.len() != 10 && bytes.len() != 18 {
            return Err(ProtocolError::PayloadSize {
                what: "firmware config request",
                expected: "10 (or 18 with protocol 3.1)",
                actual: bytes.len(),
            });
        }
        let [firmware_type, version, blocks, crc, bootloader_version] = words(&bytes[..10]);
        Ok(FirmwareConfigRequest {
            current: FirmwareConfig {
                firmware_type,
                version,
                blocks,
                crc,
            },
            bootloader_version,
        })
    }
}

/// `ST_FIRMWARE_REQUEST`: one block of a given firmware (`requestFirmwareBlock_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirmwareRequest {
    pub firmware_type: u16,
    pub version: u16,
    pub block: u16,
}

impl FirmwareRequest {
    pub fn encode_hex(&self) -> String {
        encode_words(&[self.firmware_type, self.version, self.block])
    }

    pub fn decode_hex(payload: &str) -> Result<Self, ProtocolError> {
        let [firmware_type, version, block] = decode_words("firmware request", "6", payload, 6)?;
        Ok(FirmwareRequest {
            firmware_type,
            version,
            block,
        })
    }
}

/// `ST_FIRMWARE_RESPONSE`: one block (`replyFirmwareBlock_t`), 22 bytes, 44 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirmwareResponse {
    pub firmware_type: u16,
    pub version: u16,
    pub block: u16,
    pub data: [u8; BLOCK_SIZE],
}

impl FirmwareResponse {
    pub fn encode_hex(&self) -> String {
        let mut hex = encode_words(&[self.firmware_type, self.version, self.block]);
        hex.push_str(&encode_hex(&self.data));
        hex
    }

    pub fn decode_hex(payload: &str) -> Result<Self, ProtocolError> {
        let bytes = decode_hex(payload)?;
        let data = bytes
            .get(6..)
            .and_then(|d| <[u8; BLOCK_SIZE]>::try_from(d).ok());
        let Some(data) = data else {
            return Err(ProtocolError::PayloadSize {
                what: "firmware response",
                expected: "22",
                actual: bytes.len(),
            });
        };
        let [firmware_type, version, block] = words(&bytes[..6]);
        Ok(FirmwareResponse {
            firmware_type,
            version,
            block,
            data,
        })
    }
}

/// Upper-case hex, as MyController sends it; the bootloaders read either case.
pub fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

pub fn decode_hex(payload: &str) -> Result<Vec<u8>, ProtocolError> {
    if let Some(bad) = payload.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(ProtocolError::BadHexPayload(format!(
            "{bad:?} is not a hex digit"
        )));
    }
    if !payload.len().is_multiple_of(2) {
        return Err(ProtocolError::BadHexPayload(format!(
            "{} digits, an odd count",
            payload.len()
        )));
    }
    Ok(payload
        .as_bytes()
        .chunks_exact(2)
        .map(|pair| (nibble(pair[0]) << 4) | nibble(pair[1]))
        .collect())
}

/// The value of an ASCII hex digit (callers have checked that it is one).
fn nibble(digit: u8) -> u8 {
    (digit as char).to_digit(16).unwrap_or(0) as u8
}

fn encode_words(words: &[u16]) -> String {
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    encode_hex(&bytes)
}

fn decode_words<const N: usize>(
    what: &'static str,
    expected: &'static str,
    payload: &str,
    len: usize,
) -> Result<[u16; N], ProtocolError> {
    let bytes = decode_hex(payload)?;
    if bytes.len() != len {
        return Err(ProtocolError::PayloadSize {
            what,
            expected,
            actual: bytes.len(),
        });
    }
    Ok(words(&bytes))
}

/// Little-endian u16s from the first `2 * N` bytes (callers check the length).
fn words<const N: usize>(bytes: &[u8]) -> [u16; N] {
    std::array::from_fn(|i| u16::from_le_bytes([bytes[2 * i], bytes[2 * i + 1]]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::mysensors::protocol::intel_hex::tests::write_intel_hex;
    use proptest::prelude::*;

    #[test]
    fn crc_is_crc16_modbus() {
        assert_eq!(crc16(b"123456789"), 0x4B37);
        assert_eq!(crc16(&[]), 0xFFFF);
    }

    #[test]
    fn images_are_padded_to_whole_pages_only_when_needed() {
        let image = FirmwareImage::from_binary(vec![0x0C; 130]).unwrap();
        assert_eq!(image.as_bytes().len(), 256);
        assert_eq!(image.blocks(), 16);
        assert!(image.as_bytes()[130..].iter().all(|b| *b == 0xFF));
        assert_eq!(image.crc(), crc16(image.as_bytes()));
        let aligned = FirmwareImage::from_binary(vec![0; 128]).unwrap();
        assert_eq!(aligned.blocks(), 8);
        assert_eq!(
            FirmwareImage::from_binary(vec![]),
            Err(ProtocolError::EmptyFirmware)
        );
    }

    #[test]
    fn hex_files_become_images() {
        let data: Vec<u8> = (0..=255).collect();
        let image = FirmwareImage::from_intel_hex(write_intel_hex(0, &data).as_bytes()).unwrap();
        assert_eq!(&image.as_bytes()[..256], &data[..]);
        assert_eq!(image.blocks(), 16);
        assert_eq!(image.block(1).unwrap()[0], 16);
        assert_eq!(image.block(16), None);
    }

    #[test]
    fn config_payloads_are_little_endian_hex() {
        let config = FirmwareConfig {
            firmware_type: 1,
            version: 2,
            blocks: 0x0120,
            crc: 0xABCD,
        };
        assert_eq!(config.encode_hex(), "010002002001CDAB");
        assert_eq!(FirmwareConfig::decode_hex("010002002001cdab"), Ok(config));
        let erase = FirmwareConfig::erase_eeprom();
        assert_eq!(erase.encode_hex(), "0100000000007ADA");
    }

    #[test]
    fn config_request_reads_bootloader_version_and_protocol_31_extras() {
        let request = FirmwareConfigRequest::decode_hex("FFFFFFFFFFFFFFFF0201").unwrap();
        assert_eq!(request.current.firmware_type, 0xFFFF);
        assert_eq!(request.bootloader_version, 0x0102);
        assert_eq!(request.encode_hex(), "FFFFFFFFFFFFFFFF0201");
        let v31 = FirmwareConfigRequest::decode_hex("0100020010003412030110010000050000000000")
            .unwrap_err();
        assert!(matches!(v31, ProtocolError::PayloadSize { actual: 20, .. }));
        let v31 =
            FirmwareConfigRequest::decode_hex("010002001000341203011001000005000000").unwrap();
        assert_eq!(
            (v31.current.blocks, v31.current.crc, v31.bootloader_version),
            (16, 0x1234, 0x0103)
        );
    }

    #[test]
    fn block_requests_are_served_in_any_order() {
        let image = FirmwareImage::from_binary((0..=255).collect()).unwrap();
        let request = FirmwareRequest::decode_hex("0A0003000F00").unwrap();
        assert_eq!(
            request,
            FirmwareRequest {
                firmware_type: 10,
                version: 3,
                block: 15
            }
        );
        let response = image.respond(&request).unwrap();
        assert_eq!(response.data[0], 240);
        let hex = response.encode_hex();
        assert_eq!(&hex[..12], "0A0003000F00");
        assert_eq!(hex.len(), 44);
        assert_eq!(FirmwareResponse::decode_hex(&hex), Ok(response));
        let past_end = FirmwareRequest {
            block: 16,
            ..request
        };
        assert_eq!(
            image.respond(&past_end),
            Err(ProtocolError::BlockOutOfRange {
                block: 16,
                blocks: 16
            })
        );
    }

    #[test]
    fn malformed_payloads_are_rejected_with_reasons() {
        assert!(matches!(
            FirmwareRequest::decode_hex("0A00030"),
            Err(ProtocolError::BadHexPayload(_))
        ));
        assert!(matches!(
            FirmwareRequest::decode_hex("0A00030G0F00"),
            Err(ProtocolError::BadHexPayload(_))
        ));
        assert!(matches!(
            FirmwareRequest::decode_hex("+A0003000F00"),
            Err(ProtocolError::BadHexPayload(_))
        ));
        assert!(matches!(
            FirmwareRequest::decode_hex("0A000300"),
            Err(ProtocolError::PayloadSize { actual: 4, .. })
        ));
        assert!(matches!(
            FirmwareConfig::decode_hex(""),
            Err(ProtocolError::PayloadSize { actual: 0, .. })
        ));
        assert!(matches!(
            FirmwareResponse::decode_hex("0A0003000F00"),
            Err(ProtocolError::PayloadSize { actual: 6, .. })
        ));
    }

    #[test]
    fn block_order_helpers() {
        assert_eq!(
            BlockOrder::default().sequence(3).collect::<Vec<_>>(),
            vec![2, 1, 0]
        );
        assert_eq!(
            BlockOrder::Forward.sequence(3).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        assert_eq!(
            BlockOrder::from_label(" Forward "),
            Some(BlockOrder::Forward)
        );
        assert_eq!(BlockOrder::from_label("sideways"), None);
        assert_eq!(BlockOrder::Reverse.blocks_done(15, 16), 0);
        assert_eq!(BlockOrder::Reverse.blocks_done(0, 16), 15);
        assert_eq!(BlockOrder::Forward.blocks_done(4, 16), 4);
    }

    proptest! {
        #[test]
        fn payload_structs_round_trip(t in any::<u16>(), v in any::<u16>(), b in any::<u16>(), c in any::<u16>(), data in any::<[u8; 16]>()) {
            let config = FirmwareConfig { firmware_type: t, version: v, blocks: b, crc: c };
            prop_assert_eq!(FirmwareConfig::decode_hex(&config.encode_hex())?, config);
            let request = FirmwareConfigRequest { current: config, bootloader_version: b };
            prop_assert_eq!(FirmwareConfigRequest::decode_hex(&request.encode_hex())?, request);
            let block = FirmwareRequest { firmware_type: t, version: v, block: b };
            prop_assert_eq!(FirmwareRequest::decode_hex(&block.encode_hex())?, block);
            let response = FirmwareResponse { firmware_type: t, version: v, block: b, data };
            prop_assert_eq!(FirmwareResponse::decode_hex(&response.encode_hex())?, response);
        }

        #[test]
        fn every_block_is_served_once_in_either_order(len in 1usize..2000) {
            let image = FirmwareImage::from_binary(vec![0xA5; len])?;
            for order in [BlockOrder::Forward, BlockOrder::Reverse] {
                let mut served = Vec::new();
                for block in order.sequence(image.blocks()) {
                    served.extend_from_slice(&image.block(block).ok_or_else(|| TestCaseError::fail("missing block"))?);
                }
                prop_assert_eq!(served.len(), image.as_bytes().len());
            }
        }
    }
}
