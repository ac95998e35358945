//! What `/api/status` says about each service: whether it runs, since when, and its counters.

use chrono::{DateTime, Utc};
use parking_lot::RwLock;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceStatus {
    Running,
    Stopped,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceState {
    pub status: ServiceStatus,
    pub message: String,
    pub since: DateTime<Utc>,
}

#[derive(Default)]
pub struct ServiceStates {
    states: RwLock<BTreeMap<&'static str, ServiceState>>,
}

impl ServiceStates {
    pub fn set(&self, name: &'static str, status: ServiceStatus, message: impl Into<String>) {
        self.states.write().insert(
            name,
            ServiceState {
                status,
                message: message.into(),
                since: Utc::now(),
            },
        );
    }

    pub fn snapshot(&self) -> BTreeMap<&'static str, ServiceState> {
        self.states.read().clone()
    }
}
