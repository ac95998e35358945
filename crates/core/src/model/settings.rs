use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A settings document; `id` names it (`system_settings`, `system_backup_locations`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    pub id: String,
    pub spec: serde_json::Map<String, serde_json::Value>,
    pub modified_on: Option<DateTime<Utc>>,
}

impl Settings {
    pub const SYSTEM: &'static str = "system_settings";
}

/// When nodes that have gone quiet are marked down.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NodeStateJob {
    pub execution_interval: String,
    pub inactive_duration: String,
}

impl Default for NodeStateJob {
    fn default() -> Self {
        NodeStateJob {
            execution_interval: "1m".into(),
            inactive_duration: "15m".into(),
        }
    }
}

/// The spec of the `system_settings` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SystemSettings {
    pub geo_location: serde_json::Map<String, serde_json::Value>,
    pub login: serde_json::Map<String, serde_json::Value>,
    pub language: String,
    /// `metric` or `imperial`.
    pub unit_system: String,
    pub node_state_job: NodeStateJob,
}
