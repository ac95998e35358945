//! Per-gateway counters, shown by the service's status.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct GatewayStats {
    received: AtomicU64,
    inbound_dropped: AtomicU64,
    read_dropped: AtomicU64,
    rejected: AtomicU64,
    sent: AtomicU64,
    send_failed: AtomicU64,
    ack_timeouts: AtomicU64,
    queued: AtomicU64,
    outbound_dropped: AtomicU64,
    restarts: AtomicU64,
}

/// What a gateway did since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayStatsSnapshot {
    /// Messages from devices handed to the processor.
    pub received: u64,
    /// Messages from devices dropped because the inbound queue stayed full.
    pub inbound_dropped: u64,
    /// Messages the transport read from the connection and dropped before the provider took
    /// them, because the provider was behind: MQTT QoS 0 publishes that arrived while the
    /// read-ahead queue was full (QoS 1 and 2 wait instead; the broker keeps them).
    pub read_dropped: u64,
    /// Device input rejected as malformed (bad line, too long, bad topic, …).
    pub rejected: u64,
    /// Messages the provider sent (acknowledged when the protocol asked for it).
    pub sent: u64,
    /// Messages that could not be sent (and were not queued).
    pub send_failed: u64,
    /// Sends given up after every attempt went unacknowledged.
    pub ack_timeouts: u64,
    /// Messages put into a sleeping queue.
    pub queued: u64,
    /// Messages for the device dropped because the outbound queue stayed full.
    pub outbound_dropped: u64,
    /// Times the provider was (re)started.
    pub restarts: u64,
}

macro_rules! counters {
    ($($name:ident => $field:ident),* $(,)?) => {
        impl GatewayStats {
            $(pub(crate) fn $name(&self) {
                self.$field.fetch_add(1, Ordering::Relaxed);
            })*

            pub fn snapshot(&self) -> GatewayStatsSnapshot {
                GatewayStatsSnapshot {
                    $($field: self.$field.load(Ordering::Relaxed),)*
                }
            }
        }
    };
}

counters! {
    add_received => received,
    add_inbound_dropped => inbound_dropped,
    add_read_dropped => read_dropped,
    add_rejected => rejected,
    add_sent => sent,
    add_send_failed => send_failed,
    add_ack_timeout => ack_timeouts,
    add_queued => queued,
    add_outbound_dropped => outbound_dropped,
    add_restart => restarts,
}
