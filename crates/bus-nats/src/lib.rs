//! The NATS bus: distributed mode, where any service runs in its own process on any host. It
//! implements the same [`switchyard_core::bus::Bus`] as the embedded bus and passes the same
//! conformance suite, so services do not know which one they run on. The subjects where a loss
//! matters are durable on JetStream ([`durable`]).

mod bus;
mod config;
pub mod durable;
mod subject;
#[cfg(feature = "testing")]
pub mod testing;

pub use bus::{ConnectError, NatsBus};
pub use config::{ConfigError, DurableConfig, NatsBusConfig, TlsConfig};
