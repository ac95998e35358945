//! The simulator over an in-memory stream on paused tokio time: the scenario, plus what depends
//! on time (report rate, block retries, sleep windows) and what is easier to provoke here.

use crate::scenario;
use crate::support::{LineLink, Link};
use std::time::Duration;
use switchyard_gateway::providers::mysensors::protocol::firmware::{
    BlockOrder, FirmwareConfig, FirmwareImage, FirmwareRequest,
};
use switchyard_gateway::providers::mysensors::protocol::mapping::{
    firmware_config_response, firmware_response, id_response,
};
use switchyard_gateway::providers::mysensors::protocol::{
    Command, InternalType, RawFrame, SensorType, StreamType, parse_line,
};
use switchyard_mysensors_sim::{
    FirmwareSpec, NodeConfig, SimConfig, SimEvent, Simulator, StatsSnapshot,
};
use tokio::io::DuplexStream;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

type Running = JoinHandle<Result<StatsSnapshot, switchyard_mysensors_sim::SimError>>;

struct Sim {
    link: LineLink<DuplexStream>,
    events: broadcast::Receiver<SimEvent>,
    cancel: CancellationToken,
    running: Running,
}

impl Sim {
    fn start(config: SimConfig) -> Sim {
        let sim = Simulator::new(config).unwrap();
        let events = sim.events();
        let (ours, theirs) = tokio::io::duplex(1 << 16);
        let cancel = CancellationToken::new();
        let running = tokio::spawn(sim.run_on_stream(theirs, cancel.clone()));
        Sim {
            link: LineLink::new(ours),
            events,
            cancel,
            running,
        }
    }

    async fn send(&mut self, line: &str) {
        self.link
            .send(parse_line(line.as_bytes()).expect("a valid test line"))
            .await;
    }

    /// Reads frames until one matches (virtual time: a minute is instant).
    async fn expect(&mut self, what: &str, wanted: impl Fn(&RawFrame) -> bool) -> RawFrame {
        let found = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let frame = self.link.recv().await.expect("link closed");
                if wanted(&frame) {
                    return frame;
                }
            }
        });
        found.await.unwrap_or_else(|_| panic!("no frame: {what}"))
    }

    async fn expect_line(&mut self, line: &str) {
        let wanted = parse_line(line.as_bytes()).unwrap();
        self.expect(line, |f| *f == wanted).await;
    }

    async fn expect_event(&mut self, what: &str, wanted: impl Fn(&SimEvent) -> bool) -> SimEvent {
        let found = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let event = self.events.recv().await.expect("events");
                if wanted(&event) {
                    return event;
                }
            }
        });
        found.await.unwrap_or_else(|_| panic!("no event: {what}"))
    }

    async fn stop(self) -> StatsSnapshot {
        self.cancel.cancel();
        self.running.await.unwrap().unwrap()
    }
}

fn node(id: Option<u8>, interval: Duration) -> NodeConfig {
    NodeConfig {
        id,
        report_interval: interval,
        ..NodeConfig::default()
    }
}

#[tokio::test(start_paused = true)]
async fn the_scenario_on_paused_time() {
    let config = scenario::config();
    let mut sim = Sim::start(config.clone());
    let seen = scenario::drive(&mut sim.link, &mut sim.events, Duration::from_secs(120)).await;
    let stats = sim.stop().await;
    scenario::check(&config, &seen, Some(stats));
}

#[tokio::test(start_paused = true)]
async fn readings_come_at_the_configured_rate() {
    let interval = Duration::from_secs(10);
    let config = SimConfig {
        seed: 9,
        nodes: vec![NodeConfig {
            request_time: false,
            request_config: false,
            ..node(Some(4), interval)
        }],
    };
    let expected: Vec<String> = config.readings(0, 1).unwrap().take(4).collect();
    let mut sim = Sim::start(config);
    let mut arrivals = Vec::new();
    let mut values = Vec::new();
    while values.len() < 4 {
        let frame = sim
            .expect("a temperature", |f| {
                f.node_id == 4 && f.child_id == 1 && f.command == Command::Set
            })
            .await;
        arrivals.push(tokio::time::Instant::now());
        values.push(frame.payload);
    }
    assert_eq!(values, expected);
    let gaps: Vec<Duration> = arrivals.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps, [interval; 3]);
    // The battery drops by one per round.
    sim.expect_line("4;255;3;0;0;96").await;
    sim.stop().await;
}

