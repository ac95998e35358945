//! One scenario every transport runs: a tiny controller (built from the protocol module) answers
//! the simulator and checks what a user would: presentation, seeded readings, an assigned id,
//! time and units, relay sets echoed, a sleeping node that hears only while awake, and OTA of a
//! HEX-built image that completes with a matching CRC, while a corrupted block fails the check.

use crate::support::{Link, write_intel_hex};
use std::time::Duration;
use switchyard_gateway::providers::mysensors::protocol::firmware::{
    BlockOrder, FirmwareConfig, FirmwareConfigRequest, FirmwareImage, FirmwareRequest,
};
use switchyard_gateway::providers::mysensors::protocol::mapping::{
    UnitSystem, config_response, firmware_config_response, firmware_response, id_response,
    time_response,
};
use switchyard_gateway::providers::mysensors::protocol::{
    Command, InternalType, RawFrame, StreamType, ValueType,
};
use switchyard_mysensors_sim::{
    FirmwareSpec, NodeConfig, SimConfig, SimEvent, SleepConfig, StatsSnapshot,
};
use tokio::sync::broadcast;

pub const FIRMWARE_TYPE: u16 = 10;
pub const ASSIGNED_ID: u8 = 7;
pub const CORRUPTED_NODE: u8 = 21;
pub const CORRUPTED_BLOCK: u16 = 3;
pub const SLEEPER: u8 = 22;
pub const TIME: i64 = 1_700_000_000;
/// Readings per sensor the scenario checks against the seeded sequence.
const READINGS: usize = 3;

/// Node #0 asks for an id and gets a new firmware (blocks counted down); node #1 (21) gets a
/// corrupted one (blocks counted up); node #2 (22) sleeps.
pub fn config() -> SimConfig {
    let interval = Duration::from_millis(200);
    let firmware = FirmwareSpec {
        block_timeout: Duration::from_secs(2),
        config_timeout: Duration::from_secs(2),
        ..FirmwareSpec::new(FIRMWARE_TYPE, 1)
    };
    SimConfig {
        seed: 42,
        nodes: vec![
            NodeConfig {
                id: None,
                report_interval: interval,
                firmware: Some(firmware),
                ..NodeConfig::default()
            },
            NodeConfig {
                id: Some(CORRUPTED_NODE),
                report_interval: interval,
                firmware: Some(FirmwareSpec {
                    order: BlockOrder::Forward,
                    ..firmware
                }),
                ..NodeConfig::default()
            },
            NodeConfig {
                id: Some(SLEEPER),
                report_interval: interval,
                sleep: Some(SleepConfig {
                    awake_window: Duration::from_millis(300),
                    sleep_duration: Duration::from_secs(1),
                }),
                ..NodeConfig::default()
            },
        ],
    }
}

/// A firmware built the way a user uploads one: an Intel HEX file.
pub fn firmware() -> FirmwareImage {
    let data: Vec<u8> = (0..2000u32).map(|i| (i * 31 % 251) as u8).collect();
    FirmwareImage::from_intel_hex(write_intel_hex(0, &data).as_bytes()).expect("valid HEX")
}

fn relay(node_id: u8, state: &str) -> RawFrame {
    RawFrame::new(node_id, 3, Command::Set, ValueType::V_STATUS.code(), state).with_ack(true)
}

/// The controller's answers, as MyController would give them.
struct Controller {
    image: FirmwareImage,
    next_id: u8,
    relay_sent: bool,
    sleeper_set_sent: bool,
}

impl Controller {
    fn respond(&mut self, frame: &RawFrame) -> Vec<RawFrame> {
        let node = frame.node_id;
        if let Some(internal) = frame.internal_type() {
            return match internal {
                InternalType::I_ID_REQUEST => {
                    self.next_id += 1;
                    vec![id_response(self.next_id - 1)]
                }
                InternalType::I_TIME => vec![time_response(node, TIME)],
                InternalType::I_CONFIG => vec![config_response(node, UnitSystem::Metric)],
                InternalType::I_PRE_SLEEP_NOTIFICATION
                    if node == SLEEPER && !self.sleeper_set_sent =>
                {
                    self.sleeper_set_sent = true;
                    vec![relay(SLEEPER, "1")]
                }
                _ => vec![],
            };
        }
        match frame.stream_type() {
            Some(StreamType::ST_FIRMWARE_CONFIG_REQUEST) => {
                let offered = self.image.config(FIRMWARE_TYPE, 2);
                return vec![firmware_config_response(node, &offered)];
            }
            Some(StreamType::ST_FIRMWARE_REQUEST) => {
                let request = FirmwareRequest::decode_hex(&frame.payload).expect("block request");
                let mut response = self.image.respond(&request).expect("block in range");
                if node == CORRUPTED_NODE && request.block == CORRUPTED_BLOCK {
                    response.data[5] ^= 0x40;
                }
                return vec![firmware_response(node, &response)];
            }
            _ => {}
        }
        if node == ASSIGNED_ID && frame.command == Command::Set && !self.relay_sent {
            self.relay_sent = true;
            return vec![relay(ASSIGNED_ID, "1")];
        }
        vec![]
    }
}

