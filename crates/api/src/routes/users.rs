//! Users (admin only) and each user's own profile. Passwords are argon2 hashes and never appear
//! in an answer; a change of password or roles, and a deletion, end the user's sessions.

use super::resources::{announce, find_page, json_object, list_query, parse_ids};
use crate::auth::{CurrentUser, ROLES, hash_password, verify_password};
use crate::error::ApiError;
use crate::secrets::public_view;
use crate::state::ApiState;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_core::filter::{Filter, Page, Query};
use switchyard_core::model::User;
use switchyard_core::quick_id::validate_id_segment;
use switchyard_core::store::to_document;
use switchyard_core::{EntityKind, Event, EventType};

const MIN_PASSWORD: usize = 8;

async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(ApiError::internal)
}

pub async fn list(
    State(state): State<ApiState>,
    UrlQuery(params): UrlQuery<Vec<(String, String)>>,
) -> Result<Json<Page<Value>>, ApiError> {
    let q = list_query(params)?;
    Ok(Json(find_page(&state, EntityKind::User, &q).await?))
}

pub async fn get_one(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let doc = state
        .store
        .backend()
        .get(EntityKind::User, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("user `{id}` not found")))?;
    Ok(Json(public_view(EntityKind::User, doc)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UserInput {
    #[serde(default)]
    id: String,
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    labels: switchyard_core::model::Labels,
    /// Accepted so a client can send back what it read; the server sets it.
    #[serde(default, rename = "modifiedOn")]
    _modified_on: Option<serde::de::IgnoredAny>,
}

async fn admins_left_without(state: &ApiState, user_id: &str) -> Result<usize, ApiError> {
    let users = state.store.find::<User>(&Query::all()).await?.data;
    Ok(users
        .iter()
        .filter(|u| u.id != user_id && u.roles.iter().any(|r| r == "admin"))
        .count())
}

pub async fn upsert(
    State(state): State<ApiState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let input: UserInput = serde_path_to_error::deserialize(json_object(&body)?).map_err(|e| {
        ApiError::invalid(
            "invalid_resource",
            vec![(e.path().to_string(), e.inner().to_string())],
        )
    })?;
    let mut bad = Vec::new();
    if let Err(e) = validate_id_segment(&input.username) {
        bad.push(("username".to_string(), e.to_string()));
    }
    for (i, r) in input.roles.iter().enumerate() {
        if !ROLES.contains(&r.as_str()) {
            bad.push((
                format!("roles[{i}]"),
                format!("`{r}` is not a role: admin, operator or viewer"),
            ));
        }
    }
    if let Some(p) = &input.password
        && p.chars().count() < MIN_PASSWORD
    {
        bad.push((
            "password".into(),
            format!("at least {MIN_PASSWORD} characters"),
        ));
    }
    let id = if input.id.is_empty() {
        uuid::Uuid::new_v4().simple().to_string()
    } else {
        if let Err(e) = validate_id_segment(&input.id) {
            bad.push(("id".into(), e.to_string()));
        }
        input.id.clone()
    };
    let existing = if bad.is_empty() {
        state.store.get::<User>(&id).await?
    } else {
        None
    };
    if existing.is_none() && input.password.is_none() {
        bad.push(("password".into(), "a new user needs a password".into()));
    }
    if !bad.is_empty() {
        return Err(ApiError::invalid("invalid_resource", bad));
    }
    let same_name = state
        .store
        .find::<User>(&Query::all().filter(Filter::eq("username", input.username.as_str())))
        .await?
        .data;
    if same_name.iter().any(|u| u.id != id) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_exists",
            format!("username `{}` is taken", input.username),
        ));
    }
    if let Some(old) = &existing
        && old.roles.iter().any(|r| r == "admin")
        && !input.roles.iter().any(|r| r == "admin")
        && admins_left_without(&state, &id).await? == 0
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "last_admin",
            "this is the last admin: give another user the admin role first",
        ));
    }
    let password = match (&input.password, &existing) {
        (Some(p), _) => hash(p.clone()).await?,
        (None, Some(old)) => old.password.clone(),
        (None, None) => String::new(),
    };
    let credentials_changed = existing
        .as_ref()
        .is_some_and(|old| input.password.is_some() || old.roles != input.roles);
    let user = User {
        id: id.clone(),
        username: input.username,
        email: input.email,
        password,
        full_name: input.full_name,
        roles: input.roles,
        labels: input.labels,
        modified_on: Some(chrono::Utc::now()),
    };
    let doc = to_document(&user)?;
    state.store.upsert(&user).await?;
    if credentials_changed {
        state.sessions.close_user(&id);
    }
    let event_type = if existing.is_some() {
        EventType::Updated
    } else {
        EventType::Created
    };
    let public = public_view(EntityKind::User, doc);
    announce(
        &state,
        &[Event::new(event_type, EntityKind::User, id, public.clone())],
    )
    .await;
    Ok(Json(public))
}

