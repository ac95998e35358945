//! Firmware over the air: which firmware a node gets (node label `assigned_firmware`, a firmware
//! id; the firmware's labels `ms_type_id` and `ms_version_id` say what it is called on the
//! radio), answering the bootloader's config and block requests, `firmware_update` and `reset`
//! actions, and the node's `ota_*` properties that show how it goes.

mod firmware_cache;
mod session;

pub(crate) use firmware_cache::{FirmwareError, PURGE_INTERVAL};

use super::network::Network;
use super::protocol::firmware::{
    BlockOrder, FirmwareConfig, FirmwareConfigRequest, FirmwareRequest,
};
use super::protocol::mapping::{firmware_config_response, firmware_response, labels, reboot};
use crate::error::GatewayError;
use chrono::Utc;
use firmware_cache::{FirmwareCache, LoadedFirmware};
use parking_lot::Mutex;
use session::{Progress, Session};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use switchyard_core::Payload;
use switchyard_core::filter::{Filter, Query};
use switchyard_core::model::{Firmware, node_labels};
use switchyard_core::value::parse_bool;
use tokio::time::Instant;

/// Node properties (`others`) that show an update.
pub mod fields {
    pub const RUNNING: &str = "ota_running";
    /// Percent, 0..=100.
    pub const PROGRESS: &str = "ota_progress";
    /// The block served last.
    pub const BLOCK_NUMBER: &str = "ota_block_number";
    pub const BLOCK_TOTAL: &str = "ota_block_total";
    pub const START_TIME: &str = "ota_start_time";
    pub const END_TIME: &str = "ota_end_time";
    /// Seconds, as `12.345s`.
    pub const TIME_TAKEN: &str = "ota_time_taken";
    /// `running`, `completed`, `eeprom_erase`, or `error: <reason>`.
    pub const STATUS: &str = "ota_status";
    /// The firmware being (or last) sent.
    pub const FIRMWARE: &str = "ota_firmware";
}

/// The provider's OTA state: firmware in memory, downloads in progress, pending EEPROM erases.
#[derive(Default)]
pub(crate) struct Ota {
    cache: Mutex<FirmwareCache>,
    sessions: Mutex<HashMap<u8, Session>>,
    erase: Mutex<HashSet<u8>>,
}

impl Ota {
    /// Drops firmware unused for [`firmware_cache::IDLE_TIMEOUT`].
    pub fn purge(&self, now: Instant) {
        let dropped = self.cache.lock().purge(now);
        if dropped > 0 {
            tracing::debug!(dropped, "idle firmware dropped from memory");
        }
    }
}

fn payload(key: &str, value: impl ToString) -> Payload {
    Payload::new(key, value.to_string())
}

impl Network {
    /// Loads a firmware (from memory when its file has not changed).
    async fn firmware(&self, id: &str) -> Result<Arc<LoadedFirmware>, FirmwareError> {
        let firmware = self
            .ctx
            .store()
            .get::<Firmware>(id)
            .await
            .map_err(|e| FirmwareError::from((id.to_string(), e)))?
            .ok_or_else(|| FirmwareError::NotFound(id.to_string()))?;
        let checksum = firmware.file.checksum.clone();
        if let Some(hit) = self.ota.cache.lock().get(id, &checksum, Instant::now()) {
            return Ok(hit);
        }
        let dir = self.ctx.data_dir().join("firmware");
        let loaded = Arc::new(firmware_cache::load(&firmware, &dir).await?);
        self.ota
            .cache
            .lock()
            .insert(checksum, loaded.clone(), Instant::now());
        Ok(loaded)
    }

    /// The firmware assigned to the node, `None` when it has none.
    async fn assigned_firmware(
        &self,
        node_id: u8,
    ) -> Option<Result<Arc<LoadedFirmware>, FirmwareError>> {
        let id = self
            .node_label(node_id, node_labels::ASSIGNED_FIRMWARE)
            .await
            .filter(|id| !id.trim().is_empty())?;
        Some(self.firmware(id.trim()).await)
    }