/// What the controller received and the simulator reported.
#[derive(Default)]
pub struct Observed {
    pub frames: Vec<RawFrame>,
    pub events: Vec<SimEvent>,
}

impl Observed {
    fn readings(&self, node_id: u8, child_id: u8) -> Vec<String> {
        self.frames
            .iter()
            .filter(|f| f.node_id == node_id && f.child_id == child_id)
            .filter(|f| f.command == Command::Set && !f.ack)
            .map(|f| f.payload.clone())
            .collect()
    }

    fn has_event(&self, wanted: impl Fn(&SimEvent) -> bool) -> bool {
        self.events.iter().any(wanted)
    }

    fn has_frame(&self, wanted: &RawFrame) -> bool {
        self.frames.contains(wanted)
    }

    fn complete(&self) -> bool {
        let enough = |node, child| self.readings(node, child).len() >= READINGS;
        enough(ASSIGNED_ID, 1)
            && enough(ASSIGNED_ID, 2)
            && enough(SLEEPER, 1)
            && enough(SLEEPER, 2)
            && self.has_frame(&relay(ASSIGNED_ID, "1"))
            && self.has_frame(&relay(SLEEPER, "1"))
            && self.has_event(|e| {
                matches!(e, SimEvent::Presented { index: 0, sketch_version, .. } if sketch_version == "2")
            })
            && self.has_event(|e| {
                matches!(e, SimEvent::Presented { index: 1, sketch_version, .. } if sketch_version == "1.0")
            })
            && self.has_event(|e| matches!(e, SimEvent::TimeReceived { index: 0, .. }))
            && self.has_event(|e| matches!(e, SimEvent::ConfigReceived { index: 0, .. }))
            && self.has_event(|e| matches!(e, SimEvent::MissedAsleep { index: 2, .. }))
    }
}

/// Plays the controller until everything was seen (or `limit` passes, which fails the test).
pub async fn drive<L: Link>(
    link: &mut L,
    events: &mut broadcast::Receiver<SimEvent>,
    limit: Duration,
) -> Observed {
    let mut controller = Controller {
        image: firmware(),
        next_id: ASSIGNED_ID,
        relay_sent: false,
        sleeper_set_sent: false,
    };
    let mut seen = Observed::default();
    let mut missed_set_sent = false;
    let run = async {
        while !seen.complete() {
            tokio::select! {
                frame = link.recv() => {
                    let frame = frame.expect("the gateway closed the link");
                    for reply in controller.respond(&frame) {
                        link.send(reply).await;
                    }
                    seen.frames.push(frame);
                }
                event = events.recv() => {
                    let event = event.expect("events lagged or closed");
                    // Sent while the node sleeps: it must never arrive.
                    if matches!(event, SimEvent::Slept { index: 2, .. }) && !missed_set_sent {
                        missed_set_sent = true;
                        link.send(relay(SLEEPER, "0")).await;
                    }
                    seen.events.push(event);
                }
            }
        }
    };
    if tokio::time::timeout(limit, run).await.is_err() {
        let frames: Vec<String> = seen.frames.iter().map(ToString::to_string).collect();
        panic!(
            "scenario incomplete after {limit:?}\nframes:\n{}\nevents:\n{:#?}",
            frames.join("\n"),
            seen.events
        );
    }
    seen
}

