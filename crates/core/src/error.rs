use thiserror::Error;

/// Errors of the pure model layer: parsing quick-ids, filters, values.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    #[error("unknown entity type `{0}`")]
    UnknownEntity(String),
    #[error("invalid quick-id `{id}`: {reason}")]
    InvalidQuickId { id: String, reason: String },
    #[error("invalid id `{id}`: {reason}")]
    InvalidId { id: String, reason: String },
    #[error("invalid filter on `{key}`: {reason}")]
    InvalidFilter { key: String, reason: String },
    #[error("invalid value `{value}` for metric type {metric_type}: {reason}")]
    InvalidValue {
        value: String,
        metric_type: String,
        reason: String,
    },
    #[error("invalid duration `{0}`")]
    InvalidDuration(String),
}
