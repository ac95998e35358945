//! List, get, create-or-replace and delete for every stored resource, MyController's way:
//! `GET /api/<res>?filter=[…]&sortBy=[…]&limit=&offset=&<key>=<value>`, `POST /api/<res>` with the
//! whole resource, `DELETE /api/<res>` with a JSON array of ids. Each change publishes an event.

use crate::error::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::{Path, Query as UrlQuery, State};
use serde_json::{Value, json};
use std::collections::HashMap;
use switchyard_core::bus::BusExt;
use switchyard_core::filter::{Filter, Page, Query, SortBy};
use switchyard_core::model::*;
use switchyard_core::quick_id::{QuickId, validate_id_segment};
use switchyard_core::storage::{WriteOp, document_id};
use switchyard_core::{EntityKind, Event, EventType, Resource};

/// Default page size of a list when `limit` is not given (`limit=-1` returns everything).
pub const DEFAULT_LIMIT: u64 = 50;

/// Checks a body against the resource's schema; errors carry the path of the bad field.
type Validate = fn(Value) -> Result<Value, ApiError>;

fn typed<T: Resource>(body: Value) -> Result<Value, ApiError> {
    let resource: T = serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        ApiError::bad_request("invalid_resource", format!("{}: {}", path, e.inner()))
            .with_details(json!([{"path": path, "message": e.inner().to_string()}]))
    })?;
    switchyard_core::store::to_document(&resource).map_err(ApiError::from)
}

/// URL name → (kind, validator). Users and service tokens have their own routes.
fn resource(name: &str) -> Result<(EntityKind, Validate), ApiError> {
    Ok(match name {
        "gateway" => (EntityKind::Gateway, typed::<Gateway>),
        "node" => (EntityKind::Node, typed::<Node>),
        "source" => (EntityKind::Source, typed::<Source>),
        "field" => (EntityKind::Field, typed::<Field>),
        "firmware" => (EntityKind::Firmware, typed::<Firmware>),
        "task" => (EntityKind::Task, typed::<Task>),
        "schedule" => (EntityKind::Schedule, typed::<Schedule>),
        "handler" => (EntityKind::Handler, typed::<Handler>),
        "forwardpayload" => (EntityKind::ForwardPayload, typed::<ForwardPayload>),
        "dashboard" => (EntityKind::Dashboard, typed::<Dashboard>),
        "datarepository" => (EntityKind::DataRepository, typed::<DataRepository>),
        other => return Err(ApiError::not_found(format!("no resource type `{other}`"))),
    })
}

fn str_field<'a>(doc: &'a Value, key: &str) -> &'a str {
    doc.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Ids of nodes, sources and fields are built from their parts; other resources get a generated
/// id when none is given.
fn assign_id(kind: EntityKind, doc: &mut Value) -> Result<(), ApiError> {
    let parts: &[&str] = match kind {
        EntityKind::Node => &["gatewayId", "nodeId"],
        EntityKind::Source => &["gatewayId", "nodeId", "sourceId"],
        EntityKind::Field => &["gatewayId", "nodeId", "sourceId", "fieldId"],
        _ => &[],
    };
    let bad = |path: &str, msg: String| {
        ApiError::bad_request("invalid_resource", format!("{path}: {msg}"))
            .with_details(json!([{"path": path, "message": msg}]))
    };
    let id = if parts.is_empty() {
        match str_field(doc, "id") {
            "" if kind == EntityKind::Gateway => {
                return Err(bad("id", "a gateway needs an id".into()));
            }
            "" => uuid::Uuid::new_v4().simple().to_string(),
            id => id.to_string(),
        }
    } else {
        let mut values = Vec::new();
        for p in parts {
            let v = str_field(doc, p);
            validate_id_segment(v).map_err(|e| bad(p, e.to_string()))?;
            values.push(v);
        }
        let id = QuickId::compose(&values);
        let given = str_field(doc, "id");
        if !given.is_empty() && given != id {
            return Err(bad(
                "id",
                format!("must be `{id}`, built from {}", parts.join(", ")),
            ));
        }
        id
    };
    validate_id_segment_or_composite(kind, &id).map_err(|e| bad("id", e))?;
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("id".into(), Value::String(id));
        obj.insert("modifiedOn".into(), json!(chrono::Utc::now()));
    }
    Ok(())
}

