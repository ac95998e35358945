//! The message processor: every message a gateway publishes on `message.to_processor` becomes
//! stored state (nodes, sources, fields), metric points and events; requests are answered and
//! actions passed on to the owning gateway.

mod changes;
mod config;
pub mod delivered;
mod field_update;
mod node_state;
mod node_update;
mod service;
mod stats;
mod validate;
mod view;

pub use config::ProcessorConfig;
pub use node_state::{NodeStateJob, mark_inactive_nodes};
pub use service::Processor;
pub use stats::{ProcessorStats, Rejection};
