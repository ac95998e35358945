//! The `embedded` backend: a small time-series store in `<data_dir>/metrics/metrics.redb`.
//!
//! Points go through a bounded buffer to a background writer that commits them in batches,
//! together with their 1-minute and 1-hour rollups. A retention pass deletes what is older than
//! each resolution keeps, so disk use is bounded by traffic × retention.

mod aggregate;
mod buffer;
mod error;
mod query;
mod retention;
mod rollup;
mod sample;
mod tables;
mod writer;

pub use query::{MAX_POINTS, MAX_WINDOWS};

use crate::config::{EmbeddedMetricsConfig, EmbeddedSettings};
use async_trait::async_trait;
use buffer::WriteBuffer;
use chrono::{DateTime, Utc};
use error::EmbeddedError;
use parking_lot::{Mutex, RwLock};
use redb::Database;
use sample::Sample;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use switchyard_core::metrics::{
    MetricError, MetricPoint, MetricQuery, MetricRow, MetricStats, MetricStore,
};
use tokio::task::{JoinHandle, spawn_blocking};
use tokio_util::sync::CancellationToken;

/// redb's page cache (its default is 1 GiB, which under 1k msg/s grew RSS by ~40 MB; reads it
/// misses come from the operating system's page cache). Figures: docs/benchmarks.md.
const PAGE_CACHE: usize = 4 << 20;

/// How long a reopen waits for queries that still hold the old file handle.
const REOPEN_WAIT: Duration = Duration::from_secs(5);

/// The store's file, under the data directory.
pub const DATABASE_FILE: &str = "metrics/metrics.redb";

/// Dropping the store without [`MetricStore::close`] still commits what is buffered, in the
/// background, if the runtime lives on; `close` waits for it.
pub struct EmbeddedMetricStore {
    shared: Arc<Shared>,
    cancel: CancellationToken,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    closed: AtomicBool,
}

/// What the store, its writer and its retention task share.
pub(crate) struct Shared {
    settings: EmbeddedSettings,
    /// `None` once closed, so the file is released for a later open (and, briefly, while the
    /// writer reopens it after a failed commit).
    db: RwLock<Option<Arc<Database>>>,
    /// The file, to reopen it after a failed commit.
    path: PathBuf,
    /// Set by a commit that failed on I/O (a full disk, say): redb refuses every later
    /// transaction until the file is closed and opened again, which the next commit does.
    broken: AtomicBool,
    buffer: WriteBuffer,
    /// One committer at a time, so that `flush` returns only after a batch the writer already
    /// took is on disk.
    commit_lock: tokio::sync::Mutex<()>,
    written: AtomicU64,
}

impl EmbeddedMetricStore {
    /// Opens (or creates) the store and starts its writer and retention tasks.
    pub async fn open(
        config: &EmbeddedMetricsConfig,
        data_dir: &Path,
    ) -> Result<EmbeddedMetricStore, MetricError> {
        let settings = config.settings()?;
        let path = data_dir.join(DATABASE_FILE);
        let opening = path.clone();
        let db = spawn_blocking(move || open_database(&opening))
            .await
            .map_err(EmbeddedError::from)??;
        let shared = Arc::new(Shared {
            settings,
            db: RwLock::new(Some(Arc::new(db))),
            path,
            broken: AtomicBool::new(false),
            buffer: WriteBuffer::new(settings.buffer_size, settings.batch_size, settings.max_wait),
            commit_lock: tokio::sync::Mutex::new(()),
            written: AtomicU64::new(0),
        });
        let cancel = CancellationToken::new();
        let tasks = vec![
            tokio::spawn(writer::run(shared.clone(), cancel.clone())),
            tokio::spawn(retention::run(shared.clone(), cancel.clone())),
        ];
        Ok(EmbeddedMetricStore {
            shared,
            cancel,
            tasks: Mutex::new(tasks),
            closed: AtomicBool::new(false),
        })
    }

    /// Runs a retention pass now, as if at `now`; returns the number of rows deleted. The
    /// background task calls this every `retention_interval`.
    pub async fn enforce_retention(&self, now: DateTime<Utc>) -> Result<u64, MetricError> {
        self.check_open()?;
        Ok(self.shared.enforce_retention(now).await?)
    }

    fn check_open(&self) -> Result<(), MetricError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(MetricError::Closed);
        }
        Ok(())
    }
}

