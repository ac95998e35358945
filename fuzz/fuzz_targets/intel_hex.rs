//! Any uploaded "HEX file": parsing is rejected with a reason or yields an image, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_gateway::providers::mysensors::protocol::firmware::FirmwareImage;

fuzz_target!(|data: &[u8]| {
    if let Ok(image) = FirmwareImage::from_intel_hex(data) {
        assert_eq!(image.as_bytes().len() % 128, 0);
        assert_eq!(usize::from(image.blocks()) * 16, image.as_bytes().len());
    }
});
