//! `echo`: a plain line provider that proves the runtime with any stream transport, and a handy
//! way to drive Switchyard from a terminal (`socat`, `nc`, `mosquitto_pub`).
//!
//! Device → controller, one line each:
//! - `node;source;key;value` — a `set` (an empty source sets a node property);
//! - `node;source;key;value;ack` — the device's echo of an acknowledged send: completes the wait
//!   and is processed like a `set`;
//! - `node;awake` — the node woke up: its sleeping queue is sent.
//!
//! Controller → device: each payload of a `set` as `node;source;key;value`, with `;ack` appended
//! when the message asks for an acknowledgement. Over MQTT a line is the payload; outbound
//! lines are published to `<publish>/<node>`.

mod config;
mod line;

pub use config::EchoConfig;
pub use line::{Line, parse_line};
