//! The default backend: writes are on disk (redb, fsync) before `apply` returns, so killing the
//! process right after a write loses nothing. Documents stay in the file: opening reads none of
//! them, a read parses the one it needs (the most recent are kept parsed in a bounded cache),
//! and a list reads only its candidates ([`query`]), so memory and start time do not grow with
//! the number of resources.

mod cache;
mod file;
mod query;
mod writer;

use crate::config::EmbeddedConfig;
use crate::table::Tables;
use async_trait::async_trait;
use cache::Cache;
use parking_lot::{Mutex as SyncMutex, RwLock};
use query::Irregular;
use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable};
use serde_json::Value;
use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use switchyard_core::EntityKind;
use switchyard_core::filter::{Page, Query};
use switchyard_core::storage::{Snapshot, Storage, StorageError, WriteOp};
use tokio::sync::{Mutex, mpsc, oneshot};
use writer::{Request, Work, Writer};

pub use file::FILE_NAME;

/// The most encoded bytes of documents kept parsed (in memory they take a few times that).
const CACHE_BYTES: usize = 2 << 20;

/// Open with [`EmbeddedStorage::open`]; see the module docs for what it promises.
pub struct EmbeddedStorage {
    shared: Arc<Shared>,
    /// Bounded by `queue_capacity`: when full, `apply` waits for room, so a burst of writers
    /// slows down to the disk's pace instead of growing memory. `None` once closed.
    queue: RwLock<Option<mpsc::Sender<Request>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    closed: AtomicBool,
}

/// What readers and the writer thread share.
pub(crate) struct Shared {
    /// `None` after a failed commit until the writer reopens the file.
    db: RwLock<Option<Arc<Database>>>,
    path: PathBuf,
    cache: SyncMutex<Cache>,
    irregular: RwLock<Irregular>,
    /// Set when the writer stops: the file is released and must not be reopened.
    released: AtomicBool,
}

impl Shared {
    fn new(db: Database, path: PathBuf, irregular: Irregular) -> Self {
        Shared {
            db: RwLock::new(Some(Arc::new(db))),
            path,
            cache: SyncMutex::new(Cache::new(CACHE_BYTES)),
            irregular: RwLock::new(irregular),
            released: AtomicBool::new(false),
        }
    }

    /// A read snapshot, and `kind`'s irregular ids as they cover it: taken under the lock the
    /// writer holds to add ids (before its commit) and to remove them (after), so the set holds
    /// every id irregular in the snapshot.
    fn snapshot(
        &self,
        kind: EntityKind,
    ) -> Result<(ReadTransaction, BTreeSet<String>), StorageError> {
        let irregular = self.irregular.read();
        let db = self.database()?;
        let txn = db.begin_read().map_err(|e| query::read_failed(&e))?;
        Ok((txn, irregular.of(kind)))
    }

    /// The open database, reopening it if a failed commit closed it (the first reader or
    /// writer to need it does).
    fn database(&self) -> Result<Arc<Database>, StorageError> {
        if let Some(db) = self.db.read().clone() {
            return Ok(db);
        }
        let mut slot = self.db.write();
        if let Some(db) = slot.clone() {
            return Ok(db);
        }
        if self.released.load(Ordering::Acquire) {
            return Err(StorageError::Closed);
        }
        let db = Arc::new(file::reopen(&self.path)?);
        *slot = Some(db.clone());
        tracing::info!(path = %self.path.display(), "storage reopened after a failed write");
        Ok(db)
    }

    /// Runs a read of the file; a panic in redb (a file damaged outside it) becomes an error.
    fn guarded<T>(
        &self,
        read: impl FnOnce() -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        catch_unwind(AssertUnwindSafe(read)).unwrap_or_else(|_| {
            Err(StorageError::Backend(format!(
                "{} could not be read (is it damaged?)",
                self.path.display()
            )))
        })
    }
}

impl EmbeddedStorage {
    /// Opens `<dir>/switchyard.redb`, creating `dir` and the file as needed.
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
        let (db, irregular) = opened.map_err(|e| unreadable(&path, e))??;
        let shared = Arc::new(Shared::new(db, path.clone(), irregular));
        let (queue, requests) = mpsc::channel(config.queue_capacity);
        let mut writer = Writer {
            shared: shared.clone(),
            max_batch: config.max_batch,
            commits: 0,
        };
        let thread = std::thread::Builder::new()
            .name("storage-writer".into())
            .spawn(move || writer.run(requests))
            .map_err(|e| StorageError::Backend(format!("starting the storage writer: {e}")))?;
        tracing::info!(path = %path.display(), "embedded storage open");
        Ok(EmbeddedStorage {
            shared,
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

    fn get_doc(&self, kind: EntityKind, id: &str) -> Result<Option<Arc<Value>>, StorageError> {
        let generation = {
            let mut cache = self.shared.cache.lock();
            if let Some(doc) = cache.get(kind, id) {
                return Ok(Some(doc));
            }
            cache.generation()
        };
        let shared = &self.shared;
        let read = shared.guarded(|| {
            let (txn, _) = shared.snapshot(kind)?;
            match query::open_table(&txn, kind)? {
                Some(table) => query::read_doc(&table, kind, id),
                None => Ok(None),
            }
        })?;
        let Some((doc, size)) = read else {
            return Ok(None);
        };
        let doc = Arc::new(doc);
        self.shared
            .cache
            .lock()
            .fill(generation, kind, id, doc.clone(), size);
        Ok(Some(doc))
    }

    fn export_all(&self) -> Result<Snapshot, StorageError> {
        let shared = &self.shared;
        shared.guarded(|| {
            let (txn, _) = shared.snapshot(EntityKind::Field)?;
            let mut snapshot = Snapshot::new();
            for kind in EntityKind::ALL {
                let Some(table) = query::open_table(&txn, kind)? else {
                    continue;
                };
                let mut docs = Vec::new();
                for entry in table.iter().map_err(|e| query::read_failed(&e))? {
                    let (key, bytes) = entry.map_err(|e| query::read_failed(&e))?;
                    docs.push(query::parse(kind, key.value(), bytes.value())?);
                }
                if !docs.is_empty() {
                    snapshot.insert(kind, docs);
                }
            }
            Ok(snapshot)
        })
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
        Ok(self.get_doc(kind, id)?.map(Arc::unwrap_or_clone))
    }

    /// The cached document itself, not a copy (the cache never changes a document in place).
    async fn get_shared(
        &self,
        kind: EntityKind,
        id: &str,
    ) -> Result<Option<Arc<Value>>, StorageError> {
        self.check_open()?;
        self.get_doc(kind, id)
    }

    async fn find(&self, kind: EntityKind, query: &Query) -> Result<Page<Value>, StorageError> {
        self.check_open()?;
        let compiled = query.compile()?;
        let shared = &self.shared;
        let run = || {
            shared.guarded(|| {
                let (txn, irregular) = shared.snapshot(kind)?;
                query::find(&txn, kind, query, &compiled, &irregular, &shared.cache)
            })
        };
        // A scan of many documents would hold a runtime worker (and the tasks queued on it)
        // for up to seconds; on a multi-threaded runtime it gives that worker's tasks to another.
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi_thread && query::is_long_scan(kind, query) {
            tokio::task::block_in_place(run)
        } else {
            run()
        }
    }

    async fn clear(&self) -> Result<(), StorageError> {
        self.submit(Work::Replace(Tables::default())).await
    }

    async fn export(&self) -> Result<Snapshot, StorageError> {
        self.check_open()?;
        self.export_all()
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
