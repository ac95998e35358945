//! The gateway service: runs every enabled gateway as one supervised task, follows gateway edits
//! (`event.gateway.*`) and commands (`service.gateway.*`), and answers questions about sleeping
//! queues.
//!
//! | subject | payload | does |
//! | --- | --- | --- |
//! | `event.gateway.created` / `updated` | [`Event`] | (re)starts the gateway when its config changed; stops it when disabled |
//! | `event.gateway.deleted` | [`Event`] | stops it |
//! | `service.gateway.start` | JSON array of ids | starts those enabled and not running |
//! | `service.gateway.stop` | JSON array of ids | stops them (state `down`, "stopped") |
//! | `service.gateway.reload` | JSON array of ids | restarts them with the stored config |
//! | `service.gateway.sleeping_queue` | [`SleepingQueueRequest`] | lists or clears a gateway's sleeping queues (request/reply) |
//!
//! Commands sent as requests get a [`CommandReply`]. Per gateway it listens on
//! `message.to_gateway.<id>` and publishes to `message.to_processor`.

mod backoff;
mod gateway_task;
mod outbound;
mod state;

pub use backoff::{MAX_BACKOFF, MIN_RECONNECT_DELAY, restart_delay};
#[cfg(test)]
pub(crate) use gateway_task::publish_inbound;
pub use outbound::OUTBOUND_QUEUE_CAPACITY;

use crate::error::GatewayError;
use crate::provider::ProviderRegistry;
use crate::stats::{GatewayStats, GatewayStatsSnapshot};
use bytes::Bytes;
use chrono::Utc;
use gateway_task::GatewayHandle;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::bus::{Bus, BusMessage};
use switchyard_core::filter::Query;
use switchyard_core::model::Gateway;
use switchyard_core::rate_log::RateLimitedLog;
use switchyard_core::service_filter::ServiceFilter;
use switchyard_core::store::Store;
use switchyard_core::{Event, EventType};
use tokio_util::sync::CancellationToken;

/// The service's bus subjects.
pub mod subjects {
    pub const START: &str = "service.gateway.start";
    pub const STOP: &str = "service.gateway.stop";
    pub const RELOAD: &str = "service.gateway.reload";
    pub const SLEEPING_QUEUE: &str = switchyard_core::sleeping_queue::SUBJECT;
    /// What the service subscribes to for commands.
    pub const COMMANDS: &str = "service.gateway.*";
    /// What the service subscribes to for gateway edits.
    pub const EVENTS: &str = "event.gateway.>";
}

pub(crate) struct Shared {
    pub bus: Arc<dyn Bus>,
    pub store: Store,
    pub registry: ProviderRegistry,
    pub data_dir: PathBuf,
    /// Which gateways this process runs (distributed mode); the default, all.
    pub filter: ServiceFilter,
}

/// Counters of the gateways this service runs, by id.
#[derive(Clone, Default)]
pub struct GatewayServiceStats {
    running: Arc<RwLock<BTreeMap<String, Arc<GatewayStats>>>>,
}

impl GatewayServiceStats {
    pub fn snapshot(&self) -> BTreeMap<String, GatewayStatsSnapshot> {
        self.running
            .read()
            .iter()
            .map(|(id, s)| (id.clone(), s.snapshot()))
            .collect()
    }
}

pub struct GatewayService {
    shared: Arc<Shared>,
    stats: GatewayServiceStats,
}

pub use switchyard_core::sleeping_queue::{
    QueuedMessage, SleepingQueueCommand, SleepingQueueReply, SleepingQueueRequest,
};

/// The answer to a command sent as a request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandReply {
    pub started: Vec<String>,
    pub stopped: Vec<String>,
    /// Ids that could not be acted on, with the reason.
    pub failed: BTreeMap<String, String>,
}

/// Most ids one command may name (a larger payload is refused).
const MAX_IDS_PER_COMMAND: usize = 10_000;

impl GatewayService {
    /// `data_dir` holds the message logs (`<data_dir>/logs/gateway/<id>.log`).
    pub fn new(
        bus: Arc<dyn Bus>,
        store: Store,
        registry: ProviderRegistry,
        data_dir: impl Into<PathBuf>,
    ) -> Self {
        GatewayService {
            shared: Arc::new(Shared {
                bus,
                store,
                registry,
                data_dir: data_dir.into(),
                filter: ServiceFilter::default(),
            }),
            stats: GatewayServiceStats::default(),
        }
    }

