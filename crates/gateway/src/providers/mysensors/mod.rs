//! MySensors (protocol 2.x).
