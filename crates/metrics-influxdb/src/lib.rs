//! The `influxdb` metric backend: InfluxDB 1.x (line protocol on `/write`, InfluxQL) or 2.x
//! (line protocol on `/api/v2/write`, Flux), and servers that accept those writes
//! (VictoriaMetrics).
//!
//! Writes go to a bounded buffer of encoded lines; a writer task sends them in batches of
//! `batch_size` every `flush_interval` (sooner when a batch is full). When the server is down the
//! lines stay buffered and the writer retries with backoff: nothing is lost while the buffer
//! holds. At `buffer_size` lines, new points are dropped, counted in `stats().dropped` and logged
//! (at most every 10 s). A batch the server refuses as invalid (4xx other than auth/404/429) is
//! dropped and counted too, so one bad point cannot block the rest forever.

mod client;
pub mod flux;
pub mod influxql;
pub mod line;

use async_trait::async_trait;
use client::{Client, WriteFailure};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use switchyard_core::metrics::{
    Aggregation, MetricError, MetricPoint, MetricQuery, MetricRow, MetricStats, MetricStore,
};
use switchyard_core::model::MetricType;
use switchyard_metrics::{InfluxConfig, InfluxSettings, InfluxVersion};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Most windows one query may ask for (as the embedded store).
pub const MAX_WINDOWS: i128 = 100_000;
/// Series whose metric type is remembered from writes; past it, queries ask the server.
const TYPE_CACHE: usize = 100_000;

const NUMERIC_DEFAULT: [Aggregation; 3] = [Aggregation::Mean, Aggregation::Min, Aggregation::Max];
const TEXT_DEFAULT: [Aggregation; 3] = [Aggregation::Count, Aggregation::First, Aggregation::Last];

struct Shared {
    client: Client,
    config: InfluxConfig,
    settings: InfluxSettings,
    buffer: Mutex<VecDeque<String>>,
    /// One sender at a time, so a flush and the writer never send the same lines twice.
    sending: tokio::sync::Mutex<()>,
    batch_ready: Notify,
    written: AtomicU64,
    dropped: AtomicU64,
    last_drop_log: Mutex<Option<Instant>>,
    types: Mutex<HashMap<String, MetricType>>,
}

pub struct InfluxMetricStore {
    shared: Arc<Shared>,
    cancel: CancellationToken,
    writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
    closed: AtomicBool,
}

impl InfluxMetricStore {
    /// Checks the config, creates the v1 database if missing (when the server lets us), and
    /// starts the writer. An unreachable server is not an error here: points wait in the buffer.
    pub async fn open(config: &InfluxConfig) -> Result<Self, MetricError> {
        let settings = config.settings()?;
        let client = Client::new(config, settings.request_timeout)?;
        if config.version == InfluxVersion::V1 {
            let create = format!("CREATE DATABASE {}", influxql::ident(&config.database));
            if let Err(e) = client.influxql(&create, true).await {
                tracing::warn!(error = %e, database = %config.database,
                    "influxdb: could not create the database (it may exist, or the server is down)");
            }
        }
        let shared = Arc::new(Shared {
            client,
            config: config.clone(),
            settings,
            buffer: Mutex::new(VecDeque::new()),
            sending: tokio::sync::Mutex::new(()),
            batch_ready: Notify::new(),
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            last_drop_log: Mutex::new(None),
            types: Mutex::new(HashMap::new()),
        });
        let cancel = CancellationToken::new();
        let writer = tokio::spawn(shared.clone().run(cancel.clone()));
        Ok(InfluxMetricStore {
            shared,
            cancel,
            writer: Mutex::new(Some(writer)),
            closed: AtomicBool::new(false),
        })
    }

    fn check_open(&self) -> Result<(), MetricError> {
        if self.closed.load(Ordering::Acquire) {
            Err(MetricError::Closed)
        } else {
            Ok(())
        }
    }
}

