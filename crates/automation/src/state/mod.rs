//! Durable state. Task and schedule state live in the resource itself (`task.state`,
//! `schedule.state`, visible through the API); handler state in `handler.state`; pending delayed
//! actions of a resource handler in a read-only data repository document
//! `_pending_actions_<handlerId>` (see [`pending`]). Every write is followed by an `updated`
//! event, so the console sees it; services ignore events that change only state.

pub mod pending;

use crate::error::AutomationError;
use serde_json::Value;
use switchyard_core::bus::{Bus, BusExt};
use switchyard_core::store::Store;
use switchyard_core::{EntityKind, Event, EventType};

/// Keys that do not make a resource's configuration different.
const NOT_CONFIG: [&str; 2] = ["state", "modifiedOn"];

/// Whether two stored versions of a resource differ in more than state.
pub fn config_changed(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| -> Value {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            for k in NOT_CONFIG {
                o.remove(k);
            }
        }
        v
    };
    strip(a) != strip(b)
}

/// Reads a resource, lets `change` edit its document, writes it and announces it. Returns false
/// when the resource is gone.
pub async fn update_document(
    store: &Store,
    bus: &dyn Bus,
    kind: EntityKind,
    id: &str,
    change: impl FnOnce(&mut Value) -> Result<(), AutomationError>,
) -> Result<bool, AutomationError> {
    let Some(mut doc) = store.backend().get(kind, id).await? else {
        return Ok(false);
    };
    change(&mut doc)?;
    store.backend().upsert(kind, doc.clone()).await?;
    let event = Event::new(EventType::Updated, kind, id, doc);
    if let Err(e) = bus.publish_json(&event.subject(), &event).await {
        tracing::warn!(%kind, id, error = %e, "could not announce a state change");
    }
    Ok(true)
}

/// Replaces the `state` of a resource.
pub async fn write_state<S: serde::Serialize>(
    store: &Store,
    bus: &dyn Bus,
    kind: EntityKind,
    id: &str,
    state: &S,
) -> Result<bool, AutomationError> {
    let state =
        serde_json::to_value(state).map_err(|e| AutomationError::config(format!("state: {e}")))?;
    update_document(store, bus, kind, id, |doc| {
        if let Some(o) = doc.as_object_mut() {
            o.insert("state".into(), state);
        }
        Ok(())
    })
    .await
}
