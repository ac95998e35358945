use crate::server::Server;
use crate::support;
use serde_json::{Value, json};

#[tokio::test]
async fn status_is_open_and_everything_else_needs_a_session() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[], &[]).await;

    let status = support::status(&s).await;
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert!(status["uptimeSeconds"].is_u64());
    for service in ["processor", "node_state_job", "http"] {
        assert_eq!(
            status["services"]["states"][service]["status"], "running",
            "{service}: {status}"
        );
    }
    assert_eq!(status["services"]["storage"]["type"], "embedded");
    assert_eq!(status["services"]["bus"]["type"], "embedded");

    let r = s.client.get(s.url("/api/gateway")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");
    let r = s
        .client
        .get(s.url("/api/gateway"))
        .bearer_auth("forged")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let r = s
        .client
        .post(s.url("/api/user/login"))
        .json(&json!({"username": "admin", "password": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let token = s.login().await;
    let r = s
        .client
        .post(s.url("/api/gateway"))
        .bearer_auth(&token)
        .json(&json!({"id": "gw1", "provider": {"type": "mysensors"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page: Value = s
        .client
        .get(s.url("/api/gateway?limit=10"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["count"], 1);
    assert_eq!(page["data"][0]["id"], "gw1");

    // A bad field names its path.
    let r = s
        .client
        .post(s.url("/api/gateway"))
        .bearer_auth(&token)
        .json(&json!({"id": "gw2", "enabled": "yes please"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "invalid_resource");
    assert_eq!(body["details"][0]["path"], "enabled");

    let r = s
        .client
        .post(s.url("/api/user/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = s
        .client
        .get(s.url("/api/gateway"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "logout revokes the session");
    assert!(s.terminate().await.success());
}

#[tokio::test]
async fn a_generated_admin_password_is_written_once_to_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[("SWITCHYARD_ADMIN_PASSWORD", "")], &[]).await;
    let password = std::fs::read_to_string(dir.path().join("admin-password")).unwrap();
    let password = password.trim();
    assert!(password.len() >= 20);
    let r = s
        .client
        .post(s.url("/api/user/login"))
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("admin-password"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "only the owner may read it");
    }
    assert!(s.terminate().await.success());
}
