//! Change notifications: published on `event.<entity>.<type>` after every stored change.

use crate::{EntityKind, QuickId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    Created,
    Updated,
    Deleted,
    /// A device asked for a field's value.
    Requested,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Created => "created",
            EventType::Updated => "updated",
            EventType::Deleted => "deleted",
            EventType::Requested => "requested",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub entity_type: EntityKind,
    pub entity_id: String,
    pub entity_quick_id: String,
    /// The resource as stored after the change (before it, for `deleted`).
    pub entity: serde_json::Value,
}

impl Event {
    pub fn new(
        event_type: EventType,
        kind: EntityKind,
        id: impl Into<String>,
        entity: serde_json::Value,
    ) -> Self {
        let id = id.into();
        Event {
            event_type,
            entity_type: kind,
            entity_quick_id: QuickId::new(kind, id.clone()).to_string(),
            entity_id: id,
            entity,
        }
    }

    /// The bus subject this event is published on.
    pub fn subject(&self) -> String {
        crate::topics::event(self.entity_type, self.event_type)
    }
}
