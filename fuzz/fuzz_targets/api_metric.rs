//! Metric queries through the whole API (see `common/api.rs`): the first byte picks
//! `POST /api/metric` with the rest as its body (`{global, individual: [{quickId, start, stop,
//! window, functions}]}`) or `GET /api/metric?<rest>`. Fields `gw.1.2.V_STATUS` (binary) and
//! `gw.1.2.V_TEMP` (gauge) exist; the embedded metric store is empty.
//!
//! Checks: no panic, no 5xx, errors in the API's shape (windows, times and functions are checked
//! before a query runs, so no query can make the store fail).

#![no_main]

#[path = "../common/api.rs"]
mod api;

use axum::http::Method;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let api = api::api();
    if selector & 1 == 0 {
        api.call(Method::POST, "/api/metric", rest, true);
    } else {
        let uri = format!("/api/metric?{}", api::query(rest));
        api.call(Method::GET, &uri, b"", true);
    }
});
