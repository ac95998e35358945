//! List, get, create-or-replace, delete and enable/disable/reload for every stored resource,
//! MyController's way: `GET /api/<res>?filter=[…]&sortBy=[…]&limit=&offset=&<key>=<value>`,
//! `POST /api/<res>` with the whole resource, `DELETE /api/<res>` with a JSON array of ids,
//! `POST /api/<res>/enable|disable|reload` with a JSON array of ids. Each change publishes an
//! event; enable/disable/reload also publish `service.<name>.<command>` with the ids.

use super::{RouteDef, def};
use crate::auth::Access;
use crate::error::ApiError;
use crate::secrets::{public_view, restore_masked};
use crate::state::ApiState;
use axum::Json;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::Method;
use serde_json::{Value, json};
use switchyard_core::bus::BusExt;
use switchyard_core::filter::{Filter, Page, Query, SortBy};
use switchyard_core::model::*;
use switchyard_core::quick_id::{QuickId, validate_id_segment};
use switchyard_core::storage::{WriteOp, document_id};
use switchyard_core::value::parse_duration;
use switchyard_core::{EntityKind, Event, EventType, Resource};

/// Default page size of a list when `limit` is not given (`limit=-1` returns everything).
pub const DEFAULT_LIMIT: u64 = 50;
/// Most ids in one delete/enable/disable/reload body.
pub const MAX_IDS: usize = 1000;

/// Checks a body against the resource's schema; errors carry the path of each bad field.
type Validate = fn(Value) -> Result<Value, ApiError>;

pub struct ResourceSpec {
    /// The URL name (`/api/<path>`).
    pub path: &'static str,
    pub kind: EntityKind,
    validate: Validate,
    /// Who may create, change and delete.
    pub write: Access,
    /// The service that runs these resources (`switchyard_core::action::service_name`), told
    /// of enable (`start`), disable (`stop`) and reload (`reload`).
    pub service: Option<&'static str>,
    pub commands: &'static [&'static str],
}

const ENABLE: &[&str] = &["enable", "disable"];
const ENABLE_RELOAD: &[&str] = &["enable", "disable", "reload"];

pub static RESOURCES: [ResourceSpec; 11] = [
    ResourceSpec {
        path: "gateway",
        kind: EntityKind::Gateway,
        validate: typed::<Gateway>,
        write: Access::Admin,
        service: Some("gateway"),
        commands: ENABLE_RELOAD,
    },
    ResourceSpec {
        path: "node",
        kind: EntityKind::Node,
        validate: typed::<Node>,
        write: Access::Admin,
        service: None,
        commands: &[],
    },
    ResourceSpec {
        path: "source",
        kind: EntityKind::Source,
        validate: typed::<Source>,
        write: Access::Admin,
        service: None,
        commands: &[],
    },
    ResourceSpec {
        path: "field",
        kind: EntityKind::Field,
        validate: typed::<Field>,
        write: Access::Admin,
        service: None,
        commands: &[],
    },
    ResourceSpec {
        path: "firmware",
        kind: EntityKind::Firmware,
        validate: typed::<Firmware>,
        write: Access::Admin,
        service: None,
        commands: &[],
    },
    ResourceSpec {
        path: "task",
        kind: EntityKind::Task,
        validate: typed::<Task>,
        write: Access::Operator,
        service: Some("task"),
        commands: ENABLE_RELOAD,
    },
    ResourceSpec {
        path: "schedule",
        kind: EntityKind::Schedule,
        validate: typed::<Schedule>,
        write: Access::Operator,
        service: Some("scheduler"),
        commands: ENABLE_RELOAD,
    },
    ResourceSpec {
        path: "handler",
        kind: EntityKind::Handler,
        validate: typed::<Handler>,
        write: Access::Operator,
        service: Some("handler"),
        commands: ENABLE_RELOAD,
    },
    ResourceSpec {
        path: "forwardpayload",
        kind: EntityKind::ForwardPayload,
        validate: typed::<ForwardPayload>,
        write: Access::Operator,
        service: None,
        commands: ENABLE,
    },
    ResourceSpec {
        path: "dashboard",
        kind: EntityKind::Dashboard,
        validate: typed::<Dashboard>,
        write: Access::Operator,
        service: None,
        commands: &[],
    },
    ResourceSpec {
        path: "datarepository",
        kind: EntityKind::DataRepository,
        validate: typed::<DataRepository>,
        write: Access::Operator,
        service: None,
        commands: &[],
    },
];

pub fn spec_of(kind: EntityKind) -> Option<&'static ResourceSpec> {
    RESOURCES.iter().find(|s| s.kind == kind)
}

