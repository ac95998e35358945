//! The gateway service: runs each enabled gateway's provider over its transport, turning device
//! traffic into [`switchyard_core::Message`]s and back.
//!
//! - [`provider`]: the plugin interface every provider implements, and the registry of types.
//! - [`service`]: the gateway service (one supervised task per gateway, state, commands).
//! - [`sleeping_queue`]: messages held for battery nodes until they wake.
//! - [`transport`]: serial, ethernet (TCP), MQTT and HTTP, shared by every provider.
//! - [`message_logger`]: raw traffic of a gateway to a rotating file.
//! - `testing` (feature `testing`): fake devices for tests, such as a Hue bridge.

mod ack;
mod context;
mod error;
pub mod message_logger;
pub mod provider;
pub mod providers;
pub mod service;
pub mod sleeping_queue;
mod stats;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transport;

pub use context::{INBOUND_QUEUE_CAPACITY, ProviderContext};
pub use error::{GatewayError, TransportError};
pub use provider::{
    AckRequest, Provider, ProviderConfig, ProviderRegistry, ProviderState, RunningProvider,
};
pub use service::{GatewayService, subjects};
pub use stats::{GatewayStats, GatewayStatsSnapshot};
