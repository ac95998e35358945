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

    /// The JSON an event of `entity` is published as: the bytes of
    /// `serde_json::to_vec(&Event::new(..))`, written from a borrowed entity, so a writer that
    /// also stores the document does not copy it for the event.
    pub fn encode(
        event_type: EventType,
        kind: EntityKind,
        id: &str,
        entity: &serde_json::Value,
    ) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(&EventRef {
            event_type,
            entity_type: kind,
            entity_id: id,
            entity_quick_id: QuickId::new(kind, id).to_string(),
            entity,
        })
    }
}

/// [`Event`]'s wire form with borrowed parts (same field names and order).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventRef<'a> {
    #[serde(rename = "type")]
    event_type: EventType,
    entity_type: EntityKind,
    entity_id: &'a str,
    entity_quick_id: String,
    entity: &'a serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_writes_the_events_own_json() {
        let entity = serde_json::json!({"id": "gw.1.2.V_TEMP", "current": {"value": 21.5}});
        let event = Event::new(
            EventType::Updated,
            EntityKind::Field,
            "gw.1.2.V_TEMP",
            entity.clone(),
        );
        let encoded = Event::encode(
            EventType::Updated,
            EntityKind::Field,
            "gw.1.2.V_TEMP",
            &entity,
        );
        assert_eq!(encoded.unwrap(), serde_json::to_vec(&event).unwrap());
        let back: Event = serde_json::from_slice(&serde_json::to_vec(&event).unwrap()).unwrap();
        assert_eq!(back, event);
    }
}
