mod login;
mod resources;
mod status;

use crate::auth::require_session;
use crate::state::ApiState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

/// Largest request body the API reads (firmware uploads will get their own limit).
pub const BODY_LIMIT: usize = 1024 * 1024;

pub fn router(state: ApiState) -> Router {
    let open = Router::new()
        .route("/api/status", get(status::status))
        .route("/api/user/login", post(login::login));
    let secured = Router::new()
        .route("/api/user/logout", post(login::logout))
        .route("/api/user/profile", get(login::profile))
        .route(
            "/api/{resource}",
            get(resources::list)
                .post(resources::upsert)
                .delete(resources::delete),
        )
        .route("/api/{resource}/{id}", get(resources::get_one))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_session,
        ));
    open.merge(secured)
        .fallback(|| async { crate::error::ApiError::not_found("no such route") })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}
