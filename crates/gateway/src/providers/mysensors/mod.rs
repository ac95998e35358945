//! MySensors (protocol 2.x): `type: mysensors` (alias `mysensors_v2`) over serial, Ethernet or
//! MQTT. See docs/providers/mysensors.md.
//!
//! - [`protocol`]: the pure protocol (lines, topics, tables, mapping to messages, firmware).
//! - `config`: the settings and the factory; `link`: frames on this gateway's transport.
//! - `inbound`: frames → messages, echoes, answers; `provider`: messages → frames.
//! - `requests`: what the controller answers itself (ids, time, units); `ota`: firmware updates.

mod config;
mod inbound;
mod link;
mod network;
mod ota;
pub mod protocol;
mod provider;
mod requests;

pub use config::{DEFAULT_DISCOVERY_INTERVAL, DEFAULT_RETRY_COUNT, MIN_TIMEOUT, MySensorsConfig};
pub use ota::fields as ota_fields;
pub use requests::TIMEZONE_LABEL;
