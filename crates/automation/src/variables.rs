//! Variables a task or schedule loads before it evaluates, in the order they are written:
//!
//! | type | fields | value |
//! | --- | --- | --- |
//! | `string` | `value` (a template; earlier variables are visible) | the rendered text |
//! | `resource_by_quick_id` | `quickId` (`field:gw.1.2.V_TEMP`, may end in a key path), `keyPath` | the resource's JSON, or the value at the key path |
//! | `resource_by_labels` | `resourceType`, `labels`, `keyPath` | the first resource whose labels match |
//! | `webhook` | `url` (or `server` + `api`), `method`, `headers`, `queryParameters`, `data`, `responseCode`, `timeout`, `insecure` | the JSON answer |
//! | anything else | | the object itself (a plain value is itself) |
//!
//! A variable that resolves to nothing stops the evaluation with an error naming it.

use crate::context::Context;
use crate::error::AutomationError;
use serde_json::{Map, Value};
use switchyard_core::filter::{Filter, Query};
use switchyard_core::{EntityKind, QuickId, key_path};
use switchyard_script::HttpRequest;

fn field<'a>(spec: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    spec.get(key).or_else(|| {
        spec.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn text(spec: &Map<String, Value>, key: &str) -> String {
    match field(spec, key) {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Loads `specs` on top of `base` (the `task`/`schedule` and event variables).
pub async fn load(
    ctx: &Context,
    specs: &Map<String, Value>,
    mut vars: Map<String, Value>,
) -> Result<Map<String, Value>, AutomationError> {
    let templates = ctx.templates().await;
    for (name, spec) in specs {
        let err = |reason: String| AutomationError::Variable {
            name: name.clone(),
            reason,
        };
        let value = match spec {
            Value::Object(spec) => match text(spec, "type").as_str() {
                "string" => {
                    let source = text(spec, "value");
                    Value::String(
                        templates
                            .render(&source, &Value::Object(vars.clone()))
                            .map_err(|e| err(e.to_string()))?,
                    )
                }
                "resource_by_quick_id" => by_quick_id(ctx, spec).await.map_err(err)?,
                "resource_by_labels" => by_labels(ctx, spec).await.map_err(err)?,
                "webhook" => webhook(spec, &vars).await.map_err(err)?,
                _ => Value::Object(spec.clone()),
            },
            other => other.clone(),
        };
        if value.is_null() {
            return Err(err("resolved to nothing".into()));
        }
        vars.insert(name.clone(), value);
    }
    Ok(vars)
}

fn at_key_path(doc: Value, kp: Option<&str>) -> Result<Value, String> {
    match kp.filter(|k| !k.is_empty()) {
        None => Ok(doc),
        Some(kp) => key_path::get(&doc, kp)
            .cloned()
            .ok_or_else(|| format!("no value at key path `{kp}`")),
    }
}

async fn by_quick_id(ctx: &Context, spec: &Map<String, Value>) -> Result<Value, String> {
    let mut raw = text(spec, "quickId");
    let rt = text(spec, "resourceType");
    if !raw.contains(':') && !rt.is_empty() {
        raw = format!("{rt}:{raw}");
    }
    let q: QuickId = raw
        .parse()
        .map_err(|e: switchyard_core::CoreError| e.to_string())?;
    let doc = ctx
        .store
        .backend()
        .get(q.kind, &q.id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{} `{}` not found", q.kind, q.id))?;
    let kp = text(spec, "keyPath");
    let kp = if kp.is_empty() {
        q.key_path.unwrap_or_default()
    } else {
        kp
    };
    at_key_path(doc, Some(&kp))
}

async fn by_labels(ctx: &Context, spec: &Map<String, Value>) -> Result<Value, String> {
    let kind: EntityKind = text(spec, "resourceType")
        .parse()
        .map_err(|e: switchyard_core::CoreError| e.to_string())?;
    let mut q = Query::all().page(1, 0).sort("id", Default::default());
    if let Some(Value::Object(labels)) = field(spec, "labels") {
        for (k, v) in labels {
            q = q.filter(Filter::eq(format!("labels.{k}"), v.clone()));
        }
    }
    let page = ctx
        .store
        .backend()
        .find(kind, &q)
        .await
        .map_err(|e| e.to_string())?;
    let doc = page
        .data
        .into_iter()
        .next()
        .ok_or_else(|| format!("no {kind} has these labels"))?;
    at_key_path(doc, Some(&text(spec, "keyPath")))
}

/// Builds an HTTP request from MyController's webhook fields (`url`, or `server` + `api`).
pub fn http_request(spec: &Map<String, Value>) -> Result<HttpRequest, String> {
    let mut req: HttpRequest =
        serde_json::from_value(Value::Object(spec.clone())).map_err(|e| format!("webhook: {e}"))?;
    if req.url.is_empty() {
        req.url = format!("{}{}", text(spec, "server"), text(spec, "api"));
    }
    if req.body.is_null()
        && let Some(d) = field(spec, "data")
    {
        req.body = d.clone();
    }
    if req.url.is_empty() {
        return Err("webhook: no url".into());
    }
    Ok(req)
}

/// Checks a webhook's answer status: `responseCode` when given, else any 2xx.
pub fn check_status(spec: &Map<String, Value>, status: u16) -> Result<(), String> {
    let want = field(spec, "responseCode").and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
    });
    match want.filter(|w| *w > 0) {
        Some(w) if u64::from(status) != w => Err(format!("answered {status}, expected {w}")),
        None if !(200..300).contains(&status) => Err(format!("answered {status}")),
        _ => Ok(()),
    }
}

async fn webhook(spec: &Map<String, Value>, vars: &Map<String, Value>) -> Result<Value, String> {
    let _ = vars;
    let req = http_request(spec)?;
    let resp = switchyard_script::http::send(&req, None).await?;
    check_status(spec, resp.status_code)?;
    Ok(resp.json())
}
