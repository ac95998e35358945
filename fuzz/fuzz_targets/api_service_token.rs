//! Service-token bodies through the whole API (see `common/api.rs`): the first byte picks
//! `POST /api/servicetoken` (create) or `DELETE /api/servicetoken` (an id list), the rest is the
//! body.
//!
//! Checks: no panic, no 5xx, errors in the API's shape; a created token is answered once and
//! logs in (`POST /api/user/login {token}` 200) unless it has an expiry, and the token list
//! still reads.

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
    if selector & 1 == 0 {
        let (status, answer) = api.call(Method::POST, "/api/servicetoken", body, true);
        if status.is_success() {
            let token = answer["rawToken"]
                .as_str()
                .unwrap_or_else(|| panic!("a created token is in the answer: {answer}"));
            // One that expires may already have (an `expiresOn` in the past is allowed).
            if answer["expiresOn"].is_null() {
                let login = serde_json::json!({ "token": token }).to_string();
                let (status, session) =
                    api.call(Method::POST, "/api/user/login", login.as_bytes(), false);
                assert_eq!(
                    status,
                    StatusCode::OK,
                    "a new service token does not log in: {session}"
                );
                // Closed again: sessions are capped, and the oldest (the admin's) would go.
                let bearer = session["token"].as_str().expect("a session token");
                api.logout(bearer);
            }
        }
    } else {
        api.call(Method::DELETE, "/api/servicetoken", body, true);
    }
    let (status, list) = api.call(Method::GET, "/api/servicetoken", b"", true);
    assert_eq!(status, StatusCode::OK, "tokens do not read back: {list}");
});
