//! One evaluation of a task: load variables, then decide with a rule, a script or a webhook.
//!
//! - `rule`: `{rule: {matchAll, conditions: [{variable: "name.key.path", operator, value}]}}`;
//!   each condition is a filter of the filter model (every operator: eq, ne, gt, gte, lt, lte,
//!   in, nin, range_in, range_not_in, regex, exists) applied to the variables; a string `value`
//!   is rendered as a template first. No conditions: triggered.
//! - `javascript`: `{javascript: "…"}`; the script sees the variables as globals and returns a
//!   boolean or an object `{isTriggered, …}` whose other keys become variables.
//! - `webhook`: `{webhook: {url, method, headers, queryParameters, includeConfig, …}}`; the
//!   variables (without `task` unless `includeConfig`) are POSTed as JSON; the JSON answer
//!   `{isTriggered, …}` works as the script's object.

use crate::context::Context;
use crate::error::AutomationError;
use crate::variables;
use serde_json::{Map, Value};
use switchyard_core::Event;
use switchyard_core::filter::{Filter, Operator, Query};
use switchyard_core::model::Task;

pub struct Evaluation {
    pub triggered: bool,
    pub variables: Map<String, Value>,
}

/// Variables every task sees: `task` (its configuration) and `taskEvent` (what triggered it).
pub fn base_variables(task: &Task, event: Option<&Event>) -> Map<String, Value> {
    let mut vars = Map::new();
    if let Ok(mut t) = serde_json::to_value(task) {
        if let Some(o) = t.as_object_mut() {
            o.remove("state");
        }
        vars.insert("task".into(), t);
    }
    if let Some(e) = event.and_then(|e| serde_json::to_value(e).ok()) {
        vars.insert("taskEvent".into(), e);
    }
    vars
}

pub async fn evaluate(
    ctx: &Context,
    task: &Task,
    event: Option<&Event>,
) -> Result<Evaluation, AutomationError> {
    let vars = variables::load(ctx, &task.variables, base_variables(task, event)).await?;
    let cfg = &task.evaluation_config;
    match task.evaluation_type.as_str() {
        "" | "rule" => {
            let rule = cfg.get("rule").cloned().unwrap_or(Value::Null);
            let triggered = rule_holds(ctx, &rule, &vars).await?;
            Ok(Evaluation {
                triggered,
                variables: vars,
            })
        }
        "javascript" => {
            let source = cfg
                .get("javascript")
                .and_then(Value::as_str)
                .ok_or_else(|| AutomationError::config("evaluationConfig.javascript is empty"))?;
            let out = ctx.scripts.run(source, &vars).await?;
            merge_result(out, vars, "script")
        }
        "webhook" => {
            let spec = cfg
                .get("webhook")
                .and_then(Value::as_object)
                .ok_or_else(|| AutomationError::config("evaluationConfig.webhook is missing"))?;
            let mut body = vars.clone();
            if !spec
                .get("includeConfig")
                .and_then(Value::as_bool)
                .unwrap_or(false)
            {
                body.remove("task");
            }
            let mut req = variables::http_request(spec).map_err(AutomationError::Http)?;
            if req.method.is_empty() {
                req.method = "POST".into();
            }
            req.body = Value::Object(body);
            let resp = switchyard_script::http::send(&req, None)
                .await
                .map_err(AutomationError::Http)?;
            variables::check_status(spec, resp.status_code)
                .map_err(|e| AutomationError::Http(format!("{}: {e}", req.url)))?;
            merge_result(resp.json(), vars, "webhook")
        }
        other => Err(AutomationError::config(format!(
            "evaluationType `{other}`: rule, javascript or webhook"
        ))),
    }
}

fn merge_result(
    out: Value,
    mut vars: Map<String, Value>,
    what: &str,
) -> Result<Evaluation, AutomationError> {
    match out {
        Value::Bool(triggered) => Ok(Evaluation {
            triggered,
            variables: vars,
        }),
        Value::Object(o) => {
            let triggered = match o.get("isTriggered") {
                Some(Value::Bool(b)) => *b,
                Some(other) => switchyard_core::value::parse_bool(
                    &switchyard_core::value::to_payload_string(other),
                )
                .unwrap_or(false),
                None => {
                    return Err(AutomationError::Http(format!(
                        "{what} returned an object without `isTriggered`"
                    )));
                }
            };
            for (k, v) in o {
                if k != "isTriggered" {
                    vars.insert(k, v);
                }
            }
            Ok(Evaluation {
                triggered,
                variables: vars,
            })
        }
        other => Err(AutomationError::Script(
            switchyard_script::ScriptError::Result(format!(
                "{what} returned {other}; expected true/false or {{isTriggered, …}}"
            )),
        )),
    }
}

/// Whether `rule` holds for `vars`.
pub async fn rule_holds(
    ctx: &Context,
    rule: &Value,
    vars: &Map<String, Value>,
) -> Result<bool, AutomationError> {
    let match_all = rule
        .get("matchAll")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let conditions = match rule.get("conditions") {
        Some(Value::Array(c)) => c.as_slice(),
        None | Some(Value::Null) => &[],
        Some(_) => return Err(AutomationError::config("rule.conditions must be a list")),
    };
    if conditions.is_empty() {
        return Ok(true);
    }
    let templates = ctx.templates().await;
    let doc = Value::Object(vars.clone());
    let mut results = Vec::with_capacity(conditions.len());
    for (i, c) in conditions.iter().enumerate() {
        let variable = c
            .get("variable")
            .and_then(Value::as_str)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                AutomationError::config(format!("rule.conditions[{i}].variable is empty"))
            })?;
        let op: Operator = match c.get("operator") {
            None | Some(Value::Null) => Operator::Eq,
            Some(o) => serde_json::from_value(o.clone()).map_err(|_| {
                AutomationError::config(format!("rule.conditions[{i}].operator `{o}` is unknown"))
            })?,
        };
        let value = templates.render_value(&c.get("value").cloned().unwrap_or_default(), &doc)?;
        let compiled = Query::all()
            .filter(Filter::new(variable.trim(), op, value))
            .compile()
            .map_err(|e| AutomationError::config(format!("rule.conditions[{i}]: {e}")))?;
        results.push(compiled.matches(&doc));
    }
    Ok(if match_all {
        results.iter().all(|r| *r)
    } else {
        results.iter().any(|r| *r)
    })
}
