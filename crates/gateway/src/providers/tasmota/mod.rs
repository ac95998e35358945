//! Tasmota over MQTT: devices running Tasmota firmware, found through their own discovery or
//! their telemetry, read through `tele`/`stat` topics and commanded through `cmnd` topics.
//!
//! The protocol half is pure ([`topic`], [`inbound`], [`discovery`], [`command`]): one MQTT
//! publish in, messages out, and back. A device's `%topic%` is its node id (with `.`, `*`, `>`
//! and white space replaced by `_`).

pub mod command;
mod config;
mod device;
pub mod discovery;
pub mod error;
pub mod inbound;
pub mod json;
mod provider;
pub mod topic;

pub use config::TasmotaConfig;
pub use error::TasmotaError;
pub use topic::{DeviceTopic, Prefix, Prefixes, TopicPattern};

#[cfg(test)]
mod fixture_tests;
