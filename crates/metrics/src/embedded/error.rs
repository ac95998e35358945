//! Errors of the embedded store; callers see them as [`MetricError`].

use switchyard_core::metrics::MetricError;
use thiserror::Error;

#[derive(Debug, Error)]
pub(crate) enum EmbeddedError {
    #[error("{0}")]
    InvalidQuery(String),
    #[error("metric store is closed")]
    Closed,
    #[error("the metrics database could not be reopened: queries still hold it")]
    Busy,
    #[error("creating the metrics directory {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("opening the metrics database: {0}")]
    Database(#[from] redb::DatabaseError),
    #[error("metrics database transaction: {0}")]
    Transaction(#[from] redb::TransactionError),
    #[error("metrics database table: {0}")]
    Table(#[from] redb::TableError),
    #[error("metrics database storage: {0}")]
    Storage(#[from] redb::StorageError),
    #[error("metrics database commit: {0}")]
    Commit(#[from] redb::CommitError),
    #[error("time {0} µs since the epoch is out of range")]
    TimeOutOfRange(i64),
    #[error("the metrics database holds the most series it can ({})", u32::MAX)]
    TooManySeries,
    #[error("metrics background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl EmbeddedError {
    /// A failure of the file underneath (a full disk, an I/O error), after which redb refuses
    /// every transaction until the file is reopened.
    pub(crate) fn is_io(&self) -> bool {
        matches!(
            self,
            EmbeddedError::Storage(_) | EmbeddedError::Commit(_) | EmbeddedError::Transaction(_)
        )
    }
}

impl From<EmbeddedError> for MetricError {
    fn from(e: EmbeddedError) -> Self {
        match e {
            EmbeddedError::InvalidQuery(message) => MetricError::InvalidQuery(message),
            EmbeddedError::Closed => MetricError::Closed,
            other => MetricError::Backend(other.to_string()),
        }
    }
}
