//! What the simulator observed and did, for tests and the summary.

use std::sync::atomic::{AtomicU64, Ordering};
use switchyard_gateway::providers::mysensors::protocol::firmware::FirmwareConfig;
use switchyard_gateway::providers::mysensors::protocol::{RawFrame, ValueType};

/// Node events carry `index`, the node's position in [`SimConfig::nodes`](crate::SimConfig), since
/// a node asking for an id has none yet; `node_id` is its id at the time (255 while unassigned).
#[derive(Debug, Clone, PartialEq)]
pub enum SimEvent {
    /// The TCP transport is listening on this address (useful with port 0).
    Listening {
        addr: std::net::SocketAddr,
    },
    /// A controller connected (TCP), the port opened (serial) or the broker subscription is in place.
    ControllerUp,
    /// The controller went away; frames nodes send meanwhile are dropped.
    ControllerDown {
        reason: String,
    },
    /// A frame from the controller was not understood; it was dropped.
    Garbage {
        reason: String,
    },
    IdRequested {
        index: usize,
    },
    IdAssigned {
        index: usize,
        node_id: u8,
    },
    /// The node sent its presentation (node, sketch name and version, children).
    Presented {
        index: usize,
        node_id: u8,
        sketch_version: String,
    },
    Reading {
        index: usize,
        node_id: u8,
        child_id: u8,
        value_type: ValueType,
        payload: String,
    },
    BatteryLevel {
        index: usize,
        node_id: u8,
        percent: u8,
    },
    TimeReceived {
        index: usize,
        node_id: u8,
        unix_seconds: i64,
    },
    /// I_CONFIG answer: true for metric ("M").
    ConfigReceived {
        index: usize,
        node_id: u8,
        metric: bool,
    },
    /// An actuator took a value from the controller (and reported its new state).
    SetApplied {
        index: usize,
        node_id: u8,
        child_id: u8,
        value_type: ValueType,
        payload: String,
        ack: bool,
    },
    /// A frame for this node it could not use (unknown child, wrong type, bad value).
    Rejected {
        index: usize,
        node_id: u8,
        frame: RawFrame,
        reason: String,
    },
    HeartbeatSent {
        index: usize,
        node_id: u8,
    },
    DiscoverAnswered {
        index: usize,
        node_id: u8,
    },
    /// The node (re)boots: on I_REBOOT, or after a firmware update.
    Rebooting {
        index: usize,
        node_id: u8,
    },
    /// A sleeping node sent I_PRE_SLEEP_NOTIFICATION and listens for `awake_ms`.
    AwakeWindow {
        index: usize,
        node_id: u8,
        awake_ms: u64,
    },
    /// A sleeping node went to sleep for `sleep_ms`.
    Slept {
        index: usize,
        node_id: u8,
        sleep_ms: u64,
    },
    /// A sleeping node woke up (sent I_POST_SLEEP_NOTIFICATION).
    Woke {
        index: usize,
        node_id: u8,
    },
    /// A frame reached a node while it slept; it was lost, as over a real radio.
    MissedAsleep {
        index: usize,
        node_id: u8,
        frame: RawFrame,
    },
    /// The bootloader was told to run another firmware and starts fetching it.
    OtaStarted {
        index: usize,
        node_id: u8,
        target: FirmwareConfig,
    },
    /// Blocks received so far (emitted every 16 blocks and at the end).
    OtaProgress {
        index: usize,
        node_id: u8,
        done: u16,
        blocks: u16,
    },
    /// All blocks arrived; `crc_ok` says whether the image matched the config's CRC. On success
    /// the node reboots into the new version; on a mismatch it keeps the old one.
    OtaDone {
        index: usize,
        node_id: u8,
        crc_ok: bool,
        expected_crc: u16,
        actual_crc: u16,
        version: u16,
    },
    /// The transfer stopped without an image (no answer after every retry).
    OtaAborted {
        index: usize,
        node_id: u8,
        reason: String,
    },
    /// The controller told the bootloader to erase EEPROM; an assigned id is forgotten.
    EepromErased {
        index: usize,
        node_id: u8,
    },
}

/// Counters for the summary and for benchmarks. Bounds show here: anything dropped is counted.
#[derive(Debug, Default)]
pub struct SimStats {
    pub frames_in: AtomicU64,
    pub frames_out: AtomicU64,
    pub garbage_in: AtomicU64,
    /// Frames for a node id nobody has.
    pub unroutable_in: AtomicU64,
    /// Frames lost because a node's inbox was full.
    pub inbox_overflow: AtomicU64,
    /// Frames nodes sent while no controller was connected.
    pub dropped_offline: AtomicU64,
    pub missed_asleep: AtomicU64,
    pub readings: AtomicU64,
    pub sets_applied: AtomicU64,
    pub ota_ok: AtomicU64,
    pub ota_failed: AtomicU64,
}

impl SimStats {
    pub(crate) fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StatsSnapshot {
            frames_in: get(&self.frames_in),
            frames_out: get(&self.frames_out),
            garbage_in: get(&self.garbage_in),
            unroutable_in: get(&self.unroutable_in),
            inbox_overflow: get(&self.inbox_overflow),
            dropped_offline: get(&self.dropped_offline),
            missed_asleep: get(&self.missed_asleep),
            readings: get(&self.readings),
            sets_applied: get(&self.sets_applied),
            ota_ok: get(&self.ota_ok),
            ota_failed: get(&self.ota_failed),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatsSnapshot {
    pub frames_in: u64,
    pub frames_out: u64,
    pub garbage_in: u64,
    pub unroutable_in: u64,
    pub inbox_overflow: u64,
    pub dropped_offline: u64,
    pub missed_asleep: u64,
    pub readings: u64,
    pub sets_applied: u64,
    pub ota_ok: u64,
    pub ota_failed: u64,
}

impl std::fmt::Display for StatsSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "frames in:        {}", self.frames_in)?;
        writeln!(f, "frames out:       {}", self.frames_out)?;
        writeln!(f, "readings:         {}", self.readings)?;
        writeln!(f, "sets applied:     {}", self.sets_applied)?;
        writeln!(f, "OTA ok / failed:  {} / {}", self.ota_ok, self.ota_failed)?;
        writeln!(f, "garbage in:       {}", self.garbage_in)?;
        writeln!(f, "unroutable in:    {}", self.unroutable_in)?;
        writeln!(f, "missed asleep:    {}", self.missed_asleep)?;
        writeln!(f, "inbox overflow:   {}", self.inbox_overflow)?;
        write!(f, "dropped offline:  {}", self.dropped_offline)
    }
}
