//! Intel HEX, the format Arduino builds firmware in, read into one contiguous binary image.
//!
//! Every record's checksum is verified and errors name the 1-based line, because a truncated
//! upload or an edited file must be refused before a node is flashed with it. Record types 00
//! (data), 01 (end of file), 02 (extended segment address) and 04 (extended linear address) shape
//! the image; 03 and 05 (start addresses) are checked and ignored, a bootloader does not use them.

use super::error::{HexReason, ProtocolError};

/// The largest image a MySensors firmware config can describe: u16 blocks of 16 bytes.
pub const MAX_IMAGE_BYTES: u64 = u16::MAX as u64 * 16;

/// Firmware bytes from the lowest address in the file; gaps between records are 0xFF (erased
/// flash). The bootloader writes block 0 at address 0, so `start_address` should be 0 for AVR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HexImage {
    pub start_address: u32,
    pub bytes: Vec<u8>,
}

/// Parses a whole HEX file. Blank lines and `\r` are tolerated; nothing but blank lines may follow
/// the end-of-file record.
pub fn parse_intel_hex(text: &[u8]) -> Result<HexImage, ProtocolError> {
    let mut segments: Vec<Segment> = Vec::new();
    let mut base: u64 = 0;
    let mut eof_line = None;
    let mut line_count = 0;
    for (index, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        line_count = line;
        let record = raw.trim_ascii();
        if record.is_empty() {
            continue;
        }
        let fail = |reason| ProtocolError::IntelHex { line, reason };
        if eof_line.is_some() {
            return Err(fail(HexReason::AfterEof));
        }
        let (record_type, address, data) = decode_record(record).map_err(fail)?;
        match record_type {
            0x00 if !data.is_empty() => segments.push(Segment {
                address: base + u64::from(address),
                data,
                line,
            }),
            0x00 => {}
            0x01 => {
                expect_len(record_type, &data, 0).map_err(fail)?;
                eof_line = Some(line);
            }
            0x02 => {
                expect_len(record_type, &data, 2).map_err(fail)?;
                base = u64::from(u16::from_be_bytes([data[0], data[1]])) << 4;
            }
            0x04 => {
                expect_len(record_type, &data, 2).map_err(fail)?;
                base = u64::from(u16::from_be_bytes([data[0], data[1]])) << 16;
            }
            0x03 | 0x05 => expect_len(record_type, &data, 4).map_err(fail)?,
            other => return Err(fail(HexReason::UnknownRecordType(other))),
        }
    }
    if eof_line.is_none() {
        return Err(ProtocolError::IntelHex {
            line: line_count,
            reason: HexReason::MissingEof,
        });
    }
    assemble(segments, line_count)
}

fn expect_len(record_type: u8, data: &[u8], expected: usize) -> Result<(), HexReason> {
    if data.len() == expected {
        Ok(())
    } else {
        Err(HexReason::BadRecordLength {
            record_type,
            expected,
            actual: data.len(),
        })
    }
}

/// `:LLAAAATT<data>CC` → (type, address, data), checksum verified.
fn decode_record(record: &[u8]) -> Result<(u8, u16, Vec<u8>), HexReason> {
    let digits = record.strip_prefix(b":").ok_or(HexReason::MissingColon)?;
    if digits.len() < 10 {
        return Err(HexReason::TooShort(record.len()));
    }
    if !digits.len().is_multiple_of(2) {
        return Err(HexReason::OddDigits);
    }
    let bytes = digits
        .chunks_exact(2)
        .map(|pair| Some(hex_digit(pair[0])? << 4 | hex_digit(pair[1])?))
        .collect::<Option<Vec<u8>>>()
        .ok_or(HexReason::NotHex)?;
    let declared = usize::from(bytes[0]);
    let actual = bytes.len() - 5;
    if declared != actual {
        return Err(HexReason::LengthMismatch { declared, actual });
    }
    let (body, checksum) = bytes.split_at(bytes.len() - 1);
    let expected = checksum_of(body);
    if checksum[0] != expected {
        return Err(HexReason::Checksum {
            found: checksum[0],
            expected,
        });
    }
    Ok((
        bytes[3],
        u16::from_be_bytes([bytes[1], bytes[2]]),
        body[4..].to_vec(),
    ))
}

/// The two's complement of the byte sum, so that all bytes of a record sum to zero.
pub fn checksum_of(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0u8, |sum, b| sum.wrapping_add(*b))
        .wrapping_neg()
}

