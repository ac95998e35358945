//! Service tokens for scripts and other programs. The raw token `<id>_<secret>` is in the
//! answer to its creation only; storage keeps a SHA-256 of it. Each user manages their own
//! tokens; an admin sees and revokes everyone's and may create one for another user. A token
//! acts with its owner's roles. Revoking a token also ends the sessions it was exchanged for.

use super::resources::{announce, find_page, json_object, list_query, parse_ids};
use crate::auth::{CurrentUser, service_token};
use crate::error::ApiError;
use crate::secrets::public_view;
use crate::state::ApiState;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_core::filter::{Filter, Page};
use switchyard_core::model::{Labels, ServiceToken, TokenSecret, User};
use switchyard_core::storage::WriteOp;
use switchyard_core::store::to_document;
use switchyard_core::{EntityKind, Event, EventType};

const KIND: EntityKind = EntityKind::ServiceToken;

pub async fn list(
    State(state): State<ApiState>,
    Extension(me): Extension<CurrentUser>,
    UrlQuery(params): UrlQuery<Vec<(String, String)>>,
) -> Result<Json<Page<Value>>, ApiError> {
    let mut q = list_query(params)?;
    if !me.is_admin() {
        q.filters.push(Filter::eq("userId", me.user_id.as_str()));
    }
    Ok(Json(find_page(&state, KIND, &q).await?))
}

fn visible(me: &CurrentUser, doc: &Value) -> bool {
    me.is_admin() || doc.get("userId").and_then(Value::as_str) == Some(me.user_id.as_str())
}

pub async fn get_one(
    State(state): State<ApiState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let doc = state
        .store
        .backend()
        .get(KIND, &id)
        .await?
        .filter(|d| visible(&me, d))
        .ok_or_else(|| ApiError::not_found(format!("service token `{id}` not found")))?;
    Ok(Json(public_view(KIND, doc)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TokenInput {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    never_expire: bool,
    #[serde(default)]
    expires_on: Option<DateTime<Utc>>,
    #[serde(default)]
    labels: Labels,
}

pub async fn create(
    State(state): State<ApiState>,
    Extension(me): Extension<CurrentUser>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let input: TokenInput = serde_path_to_error::deserialize(json_object(&body)?).map_err(|e| {
        ApiError::invalid(
            "invalid_resource",
            vec![(e.path().to_string(), e.inner().to_string())],
        )
    })?;
    let mut bad = Vec::new();
    if input.name.trim().is_empty() {
        bad.push(("name".to_string(), "a token needs a name".to_string()));
    }
    if !input.never_expire {
        match input.expires_on {
            None => bad.push((
                "expiresOn".into(),
                "give an expiry time, or neverExpire: true".into(),
            )),
            Some(t) if t <= Utc::now() => bad.push(("expiresOn".into(), "is in the past".into())),
            _ => {}
        }
    }
    let owner = input.user_id.clone().unwrap_or_else(|| me.user_id.clone());
    if owner != me.user_id && !me.is_admin() {
        bad.push((
            "userId".into(),
            "only an admin may create a token for another user".into(),
        ));
    }
    if !bad.is_empty() {
        return Err(ApiError::invalid("invalid_resource", bad));
    }
    if state.store.get::<User>(&owner).await?.is_none() {
        return Err(ApiError::invalid(
            "invalid_resource",
            vec![("userId".into(), format!("no user `{owner}`"))],
        ));
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let raw = service_token::generate(&id);
    let token = ServiceToken {
        id: id.clone(),
        user_id: owner,
        name: input.name,
        description: input.description,
        token: TokenSecret {
            id: id.clone(),
            token: service_token::hash(&raw),
        },
        never_expire: input.never_expire,
        expires_on: input.expires_on.filter(|_| !input.never_expire),
        labels: input.labels,
        created_on: Some(Utc::now()),
    };
    state.store.insert(&token).await?;
    let public = public_view(KIND, to_document(&token)?);
    announce(
        &state,
        &[Event::new(EventType::Created, KIND, id, public.clone())],
    )
    .await;
    let mut out = public;
    if let Some(o) = out.as_object_mut() {
        o.insert("rawToken".into(), json!(raw));
    }
    Ok((StatusCode::CREATED, Json(out)))
}

pub async fn delete(
    State(state): State<ApiState>,
    Extension(me): Extension<CurrentUser>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let ids = parse_ids(&body)?;
    let mut events = Vec::new();
    for id in &ids {
        if let Some(doc) = state.store.backend().get(KIND, id).await?
            && visible(&me, &doc)
        {
            events.push(Event::new(
                EventType::Deleted,
                KIND,
                id.clone(),
                public_view(KIND, doc),
            ));
        }
    }
    let ops = events
        .iter()
        .map(|e| WriteOp::Delete(KIND, e.entity_id.clone()))
        .collect();
    state.store.apply(ops).await?;
    for e in &events {
        state.sessions.close_service_token(&e.entity_id);
    }
    announce(&state, &events).await;
    Ok(Json(json!({"deleted": events.len()})))
}
