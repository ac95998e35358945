//! The storage plugin trait. Backends store JSON documents of each [`EntityKind`] keyed by `id`.
//! Every write is atomic and, once the call returns `Ok`, durable to the backend's promise
//! (the embedded backend: on disk; the memory backend: at the next dump).

use crate::filter::{Filter, Page, Query};
use crate::{CoreError, EntityKind};
use async_trait::async_trait;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StorageError {
    #[error("{kind} `{id}` already exists")]
    AlreadyExists { kind: EntityKind, id: String },
    #[error("{kind} `{id}` not found")]
    NotFound { kind: EntityKind, id: String },
    #[error("invalid document: {0}")]
    InvalidDocument(String),
    #[error(transparent)]
    Query(#[from] CoreError),
    #[error("storage backend: {0}")]
    Backend(String),
    #[error("storage is closed")]
    Closed,
}

/// One write in an atomic batch.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    /// Fails the batch if the id exists.
    Insert(EntityKind, Value),
    /// Creates or replaces.
    Upsert(EntityKind, Value),
    /// Fails the batch if the id does not exist.
    Update(EntityKind, Value),
    /// Removes the id if present.
    Delete(EntityKind, String),
}

impl WriteOp {
    pub fn kind(&self) -> EntityKind {
        match self {
            WriteOp::Insert(k, _)
            | WriteOp::Upsert(k, _)
            | WriteOp::Update(k, _)
            | WriteOp::Delete(k, _) => *k,
        }
    }

    /// The id the op writes, or an error when a document has no string `id`.
    pub fn id(&self) -> Result<&str, StorageError> {
        match self {
            WriteOp::Insert(_, d) | WriteOp::Upsert(_, d) | WriteOp::Update(_, d) => document_id(d),
            WriteOp::Delete(_, id) => Ok(id),
        }
    }
}

/// The `id` of a document: a non-empty string.
pub fn document_id(doc: &Value) -> Result<&str, StorageError> {
    match doc.get("id") {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        _ => Err(StorageError::InvalidDocument(
            "a document needs a non-empty string `id`".into(),
        )),
    }
}

/// Everything a backend holds, per entity kind (backups, migrations, dumps).
pub type Snapshot = BTreeMap<EntityKind, Vec<Value>>;

#[async_trait]
pub trait Storage: Send + Sync {
    fn name(&self) -> &'static str;

    /// Applies all ops atomically: all or none. Returns once durable.
    async fn apply(&self, ops: Vec<WriteOp>) -> Result<(), StorageError>;

    async fn get(&self, kind: EntityKind, id: &str) -> Result<Option<Value>, StorageError>;

    /// Like [`Storage::get`], for a reader that only borrows the document (the processor reads
    /// several per message). A backend that holds documents in memory behind an `Arc` returns
    /// its own without copying it; the default wraps what `get` returns.
    async fn get_shared(
        &self,
        kind: EntityKind,
        id: &str,
    ) -> Result<Option<Arc<Value>>, StorageError> {
        Ok(self.get(kind, id).await?.map(Arc::new))
    }

    /// Documents matching `query`, sorted and paged, with the count of all matches.
    async fn find(&self, kind: EntityKind, query: &Query) -> Result<Page<Value>, StorageError>;

    /// Deletes every document matching all `filters`; returns how many.
    async fn delete(&self, kind: EntityKind, filters: &[Filter]) -> Result<u64, StorageError> {
        let query = Query {
            filters: filters.to_vec(),
            ..Query::default()
        };
        let page = self.find(kind, &query).await?;
        let ops: Vec<WriteOp> = page
            .data
            .iter()
            .map(|d| document_id(d).map(|id| WriteOp::Delete(kind, id.to_string())))
            .collect::<Result<_, _>>()?;
        let n = ops.len() as u64;
        if n > 0 {
            self.apply(ops).await?;
        }
        Ok(n)
    }

    /// Removes everything.
    async fn clear(&self) -> Result<(), StorageError>;

    async fn export(&self) -> Result<Snapshot, StorageError>;

    /// Replaces everything with `snapshot`.
    async fn import(&self, snapshot: Snapshot) -> Result<(), StorageError>;

    /// Makes everything written so far durable (the memory backend dumps; others may no-op).
    async fn flush(&self) -> Result<(), StorageError>;

    /// Flushes and stops accepting writes.
    async fn close(&self) -> Result<(), StorageError>;

    async fn insert(&self, kind: EntityKind, doc: Value) -> Result<(), StorageError> {
        self.apply(vec![WriteOp::Insert(kind, doc)]).await
    }

    async fn upsert(&self, kind: EntityKind, doc: Value) -> Result<(), StorageError> {
        self.apply(vec![WriteOp::Upsert(kind, doc)]).await
    }

    async fn update(&self, kind: EntityKind, doc: Value) -> Result<(), StorageError> {
        self.apply(vec![WriteOp::Update(kind, doc)]).await
    }

    async fn delete_ids(&self, kind: EntityKind, ids: &[String]) -> Result<(), StorageError> {
        let ops = ids
            .iter()
            .map(|id| WriteOp::Delete(kind, id.clone()))
            .collect();
        self.apply(ops).await
    }
}
