//! Philips Hue: lights and sensors into nodes `light_<id>` and `sensor_<id>` (and the `bridge`
//! node), sets sent as `PUT /api/<username>/lights/<id>/state`. A bridge with API v2 (HTTPS,
//! its certificate pinned by fingerprint) pushes changes through its event stream; one without
//! is polled over API v1 every `syncInterval`. Without an app key the gateway pairs
//! ([`pairing`]: press the link button) and keeps the key encrypted under the data directory.
//!
//! The protocol half is pure ([`parse`] and [`parse_v2`] read the bridge's JSON, [`sse`] its
//! event stream, [`command`] writes light state bodies); [`provider`] and [`events`] only move
//! requests and responses; [`pin`] decides whether the bridge's certificate is the bridge's.

mod app_key;
pub mod command;
mod config;
mod events;
pub mod pairing;
pub mod parse;
pub mod parse_v2;
mod pin;
mod provider;
pub mod sse;

pub use config::PhilipsHueConfig;
pub use parse::HueError;
pub use pin::{fingerprint_of, format_fingerprint};

#[cfg(test)]
mod fixture_tests;
