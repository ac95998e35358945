use super::{Labels, Others};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A sensor or actuator of a node (MySensors "child"). Storage id `<gw>.<node>.<source>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Source {
    pub id: String,
    pub gateway_id: String,
    pub node_id: String,
    pub source_id: String,
    pub name: String,
    pub labels: Labels,
    pub others: Others,
    #[serde(with = "crate::timestamp::opt")]
    pub last_seen: Option<DateTime<Utc>>,
    #[serde(with = "crate::timestamp::opt")]
    pub modified_on: Option<DateTime<Utc>>,
}
