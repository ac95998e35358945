//! The JSON of `rpc.resource.<op>` requests and replies.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_core::CoreError;
use switchyard_core::EntityKind;
use switchyard_core::filter::{Filter, Query};
use switchyard_core::storage::{Snapshot, StorageError, WriteOp};

pub(crate) const SUBJECT_PREFIX: &str = "rpc.resource";
pub(crate) const ALL_OPS: &str = "rpc.resource.*";

/// NATS's default largest message is 1 MiB; a reply above this is refused with a reason
/// rather than lost on the way.
pub(crate) const MAX_REPLY_BYTES: usize = 1_000_000;

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Op {
    Insert { kind: EntityKind, doc: Value },
    Upsert { kind: EntityKind, doc: Value },
    Update { kind: EntityKind, doc: Value },
    Delete { kind: EntityKind, id: String },
}

impl From<WriteOp> for Op {
    fn from(op: WriteOp) -> Op {
        match op {
            WriteOp::Insert(kind, doc) => Op::Insert { kind, doc },
            WriteOp::Upsert(kind, doc) => Op::Upsert { kind, doc },
            WriteOp::Update(kind, doc) => Op::Update { kind, doc },
            WriteOp::Delete(kind, id) => Op::Delete { kind, id },
        }
    }
}

impl From<Op> for WriteOp {
    fn from(op: Op) -> WriteOp {
        match op {
            Op::Insert { kind, doc } => WriteOp::Insert(kind, doc),
            Op::Upsert { kind, doc } => WriteOp::Upsert(kind, doc),
            Op::Update { kind, doc } => WriteOp::Update(kind, doc),
            Op::Delete { kind, id } => WriteOp::Delete(kind, id),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Apply {
    pub ops: Vec<Op>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Get {
    pub kind: EntityKind,
    pub id: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Find {
    pub kind: EntityKind,
    pub query: Query,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Delete {
    pub kind: EntityKind,
    pub filters: Vec<Filter>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Import {
    pub snapshot: Snapshot,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Reply {
    Ok(Value),
    Error(WireError),
}

/// A [`StorageError`] on the wire, so a remote caller gets the same error a local one would.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct WireError {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub kind: Option<EntityKind>,
    #[serde(default)]
    pub id: Option<String>,
}

impl From<&StorageError> for WireError {
    fn from(e: &StorageError) -> WireError {
        let (code, kind, id) = match e {
            StorageError::AlreadyExists { kind, id } => {
                ("already_exists", Some(*kind), Some(id.clone()))
            }
            StorageError::NotFound { kind, id } => ("not_found", Some(*kind), Some(id.clone())),
            StorageError::InvalidDocument(_) => ("invalid_document", None, None),
            StorageError::Query(_) => ("query", None, None),
            StorageError::Backend(_) => ("backend", None, None),
            StorageError::Closed => ("closed", None, None),
        };
        let message = match e {
            StorageError::InvalidDocument(m) | StorageError::Backend(m) => m.clone(),
            other => other.to_string(),
        };
        WireError {
            code: code.into(),
            message,
            kind,
            id,
        }
    }
}

impl From<WireError> for StorageError {
    fn from(e: WireError) -> StorageError {
        match (e.code.as_str(), e.kind, e.id) {
            ("already_exists", Some(kind), Some(id)) => StorageError::AlreadyExists { kind, id },
            ("not_found", Some(kind), Some(id)) => StorageError::NotFound { kind, id },
            ("invalid_document", _, _) => StorageError::InvalidDocument(e.message),
            ("query", _, _) => StorageError::Query(CoreError::InvalidFilter {
                key: String::new(),
                reason: e.message,
            }),
            ("closed", _, _) => StorageError::Closed,
            _ => StorageError::Backend(e.message),
        }
    }
}
