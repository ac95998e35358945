//! Failed logins per username: after `max_failures` failures within `window`, that username's
//! logins are refused (`too_many_requests`) until the window since its first failure has passed.
//! A success clears the count. The table holds at most [`MAX_TRACKED`] usernames: at the bound,
//! entries whose window has passed are swept, then the oldest entry is dropped (that username
//! starts afresh; each failure still costs the attacker an argon2 verification).

use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub const MAX_TRACKED: usize = 10_000;

struct Failures {
    first: Instant,
    count: u32,
}

pub struct LoginLimiter {
    max_failures: u32,
    window: Duration,
    table: Mutex<HashMap<String, Failures>>,
}

impl LoginLimiter {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        LoginLimiter {
            max_failures: max_failures.max(1),
            window,
            table: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` when `key` is locked out for `wait` more.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let table = self.table.lock();
        match table.get(key) {
            Some(f) if f.count >= self.max_failures => {
                let until = f.first + self.window;
                if until > now {
                    Err(until - now)
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    pub fn failed(&self, key: &str, now: Instant) {
        let mut table = self.table.lock();
        if !table.contains_key(key) && table.len() >= MAX_TRACKED {
            let window = self.window;
            table.retain(|_, f| f.first + window > now);
            if table.len() >= MAX_TRACKED
                && let Some(oldest) = table
                    .iter()
                    .min_by_key(|(_, f)| f.first)
                    .map(|(k, _)| k.clone())
            {
                table.remove(&oldest);
            }
        }
        let entry = table.entry(key.to_string()).or_insert(Failures {
            first: now,
            count: 0,
        });
        if entry.first + self.window <= now {
            *entry = Failures {
                first: now,
                count: 0,
            };
        }
        entry.count += 1;
    }

    pub fn succeeded(&self, key: &str) {
        self.table.lock().remove(key);
    }

    pub fn tracked(&self) -> usize {
        self.table.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_limit_until_the_window_passes() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check("admin", t0).is_ok());
            l.failed("admin", t0);
        }
        let wait = l.check("admin", t0 + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(l.check("other", t0).is_ok(), "per username");
        assert!(l.check("admin", t0 + Duration::from_secs(61)).is_ok());
        l.failed("admin", t0 + Duration::from_secs(61));
        assert!(
            l.check("admin", t0 + Duration::from_secs(62)).is_ok(),
            "new window"
        );
        l.succeeded("admin");
        assert_eq!(l.tracked(), 0);
    }

    #[test]
    fn the_table_stays_bounded() {
        let l = LoginLimiter::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..MAX_TRACKED + 10 {
            l.failed(&format!("u{i}"), t0 + Duration::from_millis(i as u64));
        }
        assert_eq!(l.tracked(), MAX_TRACKED);
        assert!(l.check("u0", t0).is_ok(), "the oldest was dropped");
        assert!(l.check(&format!("u{}", MAX_TRACKED + 9), t0).is_err());
    }
}
