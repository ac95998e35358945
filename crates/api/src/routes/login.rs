use crate::auth::{CurrentUser, verify_password};
use crate::error::ApiError;
use crate::state::ApiState;
use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_core::filter::{Filter, Query};
use switchyard_core::model::User;

#[derive(Deserialize)]
pub struct Login {
    username: String,
    password: String,
}

pub async fn login(
    State(state): State<ApiState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: Login = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "invalid_body",
            format!("expected {{username, password}}: {e}"),
        )
    })?;
    let q = Query::all()
        .filter(Filter::eq("username", req.username.as_str()))
        .page(1, 0);
    let user = state.store.find::<User>(&q).await?.data.into_iter().next();
    // The same answer for an unknown user and a wrong password: no hint which one it was.
    let user = user
        .filter(|u| verify_password(&req.password, &u.password))
        .ok_or_else(|| ApiError::unauthorized("wrong username or password"))?;
    let (token, session) = state
        .sessions
        .open(&user.id, &user.username, user.roles.clone());
    Ok(Json(json!({
        "id": user.id,
        "username": user.username,
        "fullName": user.full_name,
        "email": user.email,
        "roles": user.roles,
        "token": token,
        "expiresOn": session.expires,
    })))
}

pub async fn logout(
    State(state): State<ApiState>,
    Extension(me): Extension<CurrentUser>,
) -> Json<Value> {
    state.sessions.close(&me.token);
    Json(json!({"loggedOut": true}))
}

pub async fn profile(Extension(me): Extension<CurrentUser>) -> Json<Value> {
    Json(json!({
        "id": me.session.user_id,
        "username": me.session.username,
        "roles": me.session.roles,
        "expiresOn": me.session.expires,
    }))
}
