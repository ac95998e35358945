//! MySensors (protocol 2.x).

pub mod protocol;