fn open_database(path: &Path) -> Result<Database, EmbeddedError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| EmbeddedError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let db = Database::builder()
        .set_cache_size(PAGE_CACHE)
        .create(path)?;
    // Created up front so that readers never meet a missing table.
    let txn = db.begin_write()?;
    txn.open_table(tables::SERIES)?;
    txn.open_table(tables::META)?;
    txn.open_table(tables::RAW_NUMBERS)?;
    txn.open_table(tables::RAW_TEXTS)?;
    txn.open_table(tables::MINUTE_ROLLUPS)?;
    txn.open_table(tables::HOUR_ROLLUPS)?;
    txn.commit()?;
    Ok(db)
}

impl Shared {
    fn db(&self) -> Result<Arc<Database>, EmbeddedError> {
        self.db.read().clone().ok_or(EmbeddedError::Closed)
    }

    /// Commits what is buffered when called (not what arrives meanwhile, so a steady stream of
    /// writes cannot keep a flush going), in batches of `batch_size`. A batch that fails to
    /// commit is counted as dropped: retrying it forever would stall every later point.
    async fn commit_buffered(&self) -> Result<(), EmbeddedError> {
        let _turn = self.commit_lock.lock().await;
        if self.broken.load(Ordering::Acquire) {
            self.reopen().await?;
        }
        let mut remaining = self.buffer.len();
        while remaining > 0 {
            let db = self.db()?;
            let batch: Vec<Sample> = self.buffer.take(self.settings.batch_size.min(remaining));
            if batch.is_empty() {
                break;
            }
            let n = batch.len();
            remaining = remaining.saturating_sub(n);
            let committed = spawn_blocking(move || writer::commit(&db, &batch))
                .await
                .map_err(EmbeddedError::from)
                .and_then(|r| r);
            if let Err(e) = committed {
                self.buffer.count_dropped(n);
                if e.is_io() {
                    self.broken.store(true, Ordering::Release);
                }
                return Err(e);
            }
            self.written.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Closes the file and opens it again after a failed commit. redb allows one open handle per
    /// file, so this waits (up to [`REOPEN_WAIT`]) for queries still holding the old one. Queries
    /// meanwhile answer `Closed`; a failed reopen (the disk still full) leaves the store broken
    /// and the writer tries again at its next flush, about once a second, not in a busy loop.
    async fn reopen(&self) -> Result<(), EmbeddedError> {
        // `None` here means an earlier reopen failed (the store is not closed: a closed store
        // never commits), so there is nothing to release and the open is simply tried again.
        let taken = self.db.write().take();
        if let Some(mut old) = taken {
            let deadline = tokio::time::Instant::now() + REOPEN_WAIT;
            loop {
                match Arc::try_unwrap(old) {
                    Ok(db) => {
                        drop(db);
                        break;
                    }
                    Err(still_used) if tokio::time::Instant::now() < deadline => {
                        old = still_used;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Err(still_used) => {
                        *self.db.write() = Some(still_used);
                        return Err(EmbeddedError::Busy);
                    }
                }
            }
        }
        let path = self.path.clone();
        let db = spawn_blocking(move || open_database(&path)).await??;
        *self.db.write() = Some(Arc::new(db));
        self.broken.store(false, Ordering::Release);
        tracing::info!(path = %self.path.display(), "metric store reopened after a failed write");
        Ok(())
    }

    async fn enforce_retention(&self, now: DateTime<Utc>) -> Result<u64, EmbeddedError> {
        let db = self.db()?;
        let retention = self.settings.retention;
        spawn_blocking(move || retention::enforce(&db, &retention, now)).await?
    }
}

#[async_trait]
impl MetricStore for EmbeddedMetricStore {
    fn name(&self) -> &'static str {
        "embedded"
    }

    /// Waits at most `max_wait` for buffer room; points that still do not fit, and points that
    /// cannot be kept (a non-finite number, a numeric series given text), are dropped, counted
    /// in `stats().dropped` and logged at most every few seconds. Neither fails the call, so
    /// one bad field never stops the others from being recorded.
    async fn write(&self, points: Vec<MetricPoint>) -> Result<(), MetricError> {
        self.check_open()?;
        let mut samples = Vec::with_capacity(points.len());
        for point in points {
            match Sample::from_point(point) {
                Ok(sample) => samples.push(sample),
                Err(reason) => self.shared.buffer.reject(&reason),
            }
        }
        self.shared.buffer.push(samples).await;
        Ok(())
    }

    fn raw_retention(&self) -> Option<std::time::Duration> {
        self.shared.settings.retention.raw
    }

    async fn query(&self, query: &MetricQuery) -> Result<Vec<MetricRow>, MetricError> {
        self.check_open()?;
        let db = self.shared.db()?;
        let retention = self.shared.settings.retention;
        let query = query.clone();
        let now = Utc::now();
        let rows = spawn_blocking(move || query::run(&db, &retention, &query, now))
            .await
            .map_err(EmbeddedError::from)??;
        Ok(rows)
    }

    /// Returns once every point buffered before the call is committed.
    async fn flush(&self) -> Result<(), MetricError> {
        self.check_open()?;
        Ok(self.shared.commit_buffered().await?)
    }

    /// Stops the background tasks, commits what is buffered and releases the file.
    async fn close(&self) -> Result<(), MetricError> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Err(MetricError::Closed);
        }
        self.cancel.cancel();
        let tasks = std::mem::take(&mut *self.tasks.lock());
        for task in tasks {
            if let Err(e) = task.await {
                tracing::warn!(error = %e, "metric background task ended abnormally");
            }
        }
        let committed = self.shared.commit_buffered().await;
        // Writes that were already waiting for room when close began.
        let late = self.shared.buffer.take(usize::MAX).len();
        if late > 0 {
            self.shared.buffer.count_dropped(late);
            tracing::warn!(
                dropped = late,
                "metric points arrived while closing; dropped"
            );
        }
        self.shared.db.write().take();
        Ok(committed?)
    }

