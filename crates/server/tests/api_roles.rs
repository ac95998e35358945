use crate::server::Server;
use serde_json::{Value, json};

async fn login(s: &Server, username: &str, password: &str) -> String {
    let r = s
        .client
        .post(s.url("/api/user/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "login {username}");
    let body: Value = r.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

/// Walks every route the running server describes in its OpenAPI document: each but status and
/// login answers 401 without a token, and 403 to a viewer when it needs more.
#[tokio::test]
async fn every_described_route_is_guarded_and_roles_hold() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[], &[]).await;
    let admin = s.login().await;
    for (user, role) in [("olga", "operator"), ("vic", "viewer")] {
        let r = s
            .client
            .post(s.url("/api/user"))
            .bearer_auth(&admin)
            .json(&json!({"id": user, "username": user, "password": format!("{user}-long-password"), "roles": [role]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert!(body.get("password").is_none(), "{body}");
    }
    let operator = login(&s, "olga", "olga-long-password").await;
    let viewer = login(&s, "vic", "vic-long-password").await;

    let doc: Value = s
        .client
        .get(s.url("/api/openapi.json"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let mut walked = 0;
    for (path, ops) in paths {
        let uri: String = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for (method, op) in ops.as_object().unwrap() {
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let access = op["x-access"].as_str().unwrap();
            let r = s
                .client
                .request(method.clone(), s.url(&uri))
                .send()
                .await
                .unwrap();
            walked += 1;
            if access == "open" {
                assert_ne!(r.status(), 401, "{method} {path}");
                continue;
            }
            assert_eq!(r.status(), 401, "{method} {path} without a token");
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["code"], "unauthorized");
            if path == "/api/user/logout" {
                continue; // it would end the viewer's session the walk goes on with
            }
            let r = s
                .client
                .request(method.clone(), s.url(&uri))
                .bearer_auth(&viewer)
                .send()
                .await
                .unwrap();
            let refused = matches!(access, "operator" | "admin");
            assert_eq!(
                r.status() == 403,
                refused,
                "{method} {path} ({access}) as viewer: {}",
                r.status()
            );
        }
    }
    assert!(walked > 60, "walked {walked} routes");

    // Operators edit automation, not gateways.
    let r = s
        .client
        .post(s.url("/api/task"))
        .bearer_auth(&operator)
        .json(&json!({"id": "t1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = s
        .client
        .post(s.url("/api/gateway"))
        .bearer_auth(&operator)
        .json(&json!({"id": "gw", "provider": {"type": "echo"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "forbidden");

    // A service token works as a bearer token with its owner's roles, until revoked.
    let r: Value = s
        .client
        .post(s.url("/api/servicetoken"))
        .bearer_auth(&viewer)
        .json(&json!({"name": "grafana", "neverExpire": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let raw = r["rawToken"].as_str().unwrap().to_string();
    let r = s
        .client
        .get(s.url("/api/node"))
        .bearer_auth(&raw)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = s
        .client
        .post(s.url("/api/task"))
        .bearer_auth(&raw)
        .json(&json!({"id": "t2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = s
        .client
        .delete(s.url("/api/servicetoken"))
        .bearer_auth(&viewer)
        .json(&json!([r_id(&raw)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = s
        .client
        .get(s.url("/api/node"))
        .bearer_auth(&raw)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "revoked");
    assert!(s.terminate().await.success());
}

fn r_id(raw: &str) -> String {
    raw.rsplit_once('_').unwrap().0.to_string()
}