impl Shared {
    fn drop_points(&self, n: u64, why: &str) {
        if n == 0 {
            return;
        }
        let total = self.dropped.fetch_add(n, Ordering::Relaxed) + n;
        let mut last = self.last_drop_log.lock();
        if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
            *last = Some(Instant::now());
            tracing::warn!(
                dropped = n,
                dropped_total = total,
                "influxdb metrics: {why}"
            );
        }
    }

    /// The writer: a batch every `flush_interval`, or as soon as one is full; on failure the
    /// lines stay and the next try waits longer (up to 30 s).
    async fn run(self: Arc<Self>, cancel: CancellationToken) {
        let mut backoff = Duration::ZERO;
        loop {
            let wait = if backoff.is_zero() {
                self.settings.flush_interval
            } else {
                backoff
            };
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
                _ = self.batch_ready.notified(), if backoff.is_zero() => {}
            }
            match self.send_all().await {
                Ok(()) => backoff = Duration::ZERO,
                Err(e) => {
                    backoff =
                        (backoff * 2).clamp(Duration::from_millis(500), Duration::from_secs(30));
                    tracing::warn!(error = %e, buffered = self.buffer.lock().len(), retry_in = ?backoff,
                        "influxdb metrics: write failed; points stay buffered");
                }
            }
        }
    }

    /// Sends everything buffered, batch by batch; stops at the first retryable failure.
    async fn send_all(&self) -> Result<(), MetricError> {
        let _sending = self.sending.lock().await;
        loop {
            let batch: Vec<String> = {
                let buffer = self.buffer.lock();
                buffer
                    .iter()
                    .take(self.settings.batch_size)
                    .cloned()
                    .collect()
            };
            if batch.is_empty() {
                return Ok(());
            }
            let n = batch.len();
            let result = self.client.write(batch.join("\n")).await;
            // Only this (locked) sender removes from the front; writers only push at the back.
            let outcome = match result {
                Ok(()) => {
                    self.written.fetch_add(n as u64, Ordering::Relaxed);
                    Ok(())
                }
                Err(WriteFailure::Rejected(msg)) => {
                    self.drop_points(n as u64, &format!("the server refused a batch: {msg}"));
                    Ok(())
                }
                Err(WriteFailure::Retry(msg)) => Err(MetricError::Backend(msg)),
            };
            outcome?;
            self.buffer.lock().drain(..n);
        }
    }
}

