use crate::server::Server;
use serde_json::{Value, json};

async fn upload(
    s: &Server,
    token: &str,
    path: &str,
    name: &str,
    data: Vec<u8>,
) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(data).file_name(name.to_string());
    let form = reqwest::multipart::Form::new().part("file", part);
    s.client
        .post(s.url(path))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

/// Firmware upload with its checksum, then backup → download → change → upload → restore, all
/// through the running binary, and the restored state survives a restart.
#[tokio::test]
async fn firmware_and_backups_round_trip_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[], &[]).await;
    let token = s.login().await;
    let post = |path: &'static str, body: Value| {
        let (s, token) = (&s, token.clone());
        async move {
            s.client
                .post(s.url(path))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        post(
            "/api/gateway",
            json!({"id": "gw1", "provider": {"type": "echo"}})
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        post(
            "/api/firmware",
            json!({"id": "fw1", "labels": {"ms_type_id": "1"}})
        )
        .await
        .status(),
        200
    );
    let hex = b":0400000001020304F2\n:00000001FF\n".to_vec();
    let r = upload(
        &s,
        &token,
        "/api/firmware/upload/fw1",
        "sketch.hex",
        hex.clone(),
    )
    .await;
    assert_eq!(r.status(), 200);
    let fw = json_of(r).await;
    // The sha256 of the file, computed by a separate tool where one is installed.
    let file = dir.path().join("firmware/fw1");
    assert_eq!(std::fs::read(&file).unwrap(), hex);
    if let Ok(out) = std::process::Command::new("sha256sum").arg(&file).output() {
        let sum = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        assert_eq!(fw["file"]["checksum"], format!("sha256:{sum}"));
    }
    assert_eq!(fw["file"]["size"], hex.len());
    // The server answers 413 before it has read the body and then closes the connection; a
    // client of its own keeps that closed connection out of the shared client's pool.
    let part = reqwest::multipart::Part::bytes(vec![b'0'; 3 * 1024 * 1024]).file_name("big.hex");
    let r = reqwest::Client::new()
        .post(s.url("/api/firmware/upload/fw1"))
        .bearer_auth(&token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(json_of(r).await["code"], "payload_too_large");

    let run = json_of(post("/api/backup/run", json!({})).await).await;
    let id = run["id"].as_str().unwrap().to_string();
    let archive = s
        .client
        .get(s.url(&format!("/api/backup/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    assert!(archive.starts_with(b"PK"), "a zip");

    // Lose things: the gateway, the firmware file, and the archive itself.
    let r = s
        .client
        .delete(s.url("/api/gateway"))
        .bearer_auth(&token)
        .json(&json!(["gw1"]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        post(
            "/api/gateway",
            json!({"id": "gw2", "provider": {"type": "echo"}})
        )
        .await
        .status(),
        200
    );
    let r = s
        .client
        .delete(s.url("/api/backup"))
        .bearer_auth(&token)
        .json(&json!([id]))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(r).await["deleted"], 1);

    let up = json_of(upload(&s, &token, "/api/backup/upload", "mine.zip", archive).await).await;
    let uploaded = up["id"].as_str().expect("uploaded").to_string();
    assert_eq!(up["manifest"]["entities"]["gateway"], 1);
    let r = s
        .client
        .post(s.url(&format!("/api/backup/{uploaded}/restore")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ids = |v: Value| -> Vec<String> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["id"].as_str().unwrap().to_string())
            .collect()
    };
    let list = json_of(
        s.client
            .get(s.url("/api/gateway"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ids(list), ["gw1"]);
    assert!(s.terminate().await.success());

    // The restore is durable: a new process sees it, and the admin password still works.
    let s = Server::start(dir.path(), &[], &[]).await;
    let token = s.login().await;
    let list = json_of(
        s.client
            .get(s.url("/api/gateway"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ids(list), ["gw1"]);
    let fw = json_of(
        s.client
            .get(s.url("/api/firmware/fw1"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(fw["file"]["size"], hex.len());
    assert_eq!(std::fs::read(dir.path().join("firmware/fw1")).unwrap(), hex);
    assert!(s.terminate().await.success());
}

async fn send(
    s: &Server,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (reqwest::StatusCode, Value) {
    let mut r = s.client.request(method, s.url(path)).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn make_and_download(s: &Server, token: &str, path: &str) -> Vec<u8> {
    let (status, run) = send(s, token, reqwest::Method::POST, path, None).await;
    assert_eq!(status, 200, "{run}");
    let id = run["id"].as_str().unwrap();
    s.client
        .get(s.url(&format!("/api/backup/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

fn read_archive(bytes: &[u8]) -> switchyard_api::backup::archive::Contents {
    switchyard_api::backup::archive::read(std::io::Cursor::new(bytes), 1 << 26).unwrap()
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Archives carry secrets sealed with the server's secret.key, never in clear (neither in the
/// zip's bytes nor in any entry unpacked); restoring on the same server gives them back; a
/// server with another key refuses the restore with a clear error and keeps its data, and
/// restores once it has the old key.
#[tokio::test]
async fn archives_hold_no_secret_in_clear_and_restore_needs_the_same_key() {
    use reqwest::Method;
    use switchyard_api::backup::secrets::ArchiveKey;
    let secret = "backup-secret-7f3a9c1e";
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let s = Server::start(a.path(), &[], &[]).await;
    let token = s.login().await;
    let handler = json!({"id": "mail", "type": "email", "enabled": false, "spec": {
        "host": "127.0.0.1", "port": 25, "security": "none", "username": "alerts",
        "password": secret, "fromEmail": "sy@example.org", "toEmails": "ops@example.org"}});
    let (status, body) = send(&s, &token, Method::POST, "/api/handler", Some(handler)).await;
    assert_eq!(status, 200, "{body}");

    let archive = make_and_download(&s, &token, "/api/backup/run?metrics=true").await;
    assert!(!holds(&archive, secret), "the zip bytes");
    let contents = read_archive(&archive);
    let unpacked = serde_json::to_vec(&(&contents.snapshot, &contents.metrics)).unwrap();
    assert!(!holds(&unpacked, secret), "an unpacked entry");
    assert_eq!(contents.manifest.version, 2);
    assert_eq!(contents.manifest.backend, "embedded");
    let key_a = ArchiveKey::load_or_create(a.path()).unwrap();
    let info = contents.manifest.secrets.clone().expect("sealed");
    assert_eq!(info.key_id, key_a.id());
    assert!(contents.manifest.metrics.is_some(), "asked for metrics");

    // Lose the handler, restore, and the secret is back: a later archive opens to it.
    let (status, _) = send(
        &s,
        &token,
        Method::DELETE,
        "/api/handler",
        Some(json!(["mail"])),
    )
    .await;
    assert_eq!(status, 200);
    let up =
        json_of(upload(&s, &token, "/api/backup/upload", "a.zip", archive.clone()).await).await;
    let uploaded = up["id"].as_str().unwrap().to_string();
    let path = format!("/api/backup/{uploaded}/restore");
    let (status, body) = send(&s, &token, Method::POST, &path, None).await;
    assert_eq!(status, 200, "{body}");
    let again = read_archive(&make_and_download(&s, &token, "/api/backup/run").await);
    let mut snapshot = again.snapshot;
    assert_eq!(key_a.open(&mut snapshot), Ok(1));
    let restored = &snapshot[&switchyard_core::EntityKind::Handler];
    assert_eq!(restored[0]["spec"]["password"], secret);
    assert!(s.terminate().await.success());

    // Another server, another key: refused, its own data untouched.
    let s = Server::start(b.path(), &[], &[]).await;
    let token = s.login().await;
    let gw = json!({"id": "b-own", "provider": {"type": "echo"}});
    assert_eq!(
        send(&s, &token, Method::POST, "/api/gateway", Some(gw))
            .await
            .0,
        200
    );
    let up = json_of(upload(&s, &token, "/api/backup/upload", "a.zip", archive).await).await;
    let path = format!("/api/backup/{}/restore", up["id"].as_str().unwrap());
    let (status, body) = send(&s, &token, Method::POST, &path, None).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "secret_key_mismatch");
    assert!(
        body["message"].as_str().unwrap().contains("secret.key"),
        "{body}"
    );
    let (_, list) = send(&s, &token, Method::GET, "/api/gateway", None).await;
    assert_eq!(list["data"][0]["id"], "b-own", "{list}");
    let (_, handlers) = send(&s, &token, Method::GET, "/api/handler", None).await;
    assert_eq!(
        handlers["data"].as_array().map(Vec::len),
        Some(0),
        "{handlers}"
    );
    assert!(s.terminate().await.success());

    // With the old server's key in place, the same archive restores.
    std::fs::copy(a.path().join("secret.key"), b.path().join("secret.key")).unwrap();
    let s = Server::start(b.path(), &[], &[]).await;
    let token = s.login().await;
    let (status, body) = send(&s, &token, Method::POST, &path, None).await;
    assert_eq!(status, 200, "{body}");
    let (_, h) = send(&s, &token, Method::GET, "/api/handler/mail", None).await;
    assert_eq!(h["spec"]["password"], "********", "present and masked: {h}");
    assert!(s.terminate().await.success());
}

/// Every document of `kind` on a server, by id (pages of 1,000).
async fn all_of(
    api: &crate::support::Api,
    kind: &str,
) -> std::collections::BTreeMap<String, Value> {
    let mut out = std::collections::BTreeMap::new();
    loop {
        let (status, page) = api
            .get(&format!("/api/{kind}?limit=1000&offset={}", out.len()))
            .await;
        assert_eq!(status, 200, "{page}");
        let data = page["data"].as_array().cloned().unwrap_or_default();
        if data.is_empty() {
            return out;
        }
        for d in data {
            out.insert(d["id"].as_str().unwrap_or_default().to_string(), d);
        }
    }
}

/// An online backup taken while readings keep arriving (a Tasmota device on the local broker
/// announcing a new sensor every few milliseconds, so nodes, sources and fields grow during the
/// backup) restores on another backend — PostgreSQL — to exactly the counts its manifest names,
/// with the same documents and current values; the source server went on ingesting across it.
#[tokio::test]
async fn a_backup_under_load_restores_to_the_same_counts_on_postgres() {
    use crate::support::{Api, eventually, peers_missing, publish, unique};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::io::AsyncWriteExt;
    if peers_missing() {
        return;
    }
    let Some(pg) = crate::postgres::Schema::create("a_backup_under_load_restores") else {
        return;
    };
    let dir_a = tempfile::tempdir().unwrap();
    let a = Api::start(dir_a.path()).await;
    let device = unique("bkload");
    let gw = unique("tas");
    a.tasmota(&gw, "%prefix%/%topic%/").await;
    publish(&format!("tele/{device}/LWT"), "Online").await;

    // The load: one mosquitto_pub reading lines, each a SENSOR message with a new sensor.
    let mut publisher = tokio::process::Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", "1883", "-q", "1", "-l"])
        .args(["-t", &format!("tele/{device}/SENSOR")])
        .stdin(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run mosquitto_pub");
    let mut stdin = publisher.stdin.take().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let load = tokio::spawn(async move {
        let mut sent = 0u64;
        while !stop2.load(Ordering::Relaxed) {
            let line = format!("{{\"S{sent}\":{{\"Temperature\":{sent}.5}}}}\n");
            if stdin.write_all(line.as_bytes()).await.is_err() {
                break;
            }
            sent += 1;
            tokio::time::sleep(std::time::Duration::from_millis(4)).await;
        }
        drop(stdin);
        sent
    });
    let count = |n: Value| n["count"].as_u64().unwrap_or(0);
    eventually("readings arriving before the backup", || async {
        let (_, page) = a.get("/api/field?limit=1").await;
        (count(page) >= 50).then_some(())
    })
    .await;

    let archive = make_and_download(&a.server, &a.token, "/api/backup/run").await;
    let contents = read_archive(&archive);
    let in_archive = |kind: &str| contents.manifest.entities.get(kind).copied().unwrap_or(0);
    let archived_fields = in_archive("field");
    assert!(archived_fields >= 50, "{:?}", contents.manifest.entities);
    // Ingest went on across the backup.
    eventually("more fields after the backup", || async {
        let (_, page) = a.get("/api/field?limit=1").await;
        (count(page) as usize > archived_fields + 20).then_some(())
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    let sent = load.await.unwrap();
    let _ = publisher.wait().await;
    assert!(sent as usize > archived_fields);

    // Another server on PostgreSQL restores the archive; moved as a user moves a server, with
    // the secret key the archive's secrets are sealed with.
    let dir_b = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir_a.path().join("secret.key"),
        dir_b.path().join("secret.key"),
    )
    .unwrap();
    let env = pg.env_for(&pg.url);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let b = Api::login(crate::server::Server::start(dir_b.path(), &env, &[]).await).await;
    let up = json_of(
        upload(
            &b.server,
            &b.token,
            "/api/backup/upload",
            "load.zip",
            archive,
        )
        .await,
    )
    .await;
    let uploaded = up["id"].as_str().expect("uploaded").to_string();
    let (status, restored) = b
        .post_status(&format!("/api/backup/{uploaded}/restore"), json!({}))
        .await;
    assert_eq!(status, 200, "{restored}");
    for kind in ["gateway", "node", "source", "field"] {
        let docs = all_of(&b, kind).await;
        assert_eq!(
            docs.len(),
            in_archive(kind),
            "{kind} on PostgreSQL after the restore"
        );
    }
    // The same fields with the same current values as in the archive.
    let restored_fields = all_of(&b, "field").await;
    for doc in &contents.snapshot[&switchyard_core::EntityKind::Field] {
        let id = doc["id"].as_str().unwrap();
        let there = restored_fields
            .get(id)
            .unwrap_or_else(|| panic!("{id} not restored"));
        assert_eq!(there["current"]["value"], doc["current"]["value"], "{id}");
    }
}
