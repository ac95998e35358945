//! Deleting what is older than each resolution's retention, so the file stays bounded. Rollups
//! outlive raw points: that is what lets old ranges still be charted.

use super::Shared;
use super::error::EmbeddedError;
use super::tables::{HOUR_ROLLUPS, MINUTE_ROLLUPS, PointKey, RAW_NUMBERS, RAW_TEXTS, SERIES};
use crate::config::Retention;
use chrono::{DateTime, Utc};
use redb::{Database, ReadableTable, Table, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Runs a pass every `retention_interval`, the first one interval after start so that opening
/// the store does not compete with the startup burst of writes.
pub(crate) async fn run(shared: Arc<Shared>, cancel: CancellationToken) {
    let period = shared.settings.retention_interval;
    let mut every = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = every.tick() => {}
        }
        match shared.enforce_retention(Utc::now()).await {
            Ok(0) => {}
            Ok(removed) => tracing::debug!(removed, "metric retention pass"),
            Err(e) => {
                tracing::warn!(error = %e, "metric retention pass failed; retrying next interval")
            }
        }
    }
}

/// Deletes rows older than `now` minus their retention, in one transaction; returns how many.
pub(crate) fn enforce(
    db: &Database,
    retention: &Retention,
    now: DateTime<Utc>,
) -> Result<u64, EmbeddedError> {
    let now_us = now.timestamp_micros();
    let txn = db.begin_write()?;
    let mut removed = 0;
    {
        let ids = txn
            .open_table(SERIES)?
            .iter()?
            .map(|entry| entry.map(|(_, v)| v.value().0))
            .collect::<Result<Vec<u32>, _>>()?;
        if let Some(cutoff) = cutoff(now_us, retention.raw) {
            removed += delete_before(&mut txn.open_table(RAW_NUMBERS)?, &ids, cutoff)?;
            removed += delete_before(&mut txn.open_table(RAW_TEXTS)?, &ids, cutoff)?;
        }
        if let Some(cutoff) = cutoff(now_us, retention.minute) {
            removed += delete_before(&mut txn.open_table(MINUTE_ROLLUPS)?, &ids, cutoff)?;
        }
        if let Some(cutoff) = cutoff(now_us, retention.hour) {
            removed += delete_before(&mut txn.open_table(HOUR_ROLLUPS)?, &ids, cutoff)?;
        }
    }
    txn.commit()?;
    Ok(removed)
}

fn cutoff(now_us: i64, keep: Option<Duration>) -> Option<i64> {
    keep.map(|d| now_us.saturating_sub(i64::try_from(d.as_micros()).unwrap_or(i64::MAX)))
}

fn delete_before<V: Value + 'static>(
    table: &mut Table<'_, PointKey, V>,
    ids: &[u32],
    cutoff_us: i64,
) -> Result<u64, EmbeddedError> {
    let mut removed = 0;
    for &id in ids {
        for entry in table.extract_from_if((id, i64::MIN)..(id, cutoff_us), |_, _| true)? {
            entry?;
            removed += 1;
        }
    }
    Ok(removed)
}