fn hex_digit(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// A data record's bytes at their absolute address, with the line they came from for errors.
struct Segment {
    address: u64,
    data: Vec<u8>,
    line: usize,
}

fn assemble(mut segments: Vec<Segment>, line_count: usize) -> Result<HexImage, ProtocolError> {
    segments.sort_by_key(|s| s.address);
    let (Some(first), Some(last)) = (segments.first(), segments.last()) else {
        return Err(ProtocolError::IntelHex {
            line: line_count,
            reason: HexReason::NoData,
        });
    };
    let start = first.address;
    let span = last.address + last.data.len() as u64 - start;
    if span > MAX_IMAGE_BYTES || start > u64::from(u32::MAX) {
        return Err(ProtocolError::IntelHex {
            line: last.line,
            reason: HexReason::TooLarge(span),
        });
    }
    let mut bytes = vec![0xFF; span as usize];
    let mut written_to = start;
    for segment in &segments {
        if segment.address < written_to {
            return Err(ProtocolError::IntelHex {
                line: segment.line,
                reason: HexReason::Overlap(segment.address),
            });
        }
        let offset = (segment.address - start) as usize;
        bytes[offset..offset + segment.data.len()].copy_from_slice(&segment.data);
        written_to = segment.address + segment.data.len() as u64;
    }
    Ok(HexImage {
        start_address: start as u32,
        bytes,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An independent writer for the round-trip property: 16-byte data records, an extended
    /// linear address record whenever the upper 16 bits change, then EOF.
    pub(crate) fn write_intel_hex(start: u32, data: &[u8]) -> String {
        let mut out = String::new();
        let mut upper = None;
        let mut record = |kind: u8, address: u16, payload: &[u8]| {
            let mut bytes = vec![
                payload.len() as u8,
                (address >> 8) as u8,
                address as u8,
                kind,
            ];
            bytes.extend_from_slice(payload);
            let sum = bytes.iter().fold(0u32, |s, b| s + u32::from(*b));
            bytes.push((0x100 - (sum & 0xFF)) as u8);
            out.push(':');
            for b in bytes {
                out.push_str(&format!("{b:02X}"));
            }
            out.push_str("\r\n");
        };
        for (i, chunk) in data.chunks(16).enumerate() {
            let address = start + (i * 16) as u32;
            if upper != Some(address >> 16) {
                upper = Some(address >> 16);
                record(0x04, 0, &((address >> 16) as u16).to_be_bytes());
            }
            record(0x00, address as u16, chunk);
        }
        record(0x01, 0, &[]);
        out
    }

    const SAMPLE: &str = ":10010000214601360121470136007EFE09D2190140\n\
                          :100110002146017E17C20001FF5F16002148011928\n\
                          :00000001FF\n";

    #[test]
    fn reads_the_wikipedia_sample() {
        let image = parse_intel_hex(SAMPLE.as_bytes()).unwrap();
        assert_eq!(image.start_address, 0x100);
        assert_eq!(image.bytes.len(), 32);
        assert_eq!(&image.bytes[..4], &[0x21, 0x46, 0x01, 0x36]);
    }

    #[test]
    fn a_bad_checksum_names_its_line() {
        let bad = SAMPLE.replace("1928", "1929");
        let err = parse_intel_hex(bad.as_bytes()).unwrap_err();
        assert_eq!(
            err,
            ProtocolError::IntelHex {
                line: 2,
                reason: HexReason::Checksum {
                    found: 0x29,
                    expected: 0x28
                }
            }
        );
        assert!(err.to_string().starts_with("Intel HEX line 2: checksum"));
    }

    #[test]
    fn gaps_are_erased_flash_and_addresses_extend() {
        let text = ":020000040001F9\n:0100000011EE\n:0100030022DA\n:00000001FF\n";
        let image = parse_intel_hex(text.as_bytes()).unwrap();
        assert_eq!(image.start_address, 0x1_0000);
        assert_eq!(image.bytes, vec![0x11, 0xFF, 0xFF, 0x22]);
        let segment = ":020000021000EC\n:0100000011EE\n:00000001FF\n";
        assert_eq!(
            parse_intel_hex(segment.as_bytes()).unwrap().start_address,
            0x1_0000
        );
    }

    #[test]
    fn start_address_records_are_ignored() {
        let text = ":0400000300003800C1\n:0100000011EE\n:0400000508000000EF\n:00000001FF\n";
        assert_eq!(parse_intel_hex(text.as_bytes()).unwrap().bytes, vec![0x11]);
    }

    #[test]
    fn every_rejection_has_its_reason() {
        let reason = |text: &str| match parse_intel_hex(text.as_bytes()) {
            Err(ProtocolError::IntelHex { line, reason }) => (line, reason),
            other => panic!("expected a HEX error, got {other:?}"),
        };
        assert_eq!(
            reason("0100000011EE\n:00000001FF"),
            (1, HexReason::MissingColon)
        );
        assert_eq!(reason(":01000000\n"), (1, HexReason::TooShort(9)));
        assert_eq!(reason(":0100000011EG\n"), (1, HexReason::NotHex));
        assert_eq!(reason(":0100000011E\n"), (1, HexReason::OddDigits));
        assert_eq!(
            reason(":0200000011EE\n"),
            (
                1,
                HexReason::LengthMismatch {
                    declared: 2,
                    actual: 1
                }
            )
        );
        assert_eq!(
            reason(":0100000611E8\n"),
            (1, HexReason::UnknownRecordType(6))
        );
        assert_eq!(
            reason(":0100000411EA\n"),
            (
                1,
                HexReason::BadRecordLength {
                    record_type: 4,
                    expected: 2,
                    actual: 1
                }
            )
        );
        assert_eq!(
            reason("\n:0100000011EE\n:0100000022DD\n:00000001FF\n"),
            (3, HexReason::Overlap(0))
        );
        assert_eq!(
            reason(":00000001FF\n:0100000011EE\n"),
            (2, HexReason::AfterEof)
        );
        assert_eq!(reason(":0100000011EE\n"), (2, HexReason::MissingEof));
        assert_eq!(reason(":00000001FF\n"), (2, HexReason::NoData));
        assert_eq!(
            reason(":0100000011EE\n:020000040010EA\n:0100000022DD\n:00000001FF\n"),
            (3, HexReason::TooLarge(0x10_0001))
        );
    }

    #[test]
    fn checksum_makes_the_record_sum_to_zero() {
        assert_eq!(checksum_of(&[0x01, 0x00, 0x00, 0x00, 0x11]), 0xEE);
        assert_eq!(checksum_of(&[0x00, 0x00, 0x00, 0x01]), 0xFF);
    }

    proptest! {
        #[test]
        fn hex_round_trip(start in 0u32..0x3_0000, data in proptest::collection::vec(any::<u8>(), 1..600)) {
            let text = write_intel_hex(start, &data);
            let image = parse_intel_hex(text.as_bytes())?;
            prop_assert_eq!(image.start_address, start);
            prop_assert_eq!(image.bytes, data);
        }
    }
}
