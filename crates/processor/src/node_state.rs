//! Marks nodes down when they have been quiet too long: the global `nodeStateJob.inactiveDuration`
//! of the system settings, or a node's own `inactive_duration` label.

use chrono::{DateTime, Utc};
use std::sync::Arc;
use switchyard_core::bus::{Bus, BusExt};
use switchyard_core::filter::{Filter, Query};
use switchyard_core::model::{Node, Settings, State, Status, SystemSettings, node_labels};
use switchyard_core::storage::{StorageError, WriteOp};
use switchyard_core::store::{Store, to_document};
use switchyard_core::value::parse_duration;
use switchyard_core::{Event, EventType, Resource};
use tokio_util::sync::CancellationToken;

/// Reads the system settings' node-state job (defaults when absent or unreadable).
pub async fn node_state_settings(store: &Store) -> switchyard_core::model::NodeStateJob {
    let settings = store.get::<Settings>(Settings::SYSTEM).await.ok().flatten();
    settings
        .and_then(|s| {
            serde_json::from_value::<SystemSettings>(serde_json::Value::Object(s.spec)).ok()
        })
        .map(|s| s.node_state_job)
        .unwrap_or_default()
}

/// Marks every up node whose last message is older than its inactive duration as down, and
/// announces each change. Returns how many nodes went down.
pub async fn mark_inactive_nodes(
    store: &Store,
    bus: &dyn Bus,
    now: DateTime<Utc>,
    default_inactive: chrono::Duration,
) -> Result<usize, StorageError> {
    let up = Query::all().filter(Filter::eq("state.status", "up"));
    let nodes = store.find::<Node>(&up).await?.data;
    let mut ops = Vec::new();
    let mut events = Vec::new();
    for mut node in nodes {
        let inactive = node
            .labels
            .get(node_labels::INACTIVE_DURATION)
            .and_then(|d| parse_duration(d).ok())
            .unwrap_or(default_inactive);
        let quiet_since = node.last_seen.unwrap_or(DateTime::<Utc>::MIN_UTC);
        if now - quiet_since <= inactive {
            continue;
        }
        node.state = State::new(
            Status::Down,
            format!("no message since {}", quiet_since.to_rfc3339()),
            now,
        );
        let doc = to_document(&node)?;
        events.push(Event::new(
            EventType::Updated,
            Node::KIND,
            node.id.clone(),
            doc.clone(),
        ));
        ops.push(WriteOp::Upsert(Node::KIND, doc));
    }
    let n = ops.len();
    if n > 0 {
        store.apply(ops).await?;
        for e in &events {
            if let Err(err) = bus.publish_json(&e.subject(), e).await {
                tracing::warn!(error = %err, "could not announce node state");
            }
        }
    }
    Ok(n)
}

/// Runs [`mark_inactive_nodes`] every `nodeStateJob.executionInterval`, re-reading the settings
/// each round so changes apply without a restart.
pub struct NodeStateJob {
    pub store: Store,
    pub bus: Arc<dyn Bus>,
}

impl NodeStateJob {
    pub async fn run(self, cancel: CancellationToken) {
        loop {
            let cfg = node_state_settings(&self.store).await;
            let interval = switchyard_core::value::parse_std_duration(&cfg.execution_interval)
                .ok()
                .filter(|d| !d.is_zero())
                .unwrap_or(std::time::Duration::from_secs(60));
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(interval) => {}
            }
            let inactive = parse_duration(&cfg.inactive_duration)
                .unwrap_or_else(|_| chrono::Duration::minutes(15));
            match mark_inactive_nodes(&self.store, self.bus.as_ref(), Utc::now(), inactive).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(nodes = n, "marked inactive nodes down"),
                Err(e) => tracing::warn!(error = %e, "node state job failed"),
            }
        }
    }
}