pub(super) fn routes() -> Vec<RouteDef> {
    let mut out = Vec::new();
    for spec in RESOURCES.iter() {
        let p = spec.path;
        out.push(def(
            Method::GET,
            format!("/api/{p}"),
            Access::Viewer,
            "resources",
            format!("List {p}s: filter, sortBy, limit, offset, equality parameters"),
            move |s: State<ApiState>, q: UrlQuery<Vec<(String, String)>>| list(spec, s, q),
        ));
        out.push(def(
            Method::GET,
            format!("/api/{p}/{{id}}"),
            Access::Viewer,
            "resources",
            format!("One {p}"),
            move |s: State<ApiState>, id: Path<String>| get_one(spec, s, id),
        ));
        out.push(def(
            Method::POST,
            format!("/api/{p}"),
            spec.write,
            "resources",
            format!("Create or replace a {p}"),
            move |s: State<ApiState>, b: axum::body::Bytes| upsert(spec, s, b),
        ));
        out.push(def(
            Method::DELETE,
            format!("/api/{p}"),
            spec.write,
            "resources",
            format!("Delete {p}s by id (JSON array)"),
            move |s: State<ApiState>, b: axum::body::Bytes| delete(spec, s, b),
        ));
        for command in spec.commands {
            out.push(def(
                Method::POST,
                format!("/api/{p}/{command}"),
                Access::Operator,
                "resources",
                format!("{command} {p}s by id (JSON array)"),
                move |s: State<ApiState>, b: axum::body::Bytes| run_command(spec, command, s, b),
            ));
        }
    }
    out
}

fn typed<T: Resource>(body: Value) -> Result<Value, ApiError> {
    let resource: T = serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        ApiError::invalid("invalid_resource", vec![(path, e.inner().to_string())])
    })?;
    switchyard_core::store::to_document(&resource).map_err(ApiError::from)
}

fn str_field<'a>(doc: &'a Value, key: &str) -> &'a str {
    doc.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Checks beyond the schema, every bad field reported at once.
fn semantic_errors(kind: EntityKind, doc: &Value) -> Vec<(String, String)> {
    let mut bad = Vec::new();
    let mut duration = |path: &str, optional: bool| {
        let v = str_field(doc, path);
        if (v.is_empty() && !optional) || (!v.is_empty() && parse_duration(v).is_err()) {
            bad.push((
                path.to_string(),
                format!("`{v}` is not a duration (10s, 5m, 1h30m)"),
            ));
        }
    };
    match kind {
        EntityKind::Gateway => {
            duration("reconnectDelay", true);
            if doc
                .get("provider")
                .and_then(|p| p.get("type"))
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                bad.push((
                    "provider.type".into(),
                    "a gateway needs a provider type".into(),
                ));
            }
        }
        EntityKind::Task => duration("executionInterval", true),
        EntityKind::ForwardPayload => {
            for key in ["srcFieldId", "dstFieldId"] {
                match str_field(doc, key).parse::<QuickId>() {
                    Ok(q) if q.kind == EntityKind::Field => {}
                    Ok(_) => bad.push((
                        key.into(),
                        "must be a field quick-id (field:gw.node.source.field)".into(),
                    )),
                    Err(e) => bad.push((key.into(), e.to_string())),
                }
            }
        }
        EntityKind::Schedule => {
            let t = str_field(doc, "type");
            if !["", "repeat", "cron", "simple", "sunrise", "sunset"].contains(&t) {
                bad.push((
                    "type".into(),
                    "expected repeat, cron, simple, sunrise or sunset".into(),
                ));
            }
        }
        _ => {}
    }
    if let Some(labels) = doc.get("labels").and_then(Value::as_object) {
        for k in labels.keys() {
            if normalize_label_key(k) != *k {
                bad.push((
                    format!("labels.{k}"),
                    format!(
                        "label keys are lower case [a-z0-9_/]; use `{}`",
                        normalize_label_key(k)
                    ),
                ));
            }
        }
    }
    bad
}

/// Ids of nodes, sources and fields are built from their parts; other resources get a generated
/// id when none is given (a gateway must be named).
fn assign_id(kind: EntityKind, doc: &mut Value) -> Result<(), ApiError> {
    let parts: &[&str] = match kind {
        EntityKind::Node => &["gatewayId", "nodeId"],
        EntityKind::Source => &["gatewayId", "nodeId", "sourceId"],
        EntityKind::Field => &["gatewayId", "nodeId", "sourceId", "fieldId"],
        _ => &[],
    };
    let mut bad = Vec::new();
    let id = if parts.is_empty() {
        match str_field(doc, "id") {
            "" if kind == EntityKind::Gateway => {
                bad.push(("id".to_string(), "a gateway needs an id".to_string()));
                String::new()
            }
            "" => uuid::Uuid::new_v4().simple().to_string(),
            id => {
                if let Err(e) = validate_id_segment(id) {
                    bad.push(("id".into(), e.to_string()));
                }
                id.to_string()
            }
        }
    } else {
        let mut values = Vec::new();
        for p in parts {
            let v = str_field(doc, p);
            if let Err(e) = validate_id_segment(v) {
                bad.push((p.to_string(), e.to_string()));
            }
            values.push(v);
        }
        let id = QuickId::compose(&values);
        let given = str_field(doc, "id");
        if bad.is_empty() && !given.is_empty() && given != id {
            bad.push((
                "id".into(),
                format!("must be `{id}`, built from {}", parts.join(", ")),
            ));
        }
        id
    };
    bad.extend(semantic_errors(kind, doc));
    if !bad.is_empty() {
        return Err(ApiError::invalid("invalid_resource", bad));
    }
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("id".into(), Value::String(id));
        obj.insert("modifiedOn".into(), json!(chrono::Utc::now()));
    }
    Ok(())
}

