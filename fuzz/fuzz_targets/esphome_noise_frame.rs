//! Any bytes an ESPHome device may send on an encrypted (Noise) connection: the frame decoder
//! always makes progress, and each frame's bytes, as the server hello, the handshake answer and a
//! decrypted message (type, length, payload), are rejected or accepted without panicking; what
//! a decrypted message yields maps to addressable messages.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_gateway::providers::esphome::entity::{Entities, Inbound};
use switchyard_gateway::providers::esphome::frame::Decoded;
use switchyard_gateway::providers::esphome::noise::{self, Handshake};

const PSK: [u8; 32] = [7; 32];

fuzz_target!(|data: &[u8]| {
    let mut entities = Entities::default();
    let mut buf = data;
    let mut first = true;
    while let Some(d) = noise::decode_frame(buf) {
        let n = match d {
            Decoded::Frame(f, n) => {
                let _ = Handshake::server_hello(&f.payload);
                if first {
                    // The handshake answer of a real client handshake.
                    let (hs, _) = Handshake::start(&PSK).expect("a handshake");
                    let _ = hs.finish(&f.payload);
                    first = false;
                }
                if let Ok(inner) = noise::parse_plaintext(&f.payload) {
                    assert!(inner.payload.len() + 4 <= f.payload.len());
                    if let Ok(Inbound::Messages(msgs)) = entities.receive("n", &inner) {
                        for m in msgs {
                            assert!(!m.source_id.contains('.'), "{m:?}");
                        }
                    }
                }
                n
            }
            Decoded::Bad(_, n) => n,
        };
        assert!(n >= 1 && n <= buf.len(), "{n} of {}", buf.len());
        buf = &buf[n..];
    }
});
