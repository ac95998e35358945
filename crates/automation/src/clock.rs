//! Wall-clock time for schedules, delays and state. Production reads the system clock; tests use
//! a clock that moves with tokio's (pausable) time, so a 60 s delay takes no real time.

use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Longest single sleep towards a wall-clock time: the system clock may be set while we sleep, so
/// we look again at least this often.
const MAX_SLEEP: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub enum Clock {
    System,
    /// `base` at tokio instant `at`, advancing with tokio time, plus `shift` (milliseconds,
    /// shared by every clone) that [`Clock::set_by`] changes as an administrator setting the
    /// system clock would.
    Tokio {
        base: DateTime<Utc>,
        at: tokio::time::Instant,
        shift: Arc<AtomicI64>,
    },
}

impl Clock {
    /// A clock that reads `start` now and then follows tokio time (paused or not).
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Clock::Tokio {
            base: start,
            at: tokio::time::Instant::now(),
            shift: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Sets a test clock forward (positive) or back (negative) by `by`, in every clone of it.
    /// The system clock is the operating system's to set: there this does nothing.
    pub fn set_by(&self, by: chrono::Duration) {
        if let Clock::Tokio { shift, .. } = self {
            shift.fetch_add(by.num_milliseconds(), Ordering::SeqCst);
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Tokio { base, at, shift } => {
                let elapsed = tokio::time::Instant::now().saturating_duration_since(*at);
                *base
                    + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX)
                    + chrono::Duration::milliseconds(shift.load(Ordering::SeqCst))
            }
        }
    }

    /// Sleeps until the clock reads `t` or later. Both clocks can be set while we sleep, so a
    /// long sleep is taken in steps of at most [`MAX_SLEEP`], each starting from a new reading.
    pub async fn sleep_until(&self, t: DateTime<Utc>) {
        loop {
            let left = t - self.now();
            let Ok(left) = left.to_std() else { return };
            if left.is_zero() {
                return;
            }
            tokio::time::sleep(left.min(MAX_SLEEP)).await;
        }
    }
}
