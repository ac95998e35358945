use super::{Labels, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Something that acts when a task or schedule fires: email, telegram, webhook, resource, backup, …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Handler {
    pub id: String,
    pub description: String,
    pub enabled: bool,
    pub labels: Labels,
    #[serde(rename = "type")]
    pub handler_type: String,
    pub spec: serde_json::Map<String, serde_json::Value>,
    pub modified_on: Option<DateTime<Utc>>,
    pub state: State,
}
