//! Authentication and authorisation of every route: the token (a login session, or a service
//! token used directly) names a user; the route's [`Access`] must not exceed the user's.

use super::roles::Access;
use super::service_token;
use crate::error::ApiError;
use crate::state::ApiState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use switchyard_core::model::{ServiceToken, User};

/// The user behind a request, put into request extensions by [`authorize`].
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The login session's token; `None` when a service token is used directly.
    pub session_token: Option<String>,
    pub service_token_id: Option<String>,
    pub user_id: String,
    pub username: String,
    pub roles: Vec<String>,
    pub access: Access,
    pub expires: Option<DateTime<Utc>>,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.access >= Access::Admin
    }
}

/// What a route needs, handed to [`authorize`] as its state.
#[derive(Clone)]
pub struct Gate {
    pub state: ApiState,
    pub access: Access,
    /// Also read the token from `?token=` (the websocket, where browsers cannot set headers).
    pub query_token: bool,
}

fn bearer(req: &Request) -> Option<String> {
    let header = req.headers().get(axum::http::header::AUTHORIZATION)?;
    let value = header.to_str().ok()?;
    let token = value.strip_prefix("Bearer ").unwrap_or(value).trim();
    (!token.is_empty()).then(|| token.to_string())
}

pub fn query_token(query: Option<&str>) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == "token" || k == "access_token")
            .then(|| v.to_string())
            .filter(|v| !v.is_empty())
    })
}

fn is_websocket_upgrade(req: &Request) -> bool {
    req.headers()
        .get(axum::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Resolves a token to its user: a session token, or a service token `<id>_<secret>`.
pub async fn authenticate(state: &ApiState, token: &str) -> Result<CurrentUser, ApiError> {
    if let Some(token_id) = service_token::token_id(token) {
        let (user, st) = check_service_token(state, token_id, token).await?;
        return Ok(CurrentUser {
            session_token: None,
            service_token_id: Some(st.id),
            access: Access::of_roles(&user.roles),
            user_id: user.id,
            username: user.username,
            roles: user.roles,
            expires: st.expires_on.filter(|_| !st.never_expire),
        });
    }
    let session = state
        .sessions
        .get(token)
        .ok_or_else(|| ApiError::unauthorized("session expired or unknown: log in again"))?;
    Ok(CurrentUser {
        session_token: Some(token.to_string()),
        service_token_id: session.service_token_id,
        access: Access::of_roles(&session.roles),
        user_id: session.user_id,
        username: session.username,
        roles: session.roles,
        expires: Some(session.expires),
    })
}

/// The owner and record of a valid, unexpired service token.
pub async fn check_service_token(
    state: &ApiState,
    token_id: &str,
    raw: &str,
) -> Result<(User, ServiceToken), ApiError> {
    let refused = || ApiError::unauthorized("unknown, revoked or expired service token");
    let st = state
        .store
        .get::<ServiceToken>(token_id)
        .await?
        .ok_or_else(refused)?;
    if !service_token::verify(raw, &st.token.token) {
        return Err(refused());
    }
    if !st.never_expire && st.expires_on.is_some_and(|e| e <= Utc::now()) {
        return Err(refused());
    }
    let user = state
        .store
        .get::<User>(&st.user_id)
        .await?
        .ok_or_else(refused)?;
    Ok((user, st))
}

/// Refuses a request without a valid token (401) or whose user may not use the route (403).
pub async fn authorize(
    State(gate): State<Gate>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if gate.access == Access::Open {
        return Ok(next.run(req).await);
    }
    let token = bearer(&req).or_else(|| {
        gate.query_token
            .then(|| query_token(req.uri().query()))
            .flatten()
    });
    let Some(token) = token else {
        // A websocket may send its token as its first message; the socket handler checks it.
        if gate.query_token && is_websocket_upgrade(&req) {
            return Ok(next.run(req).await);
        }
        return Err(ApiError::unauthorized("log in first: no bearer token"));
    };
    let user = authenticate(&gate.state, &token).await?;
    if user.access < gate.access {
        return Err(ApiError::forbidden(format!(
            "this needs the {} role; you have {}",
            gate.access.as_str(),
            if user.roles.is_empty() {
                "none".to_string()
            } else {
                user.roles.join(", ")
            }
        )));
    }
    req.extensions_mut().insert(user);
    Ok(next.run(req).await)
}
