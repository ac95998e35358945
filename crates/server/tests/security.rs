//! What a browser and an attacker see: security headers on the console and the API, CORS off,
//! no cookies, sessions that expire and logouts that revoke.

use crate::server::Server;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn console_and_api_answers_carry_security_headers_and_cors_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[], &[]).await;
    for path in [
        "/",
        "/gateways/gw1",
        "/api/status",
        "/api/gateway",
        "/api/nope",
    ] {
        let r = s.client.get(s.url(path)).send().await.unwrap();
        let h = r.headers();
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"))
            .to_str()
            .unwrap();
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: CSP {csp} lacks {directive}"
            );
        }
        assert!(!csp.contains("unsafe-eval"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert!(h.get("access-control-allow-origin").is_none(), "{path}");
    }

    // A cross-origin preflight and a cross-origin request get no CORS grant.
    let r = s
        .client
        .request(reqwest::Method::OPTIONS, s.url("/api/gateway"))
        .header("Origin", "https://evil.example")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(
        r.headers().get("access-control-allow-origin").is_none(),
        "preflight answered with CORS: {:?}",
        r.headers()
    );
    assert!(r.headers().get("access-control-allow-methods").is_none());
    let r = s
        .client
        .post(s.url("/api/user/login"))
        .header("Origin", "https://evil.example")
        .json(&json!({"username": "admin", "password": crate::server::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    // Sessions are bearer tokens: login sets no cookie a cross-site request could carry.
    assert!(
        r.headers().get("set-cookie").is_none(),
        "login set a cookie: {:?}",
        r.headers().get("set-cookie")
    );
    assert!(s.terminate().await.success());
}

#[tokio::test]
async fn sessions_expire_after_session_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[("SWITCHYARD__AUTH__SESSION_TTL", "2s")], &[]).await;
    let token = s.login().await;
    let r = s
        .client
        .get(s.url("/api/gateway"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "fresh session works");
    // Poll until refused; the bound is generous (the TTL is 2 s), not a timing assert.
    let mut refused = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let r = s
            .client
            .get(s.url("/api/gateway"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        if r.status() == 401 {
            refused = true;
            break;
        }
        assert_eq!(r.status(), 200);
    }
    assert!(refused, "the session never expired");
    // A new login works again.
    let token = s.login().await;
    let r = s
        .client
        .get(s.url("/api/gateway"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(s.terminate().await.success());
}
