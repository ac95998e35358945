//! The sketch: present, report on a timer (or in a sleep cycle), answer the controller.

use super::{Next, Node, Recv};
use crate::config::{LIBRARY_VERSION, SensorKind, SleepConfig};
use crate::event::{SimEvent, SimStats};
use crate::readings::battery_level;
use switchyard_gateway::providers::mysensors::protocol::{
    Command, InternalType, NODE_CHILD_ID, RawFrame, SensorType, ValueType,
};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The parent every simulated node reports: they all talk to the gateway directly.
const PARENT_ID: &str = "0";

impl Node {
    pub(super) async fn sketch(&mut self, cancel: &CancellationToken) -> Next {
        self.present().await;
        match self.config.sleep {
            Some(sleep) => self.sleep_cycle(sleep, cancel).await,
            None => self.stay_awake(cancel).await,
        }
    }

    async fn stay_awake(&mut self, cancel: &CancellationToken) -> Next {
        let mut next_round = Instant::now();
        loop {
            match self.recv(cancel, next_round).await {
                Recv::Stop => return Next::Stop,
                Recv::Timeout => {
                    self.report_round().await;
                    next_round += self.config.report_interval;
                }
                Recv::Frame(frame) => {
                    if let Some(next) = self.handle(frame).await {
                        return next;
                    }
                }
            }
        }
    }

    /// MySensors smart sleep: report, announce the awake window, listen, sleep, wake, repeat.
    async fn sleep_cycle(&mut self, sleep: SleepConfig, cancel: &CancellationToken) -> Next {
        let awake_ms = sleep.awake_window.as_millis() as u64;
        let sleep_ms = sleep.sleep_duration.as_millis() as u64;
        loop {
            self.report_round().await;
            self.send(self.internal(InternalType::I_PRE_SLEEP_NOTIFICATION, awake_ms.to_string()))
                .await;
            self.shared.emit(SimEvent::AwakeWindow {
                index: self.index,
                node_id: self.id(),
                awake_ms,
            });
            let until = Instant::now() + sleep.awake_window;
            loop {
                match self.recv(cancel, until).await {
                    Recv::Stop => return Next::Stop,
                    Recv::Timeout => break,
                    Recv::Frame(frame) => {
                        if let Some(next) = self.handle(frame).await {
                            return next;
                        }
                    }
                }
            }
            self.shared.emit(SimEvent::Slept {
                index: self.index,
                node_id: self.id(),
                sleep_ms,
            });
            let until = Instant::now() + sleep.sleep_duration;
            loop {
                match self.recv(cancel, until).await {
                    Recv::Stop => return Next::Stop,
                    Recv::Timeout => break,
                    Recv::Frame(frame) => {
                        SimStats::add(&self.shared.stats.missed_asleep);
                        self.shared.emit(SimEvent::MissedAsleep {
                            index: self.index,
                            node_id: self.id(),
                            frame,
                        });
                    }
                }
            }
            self.send(self.internal(
                InternalType::I_POST_SLEEP_NOTIFICATION,
                sleep_ms.to_string(),
            ))
            .await;
            self.shared.emit(SimEvent::Woke {
                index: self.index,
                node_id: self.id(),
            });
        }
    }

    /// What `presentation()` and the core send after boot: the node, its sketch, its children,
    /// then the requests for units and time.
    async fn present(&mut self) {
        let id = self.id();
        let mut frames = vec![
            RawFrame::new(
                id,
                NODE_CHILD_ID,
                Command::Presentation,
                SensorType::S_ARDUINO_NODE.code(),
                LIBRARY_VERSION,
            ),
            self.internal(InternalType::I_SKETCH_NAME, self.config.sketch_name.clone()),
            self.internal(InternalType::I_SKETCH_VERSION, self.sketch_version.clone()),
        ];
        for child in &self.children {
            frames.push(RawFrame::new(
                id,
                child.spec.child_id,
                Command::Presentation,
                child.spec.kind.sensor_type().code(),
                child.spec.kind.description(),
            ));
        }
        if self.config.request_config {
            frames.push(self.internal(InternalType::I_CONFIG, PARENT_ID));
        }
        if self.config.request_time {
            frames.push(self.internal(InternalType::I_TIME, ""));
        }
        for frame in frames {
            self.send(frame).await;
        }
        self.shared.emit(SimEvent::Presented {
            index: self.index,
            node_id: id,
            sketch_version: self.sketch_version.clone(),
        });
    }