fn parse_json_param<T: serde::de::DeserializeOwned>(name: &str, raw: &str) -> Result<T, ApiError> {
    serde_json::from_str(raw).map_err(|e| {
        ApiError::invalid(
            "invalid_query",
            vec![(
                name.to_string(),
                format!("not valid JSON of the expected shape: {e}"),
            )],
        )
    })
}

/// The query of a list: `limit` (default 50, `-1` all), `offset`, `sortBy`, `filter`, and any
/// other parameter as an equality filter.
pub fn list_query(params: Vec<(String, String)>) -> Result<Query, ApiError> {
    let mut q = Query {
        limit: Some(DEFAULT_LIMIT),
        ..Query::default()
    };
    for (k, v) in params {
        match k.as_str() {
            "limit" => {
                let n: i64 = v.parse().map_err(|_| {
                    ApiError::invalid(
                        "invalid_query",
                        vec![("limit".into(), "must be a whole number (-1 for all)".into())],
                    )
                })?;
                q.limit = u64::try_from(n).ok();
            }
            "offset" => {
                q.offset = v.parse().map_err(|_| {
                    ApiError::invalid(
                        "invalid_query",
                        vec![("offset".into(), "must be a whole number ≥ 0".into())],
                    )
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

pub fn parse_ids(body: &[u8]) -> Result<Vec<String>, ApiError> {
    let ids: Vec<String> = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request("invalid_body", format!("expected a JSON array of ids: {e}"))
    })?;
    if ids.len() > MAX_IDS {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!("at most {MAX_IDS} ids at once"),
        ));
    }
    Ok(ids)
}

pub async fn announce(state: &ApiState, events: &[Event]) {
    for e in events {
        if let Err(err) = state.bus.publish_json(&e.subject(), e).await {
            tracing::warn!(error = %err, subject = %e.subject(), "could not publish event");
        }
    }
}

pub async fn find_page(
    state: &ApiState,
    kind: EntityKind,
    q: &Query,
) -> Result<Page<Value>, ApiError> {
    let page = state.store.backend().find(kind, q).await?;
    Ok(page.map(|d| public_view(kind, d)))
}

async fn list(
    spec: &'static ResourceSpec,
    State(state): State<ApiState>,
    UrlQuery(params): UrlQuery<Vec<(String, String)>>,
) -> Result<Json<Page<Value>>, ApiError> {
    let q = list_query(params)?;
    Ok(Json(find_page(&state, spec.kind, &q).await?))
}

async fn get_one(
    spec: &'static ResourceSpec,
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let kind = spec.kind;
    let doc = state
        .store
        .backend()
        .get(kind, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{kind} `{id}` not found")))?;
    Ok(Json(public_view(kind, doc)))
}

pub fn json_object(body: &[u8]) -> Result<Value, ApiError> {
    let body: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("invalid_body", format!("body is not JSON: {e}")))?;
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "invalid_body",
            "expected one resource as a JSON object",
        ));
    }
    Ok(body)
}

/// What `POST /api/<path>` makes of a body before storage sees it: one JSON object, checked
/// against the resource's schema and the checks beyond it, with its id assigned. Pure (the fuzz
/// target `api_body` feeds it arbitrary bytes).
pub fn check_resource_body(spec: &ResourceSpec, body: &[u8]) -> Result<Value, ApiError> {
    let mut doc = (spec.validate)(json_object(body)?)?;
    assign_id(spec.kind, &mut doc)?;
    Ok(doc)
}

