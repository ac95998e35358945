//! One node's firmware download as the controller sees it: which blocks it asked for, and when
//! to tell the user. Pure: times are passed in.

use crate::providers::mysensors::protocol::firmware::{BlockOrder, FirmwareConfig};
use chrono::{DateTime, Utc};
use std::time::Duration;
use tokio::time::Instant;

/// Progress is reported every this many blocks (plus at the start and the end).
pub const REPORT_EVERY: u16 = 10;

#[derive(Debug, Clone)]
pub struct Session {
    pub firmware_id: String,
    pub config: FirmwareConfig,
    /// From the node label `ota_block_order`, else learned from the first request.
    order: Option<BlockOrder>,
    started: Option<(DateTime<Utc>, Instant)>,
    reported: Option<u16>,
}

/// What to record on the node after a block was served.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub block: u16,
    pub done: u16,
    pub total: u16,
    /// 0..=100.
    pub percent: u8,
    pub started_at: DateTime<Utc>,
    /// Set when this was the last block.
    pub finished: Option<(DateTime<Utc>, Duration)>,
}

impl Session {
    pub fn new(firmware_id: String, config: FirmwareConfig, order: Option<BlockOrder>) -> Self {
        Session {
            firmware_id,
            config,
            order,
            started: None,
            reported: None,
        }
    }

    pub fn serves(&self, firmware_type: u16, version: u16) -> bool {
        self.config.firmware_type == firmware_type && self.config.version == version
    }

    /// Records that `block` was served; returns what to report, if it is time to.
    pub fn served(&mut self, block: u16, wall: DateTime<Utc>, now: Instant) -> Option<Progress> {
        let total = self.config.blocks;
        let learned = if total > 1 && block == 0 {
            BlockOrder::Forward
        } else {
            BlockOrder::Reverse
        };
        let order = *self.order.get_or_insert(learned);
        let (started_at, started) = *self.started.get_or_insert((wall, now));
        let done = order.blocks_done(block, total).saturating_add(1).min(total);
        let finished = done == total;
        let due = match self.reported {
            None => true,
            Some(last) => finished || done.saturating_sub(last) >= REPORT_EVERY || done < last,
        };
        if !due {
            return None;
        }
        self.reported = Some(done);
        let percent = if total == 0 {
            100
        } else {
            u8::try_from(u32::from(done) * 100 / u32::from(total)).unwrap_or(100)
        };
        Some(Progress {
            block,
            done,
            total,
            percent,
            started_at,
            finished: finished.then(|| (wall, now.saturating_duration_since(started))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(blocks: u16) -> FirmwareConfig {
        FirmwareConfig {
            firmware_type: 1,
            version: 2,
            blocks,
            crc: 0,
        }
    }

    fn run(session: &mut Session, blocks: impl Iterator<Item = u16>) -> Vec<Progress> {
        let now = Instant::now();
        blocks
            .filter_map(|b| session.served(b, Utc::now(), now))
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn reverse_and_forward_downloads_report_start_steps_and_end() {
        let mut reverse = Session::new("fw".into(), config(25), None);
        let reports = run(&mut reverse, (0..25).rev());
        let done: Vec<u16> = reports.iter().map(|p| p.done).collect();
        assert_eq!(done, vec![1, 11, 21, 25]);
        assert_eq!(reports.last().unwrap().percent, 100);
        assert!(reports.last().unwrap().finished.is_some());
        assert!(reports[..3].iter().all(|p| p.finished.is_none()));

        let mut forward = Session::new("fw".into(), config(25), None);
        let reports = run(&mut forward, 0..25);
        assert_eq!(
            reports.iter().map(|p| p.done).collect::<Vec<_>>(),
            vec![1, 11, 21, 25]
        );
        assert_eq!(reports[1].percent, 44);

        // A label that says forward is believed even when the first block looks reverse.
        let mut labelled = Session::new("fw".into(), config(5), Some(BlockOrder::Forward));
        let reports = run(&mut labelled, 0..5);
        assert_eq!(reports.last().unwrap().done, 5);
    }

    #[tokio::test(start_paused = true)]
    async fn one_block_images_finish_at_once() {
        let mut s = Session::new("fw".into(), config(1), None);
        let p = s.served(0, Utc::now(), Instant::now()).unwrap();
        assert_eq!((p.done, p.total, p.percent), (1, 1, 100));
        assert!(p.finished.is_some());
    }
}
