//! Logging that cannot flood: a device sending garbage a thousand times a second gets one line a
//! second, with the count of what was not logged.

use parking_lot::Mutex;
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
        let mut st = self.state.lock();
        let now = Instant::now();
        match st.0 {
            Some(last) if now.duration_since(last) < self.every => st.1 += 1,
            _ => {
                let suppressed = st.1;
                *st = (Some(now), 0);
                drop(st);
                log(suppressed);
            }
        }
    }
}
