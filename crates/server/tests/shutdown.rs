//! SIGTERM stops the server cleanly and flushes: with MyController's memory storage, whose
//! periodic dump is an hour away, what was written is still there after a restart.

use crate::server::Server;
use serde_json::{Value, json};

#[tokio::test]
async fn sigterm_flushes_memory_storage() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("SWITCHYARD__STORAGE__TYPE", "memory"),
        ("SWITCHYARD__STORAGE__DUMP_INTERVAL", "1h"),
    ];
    let s = Server::start(dir.path(), &env, &[]).await;
    let token = s.login().await;
    let r = s
        .client
        .post(s.url("/api/dashboard"))
        .bearer_auth(&token)
        .json(&json!({"id": "home", "title": "Home"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let status = s.terminate().await;
    assert!(status.success(), "clean exit: {status:?}");

    let s = Server::start(dir.path(), &env, &[]).await;
    let token = s.login().await;
    let d: Value = s
        .client
        .get(s.url("/api/dashboard/home"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["title"], "Home");
    let status: Value = s
        .client
        .get(s.url("/api/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["services"]["storage"]["type"], "memory");
    assert!(s.terminate().await.success());
}
