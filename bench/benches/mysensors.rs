//! The MySensors protocol as a gateway receives it: a serial/Ethernet line or an MQTT topic and
//! body parsed into a frame, and a frame mapped to the messages the processor gets. One run per
//! kind of frame (a V_TEMP value, a sensor presentation, an internal battery report, a truncated
//! line), and one over a mix of them as a busy network sends it.

use divan::black_box;
use std::fmt;
use switchyard_gateway::providers::mysensors::protocol::mapping::{Inbound, frame_to_inbound};
use switchyard_gateway::providers::mysensors::protocol::{parse_line, parse_mqtt};

const GATEWAY: &str = "gw";

fn main() {
    divan::main();
}

#[derive(Debug, Clone, Copy)]
enum Frame {
    /// `set` of V_TEMP: most of what a sensor network sends.
    SetTemp,
    /// A child presenting itself as S_TEMP with its name.
    Presentation,
    /// I_BATTERY_LEVEL from the node itself.
    Internal,
    /// A line cut short (serial noise, a reset mid-line): rejected with a reason.
    Invalid,
}

const FRAMES: [Frame; 4] = [
    Frame::SetTemp,
    Frame::Presentation,
    Frame::Internal,
    Frame::Invalid,
];

/// One line's worth of a busy network: mostly values, some batteries, a presentation.
const MIX: [Frame; 10] = [
    Frame::SetTemp,
    Frame::SetTemp,
    Frame::SetTemp,
    Frame::SetTemp,
    Frame::SetTemp,
    Frame::SetTemp,
    Frame::Internal,
    Frame::Internal,
    Frame::Presentation,
    Frame::Invalid,
];

impl Frame {
    fn line(self) -> &'static [u8] {
        match self {
            Frame::SetTemp => b"12;1;1;0;0;21.5\n",
            Frame::Presentation => b"12;1;0;0;6;Outdoor temperature\n",
            Frame::Internal => b"12;255;3;0;0;87\n",
            Frame::Invalid => b"12;1;1;0\n",
        }
    }

    /// Under the MQTT gateway's default publish prefix (`MY_MQTT_PUBLISH_TOPIC_PREFIX`).
    fn mqtt(self) -> (&'static str, &'static [u8]) {
        match self {
            Frame::SetTemp => ("mysensors-out/12/1/1/0/0", b"21.5"),
            Frame::Presentation => ("mysensors-out/12/1/0/0/6", b"Outdoor temperature"),
            Frame::Internal => ("mysensors-out/12/255/3/0/0", b"87"),
            Frame::Invalid => ("mysensors-out/12/1/1", b"21.5"),
        }
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Frame::SetTemp => "set_v_temp",
            Frame::Presentation => "presentation",
            Frame::Internal => "internal",
            Frame::Invalid => "invalid",
        })
    }
}

/// What a gateway does with one received line: parse it, map it (invalid lines stop at the parse).
fn receive_line(line: &[u8]) -> Option<Inbound> {
    let frame = parse_line(line).ok()?;
    frame_to_inbound(GATEWAY, &frame).ok()
}

#[divan::bench(args = FRAMES)]
fn parse_serial_line(frame: Frame) {
    _ = black_box(parse_line(black_box(frame.line())));
}

#[divan::bench(args = FRAMES)]
fn parse_mqtt_message(frame: Frame) {
    let (topic, body) = frame.mqtt();
    _ = black_box(parse_mqtt(black_box(topic), black_box(body)));
}

/// The mapping alone, from a parsed frame to the processor's messages.
#[divan::bench(args = &FRAMES[..3])]
fn map_to_messages(bencher: divan::Bencher, frame: Frame) {
    let parsed = parse_line(frame.line()).expect("a valid sample line");
    bencher.bench(|| black_box(frame_to_inbound(GATEWAY, black_box(&parsed))));
}

/// Line to messages, as the serial and Ethernet transports do it.
#[divan::bench(args = FRAMES)]
fn line_to_messages(frame: Frame) -> Option<Inbound> {
    receive_line(black_box(frame.line()))
}

/// [`MIX`] in one iteration; the counter gives lines per second.
#[divan::bench(counters = [divan::counter::ItemsCount::new(MIX.len())])]
fn line_to_messages_mix() {
    for frame in MIX {
        _ = black_box(receive_line(black_box(frame.line())));
    }
}
