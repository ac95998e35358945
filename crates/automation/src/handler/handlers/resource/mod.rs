//! `resource`: acts on resources, with the API's action semantics ([`crate::action`]).
//!
//! Parameters: `{type: resource_by_quick_id, quickId, payload, keyPath, preDelay}` and
//! `{type: resource_by_labels, resourceType, labels, payload, preDelay}` (every matching resource,
//! at most [`MAX_LABEL_TARGETS`]). Payloads: a field value or `toggle`; a node action
//! (`reboot`, …); `enable`/`disable`/`reload` for gateways, tasks, schedules and handlers; a JSON
//! value for a data repository key path.
//!
//! `preDelay` (`30s`, `5m`) delays the action; a newer parameter of the same name replaces the
//! pending one (debounce). Pending actions are stored (see [`crate::state::pending`]) and survive a
//! restart: one that came due while the server was down fires at start, once.

mod delay;

use crate::context::Context;
use crate::error::AutomationError;
use crate::handler::plugin::get;
use crate::handler::{HandlerPlugin, Param};
use crate::state::pending::PendingAction;
use async_trait::async_trait;
use delay::DelayQueue;
use serde_json::{Map, Value};
use std::sync::Arc;
use switchyard_core::filter::{Filter, Query};
use switchyard_core::storage::document_id;
use switchyard_core::{EntityKind, QuickId};

/// Most resources one `resource_by_labels` parameter acts on.
pub const MAX_LABEL_TARGETS: u64 = 100;

pub struct ResourceHandler {
    ctx: Arc<Context>,
    delays: DelayQueue,
}

impl ResourceHandler {
    pub async fn build(handler_id: &str, ctx: Arc<Context>) -> Result<Self, AutomationError> {
        let delays = DelayQueue::start(handler_id, ctx.clone()).await?;
        Ok(ResourceHandler { ctx, delays })
    }

    async fn targets(&self, param: &Param) -> Result<Vec<QuickId>, AutomationError> {
        if param.kind == "resource_by_labels" {
            let kind: EntityKind = param.text("resourceType").parse()?;
            let mut q = Query::all().page(MAX_LABEL_TARGETS, 0);
            match get(&param.fields, "labels") {
                Some(Value::Object(labels)) if !labels.is_empty() => {
                    for (k, v) in labels {
                        q = q.filter(Filter::eq(format!("labels.{k}"), v.clone()));
                    }
                }
                _ => {
                    return Err(AutomationError::config(
                        "resource_by_labels needs at least one label",
                    ));
                }
            }
            let page = self.ctx.store.backend().find(kind, &q).await?;
            page.data
                .iter()
                .map(|d| Ok(QuickId::new(kind, document_id(d)?.to_string())))
                .collect()
        } else {
            let mut raw = param.text("quickId");
            let rt = param.text("resourceType");
            if !raw.contains(':') && !rt.is_empty() {
                raw = format!("{rt}:{raw}");
            }
            Ok(vec![raw.trim().parse()?])
        }
    }
}

#[async_trait]
impl HandlerPlugin for ResourceHandler {
    fn accepts(&self, kind: &str) -> bool {
        kind == "resource_by_quick_id" || kind == "resource_by_labels"
    }

    async fn post(
        &mut self,
        param: &Param,
        _vars: &Map<String, Value>,
    ) -> Result<(), AutomationError> {
        let targets = self.targets(param).await?;
        let payload = param.text("payload");
        let key_path = param.text("keyPath");
        let delay = param.text("preDelay");
        let delay = if delay.trim().is_empty() {
            chrono::Duration::zero()
        } else {
            switchyard_core::value::parse_duration(&delay)?
        };
        if delay <= chrono::Duration::zero() {
            let mut errors = Vec::new();
            for t in &targets {
                let kp = (!key_path.is_empty()).then_some(key_path.as_str());
                if let Err(e) =
                    crate::action::perform(&self.ctx.store, self.ctx.bus.as_ref(), t, &payload, kp)
                        .await
                {
                    errors.push(format!("{t}: {e}"));
                }
            }
            return if errors.is_empty() {
                Ok(())
            } else {
                Err(AutomationError::Handler(errors.join("; ")))
            };
        }
        let due_at = self.ctx.clock.now() + delay;
        let actions = targets
            .iter()
            .map(|t| PendingAction {
                quick_id: t.to_string(),
                payload: payload.clone(),
                key_path: key_path.clone(),
                due_at,
            })
            .collect();
        self.delays.replace(&param.name, actions).await
    }

    async fn stop(&mut self) {
        self.delays.stop().await;
    }
}
