//! A MySensors network to test controllers against: a simulated gateway (serial, Ethernet or
//! MQTT, seen from the controller's side) with N nodes behind it that present themselves, report
//! seeded readings, ask for ids, time and units, obey relay sets, sleep, and run the bootloader
//! side of firmware updates with its CRC check. Everything they do is reported as [`SimEvent`]s.
//!
//! The protocol itself (lines, topics, tables, firmware payloads) is the gateway crate's pure
//! MySensors module; nothing here re-implements it.
//!
//! - [`config`]: what to simulate. [`Simulator`]: run it. [`event`]: what happened.
//! - `node/`: one task per node (boot, bootloader, sketch). `radio`: routes frames to nodes.
//! - `transport/`: serial, TCP server, MQTT client, or any byte stream.
//! - [`readings`]: the seeded value sequences, so tests can predict what nodes report.

pub mod config;
mod error;
pub mod event;
mod line_buffer;
mod node;
mod radio;
pub mod readings;
mod simulator;
mod transport;

pub use config::{
    FirmwareSpec, LIBRARY_VERSION, NodeConfig, SensorKind, SensorSpec, SimConfig, SleepConfig,
    TransportConfig,
};
pub use error::SimError;
pub use event::{SimEvent, SimStats, StatsSnapshot};
pub use node::bootloader;
pub use radio::{EVENT_CAPACITY, INBOX_CAPACITY, OUTBOUND_CAPACITY};
pub use simulator::Simulator;
pub use transport::mqtt::broker_address;
