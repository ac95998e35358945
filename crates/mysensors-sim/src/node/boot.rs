//! Booting: ask for an id if the node has none, then let the bootloader ask for firmware.

use super::bootloader::{Decision, Step, Transfer, decide};
use super::{Next, Node, Recv};
use crate::config::FirmwareSpec;
use crate::event::{SimEvent, SimStats};
use std::sync::atomic::Ordering;
use switchyard_gateway::providers::mysensors::protocol::firmware::{
    FirmwareConfig, FirmwareConfigRequest, FirmwareResponse,
};
use switchyard_gateway::providers::mysensors::protocol::{
    BROADCAST_ID, Command, InternalType, NODE_CHILD_ID, RawFrame, StreamType,
};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// MYSBootloader 1.3 reports itself as version 0x0103.
const BOOTLOADER_VERSION: u16 = 0x0103;
/// Progress is reported every this many blocks (and at the end).
const PROGRESS_EVERY: u16 = 16;

impl Node {
    pub(super) async fn boot(&mut self, cancel: &CancellationToken) -> Next {
        loop {
            if self.id() == BROADCAST_ID && self.request_id(cancel).await == Next::Stop {
                return Next::Stop;
            }
            let Some(spec) = self.config.firmware else {
                return Next::Sketch;
            };
            match self.ask_for_firmware(spec, cancel).await {
                Ok(next) => return next,
                // EEPROM erased: an assigned id is gone too, so ask again from the top.
                Err(Erased) => continue,
            }
        }
    }

    /// Sends I_ID_REQUEST from 255 until an I_ID_RESPONSE names a usable id.
    async fn request_id(&mut self, cancel: &CancellationToken) -> Next {
        let lock = self.id_lock.clone();
        let _turn = tokio::select! {
            _ = cancel.cancelled() => return Next::Stop,
            turn = lock.lock() => turn,
        };
        // Answers meant for nodes that asked before this one.
        while self.inbox.try_recv().is_ok() {}
        loop {
            self.send(self.internal(InternalType::I_ID_REQUEST, ""))
                .await;
            self.shared
                .emit(SimEvent::IdRequested { index: self.index });
            let deadline = Instant::now() + self.config.id_request_retry;
            loop {
                let frame = match self.recv(cancel, deadline).await {
                    Recv::Stop => return Next::Stop,
                    Recv::Timeout => break,
                    Recv::Frame(frame) => frame,
                };
                if frame.internal_type() != Some(InternalType::I_ID_RESPONSE) {
                    continue;
                }
                match frame.payload.parse::<u8>() {
                    Ok(id) if (1..BROADCAST_ID).contains(&id) => {
                        self.id.store(id, Ordering::Relaxed);
                        self.shared.emit(SimEvent::IdAssigned {
                            index: self.index,
                            node_id: id,
                        });
                        return Next::Sketch;
                    }
                    _ => self.reject(frame, "I_ID_RESPONSE without an id in 1..=254"),
                }
            }
        }
    }

    /// The bootloader: report the running firmware, and fetch another if the controller says so.
    /// No answer after every attempt boots the sketch already there.
    async fn ask_for_firmware(
        &mut self,
        spec: FirmwareSpec,
        cancel: &CancellationToken,
    ) -> Result<Next, Erased> {
        let Some(running) = self.running else {
            return Ok(Next::Sketch);
        };
        let request = FirmwareConfigRequest {
            current: running,
            bootloader_version: BOOTLOADER_VERSION,
        };
        for _ in 0..spec.attempts.max(1) {
            self.send(self.stream(StreamType::ST_FIRMWARE_CONFIG_REQUEST, request.encode_hex()))
                .await;
            let deadline = Instant::now() + spec.config_timeout;
            loop {
                let frame = match self.recv(cancel, deadline).await {
                    Recv::Stop => return Ok(Next::Stop),
                    Recv::Timeout => break,
                    Recv::Frame(frame) => frame,
                };
                if frame.stream_type() != Some(StreamType::ST_FIRMWARE_CONFIG_RESPONSE) {
                    continue;
                }
                let offered = match FirmwareConfig::decode_hex(&frame.payload) {
                    Ok(offered) => offered,
                    Err(e) => {
                        self.reject(frame, e.to_string());
                        continue;
                    }
                };
                return match decide(running.firmware_type, running.version, &offered) {
                    Decision::Boot => Ok(Next::Sketch),
                    Decision::Fetch => Ok(self.fetch(spec, offered, cancel).await),
                    Decision::EraseEeprom => {
                        self.shared.emit(SimEvent::EepromErased {
                            index: self.index,
                            node_id: self.id(),
                        });
                        if self.config.id.is_none() {
                            self.id.store(BROADCAST_ID, Ordering::Relaxed);
                        }
                        Err(Erased)
                    }
                };
            }
        }
        Ok(Next::Sketch)
    }

