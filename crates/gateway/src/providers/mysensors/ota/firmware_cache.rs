//! Firmware read from `<data_dir>/firmware/<id>` (the API's upload), checked against the SHA-256
//! the upload recorded, parsed from Intel HEX, and kept in memory while nodes fetch it.

use crate::providers::mysensors::protocol::ProtocolError;
use crate::providers::mysensors::protocol::firmware::FirmwareImage;
use crate::providers::mysensors::protocol::mapping::labels;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::model::Firmware;
use switchyard_core::storage::StorageError;
use tokio::time::Instant;

/// A cached firmware unused this long is dropped (MyController: 15 minutes).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// How often idle firmware is looked for (MyController: 5 minutes).
pub const PURGE_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// Firmware kept at most; past that the least recently used is dropped.
pub const MAX_CACHED: usize = 16;
/// Largest HEX file read: an image of 1 MiB (the most 65535 blocks can address) is about
/// 2.8 MiB as Intel HEX.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Why a firmware cannot be served; shown on the node (`ota_status`) and logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FirmwareError {
    #[error("firmware `{0}` does not exist")]
    NotFound(String),
    #[error("firmware `{id}` needs label `{label}` with a number 0..=65535")]
    Label { id: String, label: &'static str },
    #[error("firmware `{0}` has no uploaded file")]
    NoFile(String),
    #[error("firmware `{id}`: cannot read its file: {reason}")]
    Read { id: String, reason: String },
    #[error("firmware `{id}`: the file is {size} bytes, more than {MAX_FILE_BYTES}")]
    TooLarge { id: String, size: u64 },
    #[error("firmware `{id}`: the file's SHA-256 is {actual}, the upload recorded {expected}")]
    Checksum {
        id: String,
        expected: String,
        actual: String,
    },
    #[error("firmware `{id}`: {source}")]
    Hex { id: String, source: ProtocolError },
    #[error("reading firmware `{id}`: {reason}")]
    Storage { id: String, reason: String },
}

impl FirmwareError {
    /// Whether the firmware itself is bad (counted as rejected input), rather than missing or
    /// unreadable for now.
    pub fn is_bad_firmware(&self) -> bool {
        matches!(
            self,
            FirmwareError::Hex { .. }
                | FirmwareError::Checksum { .. }
                | FirmwareError::Label { .. }
        )
    }
}

/// A firmware ready to serve.
#[derive(Debug)]
pub struct LoadedFirmware {
    pub id: String,
    pub type_id: u16,
    pub version_id: u16,
    pub image: FirmwareImage,
}

struct Entry {
    checksum: String,
    loaded: Arc<LoadedFirmware>,
    last_used: Instant,
}

#[derive(Default)]
pub struct FirmwareCache {
    entries: HashMap<String, Entry>,
}

impl FirmwareCache {
    /// The cached firmware `id`, if it was loaded from the file with this `checksum`.
    pub fn get(&mut self, id: &str, checksum: &str, now: Instant) -> Option<Arc<LoadedFirmware>> {
        let entry = self.entries.get_mut(id)?;
        if entry.checksum != checksum || checksum.is_empty() {
            return None;
        }
        entry.last_used = now;
        Some(entry.loaded.clone())
    }

