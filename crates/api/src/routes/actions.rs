//! Actions by quick-id (`POST /api/action [{resource, keyPath?, payload}]`, or one with
//! `GET /api/action?resource=&payload=`):
//! - `field:` → a `set` message to `message.to_gateway.<gw>`; `toggle` flips a binary's value;
//!   the node's `sleep_node` and `sleep_message_validity` labels go onto the message.
//! - `node:` → an `action` message: reboot, heartbeat_request, refresh_node_info, reset,
//!   firmware_update.
//! - `gateway:` → discover_nodes (an `action` message), or enable / disable / reload.
//! - `task:`, `schedule:`, `handler:`, `forward_payload:` → enable / disable (reload for those
//!   that have it).
//! - `data_repository:` → sets the value at `keyPath` (the payload, as JSON when it parses).
//!
//! What an action means is [`switchyard_core::action::resolve`]'s, shared with the automation's
//! resource handler. Every action of a request is checked before any runs; a bad one fails the request with the
//! index of each bad action in `details`.

use super::resources::{announce, set_enabled_and_tell, spec_of};
use crate::error::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::{Query as UrlQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_core::action::{Action as CoreAction, Current, resolve};
use switchyard_core::bus::BusExt;
use switchyard_core::model::{DataRepository, Field, Node};
use switchyard_core::store::to_document;
use switchyard_core::value::parse_bool;
use switchyard_core::{EntityKind, Event, EventType, Message, MessageType, Payload, QuickId};

/// Most actions in one request.
pub const MAX_ACTIONS: usize = 100;

pub const NODE_ACTIONS: [&str; 5] = [
    "reboot",
    "heartbeat_request",
    "refresh_node_info",
    "reset",
    "firmware_update",
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Action {
    pub resource: String,
    #[serde(default)]
    pub key_path: Option<String>,
    #[serde(default)]
    pub payload: Value,
}

/// What an action will do, decided before anything runs.
enum Plan {
    /// Resolved by [`switchyard_core::action::resolve`], the meaning the automation shares.
    Core(CoreAction),
    /// Enable or disable through the resource's spec (forward payloads have no core action).
    Command {
        kind: EntityKind,
        command: &'static str,
        id: String,
    },
    /// `discover_nodes` on a gateway.
    Send(Message),
}

fn payload_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// What the action needs to know about its target (the field and its node).
async fn current(state: &ApiState, q: &QuickId) -> Result<Current, ApiError> {
    let mut cur = Current::default();
    let node_id = match q.kind {
        EntityKind::Field => {
            cur.field = state.store.get::<Field>(&q.id).await?;
            q.id.splitn(3, '.').take(2).collect::<Vec<_>>().join(".")
        }
        EntityKind::Node => q.id.clone(),
        _ => return Ok(cur),
    };
    cur.node = state.store.get::<Node>(&node_id).await?;
    Ok(cur)
}

async fn plan(state: &ApiState, action: &Action) -> Result<Plan, (String, String)> {
    let q: QuickId = action
        .resource
        .parse()
        .map_err(|e: switchyard_core::CoreError| ("resource".to_string(), e.to_string()))?;
    let payload = payload_text(&action.payload);
    let word = payload.trim().to_ascii_lowercase();
    let bad_payload = |m: String| ("payload".to_string(), m);
    match q.kind {
        EntityKind::Node if !NODE_ACTIONS.contains(&word.as_str()) => {
            return Err(bad_payload(format!(
                "expected one of {}",
                NODE_ACTIONS.join(", ")
            )));
        }
        EntityKind::Gateway if word == "discover_nodes" => {
            let msg = Message::new(MessageType::Action, q.id.as_str(), "", "")
                .with_payload(Payload::new(word.as_str(), ""));
            return Ok(Plan::Send(msg));
        }
        EntityKind::ForwardPayload => {
            let command = match parse_bool(&word) {
                Some(true) => "enable",
                Some(false) => "disable",
                None => return Err(bad_payload("expected enable or disable".into())),
            };
            return Ok(Plan::Command {
                kind: q.kind,
                command,
                id: q.id,
            });
        }
        EntityKind::DataRepository => {
            let repo = state
                .store
                .get::<DataRepository>(&q.id)
                .await
                .map_err(|e| ("resource".to_string(), e.to_string()))?
                .ok_or_else(|| {
                    (
                        "resource".to_string(),
                        format!("data repository `{}` not found", q.id),
                    )
                })?;
            if repo.read_only {
                return Err((
                    "resource".into(),
                    "this data repository is read-only".into(),
                ));
            }
        }
        _ => {}
    }
    let cur = current(state, &q)
        .await
        .map_err(|e| ("resource".to_string(), e.message))?;
    let payload = match &action.payload {
        // A data repository takes JSON values as they are.
        Value::String(_) | Value::Null => payload,
        other if q.kind == EntityKind::DataRepository => other.to_string(),
        _ => payload,
    };
    resolve(&q, &payload, action.key_path.as_deref(), &cur)
        .map(Plan::Core)
        .map_err(|e| bad_payload(e.to_string()))
}

async fn run(state: &ApiState, plan: Plan) -> Result<Value, ApiError> {
    let send = |mut msg: Message| async move {
        msg.timestamp = Some(chrono::Utc::now());
        let subject = switchyard_core::topics::to_gateway(&msg.gateway_id);
        state.bus.publish_json(&subject, &msg).await?;
        Ok::<_, ApiError>(json!({"sent": subject}))
    };
    match plan {
        Plan::Send(msg) | Plan::Core(CoreAction::Send(msg)) => send(msg).await,
        Plan::Command { kind, command, id } => {
            let spec = spec_of(kind).ok_or_else(|| ApiError::internal("no spec"))?;
            set_enabled_and_tell(state, spec, command, std::slice::from_ref(&id)).await
        }
        Plan::Core(CoreAction::SetEnabled { kind, id, enabled }) => {
            let spec = spec_of(kind).ok_or_else(|| ApiError::internal("no spec"))?;
            let command = if enabled { "enable" } else { "disable" };
            set_enabled_and_tell(state, spec, command, std::slice::from_ref(&id)).await
        }
        Plan::Core(CoreAction::Reload { kind, id }) => {
            let spec = spec_of(kind).ok_or_else(|| ApiError::internal("no spec"))?;
            set_enabled_and_tell(state, spec, "reload", std::slice::from_ref(&id)).await
        }
        Plan::Core(CoreAction::SetData {
            id,
            key_path,
            value,
        }) => {
            let mut repo = state
                .store
                .get::<DataRepository>(&id)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("data repository `{id}` not found")))?;
            let mut data = Value::Object(std::mem::take(&mut repo.data));
            switchyard_core::key_path::set(&mut data, &key_path, value)
                .map_err(|e| ApiError::invalid("invalid_action", vec![("keyPath".into(), e)]))?;
            repo.data = match data {
                Value::Object(m) => m,
                _ => Default::default(),
            };
            repo.modified_on = Some(chrono::Utc::now());
            state.store.upsert(&repo).await?;
            let doc = to_document(&repo)?;
            announce(
                state,
                &[Event::new(
                    EventType::Updated,
                    EntityKind::DataRepository,
                    repo.id.clone(),
                    doc,
                )],
            )
            .await;
            Ok(json!({"updated": format!("data_repository:{}", repo.id)}))
        }
    }
}

