//! The resource handler's delayed actions: a map kept in storage and a timer task that fires
//! each action at its time.

use crate::context::Context;
use crate::error::AutomationError;
use crate::state::pending::{self, Pending, PendingAction};
use std::sync::Arc;
use switchyard_core::QuickId;
use switchyard_core::model::{Handler, State, Status};
use tokio::sync::{Mutex, Notify};
use tokio_util::sync::CancellationToken;

pub struct DelayQueue {
    handler_id: String,
    ctx: Arc<Context>,
    pending: Arc<Mutex<Pending>>,
    wake: Arc<Notify>,
    cancel: CancellationToken,
    timer: Option<tokio::task::JoinHandle<()>>,
}

/// Key of one action: the parameter name, plus the target when a parameter has several.
fn key(name: &str, target: &str, several: bool) -> String {
    if several {
        format!("{name}#{target}")
    } else {
        name.to_string()
    }
}

impl DelayQueue {
    /// Loads what was pending when the server stopped and starts the timer.
    pub async fn start(handler_id: &str, ctx: Arc<Context>) -> Result<Self, AutomationError> {
        let loaded = pending::load(&ctx.store, handler_id).await?;
        if !loaded.is_empty() {
            tracing::info!(
                handler = handler_id,
                count = loaded.len(),
                "resuming delayed actions"
            );
        }
        let pending = Arc::new(Mutex::new(loaded));
        let wake = Arc::new(Notify::new());
        let cancel = CancellationToken::new();
        let timer = tokio::spawn(run_timer(
            handler_id.to_string(),
            ctx.clone(),
            pending.clone(),
            wake.clone(),
            cancel.clone(),
        ));
        Ok(DelayQueue {
            handler_id: handler_id.to_string(),
            ctx,
            pending,
            wake,
            cancel,
            timer: Some(timer),
        })
    }

    /// Replaces whatever parameter `name` had pending by `actions`, and stores the result.
    pub async fn replace(
        &self,
        name: &str,
        actions: Vec<PendingAction>,
    ) -> Result<(), AutomationError> {
        let mut p = self.pending.lock().await;
        let several = actions.len() > 1;
        p.retain(|k, _| k != name && !k.starts_with(&format!("{name}#")));
        let limit = self.ctx.config.handler.max_pending_actions;
        if p.len() + actions.len() > limit {
            return Err(AutomationError::Handler(format!(
                "{limit} delayed actions already pending; refusing more"
            )));
        }
        for a in actions {
            p.insert(key(name, &a.quick_id, several), a);
        }
        pending::save(&self.ctx.store, &self.handler_id, &p).await?;
        drop(p);
        self.wake.notify_one();
        Ok(())
    }

    pub async fn stop(&mut self) {
        self.cancel.cancel();
        if let Some(t) = self.timer.take() {
            let _ = t.await;
        }
    }
}

impl Drop for DelayQueue {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn run_timer(
    handler_id: String,
    ctx: Arc<Context>,
    pending: Arc<Mutex<Pending>>,
    wake: Arc<Notify>,
    cancel: CancellationToken,
) {
    loop {
        let next = pending.lock().await.values().map(|a| a.due_at).min();
        let sleep = async {
            match next {
                Some(t) => ctx.clock.sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = wake.notified() => continue,
            _ = sleep => {}
        }
        // Take what is due and store the rest before acting: a crash now loses these actions
        // instead of sending them twice.
        let now = ctx.clock.now();
        let due: Vec<PendingAction> = {
            let mut p = pending.lock().await;
            let keys: Vec<String> = p
                .iter()
                .filter(|(_, a)| a.due_at <= now)
                .map(|(k, _)| k.clone())
                .collect();
            let due = keys.iter().filter_map(|k| p.remove(k)).collect();
            if let Err(e) = pending::save(&ctx.store, &handler_id, &p).await {
                tracing::error!(handler = %handler_id, error = %e, "could not store pending actions");
            }
            due
        };
        for a in due {
            let result = match a.quick_id.parse::<QuickId>() {
                Ok(q) => {
                    let kp = (!a.key_path.is_empty()).then_some(a.key_path.as_str());
                    crate::action::perform(&ctx.store, ctx.bus.as_ref(), &q, &a.payload, kp).await
                }
                Err(e) => Err(e.into()),
            };
            let state = match &result {
                Ok(()) => State::new(
                    Status::Ok,
                    format!("delayed action on {} done", a.quick_id),
                    now,
                ),
                Err(e) => State::new(
                    Status::Error,
                    format!("delayed action on {}: {e}", a.quick_id),
                    now,
                ),
            };
            if let Err(e) = &result {
                tracing::warn!(handler = %handler_id, target = %a.quick_id, error = %e, "delayed action failed");
            }
            let _ = crate::state::write_state(
                &ctx.store,
                ctx.bus.as_ref(),
                <Handler as switchyard_core::Resource>::KIND,
                &handler_id,
                &state,
            )
            .await;
        }
    }
}
