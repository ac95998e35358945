//! The `automation` section of the server's configuration.

use serde::{Deserialize, Serialize};
use switchyard_script::ScriptLimits;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct AutomationConfig {
    /// IANA time zone of schedules and templates (`Europe/Berlin`); empty: the system's.
    pub timezone: String,
    pub script: ScriptLimits,
    pub task: TaskConfig,
    pub handler: HandlerConfig,
    pub forward_payload: ForwardPayloadConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaskConfig {
    /// Events waiting per task; past it new events for that task are dropped (and counted on its
    /// state), other tasks are not affected.
    pub queue_capacity: usize,
    /// Longest one evaluation (variables, rule/script/webhook) may take.
    pub evaluation_timeout: String,
    /// Most evaluations kept in a task's history (dampening needs at most this many).
    pub max_history: usize,
}

impl Default for TaskConfig {
    fn default() -> Self {
        TaskConfig {
            queue_capacity: 64,
            evaluation_timeout: "30s".into(),
            max_history: 100,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HandlerConfig {
    /// Notifications waiting per handler; past it new ones are dropped with an error on the
    /// handler's state.
    pub queue_capacity: usize,
    /// Longest one delivery may take (a handler's own `timeout` in its spec wins).
    pub timeout: String,
    /// Delayed resource actions one handler may hold; more are refused.
    pub max_pending_actions: usize,
}

impl Default for HandlerConfig {
    fn default() -> Self {
        HandlerConfig {
            queue_capacity: 100,
            timeout: "30s".into(),
            max_pending_actions: 1000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForwardPayloadConfig {
    /// Forwards one change may cause in a chain (A→B→C… counts each arrow); more are stopped.
    pub hop_limit: u32,
    /// How long after a forward an update of the destination counts as caused by it.
    pub hop_window: String,
}

impl Default for ForwardPayloadConfig {
    fn default() -> Self {
        ForwardPayloadConfig {
            hop_limit: 4,
            hop_window: "10s".into(),
        }
    }
}