/// What a user would check once the scenario ran.
pub fn check(config: &SimConfig, seen: &Observed, stats: Option<StatsSnapshot>) {
    // Readings follow the seeded sequence, from the node's first round on.
    for (index, node_id) in [(0, ASSIGNED_ID), (2, SLEEPER)] {
        for child in [1, 2] {
            let expected: Vec<String> = config
                .readings(index, child)
                .expect("a reporting child")
                .take(READINGS)
                .collect();
            assert_eq!(
                seen.readings(node_id, child)[..READINGS],
                expected[..],
                "node {node_id} child {child}"
            );
        }
    }

    // The presentation: node, sketch, children.
    let presentation: Vec<String> = seen
        .frames
        .iter()
        .filter(|f| f.node_id == ASSIGNED_ID && f.command == Command::Presentation)
        .take(4)
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        presentation,
        [
            "7;255;0;0;17;2.3.2",
            "7;1;0;0;6;Temperature",
            "7;2;0;0;7;Humidity",
            "7;3;0;0;3;Relay"
        ]
    );
    let sketch: Vec<&str> = seen
        .frames
        .iter()
        .filter(|f| f.node_id == ASSIGNED_ID)
        .filter(|f| f.internal_type() == Some(InternalType::I_SKETCH_NAME))
        .map(|f| f.payload.as_str())
        .collect();
    assert_eq!(sketch.first(), Some(&"Switchyard sim"));

    // The id asked for is the one used: nothing but the request comes from 255, and no node
    // speaks under an id nobody has.
    for frame in &seen.frames {
        match frame.node_id {
            255 => assert_eq!(
                frame.internal_type(),
                Some(InternalType::I_ID_REQUEST),
                "{frame}"
            ),
            0 | ASSIGNED_ID | CORRUPTED_NODE | SLEEPER => {}
            other => panic!("frame from unknown node {other}: {frame}"),
        }
    }
    assert!(seen.has_event(|e| *e
        == SimEvent::IdAssigned {
            index: 0,
            node_id: ASSIGNED_ID
        }));
    assert!(seen.has_event(|e| *e
        == SimEvent::TimeReceived {
            index: 0,
            node_id: ASSIGNED_ID,
            unix_seconds: TIME
        }));
    assert!(seen.has_event(|e| matches!(
        e,
        SimEvent::ConfigReceived {
            index: 0,
            metric: true,
            ..
        }
    )));

    // OTA: blocks asked in each node's order; the good image passes, the corrupted one fails.
    let image = firmware();
    let first_block = |node| {
        seen.frames
            .iter()
            .filter(|f| f.node_id == node)
            .find(|f| f.stream_type() == Some(StreamType::ST_FIRMWARE_REQUEST))
            .map(|f| {
                FirmwareRequest::decode_hex(&f.payload)
                    .expect("request")
                    .block
            })
    };
    assert_eq!(first_block(ASSIGNED_ID), Some(image.blocks() - 1));
    assert_eq!(first_block(CORRUPTED_NODE), Some(0));
    assert!(seen.has_event(|e| *e
        == SimEvent::OtaDone {
            index: 0,
            node_id: ASSIGNED_ID,
            crc_ok: true,
            expected_crc: image.crc(),
            actual_crc: image.crc(),
            version: 2
        }));
    assert!(seen.has_event(|e| matches!(
        e,
        SimEvent::OtaDone { index: 1, crc_ok: false, expected_crc, actual_crc, .. }
            if *expected_crc == image.crc() && actual_crc != expected_crc
    )));
    // After the update the bootloader reports the new version; the failed node keeps the old.
    let reported = |node| -> Vec<FirmwareConfig> {
        seen.frames
            .iter()
            .filter(|f| f.node_id == node)
            .filter(|f| f.stream_type() == Some(StreamType::ST_FIRMWARE_CONFIG_REQUEST))
            .map(|f| {
                FirmwareConfigRequest::decode_hex(&f.payload)
                    .expect("config request")
                    .current
            })
            .collect()
    };
    let flashed_by_cable = FirmwareConfig {
        firmware_type: FIRMWARE_TYPE,
        version: 1,
        blocks: 0,
        crc: 0,
    };
    assert_eq!(
        reported(ASSIGNED_ID),
        [flashed_by_cable, image.config(FIRMWARE_TYPE, 2)]
    );
    assert_eq!(reported(CORRUPTED_NODE), [flashed_by_cable]);
    let sketch_versions: Vec<&str> = seen
        .frames
        .iter()
        .filter(|f| f.node_id == ASSIGNED_ID)
        .filter(|f| f.internal_type() == Some(InternalType::I_SKETCH_VERSION))
        .map(|f| f.payload.as_str())
        .collect();
    assert_eq!(sketch_versions.first(), Some(&"2"));

    // Relays: applied and echoed with ack; the sleeper only while awake.
    assert!(seen.has_event(|e| matches!(
        e,
        SimEvent::SetApplied { index: 0, child_id: 3, payload, ack: true, .. } if payload == "1"
    )));
    assert!(seen.has_event(|e| matches!(
        e,
        SimEvent::MissedAsleep { index: 2, frame, .. } if frame.payload == "0"
    )));
    assert!(!seen.has_event(|e| matches!(
        e,
        SimEvent::SetApplied { index: 2, payload, .. } if payload == "0"
    )));
    assert!(!seen.has_frame(&relay(SLEEPER, "0")));
    if let Some(stats) = stats {
        assert_eq!(stats.garbage_in, 0);
        assert_eq!((stats.ota_ok, stats.ota_failed), (1, 1));
    }
}
