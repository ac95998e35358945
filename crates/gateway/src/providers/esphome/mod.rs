//! ESPHome's native API: a TCP client per configured node speaking protobuf frames (plaintext
//! with the API password; Noise encryption is not implemented yet).
//!
//! The protocol half is pure ([`frame`], [`messages`], [`entity`]): bytes into frames, frames
//! into messages, and back. Each entity is a source (its object id) of the node.

mod config;
pub mod entity;
pub mod error;
pub mod frame;
pub mod messages;
mod node;
mod provider;

pub use config::{EsphomeConfig, EsphomeNodeConfig};
pub use error::EsphomeError;
