use crate::context::Context;
use crate::error::AutomationError;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use switchyard_core::action::{Current, resolve};
use switchyard_core::bus::BusMessage;
use switchyard_core::filter::{Filter, Query};
use switchyard_core::model::{Field, ForwardPayload, Node, find_cycle};
use switchyard_core::{EntityKind, Event, EventType, QuickId};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Recent forwards remembered for hop counting; past it the oldest are forgotten.
const MAX_CHAINS: usize = 10_000;

/// How long a cached destination field or node is trusted without a storage read. Events keep
/// the cache current; this only bounds how stale it can get if the bus dropped an event.
const DESTINATION_TTL: Duration = Duration::from_secs(5);

/// The part of an event read before deciding whether the whole event matters: the entity
/// document is skipped, not parsed.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventHead {
    #[serde(rename = "type")]
    event_type: EventType,
    entity_quick_id: String,
}

/// A stored resource as last read or announced, and when it was last read from storage.
struct Cached<T> {
    value: Option<T>,
    read_at: Instant,
}

/// What a forward needs of its destination (the field, for its metric type, unit and a toggle's
/// current value; its node, for the sleeping-node hints), kept from the field and node events
/// instead of two storage reads per forward. Only destinations of loaded forward payloads are
/// held, so the cache is bounded by the forward-payload table; it is emptied when that reloads.
#[derive(Default)]
struct Destinations {
    /// field quick id (`field:…`) → field
    fields: HashMap<String, Cached<Field>>,
    /// node quick id (`node:…`) → node
    nodes: HashMap<String, Cached<Node>>,
}

impl Destinations {
    fn clear(&mut self) {
        self.fields.clear();
        self.nodes.clear();
    }

    /// Takes what an event says about a cached field or node; anything else is ignored.
    fn apply(&mut self, e: &Event) {
        match e.entity_type {
            EntityKind::Field => take(&mut self.fields, &e.entity_quick_id, e.event_type, || {
                Field::deserialize(&e.entity)
            }),
            EntityKind::Node => take(&mut self.nodes, &e.entity_quick_id, e.event_type, || {
                Node::deserialize(&e.entity)
            }),
            _ => {}
        }
    }

    fn holds(&self, quick_id: &str) -> bool {
        self.fields.contains_key(quick_id) || self.nodes.contains_key(quick_id)
    }
}

/// Updates a cached entry from an event: none once deleted; an entity that does not decode
/// drops the entry, so the next forward reads it from storage.
fn take<T>(
    cache: &mut HashMap<String, Cached<T>>,
    quick_id: &str,
    event_type: EventType,
    decode: impl FnOnce() -> Result<T, serde_json::Error>,
) {
    let Some(c) = cache.get_mut(quick_id) else {
        return;
    };
    if event_type == EventType::Deleted {
        c.value = None;
        return;
    }
    match decode() {
        Ok(v) => c.value = Some(v),
        Err(_) => {
            cache.remove(quick_id);
        }
    }
}

/// A field event decoded straight into the field (one pass, no `Value` in between), for an
/// event that only updates a cached destination.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct FieldEvent {
    entity: Field,
}

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
        let (mut fields, mut nodes, mut changes) = match async {
            Ok::<_, switchyard_core::bus::BusError>((
                bus.subscribe("event.field.*").await?,
                bus.subscribe("event.node.*").await?,
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
        let mut destinations = Destinations::default();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                Some(_) = changes.next() => {
                    routes = self.load().await;
                    destinations.clear();
                }
                Some(m) = nodes.next() => {
                    if let Some(e) = relevant(&m, |q| destinations.holds(q)) {
                        destinations.apply(&e);
                    }
                }
                Some(m) = fields.next() => {
                    let Ok(head) = m.json::<EventHead>() else { continue };
                    let q = head.entity_quick_id.as_str();
                    let changed = matches!(head.event_type, EventType::Updated | EventType::Created);
                    if head.event_type == EventType::Requested {
                        continue;
                    }
                    if routes.contains_key(q) {
                        let Ok(e) = m.json::<Event>() else { continue };
                        destinations.apply(&e);
                        if changed {
                            self.on_field(&routes, &mut chains, &mut destinations, &e).await;
                        }
                        continue;
                    }
                    // Not a source: at most a destination's update (a device's echo) and the
                    // next hop of a chain.
                    take(&mut destinations.fields, q, head.event_type, || {
                        m.json::<FieldEvent>()
                            .map(|e| e.entity)
                            .map_err(|e| serde::de::Error::custom(e.to_string()))
                    });
                    if changed {
                        chains.remove(q);
                    }
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
        destinations: &mut Destinations,
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
            match self.forward(fp, destinations, e).await {
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

    async fn forward(
        &self,
        fp: &ForwardPayload,
        destinations: &mut Destinations,
        e: &Event,
    ) -> Result<(), AutomationError> {
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
        let current = self.current(destinations, &dst).await?;
        let action = resolve(&dst, &payload, None, &current)?;
        crate::action::execute(&self.ctx.store, self.ctx.bus.as_ref(), action).await
    }

    /// The destination field and its node, from the cache, read from storage when missing or
    /// older than [`DESTINATION_TTL`].
    async fn current(
        &self,
        destinations: &mut Destinations,
        dst: &QuickId,
    ) -> Result<Current, AutomationError> {
        let now = Instant::now();
        let fresh = |read_at: Instant| now.duration_since(read_at) < DESTINATION_TTL;
        let field_key = QuickId::new(EntityKind::Field, dst.id.clone()).to_string();
        let node_id = dst.id.splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
        let node_key = QuickId::new(EntityKind::Node, node_id.clone()).to_string();
        let field = match destinations.fields.get(&field_key) {
            Some(c) if fresh(c.read_at) => c.value.clone(),
            _ => {
                let value = self.ctx.store.get::<Field>(&dst.id).await?;
                destinations.fields.insert(
                    field_key,
                    Cached {
                        value: value.clone(),
                        read_at: now,
                    },
                );
                value
            }
        };
        let node = match destinations.nodes.get(&node_key) {
            Some(c) if fresh(c.read_at) => c.value.clone(),
            _ => {
                let value = self.ctx.store.get::<Node>(&node_id).await?;
                destinations.nodes.insert(
                    node_key,
                    Cached {
                        value: value.clone(),
                        read_at: now,
                    },
                );
                value
            }
        };
        Ok(Current { field, node })
    }
}

/// The whole event, when its entity is one `wanted` names: the rest are dropped after reading
/// only their head (most field events concern no forward payload).
fn relevant(m: &BusMessage, wanted: impl Fn(&str) -> bool) -> Option<Event> {
    let head = m.json::<EventHead>().ok()?;
    if head.event_type == EventType::Requested || !wanted(&head.entity_quick_id) {
        return None;
    }
    m.json::<Event>().ok()
}

fn normalize(quick_id: &str) -> String {
    let q = quick_id.trim();
    if q.contains(':') {
        q.to_string()
    } else {
        format!("field:{q}")
    }
}