    /// Runs only the gateways `filter` owns (by id, provider type or labels); others are left
    /// to the process whose filter owns them. Call before [`GatewayService::start`].
    pub fn with_filter(mut self, filter: ServiceFilter) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.filter = filter;
        }
        self
    }

    pub fn stats(&self) -> GatewayServiceStats {
        self.stats.clone()
    }

    /// Subscribes (so edits and commands published after this returns are seen), starts every
    /// enabled gateway, and runs until `cancel` fires; then stops every gateway and ends.
    pub async fn start(
        self,
        cancel: CancellationToken,
    ) -> Result<tokio::task::JoinHandle<()>, GatewayError> {
        let mut events = self.shared.bus.subscribe(subjects::EVENTS).await?;
        let mut commands = self.shared.bus.subscribe(subjects::COMMANDS).await?;
        let gateways = self.shared.store.find::<Gateway>(&Query::all()).await?;
        let mut running = Running {
            shared: self.shared.clone(),
            handles: BTreeMap::new(),
            parked: BTreeMap::new(),
            stats: self.stats.clone(),
            cancel: cancel.clone(),
            log: RateLimitedLog::new(Duration::from_secs(1)),
        };
        for gateway in gateways.data.into_iter().filter(|g| g.enabled) {
            running.start(gateway);
        }
        Ok(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    m = events.next() => match m {
                        Some(m) => running.on_event(m).await,
                        None => break,
                    },
                    m = commands.next() => match m {
                        Some(m) => running.on_command(m).await,
                        None => break,
                    },
                }
            }
            running.stop_all().await;
        }))
    }
}

/// Whether two versions of a gateway run the same (state and modification time aside).
fn same_config(a: &Gateway, b: &Gateway) -> bool {
    a.enabled == b.enabled
        && a.reconnect_delay == b.reconnect_delay
        && a.queue_failed_message == b.queue_failed_message
        && a.provider == b.provider
        && a.message_logger == b.message_logger
        && a.labels == b.labels
}

struct Running {
    shared: Arc<Shared>,
    handles: BTreeMap<String, GatewayHandle>,
    /// Gateways stopped by a command, with the config they had: an event that only carries
    /// their new state (our own write) must not start them again; an edit does.
    parked: BTreeMap<String, Gateway>,
    stats: GatewayServiceStats,
    cancel: CancellationToken,
    log: RateLimitedLog,
}

impl Running {
    fn warn(&self, what: String) {
        self.log
            .log(|suppressed| tracing::warn!(%what, suppressed, "gateway service"));
    }

    fn start(&mut self, gateway: Gateway) {
        let kind = gateway
            .provider
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or("");
        if !self.shared.filter.owns(&gateway.id, kind, &gateway.labels) {
            return;
        }
        let id = gateway.id.clone();
        self.parked.remove(&id);
        let handle = gateway_task::spawn(self.shared.clone(), gateway, self.cancel.child_token());
        self.stats
            .running
            .write()
            .insert(id.clone(), handle.stats.clone());
        self.handles.insert(id, handle);
    }

    async fn stop(&mut self, id: &str, message: Option<&str>) -> bool {
        let Some(handle) = self.handles.remove(id) else {
            return false;
        };
        self.stats.running.write().remove(id);
        handle.stop(message).await;
        true
    }

    async fn stop_all(&mut self) {
        let ids: Vec<String> = self.handles.keys().cloned().collect();
        // Stopped together: each may take a while to close its connection.
        let stops = ids.iter().filter_map(|id| {
            self.stats.running.write().remove(id);
            self.handles.remove(id).map(|h| h.stop(Some("stopped")))
        });
        futures::future::join_all(stops.collect::<Vec<_>>()).await;
    }

    async fn on_event(&mut self, m: BusMessage) {
        let event: Event = match m.json() {
            Ok(e) => e,
            Err(e) => return self.warn(format!("undecodable gateway event: {e}")),
        };
        let id = event.entity_id.clone();
        if event.event_type == EventType::Deleted {
            self.parked.remove(&id);
            self.stop(&id, None).await;
            return;
        }
        if !matches!(event.event_type, EventType::Created | EventType::Updated) {
            return;
        }
        let gateway: Gateway = match serde_json::from_value(event.entity) {
            Ok(g) => g,
            Err(e) => return self.warn(format!("gateway `{id}` in an event: {e}")),
        };
        if !gateway.enabled {
            self.stop(&id, Some("disabled")).await;
            return;
        }
        if let Some(h) = self.handles.get(&id)
            && same_config(&h.config, &gateway)
        {
            // Our own state updates come back this way.
            return;
        }
        if let Some(parked) = self.parked.get(&id)
            && same_config(parked, &gateway)
        {
            return;
        }
        self.stop(&id, None).await;
        self.start(gateway);
    }