    /// Each reporting child once, then the battery level.
    async fn report_round(&mut self) {
        let id = self.id();
        let mut frames = Vec::new();
        for child in &mut self.children {
            let Some(value) = child.sequence.as_mut().and_then(Iterator::next) else {
                continue;
            };
            let value_type = child.spec.kind.value_type();
            frames.push(RawFrame::new(
                id,
                child.spec.child_id,
                Command::Set,
                value_type.code(),
                value.clone(),
            ));
            child.last = Some(value.clone());
            SimStats::add(&self.shared.stats.readings);
            self.shared.emit(SimEvent::Reading {
                index: self.index,
                node_id: id,
                child_id: child.spec.child_id,
                value_type,
                payload: value,
            });
        }
        for frame in frames {
            self.send(frame).await;
        }
        if self.config.battery {
            let percent = battery_level(self.round);
            self.send(self.internal(InternalType::I_BATTERY_LEVEL, percent.to_string()))
                .await;
            self.shared.emit(SimEvent::BatteryLevel {
                index: self.index,
                node_id: id,
                percent,
            });
        }
        self.round += 1;
    }

    /// Answers a frame from the controller; `Some` when the node must stop or reboot.
    async fn handle(&mut self, frame: RawFrame) -> Option<Next> {
        match frame.command {
            Command::Set => self.apply_set(frame).await,
            Command::Req => self.answer_req(frame).await,
            Command::Internal => return self.answer_internal(frame).await,
            Command::Presentation | Command::Stream => {
                self.reject(frame, "not expected by a running sketch")
            }
        }
        None
    }

    async fn apply_set(&mut self, frame: RawFrame) {
        let id = self.id();
        let Some(child) = self
            .children
            .iter_mut()
            .find(|c| c.spec.child_id == frame.child_id)
        else {
            return self.reject(frame, "no such child");
        };
        if child.spec.kind != SensorKind::Relay || frame.value_type() != Some(ValueType::V_STATUS) {
            return self.reject(frame, "only a relay's V_STATUS can be set");
        }
        let state = match frame.payload.trim() {
            "0" => "0",
            "1" => "1",
            _ => return self.reject(frame, "V_STATUS takes 0 or 1"),
        };
        child.last = Some(state.to_string());
        // The relay reports its new state; with ack=1 when the controller asked for an echo.
        let report = RawFrame::new(
            id,
            frame.child_id,
            Command::Set,
            ValueType::V_STATUS.code(),
            state,
        )
        .with_ack(frame.ack);
        self.send(report).await;
        SimStats::add(&self.shared.stats.sets_applied);
        self.shared.emit(SimEvent::SetApplied {
            index: self.index,
            node_id: id,
            child_id: frame.child_id,
            value_type: ValueType::V_STATUS,
            payload: state.to_string(),
            ack: frame.ack,
        });
    }

    async fn answer_req(&mut self, frame: RawFrame) {
        let child = self
            .children
            .iter()
            .find(|c| c.spec.child_id == frame.child_id);
        let Some((kind, value)) = child.and_then(|c| Some((c.spec.kind, c.last.clone()?))) else {
            return self.reject(frame, "no such child, or no value yet");
        };
        let reply = RawFrame::new(
            self.id(),
            frame.child_id,
            Command::Set,
            kind.value_type().code(),
            value,
        );
        self.send(reply).await;
    }

    async fn answer_internal(&mut self, frame: RawFrame) -> Option<Next> {
        let (index, node_id) = (self.index, self.id());
        match frame.internal_type()? {
            InternalType::I_TIME => match frame.payload.trim().parse::<i64>() {
                Ok(unix_seconds) => self.shared.emit(SimEvent::TimeReceived {
                    index,
                    node_id,
                    unix_seconds,
                }),
                Err(_) => self.reject(frame, "I_TIME needs unix seconds"),
            },
            InternalType::I_CONFIG => match frame.payload.trim() {
                unit @ ("M" | "I") => self.shared.emit(SimEvent::ConfigReceived {
                    index,
                    node_id,
                    metric: unit == "M",
                }),
                _ => self.reject(frame, "I_CONFIG takes M or I"),
            },
            InternalType::I_HEARTBEAT_REQUEST => {
                self.heartbeat += 1;
                let beat = self.heartbeat.to_string();
                self.send(self.internal(InternalType::I_HEARTBEAT_RESPONSE, beat))
                    .await;
                self.shared.emit(SimEvent::HeartbeatSent { index, node_id });
            }
            InternalType::I_DISCOVER_REQUEST => {
                self.send(self.internal(InternalType::I_DISCOVER_RESPONSE, PARENT_ID))
                    .await;
                self.shared
                    .emit(SimEvent::DiscoverAnswered { index, node_id });
            }
            InternalType::I_PRESENTATION => self.present().await,
            InternalType::I_REBOOT => return Some(Next::Reboot),
            // Broadcast answers for a node asking for an id; not for this one.
            InternalType::I_ID_RESPONSE => {}
            _ => self.reject(frame, "internal type not handled by the node"),
        }
        None
    }
}
