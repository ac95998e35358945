//! The OpenAPI 3.1 document, generated from the route table (paths, methods, access, summaries)
//! and from the resource types themselves (each schema is derived from the JSON the type
//! serializes to), so it cannot drift from what the server does.

use super::{RESOURCES, RouteInfo, route_table};
use crate::auth::Access;
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value, json};
use switchyard_core::model::*;
use switchyard_core::store::to_document;

/// A JSON Schema for what `example` looks like: its keys and their JSON types.
fn schema_of(example: &Value) -> Value {
    match example {
        Value::Null => json!({}),
        Value::Bool(_) => json!({"type": "boolean"}),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({"type": "integer"}),
        Value::Number(_) => json!({"type": "number"}),
        Value::String(_) => json!({"type": "string"}),
        Value::Array(items) => match items.first() {
            Some(first) => json!({"type": "array", "items": schema_of(first)}),
            None => json!({"type": "array"}),
        },
        Value::Object(map) => {
            let props: Map<String, Value> =
                map.iter().map(|(k, v)| (k.clone(), schema_of(v))).collect();
            json!({"type": "object", "properties": props})
        }
    }
}

fn resource_schemas() -> Map<String, Value> {
    fn of<T: serde::Serialize + Default>() -> Value {
        schema_of(&to_document(&T::default()).unwrap_or(Value::Null))
    }
    let mut m = Map::new();
    m.insert("gateway".into(), of::<Gateway>());
    m.insert("node".into(), of::<Node>());
    m.insert("source".into(), of::<Source>());
    m.insert("field".into(), of::<Field>());
    m.insert("firmware".into(), of::<Firmware>());
    m.insert("task".into(), of::<Task>());
    m.insert("schedule".into(), of::<Schedule>());
    m.insert("handler".into(), of::<Handler>());
    m.insert("forwardpayload".into(), of::<ForwardPayload>());
    m.insert("dashboard".into(), of::<Dashboard>());
    m.insert("datarepository".into(), of::<DataRepository>());
    let mut user = of::<User>();
    if let Some(p) = user.get_mut("properties").and_then(Value::as_object_mut) {
        p.insert(
            "password".into(),
            json!({"type": "string", "writeOnly": true}),
        );
    }
    m.insert("user".into(), user);
    m.insert("servicetoken".into(), of::<ServiceToken>());
    m.insert("settings".into(), json!({"type": "object", "properties": {"id": {"type": "string"}, "spec": of::<SystemSettings>()}}));
    m.insert(
        "Error".into(),
        json!({"type": "object", "required": ["code", "message", "details"], "properties": {
            "code": {"type": "string", "description": "stable, for programs"},
            "message": {"type": "string", "description": "for people"},
            "details": {"description": "for validation: [{path, message}]"}}}),
    );
    m.insert(
        "Page".into(),
        json!({"type": "object", "properties": {"count": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"}, "data": {"type": "array"}}}),
    );
    m.insert(
        "SleepingQueue".into(),
        json!({"type": "object", "required": ["gatewayId", "messages", "cleared", "counts"], "properties": {
            "gatewayId": {"type": "string"},
            "messages": {"type": "array", "description": "list: queued messages by node, in send order", "items": {
                "type": "object", "properties": {"message": {"type": "object"},
                "queuedAt": {"type": "string", "format": "date-time"},
                "expiresAt": {"type": "string", "format": "date-time"}}}},
            "cleared": {"type": "integer", "description": "clear: how many were dropped"},
            "counts": {"type": "object", "description": "since the gateway started: expired, replaced, droppedOldest, refused"}}}),
    );
    m.insert(
        "Ids".into(),
        json!({"type": "array", "items": {"type": "string"}}),
    );
    m
}

fn query_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}, "description": description})
}

