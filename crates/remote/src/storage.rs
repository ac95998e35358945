use crate::wire::{self, Apply, Delete, Find, Get, Import, Op, Reply};
use async_trait::async_trait;
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use switchyard_core::EntityKind;
use switchyard_core::bus::{Bus, BusError};
use switchyard_core::filter::{Filter, Page, Query};
use switchyard_core::storage::{Snapshot, Storage, StorageError, WriteOp};

/// Storage in another process: each call is a request on `rpc.resource.<op>` to the core's
/// [`ResourceService`](crate::ResourceService), which runs it on the real backend and answers
/// with the result or the same [`StorageError`] a local caller would get. A call waits at most
/// `timeout` (the core unreachable: an error saying so, never a hang). `close` only ends this
/// process's use (later calls fail with `Closed`); the core's storage stays open.
pub struct RemoteStorage {
    bus: Arc<dyn Bus>,
    timeout: Duration,
    closed: AtomicBool,
}

impl RemoteStorage {
    pub fn new(bus: Arc<dyn Bus>, timeout: Duration) -> Self {
        RemoteStorage {
            bus,
            timeout,
            closed: AtomicBool::new(false),
        }
    }

    async fn call<R: DeserializeOwned>(
        &self,
        op: &str,
        request: &impl Serialize,
    ) -> Result<R, StorageError> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(StorageError::Closed);
        }
        let body = serde_json::to_vec(request)
            .map_err(|e| StorageError::InvalidDocument(e.to_string()))?;
        let subject = format!("{}.{op}", wire::SUBJECT_PREFIX);
        let answer = self
            .bus
            .request(&subject, Bytes::from(body), self.timeout)
            .await
            .map_err(|e| match e {
                BusError::NoResponders(_) | BusError::Timeout(_) => StorageError::Backend(format!(
                    "the core's resource service did not answer `{op}`: {e}"
                )),
                other => StorageError::Backend(format!("resource request `{op}`: {other}")),
            })?;
        let reply: Reply = serde_json::from_slice(&answer.payload)
            .map_err(|e| StorageError::Backend(format!("resource reply to `{op}`: {e}")))?;
        match reply {
            Reply::Ok(value) => serde_json::from_value(value)
                .map_err(|e| StorageError::Backend(format!("resource reply to `{op}`: {e}"))),
            Reply::Error(e) => Err(e.into()),
        }
    }
}

#[derive(Serialize)]
struct Nothing {}

#[async_trait]
impl Storage for RemoteStorage {
    fn name(&self) -> &'static str {
        "remote"
    }

    async fn apply(&self, ops: Vec<WriteOp>) -> Result<(), StorageError> {
        let ops: Vec<Op> = ops.into_iter().map(Op::from).collect();
        self.call("apply", &Apply { ops }).await
    }

    async fn get(&self, kind: EntityKind, id: &str) -> Result<Option<Value>, StorageError> {
        let id = id.to_string();
        self.call("get", &Get { kind, id }).await
    }

    async fn find(&self, kind: EntityKind, query: &Query) -> Result<Page<Value>, StorageError> {
        let query = query.clone();
        self.call("find", &Find { kind, query }).await
    }

    async fn delete(&self, kind: EntityKind, filters: &[Filter]) -> Result<u64, StorageError> {
        let filters = filters.to_vec();
        self.call("delete", &Delete { kind, filters }).await
    }

    async fn clear(&self) -> Result<(), StorageError> {
        self.call("clear", &Nothing {}).await
    }

    async fn export(&self) -> Result<Snapshot, StorageError> {
        self.call("export", &Nothing {}).await
    }

    async fn import(&self, snapshot: Snapshot) -> Result<(), StorageError> {
        self.call("import", &Import { snapshot }).await
    }

    async fn flush(&self) -> Result<(), StorageError> {
        self.call("flush", &Nothing {}).await
    }

    async fn close(&self) -> Result<(), StorageError> {
        self.closed.store(true, Ordering::Relaxed);
        Ok(())
    }
}
