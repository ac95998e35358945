//! The default backend: reads come from memory, writes are on disk (redb, fsync) before `apply`
//! returns, so killing the process right after a write loses nothing.

mod file;
mod writer;

use crate::config::EmbeddedConfig;
use crate::table::Tables;
use async_trait::async_trait;
use parking_lot::RwLock;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use switchyard_core::EntityKind;
use switchyard_core::filter::{Page, Query};
use switchyard_core::storage::{Snapshot, Storage, StorageError, WriteOp};
use tokio::sync::{Mutex, mpsc, oneshot};
use writer::{Request, Work, Writer};

pub use file::FILE_NAME;

/// Open with [`EmbeddedStorage::open`]; see the module docs for what it promises.
pub struct EmbeddedStorage {
    tables: Arc<RwLock<Tables>>,
    /// Bounded by `queue_capacity`: when full, `apply` waits for room, so a burst of writers
    /// slows down to the disk's pace instead of growing memory. `None` once closed.
    queue: RwLock<Option<mpsc::Sender<Request>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    closed: AtomicBool,
}

impl EmbeddedStorage {
    /// Opens `<dir>/switchyard.redb`, creating `dir` and the file as needed, and loads every
    /// document into memory.
    pub async fn open(dir: &Path, config: &EmbeddedConfig) -> Result<Self, StorageError> {
        config.validate()?;
        let path = dir.join(FILE_NAME);
        let dir = dir.to_path_buf();
        let opened = tokio::task::spawn_blocking({
            let path = path.clone();
            move || {
                std::fs::create_dir_all(&dir).map_err(|e| {
                    StorageError::Backend(format!("creating {}: {e}", dir.display()))
                })?;
                file::open(&path)
            }
        })
        .await;
        // redb may panic on a file damaged outside it; that is a bad file, not a crash of ours.
        let (db, tables) = opened.map_err(|e| unreadable(&path, e))??;
        let tables = Arc::new(RwLock::new(tables));
        let (queue, requests) = mpsc::channel(config.queue_capacity);
        let mut writer = Writer {
            db: Some(db),
            path: path.clone(),
            tables: tables.clone(),
            max_batch: config.max_batch,
            commits: 0,
        };
        let thread = std::thread::Builder::new()
            .name("storage-writer".into())
            .spawn(move || writer.run(requests))
            .map_err(|e| StorageError::Backend(format!("starting the storage writer: {e}")))?;
        tracing::info!(path = %path.display(), "embedded storage open");
        Ok(EmbeddedStorage {
            tables,
            queue: RwLock::new(Some(queue)),
            writer: Mutex::new(Some(thread)),
            closed: AtomicBool::new(false),
        })
    }

    async fn submit(&self, work: Work) -> Result<(), StorageError> {
        let queue = self.queue.read().clone().ok_or(StorageError::Closed)?;
        let (reply, answer) = oneshot::channel();
        queue
            .send(Request { work, reply })
            .await
            .map_err(|_| writer_gone())?;
        answer.await.map_err(|_| writer_gone())?
    }

    fn check_open(&self) -> Result<(), StorageError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StorageError::Closed);
        }
        Ok(())
    }
}

fn writer_gone() -> StorageError {
    StorageError::Backend("the storage writer stopped; see the log for why".into())
}

fn unreadable(path: &Path, e: tokio::task::JoinError) -> StorageError {
    StorageError::Backend(format!(
        "{} could not be opened (is it damaged?): {e}",
        path.display()
    ))
}

#[async_trait]
impl Storage for EmbeddedStorage {
    fn name(&self) -> &'static str {
        "embedded"
    }

    async fn apply(&self, ops: Vec<WriteOp>) -> Result<(), StorageError> {
        self.submit(Work::Ops(ops)).await
    }

    async fn get(&self, kind: EntityKind, id: &str) -> Result<Option<Value>, StorageError> {
        self.check_open()?;
        Ok(self.tables.read().get(kind, id).map(|d| Value::clone(d)))
    }

    async fn find(&self, kind: EntityKind, query: &Query) -> Result<Page<Value>, StorageError> {
        self.check_open()?;
        let query = query.compile()?;
        Ok(self.tables.read().find(kind, &query))
    }

    async fn clear(&self) -> Result<(), StorageError> {
        self.submit(Work::Replace(Tables::default())).await
    }

    async fn export(&self) -> Result<Snapshot, StorageError> {
        self.check_open()?;
        Ok(self.tables.read().export())
    }

    async fn import(&self, snapshot: Snapshot) -> Result<(), StorageError> {
        self.submit(Work::Replace(Tables::from_snapshot(snapshot)?))
            .await
    }

    /// Every acknowledged write is already on disk.
    async fn flush(&self) -> Result<(), StorageError> {
        self.check_open()
    }

    /// Lets the queued writes finish, then releases the file. Closing twice is harmless.
    async fn close(&self) -> Result<(), StorageError> {
        let mut writer = self.writer.lock().await;
        self.queue.write().take();
        self.closed.store(true, Ordering::Release);
        let Some(thread) = writer.take() else {
            return Ok(());
        };
        let joined = tokio::task::spawn_blocking(move || thread.join()).await;
        match joined {
            Ok(Ok(())) => Ok(()),
            _ => Err(writer_gone()),
        }
    }
}

impl Drop for EmbeddedStorage {
    /// Without `close`, the writer still finishes what is queued and the file is released before
    /// this returns, so the same process can open it again. The wait is skipped when a caller is
    /// still inside `apply` (it holds a queue handle and may need this thread to make progress).
    fn drop(&mut self) {
        let Some(queue) = self.queue.get_mut().take() else {
            return;
        };
        let last_handle = queue.strong_count() == 1;
        drop(queue);
        if let Some(thread) = self.writer.get_mut().take()
            && last_handle
            && thread.join().is_err()
        {
            tracing::error!("the storage writer panicked");
        }
    }
}
