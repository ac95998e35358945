//! Generic MQTT and HTTP: devices without a provider of their own, mapped by user scripts.
//!
//! MQTT: every publish on the subscribed topics goes through the `onReceive` script, which
//! returns the messages it means; a message for a device goes through `onSend`, which returns the
//! topic and payload to publish. HTTP: each endpoint is polled at its own interval and its
//! response goes through the endpoint's script (or `onReceive`). Scripts run in the sandboxed
//! engine of `switchyard-script` (memory and time limits); [`mapping`] is the pure half that
//! reads what they return.

mod config;
pub mod mapping;
mod provider;

pub use config::{Endpoint, GenericConfig, Scripts};
