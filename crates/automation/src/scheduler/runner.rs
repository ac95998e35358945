//! One schedule's loop: compute the next run, store it, sleep, run, repeat.

use super::next_run::{Plan, next_after, plan};
use super::validity::is_valid;
use crate::context::Context;
use crate::error::AutomationError;
use crate::notify::notify_handlers;
use crate::state::{update_document, write_state};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::sync::Arc;
use switchyard_core::Resource;
use switchyard_core::model::{Schedule, ScheduleState};
use tokio_util::sync::CancellationToken;

async fn persist(ctx: &Context, id: &str, state: &ScheduleState) {
    if let Err(e) = write_state(&ctx.store, ctx.bus.as_ref(), Schedule::KIND, id, state).await {
        tracing::warn!(schedule = id, error = %e, "cannot store schedule state");
    }
}

pub async fn run_schedule(ctx: Arc<Context>, s: Schedule, cancel: CancellationToken) {
    let mut state = s.state.clone();
    let plan = match plan(&s, ctx.tz) {
        Ok(p) => p,
        Err(e) => {
            state.message = e;
            state.last_status = false;
            state.next_run = None;
            persist(&ctx, &s.id, &state).await;
            return;
        }
    };
    let mut previous = state.last_run;
    let now = ctx.clock.now();
    if let Some(missed) = state.next_run.filter(|n| *n <= now) {
        if s.missed_run == "run_once" {
            run_once(&ctx, &s, &mut state, now).await;
            previous = Some(now);
        } else {
            state.message = format!(
                "run due at {} was missed while stopped; skipped",
                missed.to_rfc3339()
            );
        }
    }
    loop {
        // Runs never go back in time: after a run, the next one is after it even when the
        // clock was set back meanwhile (so an hour set back does not run the same 06:00 twice).
        let now = ctx.clock.now();
        let after = previous.map_or(now, |p| p.max(now));
        let next = next_after(&plan, after, previous, ctx.tz, ctx.location().await);
        let next = match next {
            Ok(Some(n)) => n,
            Ok(None) => {
                state.next_run = None;
                state.message = "no further runs".into();
                persist(&ctx, &s.id, &state).await;
                return;
            }
            Err(e) => {
                state.next_run = None;
                state.last_status = false;
                state.message = e;
                persist(&ctx, &s.id, &state).await;
                return;
            }
        };
        if state.next_run != Some(next) {
            state.next_run = Some(next);
            persist(&ctx, &s.id, &state).await;
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = ctx.clock.sleep_until(next) => {}
        }
        previous = Some(next);
        match is_valid(&s.validity, next.with_timezone(&ctx.tz)) {
            Ok(true) => run_once(&ctx, &s, &mut state, next).await,
            Ok(false) => {
                state.message = format!(
                    "skipped the run at {}: outside the validity window",
                    next.to_rfc3339()
                );
            }
            Err(e) => {
                state.last_status = false;
                state.message = e;
            }
        }
        let done = match &plan {
            Plan::Every { count, .. } => *count > 0 && state.executed_count >= *count,
            Plan::Once(_) => true,
            _ => false,
        };
        if done {
            state.next_run = None;
            let doc = serde_json::to_value(&state).unwrap_or_default();
            let _ = update_document(&ctx.store, ctx.bus.as_ref(), Schedule::KIND, &s.id, |d| {
                if let Some(o) = d.as_object_mut() {
                    o.insert("enabled".into(), Value::Bool(false));
                    o.insert("state".into(), doc);
                }
                Ok(())
            })
            .await;
            return;
        }
        persist(&ctx, &s.id, &state).await;
    }
}

async fn run_once(ctx: &Context, s: &Schedule, state: &mut ScheduleState, at: DateTime<Utc>) {
    let timeout = ctx.duration(&ctx.config.task.evaluation_timeout);
    let result = match tokio::time::timeout(timeout, execute(ctx, s)).await {
        Ok(r) => r,
        Err(_) => Err(AutomationError::Timeout(timeout)),
    };
    state.last_run = Some(at);
    match result {
        Ok(()) => {
            state.executed_count += 1;
            state.last_status = true;
            state.message = format!("ran at {}", at.with_timezone(&ctx.tz).to_rfc3339());
        }
        Err(e) => {
            tracing::warn!(schedule = %s.id, error = %e, "schedule run failed");
            state.last_status = false;
            state.message = format!("run failed: {e}");
        }
    }
}

async fn execute(ctx: &Context, s: &Schedule) -> Result<(), AutomationError> {
    let mut base = Map::new();
    if let Ok(mut doc) = serde_json::to_value(s) {
        if let Some(o) = doc.as_object_mut() {
            o.remove("state");
        }
        base.insert("schedule".into(), doc);
    }
    let mut vars = crate::variables::load(ctx, &s.variables, base).await?;
    let custom = match s.custom_variable_type.as_str() {
        "" | "none" => None,
        "javascript" => {
            let src = s
                .custom_variable_config
                .get("javascript")
                .and_then(Value::as_str)
                .unwrap_or_default();
            Some(ctx.scripts.run(src, &vars).await?)
        }
        "webhook" => {
            let spec = s
                .custom_variable_config
                .get("webhook")
                .and_then(Value::as_object)
                .ok_or_else(|| {
                    AutomationError::config("customVariableConfig.webhook is missing")
                })?;
            let mut req = crate::variables::http_request(spec).map_err(AutomationError::Http)?;
            if req.method.is_empty() {
                req.method = "POST".into();
            }
            req.body = Value::Object(vars.clone());
            let resp = switchyard_script::http::send(&req, None)
                .await
                .map_err(AutomationError::Http)?;
            crate::variables::check_status(spec, resp.status_code)
                .map_err(AutomationError::Http)?;
            Some(resp.json())
        }
        other => {
            return Err(AutomationError::config(format!(
                "customVariableType `{other}`: none, javascript or webhook"
            )));
        }
    };
    match custom {
        None | Some(Value::Null) => {}
        Some(Value::Object(o)) => vars.extend(o),
        Some(other) => {
            return Err(AutomationError::config(format!(
                "custom variables must be an object, got {other}"
            )));
        }
    }
    notify_handlers(
        ctx.bus.as_ref(),
        &format!("schedule:{}", s.id),
        &s.handlers,
        &s.handler_parameters,
        &vars,
    )
    .await
}
