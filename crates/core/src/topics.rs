//! Bus subjects. Tokens are separated by `.`; subscribers may use `*` (one token) and `>` (the rest).

use crate::{EntityKind, EventType};

/// Messages from gateways to the message processor (queue group `processor`).
pub const TO_PROCESSOR: &str = "message.to_processor";
/// Prefix of messages to the gateway that owns `<gatewayId>`.
pub const TO_GATEWAY_PREFIX: &str = "message.to_gateway";
/// Parameters for handlers, from tasks and schedules.
pub const HANDLER_NOTIFY: &str = "handler.notify";
/// Every event.
pub const ALL_EVENTS: &str = "event.>";

pub fn to_gateway(gateway_id: &str) -> String {
    format!("{TO_GATEWAY_PREFIX}.{gateway_id}")
}

pub fn event(kind: EntityKind, event_type: EventType) -> String {
    format!("event.{}.{}", kind.as_str(), event_type.as_str())
}

/// `service.<name>.<command>`: start/stop/reload commands for a service.
pub fn service(name: &str, command: &str) -> String {
    format!("service.{name}.{command}")
}
