//! Any MQTT publish a Tasmota gateway may receive: the topic parser, every payload parser
//! (telemetry, status, discovery) never panic, and what they produce is addressable (no `.` in
//! source or field ids, no empty field ids).

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_gateway::providers::tasmota::discovery::{parse_config, parse_sensors};
use switchyard_gateway::providers::tasmota::inbound::to_messages;
use switchyard_gateway::providers::tasmota::{Prefix, TopicPattern};

const COMMANDS: [&str; 8] = [
    "STATE", "SENSOR", "RESULT", "POWER", "POWER2", "STATUS0", "INFO1", "LWT",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let command = COMMANDS[usize::from(selector) % COMMANDS.len()];
    let prefix = if selector & 0x80 == 0 {
        Prefix::Tele
    } else {
        Prefix::Stat
    };
    let mut all = Vec::new();
    if let Ok(msgs) = to_messages("node", prefix, command, "fuzz", payload) {
        all.extend(msgs);
    }
    if let Ok(Some((device, msg))) = parse_config("AABBCC", payload) {
        assert!(!device.node_id.contains('.'));
        all.push(msg);
    }
    if let Ok(msgs) = parse_sensors("node", payload) {
        all.extend(msgs);
    }
    for m in &all {
        assert!(!m.source_id.contains('.'), "{m:?}");
        for p in &m.payloads {
            assert!(!p.key.is_empty() && !p.key.contains('.'), "{m:?}");
        }
    }
    if let Ok(topic) = std::str::from_utf8(payload) {
        let _ = TopicPattern::default_pattern().parse(topic);
    }
});