    pub fn insert(&mut self, checksum: String, loaded: Arc<LoadedFirmware>, now: Instant) {
        if self.entries.len() >= MAX_CACHED && !self.entries.contains_key(&loaded.id) {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(
            loaded.id.clone(),
            Entry {
                checksum,
                loaded,
                last_used: now,
            },
        );
    }

    /// Drops what has not been used for [`IDLE_TIMEOUT`]; returns how many.
    pub fn purge(&mut self, now: Instant) -> usize {
        let before = self.entries.len();
        self.entries
            .retain(|_, e| now.saturating_duration_since(e.last_used) < IDLE_TIMEOUT);
        before - self.entries.len()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

fn label_u16(firmware: &Firmware, label: &'static str) -> Result<u16, FirmwareError> {
    firmware
        .labels
        .get(label)
        .and_then(|v| v.trim().parse::<u16>().ok())
        .ok_or_else(|| FirmwareError::Label {
            id: firmware.id.clone(),
            label,
        })
}

/// The MySensors type and version ids a firmware is served as.
pub fn firmware_ids(firmware: &Firmware) -> Result<(u16, u16), FirmwareError> {
    Ok((
        label_u16(firmware, labels::FIRMWARE_TYPE_ID)?,
        label_u16(firmware, labels::FIRMWARE_VERSION_ID)?,
    ))
}

/// The file name the API stored the upload under (a plain name: nothing can escape the folder).
fn file_name(firmware: &Firmware) -> Option<&str> {
    let name = Some(firmware.file.internal_name.as_str())
        .filter(|n| !n.is_empty())
        .unwrap_or(firmware.id.as_str());
    let plain = !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    plain.then_some(name)
}

/// Reads, checks and parses the firmware's file from `firmware_dir`.
pub async fn load(
    firmware: &Firmware,
    firmware_dir: &Path,
) -> Result<LoadedFirmware, FirmwareError> {
    let id = firmware.id.clone();
    let (type_id, version_id) = firmware_ids(firmware)?;
    if firmware.file.checksum.is_empty() && firmware.file.size == 0 {
        return Err(FirmwareError::NoFile(id));
    }
    let name = file_name(firmware).ok_or_else(|| FirmwareError::Read {
        id: id.clone(),
        reason: format!("{:?} is not a plain file name", firmware.file.internal_name),
    })?;
    let path = firmware_dir.join(name);
    let read_err = |e: std::io::Error| FirmwareError::Read {
        id: id.clone(),
        reason: format!("{}: {e}", path.display()),
    };
    let size = tokio::fs::metadata(&path).await.map_err(read_err)?.len();
    if size > MAX_FILE_BYTES {
        return Err(FirmwareError::TooLarge { id, size });
    }
    let bytes = tokio::fs::read(&path).await.map_err(read_err)?;
    if let Some(expected) = firmware.file.checksum.strip_prefix("sha256:") {
        let actual: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if !actual.eq_ignore_ascii_case(expected.trim()) {
            return Err(FirmwareError::Checksum {
                id,
                expected: expected.to_string(),
                actual,
            });
        }
    }
    let image = FirmwareImage::from_intel_hex(&bytes).map_err(|source| FirmwareError::Hex {
        id: id.clone(),
        source,
    })?;
    Ok(LoadedFirmware {
        id,
        type_id,
        version_id,
        image,
    })
}

impl From<(String, StorageError)> for FirmwareError {
    fn from((id, e): (String, StorageError)) -> Self {
        FirmwareError::Storage {
            id,
            reason: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::mysensors::protocol::intel_hex::checksum_of;
    use switchyard_core::model::FirmwareFile;

    /// One data record of `data` at `address`, then EOF.
    pub fn hex_file(data: &[u8]) -> String {
        let mut record = vec![data.len() as u8, 0, 0, 0];
        record.extend_from_slice(data);
        let sum = checksum_of(&record);
        let body: String = record.iter().map(|b| format!("{b:02X}")).collect();
        format!(":{body}{sum:02X}\n:00000001FF\n")
    }

    fn firmware(id: &str, checksum: String, size: u64) -> Firmware {
        Firmware {
            id: id.into(),
            labels: [("ms_type_id", "3"), ("ms_version_id", "2")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            file: FirmwareFile {
                internal_name: id.into(),
                checksum,
                size,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn sha(bytes: &[u8]) -> String {
        let hex: String = Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("sha256:{hex}")
    }

    #[tokio::test]
    async fn loads_checks_and_refuses_with_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let text = hex_file(&[1, 2, 3, 4]);
        std::fs::write(dir.path().join("fw1"), &text).unwrap();
        let fw = firmware("fw1", sha(text.as_bytes()), text.len() as u64);
        let loaded = load(&fw, dir.path()).await.unwrap();
        assert_eq!((loaded.type_id, loaded.version_id), (3, 2));
        assert_eq!(loaded.image.blocks(), 8);

        let wrong_sum = firmware("fw1", sha(b"other"), 10);
        assert!(matches!(
            load(&wrong_sum, dir.path()).await,
            Err(FirmwareError::Checksum { .. })
        ));

        let bad = text.replacen(":04000000", ":04000001", 1);
        std::fs::write(dir.path().join("bad"), &bad).unwrap();
        let err = load(&firmware("bad", String::new(), 10), dir.path())
            .await
            .unwrap_err();
        assert!(err.is_bad_firmware(), "{err}");
        assert!(err.to_string().contains("checksum"), "{err}");

        let err = load(&firmware("gone", String::new(), 10), dir.path())
            .await
            .unwrap_err();
        assert!(matches!(err, FirmwareError::Read { .. }), "{err}");
        assert!(matches!(
            load(&firmware("empty", String::new(), 0), dir.path()).await,
            Err(FirmwareError::NoFile(_))
        ));
        let mut unlabelled = fw.clone();
        unlabelled.labels.remove("ms_version_id");
        assert!(matches!(
            load(&unlabelled, dir.path()).await,
            Err(FirmwareError::Label {
                label: "ms_version_id",
                ..
            })
        ));
        let mut escaping = fw;
        escaping.file.internal_name = "../../etc/passwd".into();
        assert!(matches!(
            load(&escaping, dir.path()).await,
            Err(FirmwareError::Read { .. })
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn cache_follows_the_checksum_and_forgets_idle_firmware() {
        let mut cache = FirmwareCache::default();
        let loaded = Arc::new(LoadedFirmware {
            id: "fw".into(),
            type_id: 1,
            version_id: 1,
            image: FirmwareImage::from_binary(vec![0; 10]).unwrap(),
        });
        let t0 = Instant::now();
        cache.insert("sha256:a".into(), loaded, t0);
        assert!(cache.get("fw", "sha256:a", t0).is_some());
        assert!(cache.get("fw", "sha256:b", t0).is_none(), "re-uploaded");
        assert_eq!(cache.purge(t0 + IDLE_TIMEOUT / 2), 0);
        assert!(cache.get("fw", "sha256:a", t0 + IDLE_TIMEOUT / 2).is_some());
        assert_eq!(cache.purge(t0 + IDLE_TIMEOUT), 0, "used half-way");
        assert_eq!(cache.purge(t0 + IDLE_TIMEOUT * 2), 1);
        assert_eq!(cache.len(), 0);
    }
}
