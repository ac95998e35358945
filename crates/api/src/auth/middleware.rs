use crate::error::ApiError;
use crate::state::ApiState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// The user behind a request, put into request extensions by [`require_session`].
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub token: String,
    pub session: super::Session,
}

fn bearer(req: &Request) -> Option<String> {
    let header = req.headers().get(axum::http::header::AUTHORIZATION)?;
    let value = header.to_str().ok()?;
    let token = value.strip_prefix("Bearer ").unwrap_or(value).trim();
    (!token.is_empty()).then(|| token.to_string())
}

/// Refuses every request without a live session token (`Authorization: Bearer <token>`).
pub async fn require_session(
    State(state): State<ApiState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let token =
        bearer(&req).ok_or_else(|| ApiError::unauthorized("log in first: no bearer token"))?;
    let session = state
        .sessions
        .get(&token)
        .ok_or_else(|| ApiError::unauthorized("session expired or unknown: log in again"))?;
    req.extensions_mut().insert(CurrentUser { token, session });
    Ok(next.run(req).await)
}
