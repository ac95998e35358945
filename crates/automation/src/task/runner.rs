//! One task's loop: events from its queue, its interval, the active-duration re-check, or (when
//! disabled with `reEnable`) the wait for its re-enable time.

use super::dampening;
use super::evaluate::evaluate;
use crate::context::Context;
use crate::notify::notify_handlers;
use crate::state::{update_document, write_state};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;
use switchyard_core::model::{Task, TaskState};
use switchyard_core::{Event, Resource};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub async fn run_task(
    ctx: Arc<Context>,
    task: Task,
    mut rx: mpsc::Receiver<Event>,
    cancel: CancellationToken,
) {
    if !task.enabled {
        if let Some(at) = task.state.re_enable_at {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = ctx.clock.sleep_until(at) => {}
            }
            let r = update_document(&ctx.store, ctx.bus.as_ref(), Task::KIND, &task.id, |doc| {
                if let Some(o) = doc.as_object_mut() {
                    o.insert("enabled".into(), Value::Bool(true));
                    if let Some(s) = o.get_mut("state").and_then(Value::as_object_mut) {
                        s.insert("reEnableAt".into(), Value::Null);
                        s.insert("message".into(), Value::String("re-enabled".into()));
                    }
                }
                Ok(())
            })
            .await;
            if let Err(e) = r {
                tracing::error!(task = %task.id, error = %e, "cannot re-enable task");
            }
        }
        return;
    }
    let mut state = task.state.clone();
    let interval = if task.trigger_on_event {
        None
    } else {
        match switchyard_core::value::parse_std_duration(&task.execution_interval) {
            Ok(d) if !d.is_zero() => Some(d),
            _ => {
                state.message = format!(
                    "executionInterval `{}` is not a duration above zero",
                    task.execution_interval
                );
                persist(&ctx, &task.id, &state).await;
                return;
            }
        }
    };
    let mut next_tick = interval.map(|i| tokio::time::Instant::now() + i);
    let mut recheck_at = pending_recheck(&task, &state);
    let mut last_event: Option<Event> = None;
    loop {
        let tick = async {
            match next_tick {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        let recheck = async {
            match recheck_at {
                Some(t) => ctx.clock.sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        let event = tokio::select! {
            _ = cancel.cancelled() => return,
            e = rx.recv() => match e {
                Some(e) => Some(e),
                None => return,
            },
            _ = tick => {
                if let (Some(t), Some(i)) = (next_tick.as_mut(), interval) {
                    *t += i;
                }
                None
            }
            _ = recheck => last_event.clone(),
        };
        if event.is_some() {
            last_event = event.clone();
        }
        let (next_recheck, disabled) = evaluate_once(&ctx, &task, &mut state, event.as_ref()).await;
        recheck_at = next_recheck;
        if disabled {
            return;
        }
    }
}

/// After a restart, an active-duration task that was active resumes its wait.
fn pending_recheck(task: &Task, state: &TaskState) -> Option<DateTime<Utc>> {
    if task.dampening.dampening_type != "active_duration" {
        return None;
    }
    let dur = switchyard_core::value::parse_duration(&task.dampening.active_duration).ok()?;
    state.active_since.map(|s| s + dur)
}

async fn persist(ctx: &Context, id: &str, state: &TaskState) {
    if let Err(e) = write_state(&ctx.store, ctx.bus.as_ref(), Task::KIND, id, state).await {
        tracing::warn!(task = id, error = %e, "cannot store task state");
    }
}

/// Evaluates once and stores the state. Returns when to re-check, and whether the task disabled
/// itself.
async fn evaluate_once(
    ctx: &Context,
    task: &Task,
    state: &mut TaskState,
    event: Option<&Event>,
) -> (Option<DateTime<Utc>>, bool) {
    let now = ctx.clock.now();
    let started = Instant::now();
    let timeout = ctx.duration(&ctx.config.task.evaluation_timeout);
    let result = match tokio::time::timeout(timeout, evaluate(ctx, task, event)).await {
        Ok(r) => r,
        Err(_) => Err(crate::AutomationError::Timeout(timeout)),
    };
    state.last_evaluation = Some(now);
    state.last_duration = format!("{:?}", started.elapsed());
    let ev = match result {
        Ok(ev) => ev,
        Err(e) => {
            tracing::warn!(task = %task.id, error = %e, "task evaluation failed");
            state.message = format!("evaluation failed: {e}");
            persist(ctx, &task.id, state).await;
            return (None, false);
        }
    };
    let outcome = match dampening::apply(
        &task.dampening,
        state,
        ev.triggered,
        now,
        ctx.config.task.max_history,
    ) {
        Ok(o) => o,
        Err(e) => {
            state.message = e;
            persist(ctx, &task.id, state).await;
            return (None, false);
        }
    };
    let fire = outcome.holds && !(task.ignore_duplicate && state.last_status);
    state.last_status = outcome.holds;
    state.message = match (ev.triggered, outcome.holds, fire) {
        (_, _, true) => "triggered".into(),
        (_, true, false) => "condition holds; already notified (ignoreDuplicate)".into(),
        (true, false, _) => "condition true; waiting for dampening".into(),
        (false, _, _) => "condition false".into(),
    };
    if fire {
        let source = format!("task:{}", task.id);
        match notify_handlers(
            ctx.bus.as_ref(),
            &source,
            &task.handlers,
            &task.handler_parameters,
            &ev.variables,
        )
        .await
        {
            Ok(()) => {
                state.executed_count += 1;
                state.last_triggered = Some(now);
                state.last_success = Some(now);
            }
            Err(e) => state.message = format!("triggered, but handlers not notified: {e}"),
        }
        if task.auto_disable {
            state.re_enable_at = if task.re_enable {
                switchyard_core::value::parse_duration(&task.re_enable_duration)
                    .ok()
                    .map(|d| now + d)
            } else {
                None
            };
            state.message.push_str("; disabled (autoDisable)");
            let state_doc = serde_json::to_value(&*state).unwrap_or_default();
            let r = update_document(&ctx.store, ctx.bus.as_ref(), Task::KIND, &task.id, |doc| {
                if let Some(o) = doc.as_object_mut() {
                    o.insert("enabled".into(), Value::Bool(false));
                    o.insert("state".into(), state_doc);
                }
                Ok(())
            })
            .await;
            if let Err(e) = r {
                tracing::error!(task = %task.id, error = %e, "cannot disable task");
            }
            return (None, true);
        }
    }
    persist(ctx, &task.id, state).await;
    (outcome.recheck_at, false)
}