#[tokio::test(start_paused = true)]
async fn answers_the_controller_and_shrugs_off_garbage() {
    let hour = Duration::from_secs(3600);
    let config = SimConfig {
        seed: 1,
        nodes: vec![node(Some(4), hour), node(Some(5), hour)],
    };
    let mut sim = Sim::start(config);
    for index in [0, 1] {
        sim.expect_event(
            "presented",
            |e| matches!(e, SimEvent::Presented { index: i, .. } if *i == index),
        )
        .await;
    }
    // Garbage of every kind, then a frame for nobody, then frames the nodes cannot use.
    sim.link
        .send_bytes(b"\xff\xfe;;\n1;2;3\n4;1;9;0;0;1\n")
        .await;
    sim.link.send_bytes(&vec![b'x'; 1 << 20]).await;
    sim.link.send_bytes(b"\n").await;
    sim.send("99;1;1;0;2;1").await;
    sim.send("4;1;1;0;2;1").await;
    sim.send("4;3;1;0;2;7").await;
    for _ in 0..2 {
        sim.expect_event("rejected", |e| {
            matches!(e, SimEvent::Rejected { index: 0, .. })
        })
        .await;
    }

    // Still listening: heartbeat, discover, req, set, gateway version, reboot.
    sim.send("4;255;3;0;18;").await;
    sim.expect_line("4;255;3;0;22;1").await;
    sim.send("255;255;3;0;20;").await;
    sim.expect_line("4;255;3;0;21;0").await;
    sim.expect_line("5;255;3;0;21;0").await;
    sim.send("4;3;2;0;2;").await;
    sim.expect_line("4;3;1;0;2;0").await;
    sim.send("4;3;1;0;2;1").await;
    sim.expect_line("4;3;1;0;2;1").await;
    sim.send("4;3;2;0;2;").await;
    sim.expect_line("4;3;1;0;2;1").await;
    sim.send("0;0;3;0;2;").await;
    sim.expect_line("0;255;3;0;2;2.3.2").await;
    sim.send("5;255;3;0;13;").await;
    sim.expect_event("reboot", |e| {
        matches!(e, SimEvent::Rebooting { index: 1, .. })
    })
    .await;
    sim.expect_line("5;255;0;0;17;2.3.2").await;
    sim.send("5;255;3;0;19;").await;
    sim.expect_line("5;3;0;0;3;Relay").await;

    let stats = sim.stop().await;
    assert_eq!(stats.garbage_in, 4, "{stats}");
    assert_eq!(stats.unroutable_in, 1);
    assert_eq!(stats.sets_applied, 1);
}

#[tokio::test(start_paused = true)]
async fn ids_are_handed_out_one_node_at_a_time() {
    let config = SimConfig {
        seed: 1,
        nodes: (0..3)
            .map(|_| node(None, Duration::from_secs(60)))
            .collect(),
    };
    let mut sim = Sim::start(config);
    let mut next = 10;
    let mut assigned = Vec::new();
    let mut presented = Vec::new();
    while presented.len() < 3 || assigned.len() < 3 {
        tokio::select! {
            frame = sim.link.recv() => {
                let frame = frame.unwrap();
                if frame.internal_type() == Some(InternalType::I_ID_REQUEST) {
                    assert_eq!(frame.node_id, 255);
                    sim.link.send(id_response(next)).await;
                    next += 1;
                }
                if frame.sensor_type() == Some(SensorType::S_ARDUINO_NODE) {
                    presented.push(frame.node_id);
                }
            }
            event = sim.events.recv() => {
                if let Ok(SimEvent::IdAssigned { node_id, .. }) = event {
                    assigned.push(node_id);
                }
            }
        }
    }
    assigned.sort();
    presented.sort();
    // One answer per request: no two nodes took the same id.
    assert_eq!(assigned, [10, 11, 12]);
    assert_eq!(presented, [10, 11, 12]);
    sim.stop().await;
}

