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
    let (checked, found) =
        crate::support::files_holding(dir.path(), &[mqtt_secret.as_str(), smtp_secret.as_str()]);
    assert!(found.is_empty(), "a secret in clear: {found:?}");
    assert!(checked >= 2, "the store and the key file were checked");
    assert!(dir.path().join("secret.key").exists());
}

/// A Mosquitto of the test's own that refuses anonymous clients and knows `users`, so a gateway
/// comes up only with the right password. The broker stops when the child is dropped.
async fn broker_with_passwords(
    dir: &std::path::Path,
    users: &[(&str, &str)],
) -> (u16, tokio::process::Child) {
    let passwords = dir.join("passwords");
    std::fs::write(&passwords, "").unwrap();
    for (user, password) in users {
        let status = std::process::Command::new("mosquitto_passwd")
            .arg("-b")
            .arg(&passwords)
            .args([user, password])
            .status()
            .expect("mosquitto_passwd (installed with mosquitto)");
        assert!(status.success());
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\n{}",
            passwords.display(),
            if root { "user root\n" } else { "" }
        ),
    )
    .unwrap();
    let child = tokio::process::Command::new("mosquitto")
        .arg("-c")
        .arg(&conf)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start mosquitto");
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return (port, child);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("mosquitto did not listen on {port}");
}

/// The whole store as the backend holds it, read past the server's sealing.
async fn raw_store(data_dir: &std::path::Path) -> String {
    let storage = switchyard_storage::open(&Default::default(), data_dir)
        .await
        .unwrap();
    let text = serde_json::to_string(&storage.export().await.unwrap()).unwrap();
    storage.close().await.unwrap();
    text
}

/// `storage import-mycontroller` and `storage migrate` store secrets sealed with the target
/// data directory's key, and a start seals a secret the store held in clear (from before
/// sealing existed). The server still uses every one of them: the gateways come up only if the
/// broker (no anonymous access) gets the right passwords, so each was decrypted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_tools_and_a_start_leave_no_secret_in_clear() {
    use std::io::Write;
    if crate::faults_mqtt::tools_missing() {
        return;
    }
    let pid = std::process::id();
    let (mc_secret, smtp_secret, old_secret) = (
        format!("mc-Pw-{pid}-a1"),
        format!("smtp-Pw-{pid}-b2"),
        format!("old-Pw-{pid}-c3"),
    );
    let clear = [&mc_secret, &smtp_secret, &old_secret];
    let broker_dir = tempfile::tempdir().unwrap();
    let (port, _broker) = broker_with_passwords(
        broker_dir.path(),
        &[("mc", &mc_secret), ("old", &old_secret)],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (imported, migrated) = (dir.path().join("imported"), dir.path().join("migrated"));

    // A MyController backup with an MQTT gateway and an email handler, their passwords in clear.
    let zip_path = dir.path().join("mc_backup_yaml_20260101_101010.zip");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        zip.start_file("backup.yaml", opts).unwrap();
        zip.write_all(b"filename: mc_backup_yaml_20260101_101010.zip\nstorage_export_type: yaml\nversion:\n  version: 2.1.0\n").unwrap();
        zip.start_file("storage/gateway__1.yaml", opts).unwrap();
        zip.write_all(
            format!(
                "- id: mcgw\n  enabled: true\n  provider:\n    type: mysensors\n    protocol:\n      \
                 type: mqtt\n      broker: tcp://127.0.0.1:{port}\n      subscribe: mc-out/#\n      \
                 publish: mc-in\n      username: mc\n      password: {mc_secret}\n"
            )
            .as_bytes(),
        )
        .unwrap();
        zip.start_file("storage/handler__1.yaml", opts).unwrap();
        zip.write_all(
            format!("- id: mail\n  type: email\n  enabled: false\n  spec: {{host: smtp.example.org, password: {smtp_secret}}}\n")
                .as_bytes(),
        )
        .unwrap();
        zip.finish().unwrap();
    }
    let switchyard = |args: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(args)
            .env_remove("SWITCHYARD_CONFIG")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    switchyard(&[
        "storage".as_ref(),
        "import-mycontroller".as_ref(),
        zip_path.as_os_str(),
        "--data-dir".as_ref(),
        imported.as_os_str(),
    ]);
    let raw = raw_store(&imported).await;
    for secret in clear {
        assert!(
            !raw.contains(secret.as_str()),
            "import left {secret} in clear: {raw}"
        );
    }
    assert_eq!(raw.matches("sy-enc:v1:").count(), 2, "{raw}");

    let (from, to) = (dir.path().join("from.yaml"), dir.path().join("to.yaml"));
    std::fs::write(&from, format!("data_dir: {}\n", imported.display())).unwrap();
    std::fs::write(&to, format!("data_dir: {}\n", migrated.display())).unwrap();
    switchyard(&[
        "storage".as_ref(),
        "migrate".as_ref(),
        "--from".as_ref(),
        from.as_os_str(),
        "--to".as_ref(),
        to.as_os_str(),
    ]);
    let raw = raw_store(&migrated).await;
    for secret in clear {
        assert!(
            !raw.contains(secret.as_str()),
            "migrate left {secret} in clear: {raw}"
        );
    }
    assert_eq!(raw.matches("sy-enc:v1:").count(), 2, "{raw}");
    assert_ne!(
        std::fs::read(imported.join("secret.key")).unwrap(),
        std::fs::read(migrated.join("secret.key")).unwrap(),
        "each data directory has its own key"
    );

    // A gateway stored in clear, as a store from before sealing holds it.
    {
        let storage = switchyard_storage::open(&Default::default(), &migrated)
            .await
            .unwrap();
        storage
            .upsert(
                switchyard_core::EntityKind::Gateway,
                json!({"id": "oldgw", "enabled": true, "provider": {"type": "mysensors",
                    "protocol": {"type": "mqtt", "broker": format!("tcp://127.0.0.1:{port}"),
                    "subscribe": "old-out/#", "publish": "old-in", "username": "old",
                    "password": old_secret}}}),
            )
            .await
            .unwrap();
        storage.close().await.unwrap();
    }

    let s = Server::start(&migrated, &[], &[]).await;
    let sealed_line = s
        .log
        .lock()
        .iter()
        .find(|l| l.contains("encrypted secrets that were stored in clear"))
        .cloned();
    assert!(
        sealed_line.as_ref().is_some_and(|l| l.contains("count=1")),
        "the start sealed the one clear secret: {sealed_line:?}"
    );
    let token = s.login().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    for id in ["mcgw", "oldgw"] {
        loop {
            let g: serde_json::Value = s
                .client
                .get(s.url(&format!("/api/gateway/{id}")))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if g["state"]["status"] == "up" {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{id} never came up with its decrypted password: {g}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    assert!(s.terminate().await.success());
    let raw = raw_store(&migrated).await;
    for secret in clear {
        assert!(
            !raw.contains(secret.as_str()),
            "{secret} in clear after a start: {raw}"
        );
    }
    assert_eq!(raw.matches("sy-enc:v1:").count(), 3, "{raw}");
}