    fn stats(&self) -> MetricStats {
        MetricStats {
            written: self.shared.written.load(Ordering::Relaxed),
            dropped: self.shared.buffer.dropped(),
            buffered: self.shared.buffer.len() as u64,
        }
    }
}

impl Drop for EmbeddedMetricStore {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use switchyard_core::metrics::MetricValue;
    use switchyard_core::model::MetricType;

    fn points(n: usize) -> Vec<MetricPoint> {
        let now = Utc::now();
        (0..n)
            .map(|i| MetricPoint {
                series: "s".into(),
                metric_type: MetricType::Gauge,
                timestamp: now + chrono::Duration::milliseconds(i as i64),
                value: MetricValue::Number(i as f64),
                tags: BTreeMap::new(),
            })
            .collect()
    }

    /// A disk that does not keep up: the committer is held, so the buffer cannot drain.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stuck_writer_makes_writes_wait_then_drop() {
        let dir = tempfile::tempdir().unwrap();
        let config = EmbeddedMetricsConfig {
            buffer_size: 10,
            max_wait: "50ms".into(),
            flush_interval: "10ms".into(),
            ..Default::default()
        };
        let store = EmbeddedMetricStore::open(&config, dir.path())
            .await
            .unwrap();
        let stuck = store.shared.commit_lock.lock().await;
        store.write(points(10)).await.unwrap();
        store.write(points(7)).await.unwrap();
        let stats = store.stats();
        assert_eq!((stats.buffered, stats.dropped, stats.written), (10, 7, 0));

        drop(stuck);
        store.flush().await.unwrap();
        let stats = store.stats();
        assert_eq!((stats.buffered, stats.dropped, stats.written), (0, 7, 10));
        store.close().await.unwrap();
    }

    /// A commit failed on I/O and the reopen that follows fails too (the file cannot be opened
    /// yet: here a directory stands where it was). The store stays broken, not closed: every
    /// flush tries the open again, and once the file is back the next flush reopens it and
    /// writes what waited, nothing dropped. Without the retry a failed reopen left no handle
    /// and every later flush answered `Closed`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_reopen_is_tried_again_at_the_next_flush() {
        let dir = tempfile::tempdir().unwrap();
        let config = EmbeddedMetricsConfig {
            // Only the test's flushes commit.
            flush_interval: "1h".into(),
            ..Default::default()
        };
        let store = EmbeddedMetricStore::open(&config, dir.path())
            .await
            .unwrap();
        store.write(points(3)).await.unwrap();
        store.flush().await.unwrap();

        // What a commit that failed on I/O leaves behind, and a file that cannot be opened.
        store.shared.broken.store(true, Ordering::Release);
        let file = dir.path().join(DATABASE_FILE);
        let aside = file.with_extension("aside");
        std::fs::rename(&file, &aside).unwrap();
        std::fs::create_dir(&file).unwrap();
        store.write(points(2)).await.unwrap();
        for attempt in 0..2 {
            let e = store.flush().await.expect_err("the file cannot be opened");
            assert!(
                !matches!(e, MetricError::Closed),
                "attempt {attempt}: the store gave up: {e}"
            );
        }
        assert!(store.shared.broken.load(Ordering::Acquire));

        std::fs::remove_dir(&file).unwrap();
        std::fs::rename(&aside, &file).unwrap();
        store.write(points(4)).await.unwrap();
        store.flush().await.unwrap();
        let stats = store.stats();
        assert_eq!(
            (stats.written, stats.dropped, stats.buffered),
            (3 + 2 + 4, 0, 0)
        );
        assert!(!store.shared.broken.load(Ordering::Acquire));
        store.close().await.unwrap();
    }
}
