//! SIGTERM stops the server cleanly and flushes: with MyController's memory storage, whose
//! periodic dump is an hour away, what was written is still there after a restart.

use crate::server::Server;
use crate::support::{self, Api};
use serde_json::json;

#[tokio::test]
async fn sigterm_flushes_memory_storage() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("SWITCHYARD__STORAGE__TYPE", "memory"),
        ("SWITCHYARD__STORAGE__DUMP_INTERVAL", "1h"),
    ];
    let api = Api::login(Server::start(dir.path(), &env, &[]).await).await;
    let (code, body) = api
        .post_status("/api/dashboard", json!({"id": "home", "title": "Home"}))
        .await;
    assert_eq!(code, 200, "{body}");
    let status = api.server.terminate().await;
    assert!(status.success(), "clean exit: {status:?}");

    let api = Api::login(Server::start(dir.path(), &env, &[]).await).await;
    let (_, d) = api.get("/api/dashboard/home").await;
    assert_eq!(d["title"], "Home");
    let status = support::status(&api.server).await;
    assert_eq!(status["services"]["storage"]["type"], "memory");
    assert!(api.server.terminate().await.success());
}
