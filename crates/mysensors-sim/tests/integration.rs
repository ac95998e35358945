//! The simulator driven by a small controller built from the protocol module, over each transport:
//! an in-memory stream on paused time, a socat pty, TCP, and the local Mosquitto.

#[path = "integration/scenario.rs"]
mod scenario;
#[path = "integration/support.rs"]
mod support;

#[path = "integration/memory.rs"]
mod memory;
#[path = "integration/mqtt.rs"]
mod mqtt;
#[path = "integration/serial.rs"]
mod serial;
#[path = "integration/tcp.rs"]
mod tcp;
