//! The plaintext frame of ESPHome's native API: `0x00`, varint(payload length), varint(message
//! type), payload. Pure: bytes in, frames out, no I/O.

/// The largest payload accepted (ESPHome's own devices send a few KiB at most; camera images are
/// chunked). A longer frame is rejected and skipped so one bad length cannot make us buffer
/// without bound.
pub const MAX_PAYLOAD: usize = 64 * 1024;

const PLAINTEXT: u8 = 0x00;
/// The first byte of an encrypted (Noise) frame.
pub const NOISE: u8 = 0x01;

/// One message of the native API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub message_type: u32,
    pub payload: Vec<u8>,
}

/// Why bytes from a device are not a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame starts with byte {0:#04x}, not 0x00 (plaintext); skipped to the next 0x00")]
    Preamble(u8),
    #[error("the device speaks the encrypted (Noise) protocol; set `encryptionKey` for this node")]
    EncryptionRequired,
    #[error("varint longer than 5 bytes")]
    Varint,
    #[error("payload of {len} bytes is larger than the {max} accepted; skipped")]
    TooLarge { len: usize, max: usize },
}

/// What [`decode`] found at the start of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A frame and the bytes it used.
    Frame(Frame, usize),
    /// A bad frame: drop `skip` bytes (at least 1) and go on.
    Bad(FrameError, usize),
}

/// Encodes one frame.
pub fn encode(message_type: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 11);
    out.push(PLAINTEXT);
    put_varint(&mut out, payload.len() as u32);
    put_varint(&mut out, message_type);
    out.extend_from_slice(payload);
    out
}

/// Decodes the frame at the start of `buf`: `None` when more bytes are needed.
pub fn decode(buf: &[u8]) -> Option<Decoded> {
    let first = *buf.first()?;
    if first != PLAINTEXT {
        let skip = buf
            .iter()
            .position(|b| *b == PLAINTEXT)
            .unwrap_or(buf.len());
        let error = if first == NOISE {
            FrameError::EncryptionRequired
        } else {
            FrameError::Preamble(first)
        };
        return Some(Decoded::Bad(error, skip));
    }
    let (len, a) = match get_varint(&buf[1..]) {
        Ok(Some(v)) => v,
        Ok(None) => return None,
        Err(e) => return Some(Decoded::Bad(e, 1)),
    };
    let (message_type, b) = match get_varint(&buf[1 + a..]) {
        Ok(Some(v)) => v,
        Ok(None) => return None,
        Err(e) => return Some(Decoded::Bad(e, 1)),
    };
    let len = len as usize;
    let header = 1 + a + b;
    if len > MAX_PAYLOAD {
        // Skip the header only: what follows is resynchronised on the next 0x00.
        return Some(Decoded::Bad(
            FrameError::TooLarge {
                len,
                max: MAX_PAYLOAD,
            },
            header,
        ));
    }
    let end = header + len;
    if buf.len() < end {
        return None;
    }
    Some(Decoded::Frame(
        Frame {
            message_type,
            payload: buf[header..end].to_vec(),
        },
        end,
    ))
}

fn put_varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A varint and its length in bytes; `Ok(None)` when `buf` ends inside it.
fn get_varint(buf: &[u8]) -> Result<Option<(u32, usize)>, FrameError> {
    let mut v: u64 = 0;
    for (i, b) in buf.iter().enumerate() {
        if i >= 5 {
            return Err(FrameError::Varint);
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return u32::try_from(v)
                .map(|v| Some((v, i + 1)))
                .map_err(|_| FrameError::Varint);
        }
    }
    if buf.len() >= 5 {
        return Err(FrameError::Varint);
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_bytes() {
        // A PingRequest (type 7, empty) and a 200-byte payload of type 16 (two-byte length).
        assert_eq!(encode(7, &[]), vec![0, 0, 7]);
        let big = encode(16, &[1; 200]);
        assert_eq!(&big[..4], &[0, 0xc8, 0x01, 16]);
        assert_eq!(decode(&[0, 0xc8]), None);
        assert_eq!(decode(&big[..100]), None);
    }

    #[test]
    fn bad_frames_are_skipped_with_a_reason() {
        assert_eq!(
            decode(&[0x7f, 0x41, 0, 0, 7]),
            Some(Decoded::Bad(FrameError::Preamble(0x7f), 2))
        );
        assert_eq!(
            decode(&[1, 0, 3]),
            Some(Decoded::Bad(FrameError::EncryptionRequired, 1))
        );
        assert_eq!(
            decode(&[0, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
            Some(Decoded::Bad(FrameError::Varint, 1))
        );
        let mut huge = vec![0];
        put_varint(&mut huge, 1 << 20);
        huge.push(16);
        assert!(matches!(
            decode(&huge),
            Some(Decoded::Bad(FrameError::TooLarge { .. }, 5))
        ));
    }

    proptest! {
        #[test]
        fn round_trip(t in 0u32..=u32::MAX, payload in proptest::collection::vec(any::<u8>(), 0..600)) {
            let bytes = encode(t, &payload);
            prop_assert_eq!(
                decode(&bytes),
                Some(Decoded::Frame(Frame { message_type: t, payload: payload.clone() }, bytes.len()))
            );
            // Any prefix asks for more bytes.
            for cut in 0..bytes.len() {
                prop_assert_eq!(decode(&bytes[..cut]), None);
            }
        }

        #[test]
        fn garbage_never_panics_and_always_progresses(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Some(Decoded::Frame(_, n) | Decoded::Bad(_, n)) = decode(&bytes) {
                prop_assert!(n >= 1 && n <= bytes.len().max(1));
            }
        }
    }
}