/// Serves `image` as version 2; the closure decides which block requests go unanswered.
async fn serve_firmware(
    sim: &mut Sim,
    image: &FirmwareImage,
    drop: impl Fn(u8, u16, usize) -> bool,
) -> (Vec<(u8, u16)>, Vec<RawFrame>) {
    let mut asked = Vec::new();
    let mut frames = Vec::new();
    let mut done = 0;
    while done < 2 {
        tokio::select! {
            frame = sim.link.recv() => {
                let frame = frame.unwrap();
                match frame.stream_type() {
                    Some(StreamType::ST_FIRMWARE_CONFIG_REQUEST) => {
                        sim.link.send(firmware_config_response(frame.node_id, &image.config(10, 2))).await;
                    }
                    Some(StreamType::ST_FIRMWARE_REQUEST) => {
                        let request = FirmwareRequest::decode_hex(&frame.payload).unwrap();
                        let times = asked.iter().filter(|a| **a == (frame.node_id, request.block)).count();
                        asked.push((frame.node_id, request.block));
                        if !drop(frame.node_id, request.block, times) {
                            let response = image.respond(&request).unwrap();
                            sim.link.send(firmware_response(frame.node_id, &response)).await;
                        }
                    }
                    _ => {}
                }
                frames.push(frame);
            }
            event = sim.events.recv() => {
                if matches!(event, Ok(SimEvent::OtaDone { .. } | SimEvent::OtaAborted { .. })) {
                    done += 1;
                }
            }
        }
    }
    (asked, frames)
}

#[tokio::test(start_paused = true)]
async fn a_lost_block_is_asked_again_and_silence_gives_up() {
    let spec = FirmwareSpec {
        order: BlockOrder::Forward,
        block_timeout: Duration::from_millis(500),
        attempts: 3,
        ..FirmwareSpec::new(10, 1)
    };
    let config = SimConfig {
        seed: 1,
        nodes: [4, 6]
            .into_iter()
            .map(|id| NodeConfig {
                firmware: Some(spec),
                ..node(Some(id), Duration::from_secs(60))
            })
            .collect(),
    };
    let image = FirmwareImage::from_binary((0..=255).collect()).unwrap();
    let mut sim = Sim::start(config);
    let mut watcher = sim.events.resubscribe();
    // Node 4 loses block 5 once; node 6 never hears about block 2.
    let (asked, frames) = serve_firmware(&mut sim, &image, |node, block, times| {
        (node == 4 && block == 5 && times == 0) || (node == 6 && block == 2)
    })
    .await;
    let node4: Vec<u16> = asked.iter().filter(|a| a.0 == 4).map(|a| a.1).collect();
    assert_eq!(
        node4,
        [0, 1, 2, 3, 4, 5, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    );
    assert_eq!(asked.iter().filter(|a| **a == (6, 2)).count(), 3);
    let mut outcomes = Vec::new();
    while outcomes.len() < 2 {
        match watcher.recv().await.unwrap() {
            SimEvent::OtaDone {
                node_id, crc_ok, ..
            } => outcomes.push(format!("{node_id} done {crc_ok}")),
            SimEvent::OtaAborted { node_id, .. } => outcomes.push(format!("{node_id} aborted")),
            _ => {}
        }
    }
    outcomes.sort();
    assert_eq!(outcomes, ["4 done true", "6 aborted"]);
    // The aborted node runs its old sketch.
    let old_sketch = "6;255;3;0;12;1.0";
    if !frames.iter().any(|f| f.to_string() == old_sketch) {
        sim.expect_line(old_sketch).await;
    }
    let stats = sim.stop().await;
    assert_eq!((stats.ota_ok, stats.ota_failed), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn an_eeprom_erase_forgets_an_assigned_id() {
    let config = SimConfig {
        seed: 1,
        nodes: vec![NodeConfig {
            firmware: Some(FirmwareSpec::new(10, 1)),
            ..node(None, Duration::from_secs(60))
        }],
    };
    let mut sim = Sim::start(config);
    let mut next = 10;
    let mut erased = false;
    let same = FirmwareConfig {
        firmware_type: 10,
        version: 1,
        blocks: 16,
        crc: 0x1234,
    };
    let presented = loop {
        let frame = sim.link.recv().await.unwrap();
        if frame.internal_type() == Some(InternalType::I_ID_REQUEST) {
            sim.link.send(id_response(next)).await;
            next += 1;
        } else if frame.stream_type() == Some(StreamType::ST_FIRMWARE_CONFIG_REQUEST) {
            let answer = if erased {
                same
            } else {
                FirmwareConfig::erase_eeprom()
            };
            erased = true;
            sim.link
                .send(firmware_config_response(frame.node_id, &answer))
                .await;
        } else if frame.command == Command::Presentation {
            break frame;
        }
    };
    assert_eq!(presented.node_id, 11);
    sim.expect_event("erased", |e| {
        *e == SimEvent::EepromErased {
            index: 0,
            node_id: 10,
        }
    })
    .await;
    sim.stop().await;
}
