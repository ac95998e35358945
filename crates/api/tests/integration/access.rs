use super::harness::{Harness, assert_error};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;
use switchyard_api::auth::Access;
use switchyard_api::{ApiConfig, route_table};

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "x" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// Walks every route of the table the router is built from: none but status and login answers
/// without a token, and each refuses (403) every role below the one it declares.
#[tokio::test]
async fn every_route_needs_its_role() {
    let h = Harness::new().await;
    let tokens = [
        (Access::Authenticated, h.login("nobody").await),
        (Access::Viewer, h.login("view").await),
        (Access::Operator, h.login("op").await),
        (Access::Admin, h.login("admin").await),
    ];
    let routes = route_table(&ApiConfig::default());
    assert!(routes.len() > 60, "{} routes", routes.len());
    let open: Vec<String> = routes
        .iter()
        .filter(|r| r.access == Access::Open)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(open, ["GET /api/status", "POST /api/user/login"]);
    for r in &routes {
        let uri = concrete(&r.path);
        let anonymous = h.send(r.method.clone(), &uri, None, None).await;
        if r.access == Access::Open {
            assert_ne!(
                anonymous.status,
                StatusCode::UNAUTHORIZED,
                "{} {uri}",
                r.method
            );
            continue;
        }
        assert_error(&anonymous, 401, "unauthorized");
        let forged = h.send(r.method.clone(), &uri, Some("forged"), None).await;
        assert_eq!(forged.status, 401, "{} {uri} with a forged token", r.method);
        for (level, token) in &tokens {
            // Logging out would end the session the rest of the walk uses.
            let fresh;
            let token = if r.path == "/api/user/logout" {
                let name = match level {
                    Access::Admin => "admin",
                    Access::Operator => "op",
                    Access::Viewer => "view",
                    _ => "nobody",
                };
                fresh = h.login(name).await;
                &fresh
            } else {
                token
            };
            let reply = h.send(r.method.clone(), &uri, Some(token), None).await;
            if *level < r.access {
                assert_eq!(
                    reply.status, 403,
                    "{} {uri} as {level:?}: {}",
                    r.method, reply.body
                );
                assert_eq!(reply.body["code"], "forbidden");
            } else {
                assert!(
                    reply.status != 401 && reply.status != 403,
                    "{} {uri} as {level:?}: {} {}",
                    r.method,
                    reply.status,
                    reply.body
                );
            }
        }
    }
}

#[tokio::test]
async fn the_openapi_document_and_the_docs_list_every_route() {
    let h = Harness::new().await;
    let token = h.login("view").await;
    let doc = h.get("/api/openapi.json", &token).await.body;
    assert_eq!(doc["openapi"], "3.1.0");
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md")).unwrap();
    for r in route_table(&ApiConfig::default()) {
        let op = &doc["paths"][&r.path][r.method.as_str().to_lowercase()];
        assert!(
            op.is_object(),
            "{} {} missing from openapi.json",
            r.method,
            r.path
        );
        assert_eq!(op["x-access"], r.access.as_str());
        // Resource routes are documented once as a pattern (`/api/<resource>`).
        const RESOURCES: [&str; 11] = [
            "gateway",
            "node",
            "source",
            "field",
            "firmware",
            "task",
            "schedule",
            "handler",
            "forwardpayload",
            "dashboard",
            "datarepository",
        ];
        let generic = r
            .path
            .split('/')
            .nth(2)
            .is_some_and(|seg| RESOURCES.contains(&seg))
            && !r.path.contains("upload");
        if !generic {
            assert!(
                docs.contains(&format!("`{} {}`", r.method, r.path)),
                "docs/api.md does not list `{} {}`",
                r.method,
                r.path
            );
        }
    }
    assert!(doc["components"]["schemas"]["gateway"]["properties"]["provider"].is_object());
}

#[tokio::test]
async fn errors_below_the_handlers_keep_the_shape() {
    let h = Harness::with_config(ApiConfig {
        max_body_bytes: 1024,
        ..ApiConfig::default()
    })
    .await;
    let token = h.login("admin").await;
    let r = h
        .send(Method::PUT, "/api/gateway", Some(&token), None)
        .await;
    assert_error(&r, 405, "method_not_allowed");
    let r = h.get("/api/nothing-here", &token).await;
    assert_error(&r, 404, "not_found");
    let big = json!({"id": "gw", "description": "x".repeat(4096), "provider": {"type": "echo"}});
    let r = h.post("/api/gateway", &token, big).await;
    assert_error(&r, 413, "payload_too_large");
    let r = h
        .raw(
            Request::post("/api/gateway")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_error(&r, 400, "invalid_body");
}

#[tokio::test]
async fn failed_logins_are_limited_per_username() {
    let h = Harness::with_config(ApiConfig {
        login_max_failures: 3,
        ..ApiConfig::default()
    })
    .await;
    let wrong = json!({"username": "op", "password": "wrong"});
    for _ in 0..3 {
        let r = h
            .send(Method::POST, "/api/user/login", None, Some(wrong.clone()))
            .await;
        assert_error(&r, 401, "unauthorized");
    }
    let right = json!({"username": "op", "password": super::harness::PASSWORD});
    let r = h
        .send(Method::POST, "/api/user/login", None, Some(right))
        .await;
    assert_error(&r, 429, "too_many_attempts");
    assert!(r.body["details"]["retryAfterSeconds"].as_u64().unwrap() >= 1);
    // Another username is not affected.
    h.login("view").await;
}

#[tokio::test]
async fn logout_revokes_and_profile_says_who() {
    let h = Harness::new().await;
    let token = h.login("op").await;
    let me = h.get("/api/user/profile", &token).await;
    assert_eq!(me.body["username"], "op");
    assert_eq!(me.body["access"], "operator");
    let r = h.post("/api/user/logout", &token, json!({})).await;
    assert_eq!(r.status, 200);
    assert_error(
        &h.get("/api/user/profile", &token).await,
        401,
        "unauthorized",
    );
}
