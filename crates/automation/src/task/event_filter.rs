//! Which events an event-driven task sees: event types, entity types, and key-path filters on the
//! entity with every operator of the filter model (`{"current.value": {"operator": "gt",
//! "value": 25}}`, or a plain value for equality).

use serde_json::Value;
use switchyard_core::filter::{CompiledQuery, Filter, Operator, Query};
use switchyard_core::model::EventFilter;
use switchyard_core::{EntityKind, Event};

/// Kinds whose events tasks may watch: devices and data. (Tasks, schedules and handlers change
/// their own state; watching them would let a task trigger itself.)
pub const WATCHABLE: [EntityKind; 5] = [
    EntityKind::Gateway,
    EntityKind::Node,
    EntityKind::Source,
    EntityKind::Field,
    EntityKind::DataRepository,
];

pub struct CompiledEventFilter {
    event_types: Vec<String>,
    entity_types: Vec<String>,
    query: CompiledQuery,
}

impl CompiledEventFilter {
    pub fn new(f: &EventFilter) -> Result<Self, String> {
        let mut q = Query::all();
        for (key, v) in &f.filters {
            let filter = match v {
                Value::Object(o) if o.contains_key("operator") || o.contains_key("o") => {
                    let op = o
                        .get("operator")
                        .or_else(|| o.get("o"))
                        .cloned()
                        .unwrap_or_default();
                    let op: Operator = serde_json::from_value(op)
                        .map_err(|e| format!("eventFilter.filters.{key}: {e}"))?;
                    let value = o
                        .get("value")
                        .or_else(|| o.get("v"))
                        .cloned()
                        .unwrap_or_default();
                    Filter::new(key.clone(), op, value)
                }
                other => Filter::eq(key.clone(), other.clone()),
            };
            q = q.filter(filter);
        }
        let query = q.compile().map_err(|e| format!("eventFilter: {e}"))?;
        let lower = |v: &[String]| v.iter().map(|s| s.trim().to_ascii_lowercase()).collect();
        Ok(CompiledEventFilter {
            event_types: lower(&f.event_types),
            entity_types: lower(&f.entity_types),
            query,
        })
    }

    pub fn matches(&self, e: &Event) -> bool {
        self.may_match(e.entity_type, e.event_type.as_str()) && self.query.matches(&e.entity)
    }

    /// Whether an event of this kind and type could match, judged without the entity: what the
    /// task service checks on an event's subject before it decodes the event.
    pub fn may_match(&self, kind: EntityKind, event_type: &str) -> bool {
        WATCHABLE.contains(&kind)
            && (self.event_types.is_empty() || self.event_types.iter().any(|t| t == event_type))
            && (self.entity_types.is_empty()
                || self.entity_types.iter().any(|t| t == kind.as_str()))
    }
}
