//! Writing batches: one redb transaction per batch holds the raw points and their rollups, so a
//! crash never leaves rollups that disagree with the raw points.

use super::Shared;
use super::error::EmbeddedError;
use super::rollup::{HOUR_US, MINUTE_US, RollupDeltas};
use super::sample::{Sample, SampleValue};
use super::tables::{
    HOUR_ROLLUPS, META, MINUTE_ROLLUPS, NEXT_SERIES_ID, PointKey, RAW_NUMBERS, RAW_TEXTS, SERIES,
};
use redb::{Database, ReadableTable, Table, Value};
use std::collections::HashMap;
use std::sync::Arc;
use switchyard_core::model::MetricType;
use tokio_util::sync::CancellationToken;

/// Commits every `flush_interval`, or sooner when a batch is waiting; on cancel, commits what is
/// left so that dropping the store loses nothing already accepted.
pub(crate) async fn run(shared: Arc<Shared>, cancel: CancellationToken) {
    loop {
        let stop = tokio::select! {
            _ = cancel.cancelled() => true,
            _ = tokio::time::sleep(shared.settings.flush_interval) => false,
            _ = shared.buffer.batch_ready() => false,
        };
        if let Err(e) = shared.commit_buffered().await {
            tracing::error!(error = %e, "writing metric points failed; the batch is dropped");
        }
        if stop {
            return;
        }
    }
}

/// Writes `batch` in one transaction. A point never replaces another: when its `(series, µs)`
/// is taken, it moves 1 µs later until free.
pub(crate) fn commit(db: &Database, batch: &[Sample]) -> Result<(), EmbeddedError> {
    let txn = db.begin_write()?;
    {
        let mut catalog = Catalog {
            series: txn.open_table(SERIES)?,
            meta: txn.open_table(META)?,
            known: HashMap::new(),
        };
        let mut numbers = txn.open_table(RAW_NUMBERS)?;
        let mut texts = txn.open_table(RAW_TEXTS)?;
        let mut minutes = RollupDeltas::new(MINUTE_US);
        let mut hours = RollupDeltas::new(HOUR_US);
        for sample in batch {
            let id = catalog.id(&sample.series, sample.metric_type)?;
            match &sample.value {
                SampleValue::Number(v) => {
                    let ts = free_slot(&numbers, id, sample.ts_us)?;
                    numbers.insert((id, ts), v)?;
                    minutes.add(id, ts, *v);
                    hours.add(id, ts, *v);
                }
                SampleValue::Text(text) => {
                    let ts = free_slot(&texts, id, sample.ts_us)?;
                    texts.insert((id, ts), text.as_str())?;
                }
            }
        }
        minutes.apply(&mut txn.open_table(MINUTE_ROLLUPS)?)?;
        hours.apply(&mut txn.open_table(HOUR_ROLLUPS)?)?;
    }
    txn.commit()?;
    Ok(())
}

fn free_slot<V: Value + 'static>(
    table: &Table<'_, PointKey, V>,
    id: u32,
    ts_us: i64,
) -> Result<i64, EmbeddedError> {
    let mut ts = ts_us;
    while table.get((id, ts))?.is_some() {
        ts = ts
            .checked_add(1)
            .ok_or(EmbeddedError::TimeOutOfRange(ts_us))?;
    }
    Ok(ts)
}

/// Series ids inside one write transaction, so a failed commit allocates nothing.
struct Catalog<'txn> {
    series: Table<'txn, &'static str, (u32, &'static str)>,
    meta: Table<'txn, &'static str, u64>,
    known: HashMap<String, (u32, MetricType)>,
}

impl Catalog<'_> {
    /// The id of `name`, registering it if new. The stored type follows the latest point, so a
    /// field whose type is changed is queried as its new type.
    fn id(&mut self, name: &str, metric_type: MetricType) -> Result<u32, EmbeddedError> {
        if let Some(&(id, known_type)) = self.known.get(name)
            && known_type == metric_type
        {
            return Ok(id);
        }
        let stored = self
            .series
            .get(name)?
            .map(|g| (g.value().0, g.value().1 == metric_type.as_str()));
        let id = match stored {
            Some((id, true)) => id,
            Some((id, false)) => self.register(name, id, metric_type)?,
            None => {
                let id = self.next_id()?;
                self.register(name, id, metric_type)?
            }
        };
        self.known.insert(name.to_string(), (id, metric_type));
        Ok(id)
    }

    fn register(
        &mut self,
        name: &str,
        id: u32,
        metric_type: MetricType,
    ) -> Result<u32, EmbeddedError> {
        self.series.insert(name, (id, metric_type.as_str()))?;
        Ok(id)
    }

    fn next_id(&mut self) -> Result<u32, EmbeddedError> {
        let next = self.meta.get(NEXT_SERIES_ID)?.map_or(0, |g| g.value());
        let id = u32::try_from(next).map_err(|_| EmbeddedError::TooManySeries)?;
        self.meta.insert(NEXT_SERIES_ID, next + 1)?;
        Ok(id)
    }
}
