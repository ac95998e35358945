//! A gateway's sleeping queues (messages held for battery nodes until they wake): listed and
//! cleared through the gateway service, which answers `service.gateway.sleeping_queue` for the
//! gateways it runs — in this process or, distributed, in another one.

use crate::error::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use bytes::Bytes;
use serde::Deserialize;
use std::time::Duration;
use switchyard_core::EntityKind;
use switchyard_core::bus::BusError;
use switchyard_core::sleeping_queue::{
    SUBJECT, SleepingQueueCommand, SleepingQueueReply, SleepingQueueRequest,
};

/// How long the gateway's runner has to answer. It answers from memory, so only a gateway that
/// no process runs (failed to start, or its process is gone) takes this long.
const ANSWER_WITHIN: Duration = Duration::from_secs(3);

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeQuery {
    /// One node's queue; all of the gateway's when absent.
    #[serde(default)]
    node_id: String,
}

pub async fn list(
    State(state): State<ApiState>,
    Path(gateway_id): Path<String>,
    Query(q): Query<NodeQuery>,
) -> Result<Json<SleepingQueueReply>, ApiError> {
    ask(&state, gateway_id, q.node_id, SleepingQueueCommand::List)
        .await
        .map(Json)
}

pub async fn clear(
    State(state): State<ApiState>,
    Path(gateway_id): Path<String>,
    Query(q): Query<NodeQuery>,
) -> Result<Json<SleepingQueueReply>, ApiError> {
    ask(&state, gateway_id, q.node_id, SleepingQueueCommand::Clear)
        .await
        .map(Json)
}

async fn ask(
    state: &ApiState,
    gateway_id: String,
    node_id: String,
    command: SleepingQueueCommand,
) -> Result<SleepingQueueReply, ApiError> {
    let Some(gateway) = state
        .store
        .backend()
        .get(EntityKind::Gateway, &gateway_id)
        .await?
    else {
        return Err(ApiError::not_found(format!("no gateway `{gateway_id}`")));
    };
    if gateway.get("enabled").and_then(|v| v.as_bool()) == Some(false) {
        return Err(not_running(&gateway_id, "it is disabled"));
    }
    let request = SleepingQueueRequest {
        command,
        gateway_id: gateway_id.clone(),
        node_id,
    };
    let body = serde_json::to_vec(&request)
        .map_err(|e| ApiError::internal(format!("encoding the request: {e}")))?;
    let answer = match state
        .bus
        .request(SUBJECT, Bytes::from(body), ANSWER_WITHIN)
        .await
    {
        Ok(m) => m,
        Err(BusError::Timeout(_) | BusError::NoResponders(_)) => {
            return Err(not_running(
                &gateway_id,
                "no gateway service answered for it (see its state for why)",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    serde_json::from_slice(&answer.payload).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "bad_answer",
            format!("the gateway service answered something else: {e}"),
        )
    })
}

/// A queue that no running gateway holds: a conflict with the gateway's state, not a failure.
fn not_running(gateway_id: &str, why: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "not_running",
        format!("gateway `{gateway_id}` is not running, so it holds no sleeping queue: {why}"),
    )
}
