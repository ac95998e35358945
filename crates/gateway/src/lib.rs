//! The gateway service: runs each enabled gateway's provider over its transport, turning device
//! traffic into [`switchyard_core::Message`]s and back.

pub mod providers;