fn validate_id_segment_or_composite(kind: EntityKind, id: &str) -> Result<(), String> {
    match kind {
        EntityKind::Node | EntityKind::Source | EntityKind::Field => Ok(()),
        _ => validate_id_segment(id).map_err(|e| e.to_string()),
    }
}

fn parse_json_param<T: serde::de::DeserializeOwned>(name: &str, raw: &str) -> Result<T, ApiError> {
    serde_json::from_str(raw).map_err(|e| {
        ApiError::bad_request(
            "invalid_query",
            format!("`{name}` is not valid JSON of the expected shape: {e}"),
        )
    })
}

fn list_query(params: HashMap<String, String>) -> Result<Query, ApiError> {
    let mut q = Query {
        limit: Some(DEFAULT_LIMIT),
        ..Query::default()
    };
    for (k, v) in params {
        match k.as_str() {
            "limit" => {
                let n: i64 = v.parse().map_err(|_| {
                    ApiError::bad_request("invalid_query", "`limit` must be a whole number")
                })?;
                q.limit = u64::try_from(n).ok();
            }
            "offset" => {
                q.offset = v.parse().map_err(|_| {
                    ApiError::bad_request("invalid_query", "`offset` must be a whole number ≥ 0")
                })?
            }
            "sortBy" => q
                .sort_by
                .extend(parse_json_param::<Vec<SortBy>>("sortBy", &v)?),
            "filter" => q
                .filters
                .extend(parse_json_param::<Vec<Filter>>("filter", &v)?),
            _ => q.filters.push(Filter::eq(k, v)),
        }
    }
    q.compile()
        .map_err(|e| ApiError::bad_request("invalid_query", e.to_string()))?;
    Ok(q)
}

fn strip_secrets(kind: EntityKind, mut doc: Value) -> Value {
    if kind == EntityKind::User
        && let Some(o) = doc.as_object_mut()
    {
        o.remove("password");
    }
    doc
}

pub async fn list(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    UrlQuery(params): UrlQuery<HashMap<String, String>>,
) -> Result<Json<Page<Value>>, ApiError> {
    let (kind, _) = resource(&name)?;
    let q = list_query(params)?;
    let page = state.store.backend().find(kind, &q).await?;
    Ok(Json(page.map(|d| strip_secrets(kind, d))))
}

pub async fn get_one(
    State(state): State<ApiState>,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (kind, _) = resource(&name)?;
    let doc = state
        .store
        .backend()
        .get(kind, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{kind} `{id}` not found")))?;
    Ok(Json(strip_secrets(kind, doc)))
}

async fn announce(state: &ApiState, events: &[Event]) {
    for e in events {
        if let Err(err) = state.bus.publish_json(&e.subject(), e).await {
            tracing::warn!(error = %err, "could not publish event");
        }
    }
}

pub async fn upsert(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let (kind, validate) = resource(&name)?;
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_body", format!("body is not JSON: {e}")))?;
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "invalid_body",
            "expected one resource as a JSON object",
        ));
    }
    let mut doc = validate(body)?;
    assign_id(kind, &mut doc)?;
    let id = document_id(&doc)?.to_string();
    let existed = state.store.backend().get(kind, &id).await?.is_some();
    state
        .store
        .apply(vec![WriteOp::Upsert(kind, doc.clone())])
        .await?;
    let event_type = if existed {
        EventType::Updated
    } else {
        EventType::Created
    };
    announce(&state, &[Event::new(event_type, kind, id, doc.clone())]).await;
    Ok(Json(strip_secrets(kind, doc)))
}

pub async fn delete(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let (kind, _) = resource(&name)?;
    let ids: Vec<String> = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request("invalid_body", format!("expected a JSON array of ids: {e}"))
    })?;
    let mut events = Vec::new();
    for id in &ids {
        if let Some(doc) = state.store.backend().get(kind, id).await? {
            events.push(Event::new(EventType::Deleted, kind, id.clone(), doc));
        }
    }
    let ops = events
        .iter()
        .map(|e| WriteOp::Delete(kind, e.entity_id.clone()))
        .collect();
    state.store.apply(ops).await?;
    announce(&state, &events).await;
    Ok(Json(json!({"deleted": events.len()})))
}
