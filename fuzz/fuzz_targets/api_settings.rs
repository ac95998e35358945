//! System settings as an admin posts them (`POST /api/settings`, the whole body), through the
//! whole API (see `common/api.rs`).
//!
//! Checks: no panic, no 5xx, errors in the API's shape; whatever was accepted is read back
//! (`GET /api/settings` answers 200), so no body can store settings the server cannot read.

#![no_main]

#[path = "../common/api.rs"]
mod api;

use axum::http::{Method, StatusCode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let api = api::api();
    let (status, _) = api.call(Method::POST, "/api/settings", data, true);
    if status == StatusCode::OK {
        let (status, answer) = api.call(Method::GET, "/api/settings", b"", true);
        assert_eq!(
            status,
            StatusCode::OK,
            "accepted settings do not read back: {answer}"
        );
    }
});