    /// The firmware a block request is for: the node's download in progress, its assigned
    /// firmware, or any firmware labelled with the requested type and version.
    async fn firmware_for(
        &self,
        node_id: u8,
        request: &FirmwareRequest,
    ) -> Result<Arc<LoadedFirmware>, FirmwareError> {
        let (t, v) = (request.firmware_type, request.version);
        let in_progress = self
            .ota
            .sessions
            .lock()
            .get(&node_id)
            .filter(|s| s.serves(t, v))
            .map(|s| s.firmware_id.clone());
        if let Some(id) = in_progress {
            return self.firmware(&id).await;
        }
        if let Some(Ok(fw)) = self.assigned_firmware(node_id).await
            && fw.type_id == t
            && fw.version_id == v
        {
            return Ok(fw);
        }
        let query = Query::all()
            .filter(Filter::eq(
                format!("labels.{}", labels::FIRMWARE_TYPE_ID),
                t.to_string(),
            ))
            .filter(Filter::eq(
                format!("labels.{}", labels::FIRMWARE_VERSION_ID),
                v.to_string(),
            ))
            .page(1, 0);
        let what = format!("type {t} version {v}");
        let found = self
            .ctx
            .store()
            .find::<Firmware>(&query)
            .await
            .map_err(|e| FirmwareError::from((what.clone(), e)))?;
        match found.data.first() {
            Some(fw) => self.firmware(&fw.id).await,
            None => Err(FirmwareError::NotFound(what)),
        }
    }

    /// A firmware that cannot be served: shown on the node, logged, and counted when the
    /// firmware itself is bad.
    async fn ota_failed(&self, node_id: u8, error: &FirmwareError) {
        let reason = format!("node {node_id}: {error}");
        if error.is_bad_firmware() {
            self.ctx.reject(&reason);
        } else {
            self.warn(&reason);
        }
        self.ota.sessions.lock().remove(&node_id);
        self.set_node(
            node_id,
            vec![
                payload(fields::RUNNING, false),
                payload(fields::STATUS, format!("error: {error}")),
            ],
        )
        .await;
    }

    /// The node's bootloader (or sketch) asks which firmware to run.
    pub(crate) async fn on_firmware_config_request(
        &self,
        node_id: u8,
        request: FirmwareConfigRequest,
    ) {
        if self.take_erase(node_id).await {
            let frame = firmware_config_response(node_id, &FirmwareConfig::erase_eeprom());
            self.send_unacknowledged(&frame).await;
            let mut flag = payload(labels::ERASE_EEPROM, false);
            flag.labels
                .insert(labels::ERASE_EEPROM.into(), "false".into());
            self.set_node(node_id, vec![flag, payload(fields::STATUS, "eeprom_erase")])
                .await;
            return;
        }
        match self.assigned_firmware(node_id).await {
            None => tracing::debug!(
                gateway = %self.gateway_id(), node = node_id,
                "firmware config request; no firmware assigned, not answered"
            ),
            Some(Err(e)) => self.ota_failed(node_id, &e).await,
            Some(Ok(fw)) => self.offer(node_id, &fw, Some(request.current)).await,
        }
    }

    /// Tells the node which firmware to run; a download is expected when it differs from what
    /// the node runs (`current`, unknown for a proactive offer).
    async fn offer(&self, node_id: u8, fw: &LoadedFirmware, current: Option<FirmwareConfig>) {
        let config = fw.image.config(fw.type_id, fw.version_id);
        self.send_unacknowledged(&firmware_config_response(node_id, &config))
            .await;
        if current == Some(config) {
            return;
        }
        let order = self
            .node_label(node_id, node_labels::OTA_BLOCK_ORDER)
            .await
            .and_then(|v| BlockOrder::from_label(&v));
        self.ota
            .sessions
            .lock()
            .insert(node_id, Session::new(fw.id.clone(), config, order));
    }

