//! The embedded bus: the in-process bus every service talks through unless NATS is configured.
//! Its semantics (wildcards, queue groups, request/reply, no-responders) follow NATS, so a service
//! behaves the same on either bus. See [`EmbeddedBus`] for what happens when a subscriber falls
//! behind.

mod config;
pub mod conformance;
mod drop_log;
mod embedded;
mod registry;
mod request;
mod stalled;
mod subscription;

pub use config::{ConfigError, EmbeddedBusConfig};
pub use embedded::EmbeddedBus;
