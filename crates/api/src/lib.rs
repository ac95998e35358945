//! The HTTP API. Every route answers JSON; errors have one shape, `{code, message, details}`.
//! Only `/api/status` and `/api/user/login` answer without a token; every other route declares
//! the role it needs in one table ([`routes::route_table`]), from which the router and the
//! OpenAPI document are built.

pub mod auth;
pub mod backup;
pub mod config;
pub mod error;
mod routes;
pub mod secrets;
mod state;
pub mod ws;

pub use config::ApiConfig;
/// The parsers of resource bodies, id lists and list queries, public for the fuzz targets.
pub use routes::resources::{
    MAX_IDS, RESOURCES, ResourceSpec, check_resource_body, list_query, parse_ids,
};
pub use routes::{RouteInfo, route_table, router};
pub use state::{ApiState, StatusSource};

/// The OpenAPI 3.1 document of this API.
pub fn openapi(config: &ApiConfig) -> serde_json::Value {
    routes::openapi_document(config)
}
