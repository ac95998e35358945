//! The automation crate's integration tests: real bus, real storage, real peers (HTTP servers,
//! an SMTP sink, Mosquitto); time-dependent behaviour on paused tokio time.

mod common;
mod forward;
mod handlers;
mod peers;
mod scheduler;
mod tasks;
