//! The processor against the real embedded bus, storage and metric store.

mod common;
mod durable;
mod malformed;
mod messages;
mod node_state;
mod volume;