async fn upsert(
    spec: &'static ResourceSpec,
    State(state): State<ApiState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let kind = spec.kind;
    let mut doc = check_resource_body(spec, &body)?;
    let id = document_id(&doc)?.to_string();
    let existing = state.store.backend().get(kind, &id).await?;
    if let Some(old) = &existing {
        restore_masked(kind, &mut doc, old);
    }
    if kind == EntityKind::ForwardPayload {
        let candidate: ForwardPayload = serde_json::from_value(doc.clone()).map_err(|e| {
            ApiError::invalid("invalid_resource", vec![(String::new(), e.to_string())])
        })?;
        refuse_forward_cycles(&state, &[candidate]).await?;
    }
    state
        .store
        .apply(vec![WriteOp::Upsert(kind, doc.clone())])
        .await?;
    let event_type = if existing.is_some() {
        EventType::Updated
    } else {
        EventType::Created
    };
    announce(&state, &[Event::new(event_type, kind, id, doc.clone())]).await;
    Ok(Json(public_view(kind, doc)))
}

/// Refuses (400 `forward_cycle`) forward payloads that, once stored enabled, would close a
/// cycle (A→B→A, or longer) with the enabled ones already stored and with each other. The
/// forward-payload service also skips such a payload when it loads and stops any chain that
/// slips through with a hop limit; this check keeps one from being created in the first place.
async fn refuse_forward_cycles(
    state: &ApiState,
    candidates: &[ForwardPayload],
) -> Result<(), ApiError> {
    if candidates.iter().all(|c| !c.enabled) {
        return Ok(());
    }
    let mut graph: Vec<ForwardPayload> = state
        .store
        .find::<ForwardPayload>(&Query::all().filter(Filter::eq("enabled", true)))
        .await?
        .data;
    for candidate in candidates {
        graph.retain(|fp| fp.id != candidate.id);
        if let Some(cycle) = find_cycle(&graph, candidate) {
            let chain = cycle.join(" → ");
            return Err(ApiError::invalid(
                "forward_cycle",
                vec![(
                    "dstFieldId".into(),
                    format!(
                        "forward payload `{}` would close a cycle: {chain}",
                        candidate.id
                    ),
                )],
            )
            .with_details(json!([{
                "path": "dstFieldId",
                "message": format!("would close a cycle: {chain}"),
                "cycle": cycle,
            }])));
        }
        graph.push(candidate.clone());
    }
    Ok(())
}

async fn delete(
    spec: &'static ResourceSpec,
    State(state): State<ApiState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let kind = spec.kind;
    let ids = parse_ids(&body)?;
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
    if kind == EntityKind::Firmware {
        for e in &events {
            let _ = tokio::fs::remove_file(state.firmware_dir().join(&e.entity_id)).await;
        }
    }
    announce(&state, &events).await;
    Ok(Json(json!({"deleted": events.len()})))
}

/// Sets `enabled` on each resource (for enable/disable), stores and announces the change, then
/// tells the service: `service.<name>.start|stop|reload` with the ids (services also follow the
/// events; `start` of a running one is a no-op). Fails as a whole, before any change, when an id
/// is unknown.
pub async fn set_enabled_and_tell(
    state: &ApiState,
    spec: &ResourceSpec,
    command: &str,
    ids: &[String],
) -> Result<Value, ApiError> {
    let kind = spec.kind;
    let mut docs = Vec::new();
    let mut missing = Vec::new();
    for id in ids {
        match state.store.backend().get(kind, id).await? {
            Some(doc) => docs.push(doc),
            None => missing.push(id.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(
            ApiError::not_found(format!("{kind} not found: {}", missing.join(", ")))
                .with_details(json!(missing)),
        );
    }
    if kind == EntityKind::ForwardPayload && command == "enable" {
        let mut candidates = Vec::new();
        for doc in &docs {
            let mut fp: ForwardPayload = serde_json::from_value(doc.clone())
                .map_err(|e| ApiError::internal(format!("stored {kind} is unreadable: {e}")))?;
            fp.enabled = true;
            candidates.push(fp);
        }
        refuse_forward_cycles(state, &candidates).await?;
    }
    let mut events = Vec::new();
    if command == "enable" || command == "disable" {
        let mut ops = Vec::new();
        for mut doc in docs {
            if let Some(o) = doc.as_object_mut() {
                o.insert("enabled".into(), Value::Bool(command == "enable"));
                o.insert("modifiedOn".into(), json!(chrono::Utc::now()));
            }
            let id = document_id(&doc)?.to_string();
            events.push(Event::new(EventType::Updated, kind, id, doc.clone()));
            ops.push(WriteOp::Upsert(kind, doc));
        }
        state.store.apply(ops).await?;
        announce(state, &events).await;
    }
    if let Some(service) = spec.service {
        let verb = match command {
            "enable" => "start",
            "disable" => "stop",
            other => other,
        };
        let subject = switchyard_core::topics::service(service, verb);
        state.bus.publish_json(&subject, &ids).await?;
    }
    Ok(json!({"command": command, "ids": ids}))
}

async fn run_command(
    spec: &'static ResourceSpec,
    command: &'static str,
    State(state): State<ApiState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let ids = parse_ids(&body)?;
    Ok(Json(
        set_enabled_and_tell(&state, spec, command, &ids).await?,
    ))
}
