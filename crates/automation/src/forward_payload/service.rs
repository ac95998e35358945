use crate::context::Context;
use crate::error::AutomationError;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use switchyard_core::filter::{Filter, Query};
use switchyard_core::model::{ForwardPayload, find_cycle};
use switchyard_core::{Event, EventType, QuickId};
use tokio_util::sync::CancellationToken;

/// Recent forwards remembered for hop counting; past it the oldest are forgotten.
const MAX_CHAINS: usize = 10_000;

pub struct ForwardPayloadService {
    ctx: Arc<Context>,
    stopped_by_hop_limit: Arc<AtomicU64>,
}

impl ForwardPayloadService {
    pub fn new(ctx: Arc<Context>) -> Self {
        ForwardPayloadService {
            ctx,
            stopped_by_hop_limit: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Forwards not made because a chain reached the hop limit.
    pub fn stopped_by_hop_limit(&self) -> Arc<AtomicU64> {
        self.stopped_by_hop_limit.clone()
    }

    pub async fn run(self, cancel: CancellationToken) {
        let bus = self.ctx.bus.clone();
        let (mut fields, mut changes) = match async {
            Ok::<_, switchyard_core::bus::BusError>((
                bus.subscribe("event.field.*").await?,
                bus.subscribe("event.forward_payload.>").await?,
            ))
        }
        .await
        {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "forward payload service cannot subscribe");
                return;
            }
        };
        let mut routes = self.load().await;
        // destination quick-id → (hops so far, until when an update of it belongs to the chain)
        let mut chains: HashMap<String, (u32, DateTime<Utc>)> = HashMap::new();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                Some(_) = changes.next() => routes = self.load().await,
                Some(m) = fields.next() => {
                    let Ok(e) = m.json::<Event>() else { continue };
                    if !matches!(e.event_type, EventType::Updated | EventType::Created) {
                        continue;
                    }
                    self.on_field(&routes, &mut chains, &e).await;
                }
                else => break,
            }
        }
    }

    /// Enabled forward payloads by source quick-id, without any that would close a cycle.
    async fn load(&self) -> HashMap<String, Vec<ForwardPayload>> {
        let all = match self
            .ctx
            .store
            .find::<ForwardPayload>(
                &Query::all()
                    .filter(Filter::eq("enabled", true))
                    .sort("id", Default::default()),
            )
            .await
        {
            Ok(p) => p.data,
            Err(e) => {
                tracing::error!(error = %e, "cannot list forward payloads");
                return HashMap::new();
            }
        };
        let mut accepted: Vec<ForwardPayload> = Vec::new();
        for fp in all {
            if let Some(cycle) = find_cycle(&accepted, &fp) {
                tracing::warn!(id = %fp.id, cycle = %cycle.join(" → "), "forward payload skipped: it closes a cycle");
                continue;
            }
            accepted.push(fp);
        }
        let mut routes: HashMap<String, Vec<ForwardPayload>> = HashMap::new();
        for fp in accepted {
            routes
                .entry(normalize(&fp.src_field_id))
                .or_default()
                .push(fp);
        }
        routes
    }

    async fn on_field(
        &self,
        routes: &HashMap<String, Vec<ForwardPayload>>,
        chains: &mut HashMap<String, (u32, DateTime<Utc>)>,
        e: &Event,
    ) {
        let now = self.ctx.clock.now();
        let src = normalize(&e.entity_quick_id);
        let hops = match chains.remove(&src) {
            Some((h, until)) if until >= now => h,
            _ => 0,
        };
        let Some(list) = routes.get(&src) else { return };
        let limit = self.ctx.config.forward_payload.hop_limit;
        let window = chrono::Duration::from_std(
            self.ctx
                .duration(&self.ctx.config.forward_payload.hop_window),
        )
        .unwrap_or(chrono::Duration::seconds(10));
        for fp in list {
            if hops + 1 > limit {
                let n = self.stopped_by_hop_limit.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(id = %fp.id, hops, limit, stopped_total = n, "forward payload stopped: hop limit reached");
                continue;
            }
            match self.forward(fp, e).await {
                Ok(()) => {
                    if chains.len() >= MAX_CHAINS {
                        chains.retain(|_, (_, until)| *until >= now);
                    }
                    if chains.len() < MAX_CHAINS {
                        chains.insert(normalize(&fp.dst_field_id), (hops + 1, now + window));
                    }
                }
                Err(err) => tracing::warn!(id = %fp.id, error = %err, "forward payload failed"),
            }
        }
    }

    async fn forward(&self, fp: &ForwardPayload, e: &Event) -> Result<(), AutomationError> {
        let value = e
            .entity
            .pointer("/current/value")
            .cloned()
            .unwrap_or(Value::Null);
        let payload = match fp.transform.transform_type.as_str() {
            "" | "none" => switchyard_core::value::to_payload_string(&value),
            kind => {
                let mut vars = Map::new();
                vars.insert("value".into(), value.clone());
                vars.insert(
                    "previousValue".into(),
                    e.entity
                        .pointer("/previous/value")
                        .cloned()
                        .unwrap_or(Value::Null),
                );
                vars.insert("field".into(), e.entity.clone());
                match kind {
                    "template" => self
                        .ctx
                        .templates()
                        .await
                        .render(&fp.transform.source, &Value::Object(vars))?,
                    "javascript" => switchyard_core::value::to_payload_string(
                        &self.ctx.scripts.run(&fp.transform.source, &vars).await?,
                    ),
                    other => {
                        return Err(AutomationError::config(format!(
                            "transform type `{other}`: template or javascript"
                        )));
                    }
                }
            }
        };
        let dst: QuickId = fp.dst_field_id.trim().parse()?;
        if dst.kind != switchyard_core::EntityKind::Field {
            return Err(AutomationError::config(
                json!(fp.dst_field_id).to_string() + " is not a field",
            ));
        }
        crate::action::perform(&self.ctx.store, self.ctx.bus.as_ref(), &dst, &payload, None).await
    }
}

fn normalize(quick_id: &str) -> String {
    let q = quick_id.trim();
    if q.contains(':') {
        q.to_string()
    } else {
        format!("field:{q}")
    }
}
