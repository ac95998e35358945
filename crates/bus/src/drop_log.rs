use std::time::Duration;
use tokio::time::Instant;

/// At most one warning per subscriber per this interval: a stuck subscriber drops every message,
/// and a line per drop would flood the log exactly when someone needs to read it.
const INTERVAL: Duration = Duration::from_secs(1);

/// Decides when a subscriber's drops are worth a log line.
#[derive(Debug, Default)]
pub(crate) struct DropLog {
    last_line: Option<Instant>,
    unreported: u64,
}

impl DropLog {
    /// Records one drop; returns the number of drops the log line should report (this one and those
    /// kept quiet since the last line), or `None` to stay quiet.
    pub fn record(&mut self, now: Instant) -> Option<u64> {
        self.unreported += 1;
        if let Some(last) = self.last_line
            && now.saturating_duration_since(last) < INTERVAL
        {
            return None;
        }
        self.last_line = Some(now);
        Some(std::mem::take(&mut self.unreported))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_first_drop_then_one_line_per_interval_with_the_count() {
        let start = Instant::now();
        let mut log = DropLog::default();
        assert_eq!(log.record(start), Some(1));
        assert_eq!(log.record(start + Duration::from_millis(10)), None);
        assert_eq!(log.record(start + Duration::from_millis(999)), None);
        assert_eq!(log.record(start + Duration::from_secs(1)), Some(3));
        assert_eq!(log.record(start + Duration::from_millis(1500)), None);
        assert_eq!(log.record(start + Duration::from_secs(5)), Some(2));
    }
}
