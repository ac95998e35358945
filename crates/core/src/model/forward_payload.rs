use super::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Copies every new value of one field to another field, on any gateway. Ids are field quick-ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ForwardPayload {
    pub id: String,
    pub description: String,
    pub enabled: bool,
    pub src_field_id: String,
    pub dst_field_id: String,
    pub labels: Labels,
    pub modified_on: Option<DateTime<Utc>>,
}