    async fn on_command(&mut self, m: BusMessage) {
        let command = m.subject.rsplit('.').next().unwrap_or_default().to_string();
        if command == "sleeping_queue" {
            return self.on_sleeping_queue(m).await;
        }
        let mut reply = CommandReply::default();
        match m.json::<Vec<String>>() {
            Ok(ids) if ids.len() <= MAX_IDS_PER_COMMAND => {
                for id in ids {
                    self.command(&command, id, &mut reply).await;
                }
            }
            Ok(ids) => {
                reply.failed.insert(
                    String::new(),
                    format!(
                        "{} ids; at most {MAX_IDS_PER_COMMAND} per command",
                        ids.len()
                    ),
                );
            }
            Err(e) => {
                reply
                    .failed
                    .insert(String::new(), format!("expected a JSON array of ids: {e}"));
            }
        }
        self.reply(&m, &reply).await;
    }

    async fn command(&mut self, command: &str, id: String, reply: &mut CommandReply) {
        match command {
            "stop" => {
                let config = self.handles.get(&id).map(|h| h.config.clone());
                if self.stop(&id, Some("stopped")).await {
                    if let Some(config) = config {
                        self.parked.insert(id.clone(), config);
                    }
                    reply.stopped.push(id);
                } else {
                    reply.failed.insert(id, "not running".into());
                }
            }
            "start" | "reload" => {
                if command == "start" && self.handles.contains_key(&id) {
                    reply.failed.insert(id, "already running".into());
                    return;
                }
                if self.stop(&id, None).await {
                    reply.stopped.push(id.clone());
                }
                match self.shared.store.get::<Gateway>(&id).await {
                    Ok(Some(g)) if g.enabled => {
                        self.start(g);
                        reply.started.push(id);
                    }
                    Ok(Some(_)) => {
                        reply.failed.insert(id, "disabled".into());
                    }
                    Ok(None) => {
                        reply.failed.insert(id, "not found".into());
                    }
                    Err(e) => {
                        reply.failed.insert(id, e.to_string());
                    }
                }
            }
            other => {
                reply
                    .failed
                    .insert(id, format!("unknown command `{other}`"));
            }
        }
    }

    async fn on_sleeping_queue(&mut self, m: BusMessage) {
        let request: SleepingQueueRequest = match m.json() {
            Ok(r) => r,
            Err(e) => return self.warn(format!("bad sleeping queue request: {e}")),
        };
        // Another instance may run this gateway (distributed mode): only its runner answers.
        let Some(handle) = self.handles.get(&request.gateway_id) else {
            return;
        };
        let reply = sleeping_queue_reply(&handle.queue, &request);
        self.reply(&m, &reply).await;
    }

    async fn reply<T: Serialize>(&self, m: &BusMessage, value: &T) {
        let Some(subject) = &m.reply else { return };
        let bytes = match serde_json::to_vec(value) {
            Ok(b) => b,
            Err(e) => return self.warn(format!("encoding a reply: {e}")),
        };
        if let Err(e) = self.shared.bus.publish(subject, Bytes::from(bytes)).await {
            self.warn(format!("replying on {subject}: {e}"));
        }
    }
}

fn sleeping_queue_reply(
    queue: &parking_lot::Mutex<crate::sleeping_queue::SleepingQueue>,
    request: &SleepingQueueRequest,
) -> SleepingQueueReply {
    let node = Some(request.node_id.as_str()).filter(|n| !n.is_empty());
    let mut queue = queue.lock();
    let mut reply = SleepingQueueReply {
        gateway_id: request.gateway_id.clone(),
        messages: Vec::new(),
        cleared: 0,
        counts: queue.counts(),
    };
    match request.command {
        SleepingQueueCommand::List => {
            let now = tokio::time::Instant::now();
            let wall = Utc::now();
            let at = |t: tokio::time::Instant| {
                let d = if t >= now {
                    chrono::Duration::from_std(t - now).unwrap_or_default()
                } else {
                    -chrono::Duration::from_std(now - t).unwrap_or_default()
                };
                wall + d
            };
            reply.messages = queue
                .list(node)
                .into_iter()
                .map(|q| QueuedMessage {
                    message: q.message.clone(),
                    queued_at: at(q.queued_at),
                    expires_at: at(q.expires_at),
                })
                .collect();
        }
        SleepingQueueCommand::Clear => reply.cleared = queue.clear(node),
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn state_and_modification_time_are_not_config() {
        let a = Gateway {
            id: "gw".into(),
            provider: json!({"type": "echo"}).as_object().cloned().unwrap(),
            ..Default::default()
        };
        let mut b = a.clone();
        b.state.message = "connected".into();
        b.modified_on = Some(Utc::now());
        assert!(same_config(&a, &b));
        b.reconnect_delay = "1s".into();
        assert!(!same_config(&a, &b));
    }
}
