//! Generic MQTT and HTTP: devices without a provider of their own, mapped by user scripts.
//!
//! MQTT: every publish on the subscribed topics goes through the `onReceive` script, which
//! returns the messages it means; a message for a device goes through `onSend` (its node's
//! script in `nodes`, else the provider's), which returns the payload and topic (else the node's
//! topics) to publish. HTTP: each endpoint is polled at its own interval, after its `preRun`
//! calls (a login whose cookies go with the poll) and before its `postRun` calls, and its
//! response goes through the endpoint's script (or `onReceive`); a message for a device goes
//! through `onSend`, which may `execute` the node's request and take messages in. Scripts run in
//! the sandboxed engine of `switchyard-script` (memory and time limits); [`mapping`] is the pure
//! half that reads what they return, [`http`] makes the calls.

mod config;
pub mod http;
pub mod mapping;
mod provider;

pub use config::{Endpoint, GenericConfig, NodeConfig, Scripts};
