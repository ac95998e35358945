use super::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A user's free JSON store, readable from tasks and templates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DataRepository {
    pub id: String,
    pub read_only: bool,
    pub description: String,
    pub labels: Labels,
    pub data: serde_json::Map<String, serde_json::Value>,
    pub modified_on: Option<DateTime<Utc>>,
}