fn operation(r: &RouteInfo) -> Value {
    let mut op = Map::new();
    op.insert("summary".into(), json!(r.summary));
    op.insert("tags".into(), json!([r.tag]));
    op.insert(
        "operationId".into(),
        json!(format!(
            "{}{}",
            r.method.as_str().to_lowercase(),
            r.path.replace(['/', '{', '}', '.'], "_")
        )),
    );
    op.insert("x-access".into(), json!(r.access.as_str()));
    if r.access == Access::Open {
        op.insert("security".into(), json!([]));
    }
    let mut params: Vec<Value> = r
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    let resource = r
        .path
        .trim_start_matches("/api/")
        .split('/')
        .next()
        .unwrap_or("");
    let is_resource = RESOURCES.iter().any(|s| s.path == resource)
        || resource == "user"
        || resource == "servicetoken";
    let mut ok_schema = json!({});
    if r.method == axum::http::Method::GET && is_resource && !r.path.contains('{') {
        params.extend([
            query_param("filter", "JSON [{k, o, v}] — o: eq ne gt gte lt lte in nin range_in range_not_in regex exists"),
            query_param("sortBy", "JSON [{f, o: asc|desc}]"),
            query_param("limit", "page size (default 50, -1 for all)"),
            query_param("offset", "first result"),
        ]);
        ok_schema = json!({"$ref": "#/components/schemas/Page"});
    } else if is_resource && r.method == axum::http::Method::GET {
        ok_schema = json!({"$ref": format!("#/components/schemas/{resource}")});
    }
    let sleeping_queue = r.path.ends_with("/sleeping-queue");
    if sleeping_queue {
        params.push(query_param(
            "nodeId",
            "one node's queue; every node's when absent",
        ));
        ok_schema = json!({"$ref": "#/components/schemas/SleepingQueue"});
    }
    match r.path.as_str() {
        "/api/metric" if r.method == axum::http::Method::GET => params.extend([
            query_param("quickId", "the series, e.g. field:gw.1.2.V_TEMP"),
            query_param("start", "-1h (default), now, or RFC 3339"),
            query_param("stop", "now (default), relative, or RFC 3339"),
            query_param("window", "5m: one row per window; none: raw points"),
            query_param(
                "functions",
                "mean,min,max,sum,count,first,last,median,percentile_NN",
            ),
        ]),
        "/api/action" if r.method == axum::http::Method::GET => params.extend([
            query_param("resource", "a quick-id"),
            query_param("payload", "the value or action"),
            query_param("keyPath", "data repository key path"),
        ]),
        "/api/quickid" => params.push(query_param("id", "a quick-id; repeat for several")),
        "/api/backup/run" => params.push(query_param(
            "metrics",
            "true: add the metric history (or the body {\"includeMetrics\": true})",
        )),
        "/api/ws" => params.push(query_param("token", "the session or service token")),
        _ => {}
    }
    if !params.is_empty() {
        op.insert("parameters".into(), Value::Array(params));
    }
    if (r.method == axum::http::Method::POST || r.method == axum::http::Method::DELETE)
        && !sleeping_queue
    {
        let body = if r.path.ends_with("/upload") || r.path.contains("/upload/") {
            json!({"multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}})
        } else if r.method == axum::http::Method::DELETE
            || ["enable", "disable", "reload"]
                .iter()
                .any(|c| r.path.ends_with(c))
        {
            json!({"application/json": {"schema": {"$ref": "#/components/schemas/Ids"}}})
        } else if is_resource && !r.path.contains('{') {
            json!({"application/json": {"schema": {"$ref": format!("#/components/schemas/{resource}")}}})
        } else {
            json!({"application/json": {"schema": {}}})
        };
        let needs_body = !(r.path.ends_with("/run")
            || r.path.ends_with("/restore")
            || r.path.ends_with("/logout"));
        if needs_body {
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": body}),
            );
        }
    }
    let err = json!({"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let mut responses = Map::new();
    let ok_content = if r.path == "/api/backup/{id}" && r.method == axum::http::Method::GET {
        json!({"application/zip": {"schema": {"type": "string", "format": "binary"}}})
    } else {
        json!({"application/json": {"schema": ok_schema}})
    };
    let ok_code = if r.path == "/api/servicetoken" && r.method == axum::http::Method::POST {
        "201"
    } else if r.path == "/api/ws" {
        "101"
    } else {
        "200"
    };
    responses.insert(
        ok_code.into(),
        json!({"description": "done", "content": ok_content}),
    );
    responses.insert("4XX".into(), err.clone());
    responses.insert("5XX".into(), err);
    op.insert("responses".into(), Value::Object(responses));
    Value::Object(op)
}

pub fn build(routes: &[RouteInfo]) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for r in routes {
        let entry = paths.entry(r.path.clone()).or_insert_with(|| json!({}));
        if let Some(o) = entry.as_object_mut() {
            o.insert(r.method.as_str().to_lowercase(), operation(r));
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Switchyard API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Errors are {code, message, details}. Every route but /api/status and /api/user/login needs `Authorization: Bearer <token>`; `x-access` says the least role a route needs (authenticated < viewer < operator < admin).",
        },
        "paths": paths,
        "components": {
            "schemas": resource_schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    })
}

pub async fn document(State(state): State<ApiState>) -> Json<Value> {
    Json(build(&route_table(&state.config)))
}
