//! Security headers on every HTTP answer (console and API). The console loads nothing from
//! other origins, so the policy allows only this origin: scripts from its own files (no inline
//! script, no eval), styles from its files plus inline style attributes (React sets them),
//! images from its files and `data:` URLs (the icon), connections (fetch, websocket) to this
//! origin. Framing is refused (`frame-ancestors 'none'`, and `X-Frame-Options: DENY` for old
//! browsers), content types are not sniffed, and no referrer leaves for other sites.
//!
//! CORS is off: no answer carries `Access-Control-Allow-Origin`, so a page on another origin
//! cannot read API answers. Sessions are bearer tokens, never cookies, so a cross-site request
//! carries no credentials either.

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; \
     connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
     frame-ancestors 'none'";

/// Adds the headers to `res`, keeping any a handler set itself.
pub async fn add(mut res: Response) -> Response {
    let h = res.headers_mut();
    let set: [(HeaderName, &'static str); 5] = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in set {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    }
    res
}
