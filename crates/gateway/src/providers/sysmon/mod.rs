//! System monitoring: the host the gateway runs on as one node — CPU (total, per core, load),
//! memory and swap, each disk, network counters, temperatures, uptime, and processes chosen by
//! name — each group read on its own interval.
//!
//! Readings are plain data ([`readings`]) turned into messages by a pure function; where they
//! come from is a [`probe::HostProbe`] (sysinfo for the real host, fixed values in tests).

mod config;
pub mod probe;
pub mod readings;

pub use config::{SystemMonitoringConfig, start_with_probe};
