use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::Value;
use std::sync::Arc;
use switchyard_api::auth::hash_password;
use switchyard_api::{ApiConfig, ApiState};
use switchyard_bus::{EmbeddedBus, EmbeddedBusConfig};
use switchyard_core::bus::Bus;
use switchyard_core::model::User;
use switchyard_core::store::Store;
use switchyard_storage::{MemoryConfig, MemoryStorage};
use tower::ServiceExt;

pub const PASSWORD: &str = "a long enough password";

pub struct Harness {
    pub state: ApiState,
    pub router: Router,
    pub bus: Arc<dyn Bus>,
    pub _dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub raw: bytes::Bytes,
    pub headers: axum::http::HeaderMap,
}

impl Harness {
    pub async fn new() -> Harness {
        Self::with_config(ApiConfig::default()).await
    }

    pub async fn with_config(config: ApiConfig) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let storage = MemoryStorage::open(&dir.path().join("storage"), &MemoryConfig::default())
            .await
            .unwrap();
        let store = Store::new(Arc::new(storage));
        let bus: Arc<dyn Bus> = Arc::new(EmbeddedBus::new(&EmbeddedBusConfig::default()).unwrap());
        let metrics =
            switchyard_metrics::open(&switchyard_metrics::MetricsConfig::default(), dir.path())
                .await
                .unwrap();
        let state = ApiState::new(
            store,
            bus.clone(),
            metrics,
            dir.path().to_path_buf(),
            config,
            Arc::new(|| serde_json::json!({})),
        );
        for (id, role) in [
            ("admin", "admin"),
            ("op", "operator"),
            ("view", "viewer"),
            ("nobody", ""),
        ] {
            let user = User {
                id: id.into(),
                username: id.into(),
                password: hash_password(PASSWORD).unwrap(),
                roles: if role.is_empty() {
                    vec![]
                } else {
                    vec![role.into()]
                },
                ..Default::default()
            };
            state.store.insert(&user).await.unwrap();
        }
        Harness {
            router: switchyard_api::router(state.clone()),
            state,
            bus,
            _dir: dir,
        }
    }

    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(&v).unwrap())
            }
            None => Body::empty(),
        };
        self.raw(req.body(body).unwrap()).await
    }

    pub async fn raw(&self, req: Request<Body>) -> Reply {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let raw = axum::body::to_bytes(resp.into_body(), 64 << 20)
            .await
            .unwrap();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Reply {
            status,
            body,
            raw,
            headers,
        }
    }

    pub async fn get(&self, uri: &str, token: &str) -> Reply {
        self.send(Method::GET, uri, Some(token), None).await
    }

    pub async fn post(&self, uri: &str, token: &str, body: Value) -> Reply {
        self.send(Method::POST, uri, Some(token), Some(body)).await
    }

    pub async fn login(&self, username: &str) -> String {
        let r = self
            .send(
                Method::POST,
                "/api/user/login",
                None,
                Some(serde_json::json!({"username": username, "password": PASSWORD})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["token"].as_str().unwrap().to_string()
    }
}

/// Every error has the one shape.
pub fn assert_error(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    assert_eq!(r.body["code"], code, "{}", r.body);
    assert!(
        r.body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        r.body
    );
    assert!(r.body.get("details").is_some(), "{}", r.body);
}
