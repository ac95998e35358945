//! Philips Hue over the bridge's REST API v1: lights and sensors polled every `syncInterval`
//! into nodes `light_<id>` and `sensor_<id>` (and the `bridge` node), sets sent as
//! `PUT /api/<username>/lights/<id>/state`.
//!
//! The protocol half is pure ([`parse`] reads the bridge's JSON, [`command`] writes light state
//! bodies); [`provider`] only moves requests and responses.

pub mod command;
mod config;
pub mod parse;
mod provider;

pub use config::PhilipsHueConfig;
pub use parse::HueError;

#[cfg(test)]
mod fixture_tests;
