use switchyard_core::CoreError;
use switchyard_core::bus::BusError;
use switchyard_core::storage::StorageError;
use switchyard_script::{ScriptError, TemplateError};
use thiserror::Error;

/// Everything that can go wrong in a task, schedule, handler or forward payload. The text is what
/// the user reads on the resource's state, so it says what to change.
#[derive(Debug, Error)]
pub enum AutomationError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error(transparent)]
    Script(#[from] ScriptError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("variable `{name}`: {reason}")]
    Variable { name: String, reason: String },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("{0}")]
    Http(String),
    #[error("{0}")]
    Handler(String),
    #[error("took longer than {0:?}")]
    Timeout(std::time::Duration),
}

impl AutomationError {
    pub fn config(msg: impl Into<String>) -> Self {
        AutomationError::Config(msg.into())
    }
}
