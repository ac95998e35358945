//! What tasks and schedules send to handlers over `handler.notify`.

use crate::error::AutomationError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchyard_core::bus::{Bus, BusExt};
use switchyard_core::topics;

/// One handler's share of a firing: its parameters (templates, rendered by the handler service
/// against `variables`) and the variables of the evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct HandlerNotification {
    pub handler_id: String,
    /// Quick-id of what fired (`task:t1`, `schedule:s1`).
    pub source: String,
    pub parameters: Map<String, Value>,
    pub variables: Map<String, Value>,
}

/// Sends `parameters` (less those with `disabled: true`) to each of `handlers`.
pub async fn notify_handlers(
    bus: &dyn Bus,
    source: &str,
    handlers: &[String],
    parameters: &Map<String, Value>,
    variables: &Map<String, Value>,
) -> Result<(), AutomationError> {
    let parameters: Map<String, Value> = parameters
        .iter()
        .filter(|(_, p)| {
            !p.get("disabled")
                .map(|d| d.as_bool().unwrap_or(d.as_str() == Some("true")))
                .unwrap_or(false)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for id in handlers.iter().filter(|h| !h.trim().is_empty()) {
        let n = HandlerNotification {
            handler_id: id.trim().to_string(),
            source: source.to_string(),
            parameters: parameters.clone(),
            variables: variables.clone(),
        };
        bus.publish_json(topics::HANDLER_NOTIFY, &n).await?;
    }
    Ok(())
}
