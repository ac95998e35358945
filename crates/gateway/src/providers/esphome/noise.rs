//! The encrypted transport of ESPHome's native API: Noise `NNpsk0_25519_ChaChaPoly_SHA256` with
//! prologue `NoiseAPIInit\0\0` and the node's 32-byte key as PSK. Frames are `0x01`, u16 BE
//! length, then the bytes (a handshake message or a ciphertext); a ciphertext's plaintext is
//! u16 BE message type, u16 BE payload length, payload. Pure: no I/O.

use super::frame::{Decoded, Frame, FrameError, NOISE};
use base64::Engine as _;
use snow::{HandshakeState, StatelessTransportState};
use std::sync::Arc;

const PATTERN: &str = "Noise_NNpsk0_25519_ChaChaPoly_SHA256";
const PROLOGUE: &[u8] = b"NoiseAPIInit\x00\x00";
/// A Noise message is at most 65535 bytes; the tag takes 16.
pub const MAX_CIPHERTEXT: usize = u16::MAX as usize;

/// Why the encrypted transport failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoiseError {
    #[error("`encryptionKey` must be 32 bytes in base64 (as in the device's YAML): {0}")]
    Key(String),
    #[error("the device refused the handshake: {0} (check `encryptionKey`)")]
    Refused(String),
    #[error("the device does not offer the Noise protocol (offered {0:#04x})")]
    Protocol(u8),
    #[error("noise: {0}")]
    Snow(String),
    #[error("message of {0} bytes is too large to encrypt")]
    TooLarge(usize),
    #[error("cannot decrypt (wrong key or a corrupted frame)")]
    Decrypt,
    #[error("decrypted message is shorter than its header or its stated length")]
    Short,
}

fn snow(e: snow::Error) -> NoiseError {
    NoiseError::Snow(e.to_string())
}

/// The PSK from `encryptionKey`.
pub fn parse_key(key: &str) -> Result<[u8; 32], NoiseError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key.trim())
        .map_err(|e| NoiseError::Key(e.to_string()))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| NoiseError::Key(format!("{} bytes", b.len())))
}

/// One noise frame around `bytes`.
pub fn encode_frame(bytes: &[u8]) -> Result<Vec<u8>, NoiseError> {
    let len = u16::try_from(bytes.len()).map_err(|_| NoiseError::TooLarge(bytes.len()))?;
    let mut out = Vec::with_capacity(bytes.len() + 3);
    out.push(NOISE);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(out)
}

/// The noise frame at the start of `buf` (its bytes in a [`Frame`] with type 0), `None` when more
/// bytes are needed.
pub fn decode_frame(buf: &[u8]) -> Option<Decoded> {
    let first = *buf.first()?;
    if first != NOISE {
        let skip = buf.iter().position(|b| *b == NOISE).unwrap_or(buf.len());
        return Some(Decoded::Bad(FrameError::Preamble(first), skip.max(1)));
    }
    let len = u16::from_be_bytes([*buf.get(1)?, *buf.get(2)?]) as usize;
    let end = 3 + len;
    let bytes = buf.get(3..end)?;
    Some(Decoded::Frame(
        Frame {
            message_type: 0,
            payload: bytes.to_vec(),
        },
        end,
    ))
}

/// The client's side of the handshake.
pub struct Handshake(HandshakeState);

impl Handshake {
    /// Starts the handshake; the bytes to send are the client hello (an empty frame) and the
    /// first handshake message.
    pub fn start(psk: &[u8; 32]) -> Result<(Handshake, Vec<u8>), NoiseError> {
        let params = PATTERN.parse().map_err(snow)?;
        let mut hs = snow::Builder::new(params)
            .prologue(PROLOGUE)
            .map_err(snow)?
            .psk(0, psk)
            .map_err(snow)?
            .build_initiator()
            .map_err(snow)?;
        let mut msg = vec![0u8; 128];
        let n = hs.write_message(&[], &mut msg).map_err(snow)?;
        let mut handshake = vec![0u8];
        handshake.extend_from_slice(&msg[..n]);
        let mut out = encode_frame(&[])?;
        out.extend(encode_frame(&handshake)?);
        Ok((Handshake(hs), out))
    }

    /// The server hello: the chosen protocol (1 = Noise), then the device's name.
    pub fn server_hello(payload: &[u8]) -> Result<String, NoiseError> {
        match payload.first() {
            Some(1) => {}
            other => return Err(NoiseError::Protocol(other.copied().unwrap_or(0))),
        }
        let name = payload[1..].split(|b| *b == 0).next().unwrap_or_default();
        Ok(String::from_utf8_lossy(name).into_owned())
    }

    /// The server's handshake answer; then the transport is ready.
    pub fn finish(mut self, payload: &[u8]) -> Result<Transport, NoiseError> {
        match payload.split_first() {
            Some((0, msg)) => {
                let mut buf = vec![0u8; 128];
                self.0.read_message(msg, &mut buf).map_err(snow)?;
                let state = self.0.into_stateless_transport_mode().map_err(snow)?;
                Ok(Transport {
                    state: Arc::new(state),
                    tx: 0,
                    rx: 0,
                })
            }
            Some((_, text)) => Err(NoiseError::Refused(
                String::from_utf8_lossy(text).chars().take(128).collect(),
            )),
            None => Err(NoiseError::Refused("empty answer".into())),
        }
    }
}

/// The established transport. One direction's nonce each, so the read half and the write half
/// can each own a copy.
pub struct Transport {
    state: Arc<StatelessTransportState>,
    tx: u64,
    rx: u64,
}

impl Transport {
    /// One copy for the write half, one for the read half.
    pub fn split(self) -> (Transport, Transport) {
        let other = Transport {
            state: self.state.clone(),
            tx: self.tx,
            rx: self.rx,
        };
        (self, other)
    }