    /// Downloads `target` block by block. Success reboots into it; a CRC mismatch or silence
    /// leaves the old firmware running.
    async fn fetch(
        &mut self,
        spec: FirmwareSpec,
        target: FirmwareConfig,
        cancel: &CancellationToken,
    ) -> Next {
        let Some(mut transfer) = Transfer::start(target, spec.order) else {
            return Next::Sketch;
        };
        self.shared.emit(SimEvent::OtaStarted {
            index: self.index,
            node_id: self.id(),
            target,
        });
        let mut attempts = 0;
        let mut deadline = self.request_block(&transfer, spec).await;
        loop {
            let frame = match self.recv(cancel, deadline).await {
                Recv::Stop => return Next::Stop,
                Recv::Timeout => {
                    attempts += 1;
                    if attempts >= spec.attempts.max(1) {
                        let reason = format!(
                            "no answer for block {} after {attempts} requests",
                            transfer.request().block
                        );
                        SimStats::add(&self.shared.stats.ota_failed);
                        self.shared.emit(SimEvent::OtaAborted {
                            index: self.index,
                            node_id: self.id(),
                            reason,
                        });
                        return Next::Sketch;
                    }
                    deadline = self.request_block(&transfer, spec).await;
                    continue;
                }
                Recv::Frame(frame) => frame,
            };
            if frame.stream_type() != Some(StreamType::ST_FIRMWARE_RESPONSE) {
                continue;
            }
            let response = match FirmwareResponse::decode_hex(&frame.payload) {
                Ok(response) => response,
                Err(e) => {
                    self.reject(frame, e.to_string());
                    continue;
                }
            };
            match transfer.on_response(&response) {
                Step::Ignored => {}
                Step::Request(_) => {
                    attempts = 0;
                    if transfer.done().is_multiple_of(PROGRESS_EVERY) {
                        self.progress(&transfer);
                    }
                    deadline = self.request_block(&transfer, spec).await;
                }
                Step::Finished { crc_ok, actual_crc } => {
                    self.progress(&transfer);
                    return self.finish(target, crc_ok, actual_crc);
                }
            }
        }
    }

    fn finish(&mut self, target: FirmwareConfig, crc_ok: bool, actual_crc: u16) -> Next {
        self.shared.emit(SimEvent::OtaDone {
            index: self.index,
            node_id: self.id(),
            crc_ok,
            expected_crc: target.crc,
            actual_crc,
            version: target.version,
        });
        if crc_ok {
            SimStats::add(&self.shared.stats.ota_ok);
            self.running = Some(target);
            self.sketch_version = target.version.to_string();
            Next::Reboot
        } else {
            SimStats::add(&self.shared.stats.ota_failed);
            tracing::warn!(
                index = self.index,
                expected = target.crc,
                actual = actual_crc,
                "firmware CRC mismatch; keeping the old firmware"
            );
            Next::Sketch
        }
    }

    fn progress(&self, transfer: &Transfer) {
        self.shared.emit(SimEvent::OtaProgress {
            index: self.index,
            node_id: self.id(),
            done: transfer.done(),
            blocks: transfer.target().blocks,
        });
    }

    async fn request_block(&self, transfer: &Transfer, spec: FirmwareSpec) -> Instant {
        let payload = transfer.request().encode_hex();
        self.send(self.stream(StreamType::ST_FIRMWARE_REQUEST, payload))
            .await;
        Instant::now() + spec.block_timeout
    }

    fn stream(&self, stream: StreamType, payload: String) -> RawFrame {
        RawFrame::new(
            self.id(),
            NODE_CHILD_ID,
            Command::Stream,
            stream.code(),
            payload,
        )
    }
}

/// The bootloader erased EEPROM and starts over.
struct Erased;
