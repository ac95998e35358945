use super::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

type Map = serde_json::Map<String, serde_json::Value>;

/// When a schedule may run: a date range and an optional daily time window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ScheduleValidity {
    pub enabled: bool,
    /// `{from, to}` as `YYYY-MM-DD`.
    pub date: Map,
    /// `{from, to}` as `HH:MM:SS`.
    pub time: Map,
    pub validate_time_everyday: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ScheduleState {
    pub last_run: Option<DateTime<Utc>>,
    pub last_status: bool,
    pub message: String,
    pub executed_count: u64,
    pub next_run: Option<DateTime<Utc>>,
}

/// Runs handlers at times: cron, repeat interval, simple calendar, sunrise/sunset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Schedule {
    pub id: String,
    pub description: String,
    pub enabled: bool,
    pub labels: Labels,
    pub validity: ScheduleValidity,
    /// `repeat`, `cron`, `simple`, `sunrise` or `sunset`.
    #[serde(rename = "type")]
    pub schedule_type: String,
    pub spec: Map,
    pub variables: Map,
    pub custom_variable_type: String,
    pub custom_variable_config: Map,
    pub handler_parameters: Map,
    pub handlers: Vec<String>,
    /// What a run missed while the server was down does: `skip` (default) or `run_once` on start.
    pub missed_run: String,
    pub modified_on: Option<DateTime<Utc>>,
    pub state: ScheduleState,
}