    /// A frame carrying `frame` encrypted.
    pub fn encrypt(&mut self, frame: &Frame) -> Result<Vec<u8>, NoiseError> {
        let too_large = || NoiseError::TooLarge(frame.payload.len());
        let t = u16::try_from(frame.message_type).map_err(|_| too_large())?;
        let len = u16::try_from(frame.payload.len()).map_err(|_| too_large())?;
        let mut plain = Vec::with_capacity(frame.payload.len() + 4);
        plain.extend_from_slice(&t.to_be_bytes());
        plain.extend_from_slice(&len.to_be_bytes());
        plain.extend_from_slice(&frame.payload);
        if plain.len() + 16 > MAX_CIPHERTEXT {
            return Err(too_large());
        }
        let mut out = vec![0u8; plain.len() + 16];
        let n = self
            .state
            .write_message(self.tx, &plain, &mut out)
            .map_err(snow)?;
        self.tx += 1;
        encode_frame(&out[..n])
    }

    /// The frame inside one ciphertext.
    pub fn decrypt(&mut self, ciphertext: &[u8]) -> Result<Frame, NoiseError> {
        let mut plain = vec![0u8; ciphertext.len()];
        let n = self
            .state
            .read_message(self.rx, ciphertext, &mut plain)
            .map_err(|_| NoiseError::Decrypt)?;
        self.rx += 1;
        parse_plaintext(&plain[..n])
    }
}

/// The frame in a decrypted message: u16 BE type, u16 BE payload length, payload (bytes after
/// the stated length are ignored).
pub fn parse_plaintext(plain: &[u8]) -> Result<Frame, NoiseError> {
    let (Some(t), Some(len)) = (plain.get(0..2), plain.get(2..4)) else {
        return Err(NoiseError::Short);
    };
    let message_type = u32::from(u16::from_be_bytes([t[0], t[1]]));
    let len = u16::from_be_bytes([len[0], len[1]]) as usize;
    let payload = plain.get(4..4 + len).ok_or(NoiseError::Short)?.to_vec();
    Ok(Frame {
        message_type,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: &str = "px7tsbK3C7bpXHr2OevEV2ZMg/FrNBw2+O2pNPbedtA=";

    /// A responder as a device would run it, to test the client against.
    fn pair() -> (Transport, StatelessTransportState) {
        let psk = parse_key(KEY).unwrap();
        let (hs, hello) = Handshake::start(&psk).unwrap();
        assert_eq!(&hello[..3], &[1, 0, 0]);
        let Some(Decoded::Frame(f, _)) = decode_frame(&hello[3..]) else {
            panic!()
        };
        assert_eq!(f.payload[0], 0);
        let mut device = snow::Builder::new(PATTERN.parse().unwrap())
            .prologue(PROLOGUE)
            .unwrap()
            .psk(0, &psk)
            .unwrap()
            .build_responder()
            .unwrap();
        let mut buf = [0u8; 128];
        device.read_message(&f.payload[1..], &mut buf).unwrap();
        let mut answer = vec![0u8; 128];
        let n = device.write_message(&[], &mut answer[1..]).unwrap();
        answer.truncate(n + 1);
        assert_eq!(
            Handshake::server_hello(b"\x01kitchen\x00AA:BB\x00").unwrap(),
            "kitchen"
        );
        let client = hs.finish(&answer).unwrap();
        (client, device.into_stateless_transport_mode().unwrap())
    }

    #[test]
    fn handshake_and_messages_with_a_responder() {
        let (mut client, device) = pair();
        let f = Frame {
            message_type: 33,
            payload: vec![1, 2, 3],
        };
        let bytes = client.encrypt(&f).unwrap();
        let Some(Decoded::Frame(c, n)) = decode_frame(&bytes) else {
            panic!()
        };
        assert_eq!(n, bytes.len());
        let mut plain = [0u8; 64];
        let k = device.read_message(0, &c.payload, &mut plain).unwrap();
        assert_eq!(&plain[..k], &[0, 33, 0, 3, 1, 2, 3]);
        let mut cipher = [0u8; 64];
        let k = device.write_message(0, &[0, 8, 0, 0], &mut cipher).unwrap();
        assert_eq!(
            client.decrypt(&cipher[..k]).unwrap(),
            Frame {
                message_type: 8,
                payload: vec![]
            }
        );
        // A replayed or corrupted frame does not decrypt.
        assert_eq!(client.decrypt(&cipher[..k]), Err(NoiseError::Decrypt));
    }

    #[test]
    fn bad_keys_and_refusals_say_why() {
        assert!(
            parse_key("c2hvcnQ=")
                .unwrap_err()
                .to_string()
                .contains("5 bytes")
        );
        assert!(parse_key("!!").is_err());
        let (hs, _) = Handshake::start(&parse_key(KEY).unwrap()).unwrap();
        let err = hs.finish(b"\x01Handshake MAC failure").err().unwrap();
        assert!(err.to_string().contains("Handshake MAC failure"), "{err}");
        assert_eq!(Handshake::server_hello(&[0]), Err(NoiseError::Protocol(0)));
    }

    proptest! {
        #[test]
        fn frame_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
            let f = encode_frame(&bytes).unwrap();
            prop_assert_eq!(decode_frame(&f), Some(Decoded::Frame(Frame { message_type: 0, payload: bytes.clone() }, f.len())));
            for cut in 0..f.len() {
                prop_assert_eq!(decode_frame(&f[..cut]), None);
            }
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Some(Decoded::Frame(_, n) | Decoded::Bad(_, n)) = decode_frame(&bytes) {
                prop_assert!(n >= 1 && n <= bytes.len());
            }
        }
    }
}
