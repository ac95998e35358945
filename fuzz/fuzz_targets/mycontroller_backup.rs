//! Any bytes given to `switchyard storage import-mycontroller` as a MyController backup: reading
//! and mapping never panic, only refuse, and what is accepted has ids and plain firmware names.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Cursor;
use switchyard_server::mycontroller_backup::read_from;

fuzz_target!(|data: &[u8]| {
    let Ok(backup) = read_from(Cursor::new(data)) else {
        return;
    };
    for (kind, docs) in &backup.snapshot {
        assert_eq!(backup.report.imported.get(kind), Some(&docs.len()));
        for d in docs {
            assert!(switchyard_core::storage::document_id(d).is_ok(), "{kind}: {d}");
        }
    }
    assert_eq!(backup.report.firmware_files, backup.firmware.len());
});
