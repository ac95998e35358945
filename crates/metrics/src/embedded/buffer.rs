//! The bounded queue between `write` and the background writer.
//!
//! At the bound, a write waits up to `max_wait` for the writer to make room and then drops the
//! points that still do not fit: device traffic must never grow memory without limit, and a slow
//! disk must not stall the message pipeline for longer than `max_wait`.

use super::sample::Sample;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Drops are logged at most this often, with the count since the last line.
const DROP_LOG_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub(crate) struct WriteBuffer {
    capacity: usize,
    batch_size: usize,
    max_wait: Duration,
    queue: Mutex<Vec<Sample>>,
    /// Woken when the writer takes points out.
    room: Notify,
    /// Woken when a batch is waiting, so the writer need not wait for its interval.
    batch_ready: Notify,
    dropped: AtomicU64,
    full_log: Mutex<DropLog>,
    invalid_log: Mutex<DropLog>,
}

impl WriteBuffer {
    pub fn new(capacity: usize, batch_size: usize, max_wait: Duration) -> Self {
        WriteBuffer {
            capacity,
            batch_size,
            max_wait,
            queue: Mutex::new(Vec::new()),
            room: Notify::new(),
            batch_ready: Notify::new(),
            dropped: AtomicU64::new(0),
            full_log: Mutex::new(DropLog::default()),
            invalid_log: Mutex::new(DropLog::default()),
        }
    }

    /// Queues `samples` in order, waiting up to `max_wait` for room; returns how many were
    /// dropped because the buffer stayed full.
    pub async fn push(&self, samples: Vec<Sample>) -> usize {
        let deadline = Instant::now() + self.max_wait;
        let mut rest = samples.into_iter().peekable();
        loop {
            // Registered before looking at the queue, so a `take` in between is not missed.
            let room = self.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            {
                let mut queue = self.queue.lock();
                let free = self.capacity.saturating_sub(queue.len());
                queue.extend(rest.by_ref().take(free));
                if queue.len() >= self.batch_size {
                    self.batch_ready.notify_one();
                }
            }
            if rest.peek().is_none() {
                return 0;
            }
            // Checked first so that a `max_wait` of 0 drops without yielding to the writer.
            let out_of_time = Instant::now() >= deadline
                || tokio::time::timeout_at(deadline, room).await.is_err();
            if out_of_time {
                let dropped = rest.count();
                self.count_dropped(dropped);
                self.full_log.lock().record(dropped, |n| {
                    tracing::warn!(
                        dropped = n,
                        capacity = self.capacity,
                        "metric buffer full: points dropped (the disk is slower than the device traffic)"
                    )
                });
                return dropped;
            }
        }
    }

    /// Counts points refused before they reached the buffer, logging the reason now and then.
    pub fn reject(&self, reason: &str) {
        self.count_dropped(1);
        self.invalid_log.lock().record(1, |n| {
            tracing::warn!(dropped = n, reason, "metric points refused")
        });
    }

    /// Counts points that were taken but could not be written.
    pub fn count_dropped(&self, n: usize) {
        self.dropped.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Takes up to `max` of the oldest points and wakes writes waiting for room.
    pub fn take(&self, max: usize) -> Vec<Sample> {
        let taken: Vec<Sample> = {
            let mut queue = self.queue.lock();
            let n = max.min(queue.len());
            queue.drain(..n).collect()
        };
        if !taken.is_empty() {
            self.room.notify_waiters();
        }
        taken
    }

    pub async fn batch_ready(&self) {
        self.batch_ready.notified().await
    }

    pub fn len(&self) -> usize {
        self.queue.lock().len()
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Rate limit for drop warnings: one line per interval, however many points are dropped.
#[derive(Debug, Default)]
struct DropLog {
    last: Option<Instant>,
    unreported: usize,
}

impl DropLog {
    fn record(&mut self, n: usize, log: impl FnOnce(usize)) {
        self.unreported += n;
        let now = Instant::now();
        if self
            .last
            .is_none_or(|last| now.duration_since(last) >= DROP_LOG_INTERVAL)
        {
            log(self.unreported);
            self.unreported = 0;
            self.last = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::sample::SampleValue;
    use std::sync::Arc;
    use switchyard_core::model::MetricType;

    fn samples(n: usize) -> Vec<Sample> {
        (0..n)
            .map(|i| Sample {
                series: "s".into(),
                metric_type: MetricType::Gauge,
                ts_us: i as i64,
                value: SampleValue::Number(i as f64),
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn full_buffer_drops_after_max_wait_and_counts() {
        let buffer = WriteBuffer::new(10, 10, Duration::from_secs(1));
        assert_eq!(buffer.push(samples(4)).await, 0);
        let started = Instant::now();
        // Nobody drains: 6 fit, 9 are dropped once max_wait has passed.
        assert_eq!(buffer.push(samples(15)).await, 9);
        assert!(started.elapsed() >= Duration::from_secs(1));
        assert_eq!(buffer.len(), 10);
        assert_eq!(buffer.dropped(), 9);
        // The oldest points are kept, in order.
        let kept: Vec<i64> = buffer.take(100).iter().map(|s| s.ts_us).collect();
        assert_eq!(kept, vec![0, 1, 2, 3, 0, 1, 2, 3, 4, 5]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_write_gets_in_when_the_writer_takes_points() {
        let buffer = Arc::new(WriteBuffer::new(10, 5, Duration::from_secs(1)));
        assert_eq!(buffer.push(samples(10)).await, 0);
        let waiting = tokio::spawn({
            let buffer = buffer.clone();
            async move { buffer.push(samples(5)).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(buffer.take(5).len(), 5);
        assert_eq!(waiting.await.unwrap(), 0);
        assert_eq!(buffer.len(), 10);
        assert_eq!(buffer.dropped(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_batch_wakes_the_writer() {
        let buffer = WriteBuffer::new(10, 3, Duration::from_secs(1));
        buffer.push(samples(3)).await;
        tokio::time::timeout(Duration::from_millis(1), buffer.batch_ready())
            .await
            .expect("batch_ready should already be signalled");
    }

    #[test]
    fn drop_warnings_are_rate_limited() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut log = DropLog::default();
            let mut lines = Vec::new();
            for _ in 0..100 {
                log.record(1, |n| lines.push(n));
            }
            tokio::time::advance(DROP_LOG_INTERVAL).await;
            log.record(1, |n| lines.push(n));
            assert_eq!(lines, vec![1, 100]);
        });
    }
}
