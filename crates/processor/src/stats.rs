use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a message (or one payload of it) was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    /// Not a JSON message of the expected shape.
    Undecodable,
    /// Larger than `max_message_bytes`, too many payloads, or a value over `max_value_bytes`.
    Oversized,
    /// Gateway, node, source or field id empty where needed, or with forbidden characters.
    BadId,
    /// No gateway with that id is configured.
    UnknownGateway,
    /// Unknown metric type, or a value that does not fit it.
    BadPayload,
    /// Storage refused or failed the write.
    StorageFailed,
}

impl Rejection {
    pub const ALL: [Rejection; 6] = [
        Rejection::Undecodable,
        Rejection::Oversized,
        Rejection::BadId,
        Rejection::UnknownGateway,
        Rejection::BadPayload,
        Rejection::StorageFailed,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// Counters of the processor, shown by `/api/status`.
#[derive(Debug, Default)]
pub struct ProcessorStats {
    processed: AtomicU64,
    rejected: [AtomicU64; 6],
    metric_failures: AtomicU64,
    duplicates: AtomicU64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessorStatsSnapshot {
    pub processed: u64,
    pub rejected: std::collections::BTreeMap<String, u64>,
    pub metric_failures: u64,
    /// Durable messages delivered again after their commit, and skipped.
    pub duplicates: u64,
}

impl ProcessorStats {
    pub(crate) fn processed(&self, n: u64) {
        self.processed.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn rejected(&self, why: Rejection) {
        self.rejected[why.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn duplicate(&self) {
        self.duplicates.fetch_add(1, Ordering::Relaxed);
    }

    pub fn duplicate_count(&self) -> u64 {
        self.duplicates.load(Ordering::Relaxed)
    }

    pub(crate) fn metric_failed(&self) {
        self.metric_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub fn processed_count(&self) -> u64 {
        self.processed.load(Ordering::Relaxed)
    }

    pub fn rejected_count(&self, why: Rejection) -> u64 {
        self.rejected[why.index()].load(Ordering::Relaxed)
    }

    pub fn snapshot(&self) -> ProcessorStatsSnapshot {
        ProcessorStatsSnapshot {
            processed: self.processed_count(),
            rejected: Rejection::ALL
                .iter()
                .map(|r| {
                    let name = serde_json::to_value(r)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    (name, self.rejected_count(*r))
                })
                .collect(),
            metric_failures: self.metric_failures.load(Ordering::Relaxed),
            duplicates: self.duplicate_count(),
        }
    }
}
