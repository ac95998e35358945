//! Wall-clock time for schedules, delays and state. Production reads the system clock; tests use
//! a clock that moves with tokio's (pausable) time, so a 60 s delay takes no real time.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// Longest single sleep towards a wall-clock time: the system clock may be set while we sleep, so
/// we look again at least this often.
const MAX_SLEEP: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub enum Clock {
    System,
    /// `base` at tokio instant `at`, advancing with tokio time.
    Tokio {
        base: DateTime<Utc>,
        at: tokio::time::Instant,
    },
}

impl Clock {
    /// A clock that reads `start` now and then follows tokio time (paused or not).
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Clock::Tokio {
            base: start,
            at: tokio::time::Instant::now(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Tokio { base, at } => {
                let elapsed = tokio::time::Instant::now().saturating_duration_since(*at);
                *base + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX)
            }
        }
    }

    /// Sleeps until the clock reads `t` or later.
    pub async fn sleep_until(&self, t: DateTime<Utc>) {
        loop {
            let left = t - self.now();
            let Ok(left) = left.to_std() else { return };
            if left.is_zero() {
                return;
            }
            let step = match self {
                Clock::System => left.min(MAX_SLEEP),
                Clock::Tokio { .. } => left,
            };
            tokio::time::sleep(step).await;
        }
    }
}
