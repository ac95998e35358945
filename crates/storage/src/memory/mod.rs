//! MyController's storage mode: everything in RAM, dumped to one file per entity kind every
//! `dump_interval` and on flush/close. Fast and simple to inspect, but a crash loses the writes
//! made since the last dump; choose the embedded backend when that matters.

mod dump;

use crate::config::{DumpFormat, MemoryConfig};
use crate::table::{Changes, Tables};
use async_trait::async_trait;
use parking_lot::RwLock;
use serde_json::Value;
use std::collections::BTreeSet;
use std::mem;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::EntityKind;
use switchyard_core::filter::{Page, Query};
use switchyard_core::storage::{Snapshot, Storage, StorageError, WriteOp};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

/// Open with [`MemoryStorage::open`]; see the module docs for what it promises.
pub struct MemoryStorage {
    shared: Arc<Shared>,
    cancel: CancellationToken,
    dumper: tokio::sync::Mutex<Option<JoinHandle<()>>>,
}

struct Shared {
    state: RwLock<State>,
    dir: PathBuf,
    format: DumpFormat,
    /// One dump at a time, so an older snapshot never overwrites a newer one.
    dumping: tokio::sync::Mutex<()>,
}

struct State {
    tables: Tables,
    /// Kinds changed since their file was last written.
    unsaved: BTreeSet<EntityKind>,
    /// Checked under the same lock as writes, so no write slips in after the final dump.
    closed: bool,
}

impl MemoryStorage {
    /// Loads the dump files in `dir` (creating it as needed) and starts the periodic dump.
    pub async fn open(dir: &Path, config: &MemoryConfig) -> Result<Self, StorageError> {
        let interval = config.interval()?;
        let format = config.dump_format;
        let tables = tokio::task::spawn_blocking({
            let dir = dir.to_path_buf();
            move || {
                std::fs::create_dir_all(&dir).map_err(|e| {
                    StorageError::Backend(format!("creating {}: {e}", dir.display()))
                })?;
                dump::load(&dir, format)
            }
        })
        .await
        .map_err(|e| StorageError::Backend(format!("loading dumps: {e}")))??;
        let shared = Arc::new(Shared {
            state: RwLock::new(State {
                tables,
                unsaved: BTreeSet::new(),
                closed: false,
            }),
            dir: dir.to_path_buf(),
            format,
            dumping: tokio::sync::Mutex::new(()),
        });
        let cancel = CancellationToken::new();
        let dumper = tokio::spawn(shared.clone().run(interval, cancel.clone()));
        tracing::info!(dir = %dir.display(), ?interval, "memory storage open");
        Ok(MemoryStorage {
            shared,
            cancel,
            dumper: tokio::sync::Mutex::new(Some(dumper)),
        })
    }

    fn read(&self) -> Result<parking_lot::RwLockReadGuard<'_, State>, StorageError> {
        let state = self.shared.state.read();
        if state.closed {
            return Err(StorageError::Closed);
        }
        Ok(state)
    }

    /// Applies `change` to the open state and remembers which kinds need dumping.
    fn write(
        &self,
        change: impl FnOnce(&mut Tables) -> Result<BTreeSet<EntityKind>, StorageError>,
    ) -> Result<(), StorageError> {
        let mut state = self.shared.state.write();
        if state.closed {
            return Err(StorageError::Closed);
        }
        let kinds = change(&mut state.tables)?;
        state.unsaved.extend(kinds);
        Ok(())
    }
}

impl Shared {
    async fn run(self: Arc<Self>, interval: Duration, cancel: CancellationToken) {
        let mut ticks = tokio::time::interval_at(Instant::now() + interval, interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = ticks.tick() => {
                    if let Err(e) = self.dump().await {
                        tracing::warn!(error = %e, "periodic dump failed; retrying at the next one");
                    }
                }
            }
        }
    }

    /// Writes the files of the kinds changed since the last dump; nothing when none changed.
    async fn dump(self: &Arc<Self>) -> Result<(), StorageError> {
        let _one_at_a_time = self.dumping.lock().await;
        let (kinds, files) = {
            let mut state = self.state.write();
            let kinds = mem::take(&mut state.unsaved);
            let files: Vec<_> = kinds
                .iter()
                .map(|kind| (*kind, state.tables.documents(*kind)))
                .collect();
            (kinds, files)
        };
        if files.is_empty() {
            return Ok(());
        }
        let (dir, format) = (self.dir.clone(), self.format);
        let written = tokio::task::spawn_blocking(move || dump::write(&dir, format, &files))
            .await
            .map_err(|e| StorageError::Backend(format!("dump task: {e}")))
            .and_then(|r| r);
        if written.is_err() {
            self.state.write().unsaved.extend(kinds);
        }
        written
    }
}

#[async_trait]
impl Storage for MemoryStorage {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn apply(&self, ops: Vec<WriteOp>) -> Result<(), StorageError> {
        self.write(|tables| {
            let mut changes = Changes::default();
            tables.stage(&mut changes, ops)?;
            let kinds = changes.kinds();
            tables.commit(changes);
            Ok(kinds)
        })
    }

    async fn get(&self, kind: EntityKind, id: &str) -> Result<Option<Value>, StorageError> {
        Ok(self.read()?.tables.get(kind, id).map(|d| Value::clone(d)))
    }

    async fn find(&self, kind: EntityKind, query: &Query) -> Result<Page<Value>, StorageError> {
        let query = query.compile()?;
        Ok(self.read()?.tables.find(kind, &query))
    }

    async fn clear(&self) -> Result<(), StorageError> {
        self.write(|tables| {
            *tables = Tables::default();
            Ok(EntityKind::ALL.into())
        })
    }

    async fn export(&self) -> Result<Snapshot, StorageError> {
        Ok(self.read()?.tables.export())
    }

    async fn import(&self, snapshot: Snapshot) -> Result<(), StorageError> {
        let imported = Tables::from_snapshot(snapshot)?;
        self.write(|tables| {
            *tables = imported;
            Ok(EntityKind::ALL.into())
        })
    }

    async fn flush(&self) -> Result<(), StorageError> {
        drop(self.read()?);
        self.shared.dump().await
    }

    /// Stops the periodic dump and writes what changed. Calling it again retries a failed dump.
    async fn close(&self) -> Result<(), StorageError> {
        self.shared.state.write().closed = true;
        self.cancel.cancel();
        if let Some(dumper) = self.dumper.lock().await.take()
            && let Err(e) = dumper.await
        {
            tracing::error!(error = %e, "the periodic dump task failed");
        }
        self.shared.dump().await
    }
}

impl Drop for MemoryStorage {
    /// Dropping without `close` stops the periodic dump; writes since the last dump are lost,
    /// as they would be in a crash.
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
