//! The route table. Every route is declared once here with the access it needs; the router, the
//! OpenAPI document and the tests that walk every route are all built from this one table, so a
//! route cannot exist without a declared access level.

mod actions;
mod backup;
mod firmware;
mod login;
mod metric;
mod openapi;
mod quickid;
pub(crate) mod resources;
mod service_tokens;
mod settings;
mod sleeping_queue;
mod status;
mod users;

use crate::auth::{Access, Gate, authorize};
use crate::config::ApiConfig;
use crate::error::ApiError;
use crate::state::ApiState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::handler::Handler;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use std::time::Duration;

pub use firmware::is_safe_file_name;
pub use resources::RESOURCES;

/// What the table says about one route (without its handler): for the OpenAPI document, the
/// docs and the tests.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    pub method: Method,
    pub path: String,
    pub access: Access,
    pub tag: &'static str,
    pub summary: String,
    /// Gets the long timeout (backups, uploads).
    pub long: bool,
    /// Body limit when it differs from the default.
    pub body_limit: Option<usize>,
    /// Accepts `?token=` besides the `Authorization` header.
    pub query_token: bool,
}

struct RouteDef {
    info: RouteInfo,
    handler: MethodRouter<ApiState>,
}

fn def<H, T>(
    method: Method,
    path: impl Into<String>,
    access: Access,
    tag: &'static str,
    summary: impl Into<String>,
    handler: H,
) -> RouteDef
where
    H: Handler<T, ApiState>,
    T: 'static,
{
    let filter = match method {
        Method::GET => MethodFilter::GET,
        Method::POST => MethodFilter::POST,
        Method::DELETE => MethodFilter::DELETE,
        Method::PUT => MethodFilter::PUT,
        _ => MethodFilter::PATCH,
    };
    RouteDef {
        info: RouteInfo {
            method,
            path: path.into(),
            access,
            tag,
            summary: summary.into(),
            long: false,
            body_limit: None,
            query_token: false,
        },
        handler: on(filter, handler),
    }
}

impl RouteDef {
    fn long(mut self) -> Self {
        self.info.long = true;
        self
    }
    fn body_limit(mut self, n: usize) -> Self {
        self.info.body_limit = Some(n);
        self
    }
    fn query_token(mut self) -> Self {
        self.info.query_token = true;
        self
    }
}

