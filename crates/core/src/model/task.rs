use super::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

type Map = serde_json::Map<String, serde_json::Value>;

/// How many true evaluations it takes before a task fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Dampening {
    /// `none`, `consecutive`, `evaluation` or `active_duration`.
    #[serde(rename = "type")]
    pub dampening_type: String,
    pub occurrences: u32,
    pub evaluation: u32,
    pub active_duration: String,
}

/// Which events trigger an event-driven task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct EventFilter {
    pub event_types: Vec<String>,
    pub entity_types: Vec<String>,
    /// Key path → expected value (or a filter with an operator).
    pub filters: BTreeMap<String, serde_json::Value>,
}

/// What the task service remembers of a task between evaluations (survives restarts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct TaskState {
    pub last_evaluation: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub message: String,
    pub last_duration: String,
    pub last_status: bool,
    pub executed_count: u64,
    pub executions_history: Vec<serde_json::Value>,
    pub active_since: Option<DateTime<Utc>>,
    pub last_triggered: Option<DateTime<Utc>>,
    /// When an auto-disabled task with `reEnable` is enabled again (kept across restarts).
    pub re_enable_at: Option<DateTime<Utc>>,
}

/// A rule that watches events or runs on an interval and notifies handlers when it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Task {
    pub id: String,
    pub description: String,
    pub labels: Labels,
    pub enabled: bool,
    pub ignore_duplicate: bool,
    pub auto_disable: bool,
    pub re_enable: bool,
    pub re_enable_duration: String,
    pub variables: Map,
    pub dampening: Dampening,
    pub trigger_on_event: bool,
    pub event_filter: EventFilter,
    pub execution_interval: String,
    /// `rule`, `javascript` or `webhook`.
    pub evaluation_type: String,
    pub evaluation_config: Map,
    pub handler_parameters: Map,
    pub handlers: Vec<String>,
    pub modified_on: Option<DateTime<Utc>>,
    pub state: TaskState,
}
