//! Login bodies (`POST /api/user/login`, no session: `{username, password}` or a service token
//! `{token}`), through the whole API (see `common/api.rs`). User `admin` exists with
//! `common/api.rs`'s password, so a body can reach password verification.
//!
//! Checks: no panic, no 5xx, errors in the API's shape; a 200 carries a token that opens a
//! session (`GET /api/user/profile` with it answers 200).

#![no_main]

#[path = "../common/api.rs"]
mod api;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

fuzz_target!(|data: &[u8]| {
    let api = api::api();
    let (status, answer) = api.call(Method::POST, "/api/user/login", data, false);
    if status == StatusCode::OK {
        let token = answer["token"]
            .as_str()
            .expect("a login answer has a token");
        let req = Request::builder()
            .uri("/api/user/profile")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("a request");
        let status = api
            .runtime
            .block_on(api.router.clone().oneshot(req))
            .expect("infallible")
            .status();
        assert_eq!(
            status,
            StatusCode::OK,
            "the token of a login does not open a session"
        );
        api.logout(token);
    }
});