fn routes(config: &ApiConfig) -> Vec<RouteDef> {
    use Access::*;
    use Method as M;
    let mut r = vec![
        def(
            M::GET,
            "/api/status",
            Open,
            "system",
            "Version, uptime, login message and each service's state",
            status::status,
        ),
        def(
            M::POST,
            "/api/user/login",
            Open,
            "auth",
            "Log in with {username, password} or exchange a service token {token}",
            login::login,
        ),
        def(
            M::POST,
            "/api/user/logout",
            Authenticated,
            "auth",
            "End this session",
            login::logout,
        ),
        def(
            M::GET,
            "/api/user/profile",
            Authenticated,
            "auth",
            "Who you are",
            login::profile,
        ),
        def(
            M::POST,
            "/api/user/profile",
            Authenticated,
            "auth",
            "Change your name, email or password",
            users::update_profile,
        ),
        def(
            M::GET,
            "/api/version",
            Viewer,
            "system",
            "Version of the server",
            status::version,
        ),
        def(
            M::GET,
            "/api/openapi.json",
            Viewer,
            "system",
            "This API as an OpenAPI 3.1 document",
            openapi::document,
        ),
        def(
            M::GET,
            "/api/ws",
            Viewer,
            "events",
            "Websocket of live events, with subscriptions",
            crate::ws::upgrade,
        )
        .query_token(),
        def(
            M::GET,
            "/api/user",
            Admin,
            "users",
            "List users",
            users::list,
        ),
        def(
            M::GET,
            "/api/user/{id}",
            Admin,
            "users",
            "One user",
            users::get_one,
        ),
        def(
            M::POST,
            "/api/user",
            Admin,
            "users",
            "Create or update a user (password required on create)",
            users::upsert,
        ),
        def(
            M::DELETE,
            "/api/user",
            Admin,
            "users",
            "Delete users by id",
            users::delete,
        ),
        def(
            M::GET,
            "/api/servicetoken",
            Viewer,
            "auth",
            "List your service tokens (an admin sees all)",
            service_tokens::list,
        ),
        def(
            M::GET,
            "/api/servicetoken/{id}",
            Viewer,
            "auth",
            "One service token",
            service_tokens::get_one,
        ),
        def(
            M::POST,
            "/api/servicetoken",
            Viewer,
            "auth",
            "Create a service token; the raw token is in this answer only",
            service_tokens::create,
        ),
        def(
            M::DELETE,
            "/api/servicetoken",
            Viewer,
            "auth",
            "Revoke service tokens by id",
            service_tokens::delete,
        ),
        def(
            M::GET,
            "/api/action",
            Operator,
            "actions",
            "Run one action: ?resource=<quickId>&payload=<value>[&keyPath=]",
            actions::get_action,
        ),
        def(
            M::POST,
            "/api/action",
            Operator,
            "actions",
            "Run actions [{resource, keyPath?, payload}]",
            actions::post_actions,
        ),
        def(
            M::GET,
            "/api/quickid",
            Viewer,
            "actions",
            "Resolve quick-ids: ?id=<quickId>&id=…",
            quickid::lookup,
        ),
        def(
            M::GET,
            "/api/metric",
            Viewer,
            "metrics",
            "A series: ?quickId=&start=-1h&stop=&window=5m&functions=mean,max",
            metric::get_metric,
        ),
        def(
            M::POST,
            "/api/metric",
            Viewer,
            "metrics",
            "Several series: {global, individual: [{quickId, …}]}",
            metric::post_metric,
        ),
        def(
            M::GET,
            "/api/settings",
            Viewer,
            "settings",
            "System settings",
            settings::get_settings,
        ),
        def(
            M::POST,
            "/api/settings",
            Admin,
            "settings",
            "Update system settings {id: system_settings, spec}",
            settings::update_settings,
        ),
        def(
            M::POST,
            "/api/firmware/upload/{id}",
            Admin,
            "resources",
            "Upload a firmware file (multipart `file`)",
            firmware::upload,
        )
        .long()
        .body_limit(config.max_firmware_bytes + 64 * 1024),
        def(
            M::GET,
            "/api/gateway/{id}/sleeping-queue",
            Viewer,
            "resources",
            "Messages a gateway holds for sleeping nodes (`?nodeId=` for one node)",
            sleeping_queue::list,
        ),
        def(
            M::DELETE,
            "/api/gateway/{id}/sleeping-queue",
            Operator,
            "resources",
            "Drop the messages a gateway holds for sleeping nodes (`?nodeId=` for one node)",
            sleeping_queue::clear,
        ),
        def(
            M::GET,
            "/api/backup",
            Admin,
            "backup",
            "List backup archives",
            backup::list,
        ),
        def(
            M::POST,
            "/api/backup/run",
            Admin,
            "backup",
            "Make a backup archive now",
            backup::run,
        )
        .long(),
        def(
            M::GET,
            "/api/backup/{id}",
            Admin,
            "backup",
            "Download a backup archive",
            backup::download,
        )
        .long(),
        def(
            M::POST,
            "/api/backup/upload",
            Admin,
            "backup",
            "Upload a backup archive (multipart `file`)",
            backup::upload,
        )
        .long()
        .body_limit(
            usize::try_from(config.max_backup_bytes)
                .unwrap_or(usize::MAX)
                .saturating_add(64 * 1024),
        ),
        def(
            M::POST,
            "/api/backup/{id}/restore",
            Admin,
            "backup",
            "Replace all resources with a backup's",
            backup::restore,
        )
        .long(),
        def(
            M::DELETE,
            "/api/backup",
            Admin,
            "backup",
            "Delete backup archives by id",
            backup::delete,
        ),
    ];
    r.extend(resources::routes());
    r
}

/// Every route: method, path, access and summary.
pub fn route_table(config: &ApiConfig) -> Vec<RouteInfo> {
    routes(config).into_iter().map(|d| d.info).collect()
}

async fn time_limit(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!("the request took longer than {limit:?} and was abandoned"),
        )
        .into_response(),
    }
}

/// Gives every error the API's shape, including those made below the handlers (an unknown
/// method, a body over the limit, a malformed multipart body).
async fn uniform_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    let message = if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text.trim().to_string()
    };
    ApiError::from_status(status, message).into_response()
}

pub fn router(state: ApiState) -> Router {
    let config = state.config.clone();
    let mut router = Router::new();
    for RouteDef { info, handler } in routes(&config) {
        let gate = Gate {
            state: state.clone(),
            access: info.access,
            query_token: info.query_token,
        };
        let limit = if info.long {
            config.long_request_timeout
        } else {
            config.request_timeout
        };
        let mut handler = handler
            .route_layer(axum::middleware::from_fn_with_state(gate, authorize))
            .route_layer(axum::middleware::from_fn(move |req, next| {
                time_limit(limit, req, next)
            }));
        if let Some(n) = info.body_limit {
            handler = handler.layer(DefaultBodyLimit::max(n));
        }
        router = router.route(&info.path, handler);
    }
    router
        .fallback(|| async { ApiError::not_found("no such route") })
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(axum::middleware::map_response(uniform_errors))
        .with_state(state)
}

pub fn openapi_document(config: &ApiConfig) -> serde_json::Value {
    openapi::build(&route_table(config))
}
