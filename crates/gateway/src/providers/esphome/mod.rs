//! ESPHome's native API: a TCP client per configured node speaking protobuf frames, in plaintext
//! (with the API password) or encrypted with Noise (`encryptionKey`).
//!
//! The protocol half is pure ([`frame`], [`noise`], [`messages`], [`entity`]): bytes into frames, frames
//! into messages, and back. Each entity is a source (its object id) of the node.
//!
//! [`discovery`] (optional) finds devices by mDNS and creates a gateway for each.

mod command;
mod config;
pub mod discovery;
pub mod entity;
pub mod error;
pub mod frame;
mod kind_messages;
pub mod messages;
mod node;
pub mod noise;
mod provider;
mod state;

pub use config::{EsphomeConfig, EsphomeNodeConfig};
pub use error::EsphomeError;
