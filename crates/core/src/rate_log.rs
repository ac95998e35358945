//! Logging that cannot flood: a device sending garbage a thousand times a second gets one line a
//! second, with the count of what was held back. Shared by every service that logs bad input.

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimitedLog {
    state: Mutex<(Option<Instant>, u64)>,
    every: Duration,
}

impl RateLimitedLog {
    pub const fn new(every: Duration) -> Self {
        RateLimitedLog {
            state: Mutex::new((None, 0)),
            every,
        }
    }

    /// Calls `log(suppressed)` when a line is due, with how many were held back since the last one.
    pub fn log(&self, log: impl FnOnce(u64)) {
        let due = {
            let mut st = self
                .state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let now = Instant::now();
            match st.0 {
                Some(last) if now.duration_since(last) < self.every => {
                    st.1 += 1;
                    None
                }
                _ => {
                    let suppressed = st.1;
                    *st = (Some(now), 0);
                    Some(suppressed)
                }
            }
        };
        if let Some(suppressed) = due {
            log(suppressed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_with_the_count_held_back() {
        let log = RateLimitedLog::new(Duration::from_secs(3600));
        let mut lines = Vec::new();
        for _ in 0..5 {
            log.log(|n| lines.push(n));
        }
        assert_eq!(lines, [0]);
        let log = RateLimitedLog::new(Duration::ZERO);
        log.log(|n| lines.push(n));
        log.log(|n| lines.push(n));
        assert_eq!(lines, [0, 0, 0]);
    }
}