pub async fn delete(
    State(state): State<ApiState>,
    Extension(me): Extension<CurrentUser>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let ids = parse_ids(&body)?;
    if ids.contains(&me.user_id) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "cannot_delete_self",
            "you cannot delete your own user",
        ));
    }
    let mut events = Vec::new();
    for id in &ids {
        if let Some(doc) = state.store.backend().get(EntityKind::User, id).await? {
            events.push(Event::new(
                EventType::Deleted,
                EntityKind::User,
                id.clone(),
                public_view(EntityKind::User, doc),
            ));
        }
    }
    let ops = events
        .iter()
        .map(|e| switchyard_core::storage::WriteOp::Delete(EntityKind::User, e.entity_id.clone()))
        .collect();
    state.store.apply(ops).await?;
    for e in &events {
        state.sessions.close_user(&e.entity_id);
    }
    announce(&state, &events).await;
    Ok(Json(json!({"deleted": events.len()})))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProfileInput {
    full_name: Option<String>,
    email: Option<String>,
    current_password: Option<String>,
    new_password: Option<String>,
}

/// Your own name, email and password (the current password is needed to change it).
pub async fn update_profile(
    State(state): State<ApiState>,
    Extension(me): Extension<CurrentUser>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let input: ProfileInput =
        serde_path_to_error::deserialize(json_object(&body)?).map_err(|e| {
            ApiError::invalid(
                "invalid_body",
                vec![(e.path().to_string(), e.inner().to_string())],
            )
        })?;
    let mut user = state
        .store
        .get::<User>(&me.user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("your user no longer exists"))?;
    if let Some(n) = input.full_name {
        user.full_name = n;
    }
    if let Some(e) = input.email {
        user.email = e;
    }
    let mut password_changed = false;
    if let Some(new) = input.new_password {
        let current = input.current_password.unwrap_or_default();
        let stored = user.password.clone();
        let ok = tokio::task::spawn_blocking(move || verify_password(&current, &stored))
            .await
            .unwrap_or(false);
        if !ok {
            return Err(ApiError::invalid(
                "invalid_body",
                vec![(
                    "currentPassword".into(),
                    "does not match your password".into(),
                )],
            ));
        }
        if new.chars().count() < MIN_PASSWORD {
            return Err(ApiError::invalid(
                "invalid_body",
                vec![(
                    "newPassword".into(),
                    format!("at least {MIN_PASSWORD} characters"),
                )],
            ));
        }
        user.password = hash(new).await?;
        password_changed = true;
    }
    user.modified_on = Some(chrono::Utc::now());
    state.store.upsert(&user).await?;
    if password_changed {
        // Every session ends, this one too: whoever held the old password is out.
        state.sessions.close_user(&me.user_id);
    }
    let mut out = public_view(EntityKind::User, to_document(&user)?);
    if password_changed && let Some(o) = out.as_object_mut() {
        o.insert(
            "loggedOut".into(),
            json!("every session of this user ended; log in again"),
        );
    }
    Ok(Json(out))
}
