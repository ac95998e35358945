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
