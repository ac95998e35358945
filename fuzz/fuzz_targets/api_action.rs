//! Actions as a client sends them, through the whole API (see `common/api.rs`): the first byte
//! picks `POST /api/action` with the rest as its body, or `GET /api/action?<rest>` (one action
//! as `resource`, `payload`, `keyPath` parameters). Seeded resources: gateway `gw`, node
//! `gw.1`, fields `gw.1.2.V_STATUS` (binary) and `gw.1.2.V_TEMP`, task `t1`, data repository
//! `repo`.
//!
//! Checks: no panic, no 5xx, errors in the API's shape; an accepted request answers one result
//! per action, and never more than `MAX_ACTIONS`.

#![no_main]

#[path = "../common/api.rs"]
mod api;

use axum::http::{Method, StatusCode};
use libfuzzer_sys::fuzz_target;

const MAX_ACTIONS: usize = 100;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let api = api::api();
    if selector & 1 == 0 {
        let (status, answer) = api.call(Method::POST, "/api/action", rest, true);
        if status == StatusCode::OK {
            let sent: serde_json::Value = serde_json::from_slice(rest).expect("accepted is JSON");
            let n = sent.as_array().map_or(1, Vec::len);
            assert!(n <= MAX_ACTIONS, "{n} actions accepted");
            if let Some(results) = answer.as_array() {
                assert_eq!(results.len(), n, "one result per action: {answer}");
            }
        }
    } else {
        let uri = format!("/api/action?{}", api::query(rest));
        api.call(Method::GET, &uri, b"", true);
    }
});
