//! Controller → device: a message into `cmnd/<topic>/<Command>` publishes.
//!
//! - `set` of field `K` → `cmnd/<topic>/K` with the value (`POWER<n>` values as `ON`/`OFF`;
//!   `hue`, `saturation`, `brightness` as `HSBColor1..3`);
//! - `request` of field `K` → `cmnd/<topic>/K` with an empty payload (Tasmota answers with the
//!   current value);
//! - node actions: `reboot` → `Restart 1`, `heartbeat_request` → `STATUS 11` (state and power),
//!   `refresh_node_info` → `STATUS 0`, `reset` → `Reset 1`;
//! - gateway action `discover_nodes` → `STATUS 0` to the group topic (every device answers).

use super::error::TasmotaError;
use super::topic::TopicPattern;
use switchyard_core::{Message, MessageType};

/// One publish for a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub topic: String,
    pub payload: String,
}

pub const REBOOT: &str = "reboot";
pub const HEARTBEAT_REQUEST: &str = "heartbeat_request";
pub const REFRESH_NODE_INFO: &str = "refresh_node_info";
pub const RESET: &str = "reset";
pub const DISCOVER_NODES: &str = "discover_nodes";

/// The publishes for `msg`, sent to device topic `device` (the group topic for gateway actions).
pub fn to_commands(
    msg: &Message,
    device: &str,
    pattern: &TopicPattern,
) -> Result<Vec<Command>, TasmotaError> {
    let unsupported = |what: String| TasmotaError::Unsupported(what);
    if device.is_empty() || device.contains(['/', '+', '#']) {
        return Err(unsupported(format!("device topic {device:?}")));
    }
    let cmd = |command: &str, payload: &str| Command {
        topic: pattern.command_topic(device, command),
        payload: payload.to_string(),
    };
    let mut out = Vec::new();
    for p in &msg.payloads {
        let key = p.key.as_str();
        if key.is_empty() || key.contains(['/', '+', '#']) {
            return Err(unsupported(format!("field {key:?}")));
        }
        match msg.message_type {
            MessageType::Set => {
                let command = match key {
                    "hue" => "HSBColor1",
                    "saturation" => "HSBColor2",
                    "brightness" => "HSBColor3",
                    k => k,
                };
                let upper = command.to_ascii_uppercase();
                let value = if upper.starts_with("POWER") {
                    match switchyard_core::value::parse_bool(&p.value) {
                        Some(true) => "ON",
                        Some(false) => "OFF",
                        None => p.value.as_str(), // TOGGLE, BLINK, …
                    }
                } else {
                    p.value.as_str()
                };
                out.push(cmd(command, value));
            }
            MessageType::Request => out.push(cmd(key, "")),
            MessageType::Action => out.push(match key {
                REBOOT => cmd("Restart", "1"),
                HEARTBEAT_REQUEST => cmd("STATUS", "11"),
                REFRESH_NODE_INFO | DISCOVER_NODES => cmd("STATUS", "0"),
                RESET => cmd("Reset", "1"),
                other => return Err(unsupported(format!("action {other:?}"))),
            }),
            MessageType::Presentation => return Err(unsupported("a presentation".into())),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::Payload;

    fn set(key: &str, value: &str) -> Message {
        Message::new(MessageType::Set, "gw", "plug", "Control")
            .with_payload(Payload::new(key, value))
    }

    #[test]
    fn sets_requests_and_actions() {
        let p = TopicPattern::default_pattern();
        let c = |m: &Message| to_commands(m, "plug", &p).unwrap();
        assert_eq!(
            c(&set("POWER", "true")),
            [Command {
                topic: "cmnd/plug/POWER".into(),
                payload: "ON".into()
            }]
        );
        assert_eq!(c(&set("POWER2", "0"))[0].payload, "OFF");
        assert_eq!(c(&set("POWER", "TOGGLE"))[0].payload, "TOGGLE");
        assert_eq!(c(&set("hue", "120"))[0].topic, "cmnd/plug/HSBColor1");
        assert_eq!(
            c(&set("Dimmer", "40"))[0],
            Command {
                topic: "cmnd/plug/Dimmer".into(),
                payload: "40".into()
            }
        );
        let mut r = set("Dimmer", "");
        r.message_type = MessageType::Request;
        assert_eq!(c(&r)[0].payload, "");
        let a = Message::new(MessageType::Action, "gw", "plug", "")
            .with_payload(Payload::new("reboot", ""));
        assert_eq!(
            c(&a)[0],
            Command {
                topic: "cmnd/plug/Restart".into(),
                payload: "1".into()
            }
        );
        let bad = Message::new(MessageType::Action, "gw", "plug", "")
            .with_payload(Payload::new("firmware_update", ""));
        assert!(to_commands(&bad, "plug", &p).is_err());
        assert!(to_commands(&set("a/b", "1"), "plug", &p).is_err());
    }
}
