//! When to try a gateway again.

use std::time::Duration;

/// `reconnectDelay` is never shorter than this (MyController's minimum).
pub const MIN_RECONNECT_DELAY: Duration = Duration::from_secs(1);
/// Back-off stops growing here (or at `reconnectDelay`, if that is longer).
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The wait before the next start. After a connection that was up and then dropped
/// (`failed_starts == 0`) it is `reconnectDelay`; each start that fails in a row doubles it, up to
/// [`MAX_BACKOFF`], so a missing device is not hammered but a returning one is found soon.
pub fn restart_delay(reconnect_delay: Duration, failed_starts: u32) -> Duration {
    let base = reconnect_delay.max(MIN_RECONNECT_DELAY);
    let cap = MAX_BACKOFF.max(base);
    let doublings = failed_starts.saturating_sub(1).min(16);
    base.saturating_mul(1 << doublings).min(cap)
}

/// A gateway's `reconnectDelay` (default `15s`, at least 1 s).
pub fn reconnect_delay(setting: &str) -> Result<Duration, String> {
    if setting.trim().is_empty() {
        return Ok(Duration::from_secs(15));
    }
    switchyard_core::value::parse_std_duration(setting)
        .map(|d| d.max(MIN_RECONNECT_DELAY))
        .map_err(|e| format!("reconnectDelay: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_per_failed_start_up_to_the_cap() {
        let s = Duration::from_secs;
        assert_eq!(restart_delay(s(5), 0), s(5));
        assert_eq!(restart_delay(s(5), 1), s(5));
        assert_eq!(restart_delay(s(5), 2), s(10));
        assert_eq!(restart_delay(s(5), 4), s(40));
        assert_eq!(restart_delay(s(5), 5), s(60));
        assert_eq!(restart_delay(s(5), u32::MAX), s(60));
        assert_eq!(restart_delay(s(300), 3), s(300));
        assert_eq!(restart_delay(Duration::ZERO, 1), s(1));
    }

    #[test]
    fn reconnect_delay_setting() {
        assert_eq!(reconnect_delay("").unwrap(), Duration::from_secs(15));
        assert_eq!(reconnect_delay("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(reconnect_delay("10ms").unwrap(), MIN_RECONNECT_DELAY);
        assert!(reconnect_delay("soon").is_err());
    }
}
