//! Whether storage works, for `/api/status`: every backend call goes through [`Watched`], which
//! counts failures of the backend itself (a full disk, an unreachable database; not "not found"
//! or a refused document) and remembers the last one. Storage is `degraded` while the latest
//! write (or the latest read) failed, and `ok` again after the next one that succeeds.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use switchyard_core::EntityKind;
use switchyard_core::filter::{Filter, Page, Query};
use switchyard_core::storage::{Snapshot, Storage, StorageError, WriteOp};

#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `ok` or `degraded`.
    pub health: &'static str,
    /// Backend failures since start.
    pub errors: u64,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// When the current failing spell began; `None` while healthy.
    pub degraded_since: Option<DateTime<Utc>>,
    #[serde(skip)]
    writes_failing: bool,
    #[serde(skip)]
    reads_failing: bool,
}

pub struct Watched {
    inner: Arc<dyn Storage>,
    health: Mutex<Health>,
}

#[derive(Clone, Copy)]
enum Op {
    Read,
    Write,
}

impl Watched {
    pub fn new(inner: Arc<dyn Storage>) -> Arc<Self> {
        Arc::new(Watched {
            inner,
            health: Mutex::new(Health {
                health: "ok",
                ..Health::default()
            }),
        })
    }

    pub fn health(&self) -> Health {
        self.health.lock().clone()
    }

    fn record<T>(&self, op: Op, result: Result<T, StorageError>) -> Result<T, StorageError> {
        let failed = match &result {
            Ok(_) => false,
            Err(StorageError::Backend(_)) => true,
            // Not found, exists, invalid, closed: decided without the backend's disk or server,
            // so they say nothing about its health.
            Err(_) => return result,
        };
        let mut h = self.health.lock();
        let was_degraded = h.writes_failing || h.reads_failing;
        match op {
            Op::Read => h.reads_failing = failed,
            Op::Write => h.writes_failing = failed,
        }
        if let (true, Err(e)) = (failed, &result) {
            h.errors += 1;
            h.last_error = Some(e.to_string());
            h.last_error_at = Some(Utc::now());
        }
        let degraded = h.writes_failing || h.reads_failing;
        match (was_degraded, degraded) {
            (false, true) => {
                h.degraded_since = h.last_error_at;
                h.health = "degraded";
                tracing::warn!(
                    error = h.last_error.as_deref().unwrap_or(""),
                    "storage degraded"
                );
            }
            (true, false) => {
                tracing::info!(
                    failures = h.errors,
                    since = ?h.degraded_since,
                    "storage works again"
                );
                h.degraded_since = None;
                h.health = "ok";
            }
            _ => {}
        }
        result
    }
}

#[async_trait]
impl Storage for Watched {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn apply(&self, ops: Vec<WriteOp>) -> Result<(), StorageError> {
        let r = self.inner.apply(ops).await;
        self.record(Op::Write, r)
    }

    async fn get(&self, kind: EntityKind, id: &str) -> Result<Option<Value>, StorageError> {
        let r = self.inner.get(kind, id).await;
        self.record(Op::Read, r)
    }

    async fn find(&self, kind: EntityKind, query: &Query) -> Result<Page<Value>, StorageError> {
        let r = self.inner.find(kind, query).await;
        self.record(Op::Read, r)
    }

    async fn delete(&self, kind: EntityKind, filters: &[Filter]) -> Result<u64, StorageError> {
        let r = self.inner.delete(kind, filters).await;
        self.record(Op::Write, r)
    }

    async fn clear(&self) -> Result<(), StorageError> {
        let r = self.inner.clear().await;
        self.record(Op::Write, r)
    }

    async fn export(&self) -> Result<Snapshot, StorageError> {
        let r = self.inner.export().await;
        self.record(Op::Read, r)
    }

    async fn import(&self, snapshot: Snapshot) -> Result<(), StorageError> {
        let r = self.inner.import(snapshot).await;
        self.record(Op::Write, r)
    }

    async fn flush(&self) -> Result<(), StorageError> {
        let r = self.inner.flush().await;
        self.record(Op::Write, r)
    }

    async fn close(&self) -> Result<(), StorageError> {
        self.inner.close().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchyard_storage::MemoryStorage;

    /// A backend whose writes fail while `broken` is set.
    struct Flaky {
        inner: Arc<dyn Storage>,
        broken: std::sync::atomic::AtomicBool,
    }

    #[async_trait]
    impl Storage for Flaky {
        fn name(&self) -> &'static str {
            "flaky"
        }
        async fn apply(&self, ops: Vec<WriteOp>) -> Result<(), StorageError> {
            if self.broken.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(StorageError::Backend("No space left on device".into()));
            }
            self.inner.apply(ops).await
        }
        async fn get(&self, k: EntityKind, id: &str) -> Result<Option<Value>, StorageError> {
            self.inner.get(k, id).await
        }
        async fn find(&self, k: EntityKind, q: &Query) -> Result<Page<Value>, StorageError> {
            self.inner.find(k, q).await
        }
        async fn clear(&self) -> Result<(), StorageError> {
            self.inner.clear().await
        }
        async fn export(&self) -> Result<Snapshot, StorageError> {
            self.inner.export().await
        }
        async fn import(&self, s: Snapshot) -> Result<(), StorageError> {
            self.inner.import(s).await
        }
        async fn flush(&self) -> Result<(), StorageError> {
            Ok(())
        }
        async fn close(&self) -> Result<(), StorageError> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn failures_degrade_and_the_next_success_recovers() {
        let dir = tempfile::tempdir().unwrap();
        let memory = MemoryStorage::open(dir.path(), &Default::default())
            .await
            .unwrap();
        let flaky = Arc::new(Flaky {
            inner: Arc::new(memory),
            broken: false.into(),
        });
        let watched = Watched::new(flaky.clone());
        let node = |id: &str| json!({"id": id});
        watched.upsert(EntityKind::Node, node("a")).await.unwrap();
        assert_eq!(watched.health().health, "ok");

        flaky
            .broken
            .store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(watched.upsert(EntityKind::Node, node("b")).await.is_err());
        // A refused document is the caller's problem, not the backend's.
        flaky
            .broken
            .store(false, std::sync::atomic::Ordering::Relaxed);
        assert!(watched.insert(EntityKind::Node, node("a")).await.is_err());
        flaky
            .broken
            .store(true, std::sync::atomic::Ordering::Relaxed);
        // Reads that work do not hide failing writes.
        assert!(watched.get(EntityKind::Node, "a").await.unwrap().is_some());
        let h = watched.health();
        assert_eq!(h.health, "degraded");
        assert_eq!(h.errors, 1);
        assert!(h.last_error.unwrap().contains("No space left"));
        assert!(h.degraded_since.is_some());

        flaky
            .broken
            .store(false, std::sync::atomic::Ordering::Relaxed);
        watched.upsert(EntityKind::Node, node("c")).await.unwrap();
        let h = watched.health();
        assert_eq!(h.health, "ok");
        assert_eq!(h.errors, 1, "history is kept");
        assert!(h.degraded_since.is_none());
    }
}
