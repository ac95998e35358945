//! The whole API in process, for the fuzz targets of request bodies and parameters: memory
//! storage, the embedded bus and metric store in a temporary directory, one runtime and one
//! state per fuzzing process, each input one request through the real router (extractors,
//! role checks, validation, handler). Seeded with a gateway, node, field, task and data
//! repository so actions and metric queries reach past "not found".
//!
//! What every answer must be: not a 5xx (bad input is the client's error, and the backends here
//! do not fail), and when it is an error, the API's one shape `{code, message}`.

// Each target uses the part it needs.
#![allow(dead_code)]

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};
use switchyard_api::auth::hash_password;
use switchyard_api::{ApiConfig, ApiState};
use switchyard_bus::{EmbeddedBus, EmbeddedBusConfig};
use switchyard_core::bus::Bus;
use switchyard_core::model::User;
use switchyard_core::store::Store;
use switchyard_storage::{MemoryConfig, MemoryStorage};
use tower::ServiceExt;

pub const ADMIN_PASSWORD: &str = "a long enough fuzzing password";

fn root_name() -> String {
    format!("root{}x{}", std::process::id(), 0x5eed_u32)
}

pub struct Api {
    pub runtime: tokio::runtime::Runtime,
    pub router: Router,
    /// An admin's session token.
    pub admin: String,
}

pub fn api() -> &'static Api {
    static API: OnceLock<Api> = OnceLock::new();
    API.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let dir = std::env::temp_dir().join(format!("switchyard-fuzz-api-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        let router = runtime.block_on(async {
            let storage = MemoryStorage::open(&dir.join("storage"), &MemoryConfig::default())
                .await
                .expect("memory storage");
            let store = Store::new(Arc::new(storage));
            let bus: Arc<dyn Bus> =
                Arc::new(EmbeddedBus::new(&EmbeddedBusConfig::default()).expect("a bus"));
            let metrics =
                switchyard_metrics::open(&switchyard_metrics::MetricsConfig::default(), &dir)
                    .await
                    .expect("a metric store");
            let state = ApiState::new(
                store.clone(),
                bus,
                metrics,
                dir.clone(),
                ApiConfig::default(),
                Arc::new(|| json!({})),
            );
            // `admin` is there for the login target; the targets act as an admin whose id and
            // name no input will guess, so a fuzzed user update or delete cannot lock them out.
            for id in ["admin".to_string(), root_name()] {
                let user = User {
                    id: id.clone(),
                    username: id,
                    password: hash_password(ADMIN_PASSWORD).expect("a hash"),
                    roles: vec!["admin".into()],
                    ..Default::default()
                };
                store.insert(&user).await.expect("an admin");
            }
            switchyard_api::router(state)
        });
        let mut api = Api {
            runtime,
            router,
            admin: String::new(),
        };
        let (status, body) = api.send(
            Method::POST,
            "/api/user/login",
            json!({"username": root_name(), "password": ADMIN_PASSWORD})
                .to_string()
                .as_bytes(),
            false,
        );
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        let answer: Value = serde_json::from_slice(&body).expect("a login answer");
        api.admin = answer["token"].as_str().expect("a token").to_string();
        for (path, body) in [
            (
                "/api/gateway",
                json!({"id": "gw", "provider": {"type": "echo"}}),
            ),
            (
                "/api/node",
                json!({"gatewayId": "gw", "nodeId": "1",
                       "labels": {"sleep_node": "true", "sleep_message_validity": "2h"}}),
            ),
            (
                "/api/field",
                json!({"gatewayId": "gw", "nodeId": "1", "sourceId": "2", "fieldId": "V_STATUS",
                       "metricType": "binary", "current": {"value": true}}),
            ),
            (
                "/api/field",
                json!({"gatewayId": "gw", "nodeId": "1", "sourceId": "2", "fieldId": "V_TEMP",
                       "metricType": "gauge_float", "current": {"value": 21.5}}),
            ),
            ("/api/task", json!({"id": "t1", "enabled": true})),
            (
                "/api/datarepository",
                json!({"id": "repo", "data": {"a": 1}}),
            ),
        ] {
            let (status, answer) = api.send(Method::POST, path, body.to_string().as_bytes(), true);
            assert_eq!(
                status,
                StatusCode::OK,
                "{path}: {}",
                String::from_utf8_lossy(&answer)
            );
        }
        api
    })
}

impl Api {
    /// One request (with the admin's token when `admin`), its status and body.
    pub fn send(&self, method: Method, uri: &str, body: &[u8], admin: bool) -> (StatusCode, Bytes) {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json");
        if admin {
            req = req.header(header::AUTHORIZATION, format!("Bearer {}", self.admin));
        }
        let Ok(req) = req.body(Body::from(body.to_vec())) else {
            // Not a request a client could send (a URI that does not parse).
            return (StatusCode::BAD_REQUEST, Bytes::new());
        };
        self.runtime.block_on(async {
            let resp = self.router.clone().oneshot(req).await.expect("infallible");
            let status = resp.status();
            let body = axum::body::to_bytes(resp.into_body(), 64 << 20)
                .await
                .expect("an answer body");
            (status, body)
        })
    }

    /// Ends the session of `token` (sessions are capped; the oldest, the admin's, would go).
    pub fn logout(&self, token: &str) {
        let req = Request::builder()
            .method(Method::POST)
            .uri("/api/user/logout")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("a request");
        let resp = self
            .runtime
            .block_on(self.router.clone().oneshot(req))
            .expect("infallible");
        assert!(
            resp.status().is_success(),
            "logout answered {}",
            resp.status()
        );
    }

    /// Sends and checks what every answer must be (see the module docs).
    pub fn call(&self, method: Method, uri: &str, body: &[u8], admin: bool) -> (StatusCode, Value) {
        let (status, raw) = self.send(method.clone(), uri, body, admin);
        assert!(
            !status.is_server_error(),
            "{method} {uri} answered {status}: {}\nbody sent: {}",
            String::from_utf8_lossy(&raw),
            String::from_utf8_lossy(body)
        );
        let answer: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        // (An empty 400 is `send`'s own for a URI that does not parse.)
        if !status.is_success() && !raw.is_empty() {
            assert!(
                answer["code"].is_string() && answer["message"].is_string(),
                "{method} {uri} answered {status} without the error shape: {}",
                String::from_utf8_lossy(&raw)
            );
        }
        (status, answer)
    }
}

/// Fuzz bytes as a query string: `&`, `=` and plain characters kept (so inputs can be made of
/// parameters), every other byte percent-encoded.
pub fn query(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-_.~&=,:".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
