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

/// A gateway with an MQTT password and an email handler with an SMTP password, both used (the
/// gateway connects to a private broker; a schedule makes the handler try to send, to a port
/// where nothing listens), with debug logging: neither secret appears in the log, and API
/// answers carry the mask, and no file of the data directory holds them in clear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_out_of_logs_answers_and_files() {
    if crate::faults_mqtt::tools_missing() {
        return;
    }
    let broker_dir = tempfile::tempdir().unwrap();
    let broker = crate::faults_mqtt::Broker::start(broker_dir.path()).await;
    let mqtt_secret = format!("mqtt-Pw-{}-x7", std::process::id());
    let smtp_secret = format!("smtp-Pw-{}-q3", std::process::id());
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[("RUST_LOG", "debug")], &[]).await;
    let token = s.login().await;
    let post = |path: &'static str, body: serde_json::Value| {
        let (client, url, token) = (s.client.clone(), s.url(path), token.clone());
        async move {
            let r = client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{path}: {}", r.text().await.unwrap());
        }
    };
    post(
        "/api/gateway",
        json!({"id": "sec", "enabled": true, "provider": {"type": "mysensors", "protocol": {
            "type": "mqtt", "broker": format!("tcp://127.0.0.1:{}", broker.port),
            "subscribe": "sec-out/#", "publish": "sec-in",
            "username": "gw", "password": mqtt_secret}}}),
    )
    .await;
    post(
        "/api/handler",
        json!({"id": "mail", "type": "email", "enabled": true, "spec": {
            "host": "127.0.0.1", "port": closed_port, "security": "none",
            "username": "alerts", "password": smtp_secret, "timeout": "2s",
            "fromEmail": "sy@example.org", "toEmails": "ops@example.org"}}),
    )
    .await;
    post(
        "/api/schedule",
        json!({"id": "tick", "enabled": true, "type": "cron",
               "spec": {"cronExpression": "* * * * * *"}, "handlers": ["mail"],
               "handlerParameters": {"m": {"type": "email", "subject": "tick", "body": "b"}}}),
    )
    .await;

    // Both were used: the gateway is up, the handler has tried (and failed) to deliver.
    let get = |path: String| {
        let (client, url, token) = (s.client.clone(), s.url(&path), token.clone());
        async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let g = get("/api/gateway/sec".into()).await;
        let h = get("/api/handler/mail".into()).await;
        if g["state"]["status"] == "up" && h["state"]["status"] == "error" {
            assert_eq!(g["provider"]["protocol"]["password"], "********", "{g}");
            assert_eq!(h["spec"]["password"], "********", "{h}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gateway up and handler tried: {g} {h}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let log = s.log.lock().clone();
    // The log speaks of both, just not of their secrets.
    assert!(
        log.iter()
            .any(|l| l.contains("gateway up") && l.contains("sec"))
    );
    assert!(log.iter().any(|l| l.contains("handler delivery failed")));
    for secret in [&mqtt_secret, &smtp_secret] {
        let leaks: Vec<&String> = log.iter().filter(|l| l.contains(secret.as_str())).collect();
        assert!(leaks.is_empty(), "secret in the log: {leaks:?}");
    }
    assert!(s.terminate().await.success());
    // At rest: no file in the data directory holds either secret in clear.
    let mut files = vec![dir.path().to_path_buf()];
    let mut checked = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        checked += 1;
        for secret in [&mqtt_secret, &smtp_secret] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds a secret in clear",
                path.display()
            );
        }
    }
    assert!(checked >= 2, "the store and the key file were checked");
    assert!(dir.path().join("secret.key").exists());
}
