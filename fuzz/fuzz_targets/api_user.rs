//! User administration bodies through the whole API (see `common/api.rs`): the first byte picks
//! `POST /api/user` (create or update; passwords hashed) or `DELETE /api/user` (an id list),
//! the rest is the body.
//!
//! Checks: no panic, no 5xx, errors in the API's shape; after an accepted change the user list
//! still reads (`GET /api/user` 200) and holds no password hash. The acting admin is one no input
//! can name, so its session survives whatever the inputs change.

#![no_main]

#[path = "../common/api.rs"]
mod api;

use axum::http::{Method, StatusCode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let api = api::api();
    let method = if selector & 1 == 0 {
        Method::POST
    } else {
        Method::DELETE
    };
    let (status, _) = api.call(method, "/api/user", body, true);
    if status.is_success() {
        let (status, list) = api.call(Method::GET, "/api/user", b"", true);
        assert_eq!(status, StatusCode::OK, "users do not read back: {list}");
        for user in list["data"].as_array().into_iter().flatten() {
            assert!(
                user.get("password").is_none(),
                "a password hash in the list: {user}"
            );
        }
    }
});
