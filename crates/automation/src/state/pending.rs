//! Pending delayed actions of one resource handler, kept in a data repository document so that a
//! restart in the middle of a delay still fires the action, once, at its time.
//!
//! Firing removes the action from storage first and then sends it: a crash between the two loses
//! that one action rather than sending it twice (a toggle sent twice would undo itself).

use crate::error::AutomationError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use switchyard_core::model::DataRepository;
use switchyard_core::store::Store;

/// One delayed resource action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingAction {
    /// Quick-id of the target (one action per resolved target).
    pub quick_id: String,
    pub payload: String,
    #[serde(default)]
    pub key_path: String,
    pub due_at: DateTime<Utc>,
}

/// Keyed by parameter name: a newer action of the same name replaces the pending one.
pub type Pending = BTreeMap<String, PendingAction>;

pub fn document_id(handler_id: &str) -> String {
    format!("_pending_actions_{handler_id}")
}

pub async fn load(store: &Store, handler_id: &str) -> Result<Pending, AutomationError> {
    let Some(doc) = store
        .get::<DataRepository>(&document_id(handler_id))
        .await?
    else {
        return Ok(Pending::new());
    };
    let pending = doc
        .data
        .get("pending")
        .cloned()
        .map(serde_json::from_value::<Pending>)
        .transpose()
        .map_err(|e| AutomationError::config(format!("pending actions of `{handler_id}`: {e}")))?;
    Ok(pending.unwrap_or_default())
}

pub async fn save(
    store: &Store,
    handler_id: &str,
    pending: &Pending,
) -> Result<(), AutomationError> {
    let mut data = serde_json::Map::new();
    data.insert(
        "pending".into(),
        serde_json::to_value(pending).map_err(|e| AutomationError::config(e.to_string()))?,
    );
    let mut labels = switchyard_core::model::Labels::new();
    labels.insert("internal".into(), "automation".into());
    let doc = DataRepository {
        id: document_id(handler_id),
        read_only: true,
        description: format!("Delayed actions of handler `{handler_id}`, kept across restarts"),
        labels,
        data,
        modified_on: Some(Utc::now()),
    };
    store.upsert(&doc).await?;
    Ok(())
}
