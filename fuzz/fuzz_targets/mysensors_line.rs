//! Any bytes a serial or TCP gateway delivers: parsing never panics, and whatever parses writes
//! back (as a line and as MQTT) to the same frame and maps to messages without panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_gateway::providers::mysensors::protocol::mapping::frame_to_inbound;
use switchyard_gateway::providers::mysensors::protocol::{parse_line, parse_mqtt};

fuzz_target!(|data: &[u8]| {
    let Ok(frame) = parse_line(data) else { return };
    let line = frame.encode_line();
    assert_eq!(parse_line(line.as_bytes()).as_ref(), Ok(&frame), "line round trip of {line:?}");
    let topic = frame.mqtt_topic("fuzz/out");
    let via_mqtt = parse_mqtt(&topic, frame.payload.as_bytes());
    assert_eq!(via_mqtt.as_ref(), Ok(&frame), "MQTT round trip of {topic:?}");
    let _ = frame_to_inbound("fuzz", &frame);
});