#[async_trait]
impl MetricStore for InfluxMetricStore {
    fn name(&self) -> &'static str {
        "influxdb"
    }

    async fn write(&self, points: Vec<MetricPoint>) -> Result<(), MetricError> {
        self.check_open()?;
        let prefix = &self.shared.config.measurement_prefix;
        let mut lines = Vec::with_capacity(points.len());
        let mut bad = 0u64;
        // InfluxDB keeps one value per series and time: bump a repeated time within one call by
        // 1 ns so both points are kept (as the embedded store keeps both).
        let mut seen = HashSet::new();
        {
            let mut types = self.shared.types.lock();
            for mut p in points {
                while !seen.insert((p.series.clone(), p.timestamp)) {
                    p.timestamp += chrono::TimeDelta::nanoseconds(1);
                }
                match line::encode(prefix, &p) {
                    Ok(l) => {
                        if types.len() < TYPE_CACHE || types.contains_key(&p.series) {
                            types.insert(p.series.clone(), p.metric_type);
                        }
                        lines.push(l);
                    }
                    Err(why) => {
                        bad += 1;
                        tracing::debug!(series = %p.series, %why, "influxdb metrics: point refused");
                    }
                }
            }
        }
        self.shared.drop_points(
            bad,
            "points that cannot be written (not finite, out of range)",
        );
        let (over, full_batch) = {
            let mut buffer = self.shared.buffer.lock();
            let room = self
                .shared
                .settings
                .buffer_size
                .saturating_sub(buffer.len());
            let over = lines.len().saturating_sub(room);
            lines.truncate(room);
            buffer.extend(lines);
            (over, buffer.len() >= self.shared.settings.batch_size)
        };
        self.shared.drop_points(
            over as u64,
            "buffer full (server down or slow): newest points dropped",
        );
        if full_batch {
            self.shared.batch_ready.notify_one();
        }
        Ok(())
    }

    async fn query(&self, q: &MetricQuery) -> Result<Vec<MetricRow>, MetricError> {
        self.check_open()?;
        if q.stop <= q.start {
            return Err(MetricError::InvalidQuery(format!(
                "stop ({}) must be after start ({})",
                q.stop, q.start
            )));
        }
        if let Some(w) = q.window {
            if w.as_micros() == 0 {
                return Err(MetricError::InvalidQuery(
                    "window must be at least 1µs".into(),
                ));
            }
            let span = i128::from((q.stop - q.start).num_microseconds().unwrap_or(i64::MAX));
            let windows = span / w.as_micros() as i128 + 1;
            if windows > MAX_WINDOWS {
                return Err(MetricError::InvalidQuery(format!(
                    "{windows} windows of {w:?} between start and stop; at most {MAX_WINDOWS} \
                     per query — use a longer window or a shorter range"
                )));
            }
        }
        let Some(metric_type) = self.metric_type(&q.series).await? else {
            return Ok(Vec::new());
        };
        let aggregations = aggregations(metric_type, &q.aggregations)?;
        let measurement = line::measurement(&self.shared.config.measurement_prefix, metric_type);
        let client = &self.shared.client;
        match client.version() {
            InfluxVersion::V1 => {
                let text = influxql::select(
                    q,
                    &self.shared.config.retention_policy,
                    &measurement,
                    &aggregations,
                );
                influxql::rows(&client.influxql(&text, false).await?)
            }
            InfluxVersion::V2 => {
                let text = flux::query(q, &self.shared.config.bucket, &measurement, &aggregations);
                flux::rows(&client.flux(&text).await?)
            }
        }
    }

    async fn flush(&self) -> Result<(), MetricError> {
        self.check_open()?;
        self.shared.send_all().await
    }

    async fn close(&self) -> Result<(), MetricError> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Err(MetricError::Closed);
        }
        self.cancel.cancel();
        let writer = self.writer.lock().take();
        if let Some(w) = writer {
            let _ = w.await;
        }
        let result = self.shared.send_all().await;
        let left = self.shared.buffer.lock().len() as u64;
        self.shared.drop_points(
            left,
            "closed with the server unreachable: buffered points lost",
        );
        result
    }

    fn stats(&self) -> MetricStats {
        MetricStats {
            written: self.shared.written.load(Ordering::Relaxed),
            dropped: self.shared.dropped.load(Ordering::Relaxed),
            buffered: self.shared.buffer.lock().len() as u64,
        }
    }
}

impl InfluxMetricStore {
    /// The series' metric type: remembered from writes, else asked from the server (the first
    /// of our measurements holding it).
    async fn metric_type(&self, series: &str) -> Result<Option<MetricType>, MetricError> {
        if let Some(t) = self.shared.types.lock().get(series) {
            return Ok(Some(*t));
        }
        let client = &self.shared.client;
        let names = match client.version() {
            InfluxVersion::V1 => influxql::names(
                &client
                    .influxql(&influxql::show_measurements(series), false)
                    .await?,
            ),
            InfluxVersion::V2 => flux::values(
                &client
                    .flux(&flux::measurements(&self.shared.config.bucket, series))
                    .await?,
            )?,
        };
        let prefix = &self.shared.config.measurement_prefix;
        Ok(names.iter().find_map(|m| line::metric_type_of(prefix, m)))
    }
}

fn aggregations(t: MetricType, asked: &[Aggregation]) -> Result<Vec<Aggregation>, MetricError> {
    if t.is_numeric() {
        return Ok(if asked.is_empty() {
            NUMERIC_DEFAULT.to_vec()
        } else {
            asked.to_vec()
        });
    }
    if asked.is_empty() {
        return Ok(TEXT_DEFAULT.to_vec());
    }
    if let Some(bad) = asked.iter().find(|a| !TEXT_DEFAULT.contains(a)) {
        return Err(MetricError::InvalidQuery(format!(
            "{bad} does not apply to a text series; use count, first or last"
        )));
    }
    Ok(asked.to_vec())
}