async fn run_all(state: &ApiState, actions: Vec<Action>) -> Result<Json<Value>, ApiError> {
    if actions.len() > MAX_ACTIONS {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!("at most {MAX_ACTIONS} actions at once"),
        ));
    }
    let mut plans = Vec::new();
    let mut bad = Vec::new();
    for (i, a) in actions.iter().enumerate() {
        match plan(state, a).await {
            Ok(p) => plans.push(p),
            Err((path, msg)) => bad.push((format!("[{i}].{path}"), msg)),
        }
    }
    if !bad.is_empty() {
        return Err(ApiError::invalid("invalid_action", bad));
    }
    let mut results = Vec::new();
    for p in plans {
        results.push(run(state, p).await?);
    }
    Ok(Json(json!({"results": results})))
}

pub async fn post_actions(
    State(state): State<ApiState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_body", format!("body is not JSON: {e}")))?;
    // One action may come alone, not in a list.
    let value = if value.is_object() {
        Value::Array(vec![value])
    } else {
        value
    };
    let actions: Vec<Action> = serde_path_to_error::deserialize(value).map_err(|e| {
        ApiError::invalid(
            "invalid_body",
            vec![(e.path().to_string(), e.inner().to_string())],
        )
    })?;
    run_all(&state, actions).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionQuery {
    resource: String,
    #[serde(default)]
    payload: String,
    #[serde(default)]
    key_path: Option<String>,
}

pub async fn get_action(
    State(state): State<ApiState>,
    q: Result<UrlQuery<ActionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let UrlQuery(q) =
        q.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    run_all(
        &state,
        vec![Action {
            resource: q.resource,
            key_path: q.key_path,
            payload: Value::String(q.payload),
        }],
    )
    .await
}
