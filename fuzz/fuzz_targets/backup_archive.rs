//! Any bytes uploaded as a backup to restore: reading never panics, only refuses, and what it
//! accepts stays inside its bounds (entries, bytes unpacked, names).

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Cursor;
use switchyard_api::backup::archive::{FORMAT, read};

/// Small, so that deflate bombs within the fuzzer's input size do cross it.
const MAX_TOTAL: u64 = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let Ok(contents) = read(Cursor::new(data), MAX_TOTAL) else {
        return;
    };
    assert_eq!(contents.manifest.format, FORMAT);
    let firmware: usize = contents.firmware.iter().map(|(_, b)| b.len()).sum();
    assert!(firmware as u64 <= MAX_TOTAL);
    for (name, _) in &contents.firmware {
        assert!(
            !name.is_empty() && !name.contains(['/', '\\']) && !name.starts_with('.'),
            "firmware name {name:?}"
        );
    }
    for docs in contents.snapshot.values() {
        for d in docs {
            assert!(switchyard_core::storage::document_id(d).is_ok());
        }
    }
});
