use crate::auth::{
    CurrentUser, check_service_token, hash_password, is_foreign_hash, service_token,
    verify_password,
};
use crate::error::ApiError;
use crate::state::ApiState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Instant;
use switchyard_core::filter::{Filter, Query};
use switchyard_core::model::User;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    /// A service token `<id>_<secret>`, exchanged for a session instead of a password.
    #[serde(default)]
    token: String,
}

fn too_many(wait: std::time::Duration) -> ApiError {
    let secs = wait.as_secs().max(1);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        format!("too many failed logins for this account; try again in {secs} s"),
    )
    .with_details(json!({"retryAfterSeconds": secs}))
}

async fn password_login(state: &ApiState, req: &Login) -> Result<User, ApiError> {
    let q = Query::all()
        .filter(Filter::eq("username", req.username.as_str()))
        .page(1, 0);
    let user = state.store.find::<User>(&q).await?.data.into_iter().next();
    // The same answer (and the same argon2 work) for an unknown user and a wrong password.
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = match &user {
        Some(u) => u.password.clone(),
        None => DUMMY
            .get_or_init(|| crate::auth::hash_password("no such user").unwrap_or_default())
            .clone(),
    };
    let password = req.password.clone();
    let foreign = is_foreign_hash(&hash);
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let user = user
        .filter(|_| ok)
        .ok_or_else(|| ApiError::unauthorized("wrong username or password"))?;
    if foreign {
        return Ok(rehash(state, user, req.password.clone()).await);
    }
    Ok(user)
}

/// A user imported with MyController's bcrypt hash just proved the password: store Switchyard's
/// argon2 hash in its place (and drop the import's reset reminder). A failure here is logged and
/// the login still succeeds: the bcrypt hash keeps working and is replaced at the next login.
async fn rehash(state: &ApiState, mut user: User, password: String) -> User {
    let hashed = tokio::task::spawn_blocking(move || hash_password(&password)).await;
    let hash = match hashed {
        Ok(Ok(hash)) => hash,
        Ok(Err(e)) => {
            tracing::warn!(user = %user.id, error = %e, "login: could not rehash a bcrypt password");
            return user;
        }
        Err(e) => {
            tracing::warn!(user = %user.id, error = %e, "login: could not rehash a bcrypt password");
            return user;
        }
    };
    let before = user.clone();
    user.password = hash;
    user.labels.remove("password_reset_required");
    match state.store.update(&user).await {
        Ok(()) => {
            tracing::info!(user = %user.id, "login: replaced an imported bcrypt hash with argon2");
            user
        }
        Err(e) => {
            tracing::warn!(user = %user.id, error = %e, "login: could not store the rehashed password");
            before
        }
    }
}

pub async fn login(
    State(state): State<ApiState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: Login = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "invalid_body",
            format!("expected {{username, password}} or {{token}}: {e}"),
        )
    })?;
    let by_token = !req.token.is_empty();
    if !by_token && req.username.is_empty() {
        return Err(ApiError::invalid(
            "invalid_body",
            vec![(
                "username".into(),
                "give a username and password, or a token".into(),
            )],
        ));
    }
    let key = if by_token {
        format!(
            "token:{}",
            service_token::token_id(&req.token).unwrap_or("malformed")
        )
    } else {
        format!("user:{}", req.username.to_lowercase())
    };
    let now = Instant::now();
    state.logins.check(&key, now).map_err(too_many)?;
    let result = if by_token {
        match service_token::token_id(&req.token) {
            Some(id) => check_service_token(&state, id, &req.token)
                .await
                .map(|(u, st)| {
                    let not_after = st.expires_on.filter(|_| !st.never_expire);
                    (u, not_after, Some(st.id))
                }),
            None => Err(ApiError::unauthorized(
                "unknown, revoked or expired service token",
            )),
        }
    } else {
        password_login(&state, &req).await.map(|u| (u, None, None))
    };
    let (user, not_after, token_id) = match result {
        Ok(ok) => ok,
        Err(e) => {
            if e.status == StatusCode::UNAUTHORIZED {
                state.logins.failed(&key, now);
            }
            return Err(e);
        }
    };
    state.logins.succeeded(&key);
    let (token, session) = state.sessions.open_until(
        &user.id,
        &user.username,
        user.roles.clone(),
        not_after,
        token_id.as_deref(),
    );
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
) -> Result<Json<Value>, ApiError> {
    match &me.session_token {
        Some(token) => {
            state.sessions.close(token);
            Ok(Json(json!({"loggedOut": true})))
        }
        None => Err(ApiError::bad_request(
            "not_a_session",
            "a service token has no session to end; revoke it with DELETE /api/servicetoken",
        )),
    }
}

pub async fn profile(Extension(me): Extension<CurrentUser>) -> Json<Value> {
    Json(json!({
        "id": me.user_id,
        "username": me.username,
        "roles": me.roles,
        "access": me.access,
        "serviceTokenId": me.service_token_id,
        "expiresOn": me.expires,
    }))
}