    /// The bootloader asks for one block.
    pub(crate) async fn on_firmware_request(&self, node_id: u8, request: FirmwareRequest) {
        let fw = match self.firmware_for(node_id, &request).await {
            Ok(fw) => fw,
            Err(e) => return self.ota_failed(node_id, &e).await,
        };
        let response = match fw.image.respond(&request) {
            Ok(r) => r,
            Err(e) => {
                return self
                    .ctx
                    .reject(format!("node {node_id}: firmware `{}`: {e}", fw.id));
            }
        };
        self.send_unacknowledged(&firmware_response(node_id, &response))
            .await;
        let progress = {
            let mut sessions = self.ota.sessions.lock();
            let session = sessions
                .entry(node_id)
                .and_modify(|s| {
                    if !s.serves(request.firmware_type, request.version) {
                        *s = Session::new(
                            fw.id.clone(),
                            fw.image.config(fw.type_id, fw.version_id),
                            None,
                        );
                    }
                })
                .or_insert_with(|| {
                    Session::new(
                        fw.id.clone(),
                        fw.image.config(fw.type_id, fw.version_id),
                        None,
                    )
                });
            let progress = session.served(request.block, Utc::now(), Instant::now());
            if progress.as_ref().is_some_and(|p| p.finished.is_some()) {
                sessions.remove(&node_id);
            }
            progress
        };
        if let Some(progress) = progress {
            self.report(node_id, &fw.id, &progress).await;
        }
    }

    async fn report(&self, node_id: u8, firmware_id: &str, p: &Progress) {
        let mut payloads = vec![
            payload(fields::PROGRESS, p.percent),
            payload(fields::BLOCK_NUMBER, p.block),
            payload(fields::BLOCK_TOTAL, p.total),
        ];
        match p.finished {
            None => {
                payloads.push(payload(fields::RUNNING, true));
                payloads.push(payload(fields::STATUS, "running"));
                if p.done == 1 {
                    payloads.push(payload(fields::START_TIME, p.started_at.to_rfc3339()));
                    payloads.push(payload(fields::FIRMWARE, firmware_id));
                    payloads.push(payload(fields::END_TIME, ""));
                    payloads.push(payload(fields::TIME_TAKEN, ""));
                }
            }
            Some((ended, took)) => {
                payloads.push(payload(fields::RUNNING, false));
                payloads.push(payload(fields::STATUS, "completed"));
                payloads.push(payload(fields::START_TIME, p.started_at.to_rfc3339()));
                payloads.push(payload(fields::FIRMWARE, firmware_id));
                payloads.push(payload(fields::END_TIME, ended.to_rfc3339()));
                payloads.push(payload(
                    fields::TIME_TAKEN,
                    format!("{:.3}s", took.as_secs_f64()),
                ));
                tracing::info!(
                    gateway = %self.gateway_id(), node = node_id, firmware = firmware_id,
                    blocks = p.total, ?took, "firmware sent"
                );
            }
        }
        self.set_node(node_id, payloads).await;
    }

    /// `firmware_update`: offers the node its assigned firmware now, instead of at its next boot
    /// (a MySensors sketch with OTA support starts fetching it).
    pub(crate) async fn firmware_update(&self, node_id: u8) -> Result<(), GatewayError> {
        match self.assigned_firmware(node_id).await {
            None => Err(GatewayError::Unsupported(format!(
                "firmware_update: node {node_id} has no label `{}`",
                node_labels::ASSIGNED_FIRMWARE
            ))),
            Some(Err(e)) => {
                self.ota_failed(node_id, &e).await;
                Err(GatewayError::Unsupported(e.to_string()))
            }
            Some(Ok(fw)) => {
                self.offer(node_id, &fw, None).await;
                Ok(())
            }
        }
    }

    /// `reset` (MYSBootloader): the next config response tells the bootloader to erase the
    /// node's EEPROM; the node is rebooted so that it asks at once.
    pub(crate) async fn reset(&self, node_id: u8) -> Result<(), GatewayError> {
        self.ota.erase.lock().insert(node_id);
        let mut flag = payload(labels::ERASE_EEPROM, true);
        flag.labels
            .insert(labels::ERASE_EEPROM.into(), "true".into());
        self.set_node(node_id, vec![flag]).await;
        self.link.send(&reboot(node_id)).await
    }

    /// Whether an EEPROM erase is pending for the node (set by `reset` here, or by its label,
    /// which survives a restart); clears it.
    async fn take_erase(&self, node_id: u8) -> bool {
        if self.ota.erase.lock().remove(&node_id) {
            return true;
        }
        self.node_label(node_id, labels::ERASE_EEPROM)
            .await
            .and_then(|v| parse_bool(&v))
            .unwrap_or(false)
    }
}
