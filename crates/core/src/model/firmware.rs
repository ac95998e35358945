use super::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct FirmwareFile {
    pub name: String,
    pub internal_name: String,
    /// `sha256:<hex>` of the uploaded file.
    pub checksum: String,
    pub size: u64,
    pub modified_on: Option<DateTime<Utc>>,
}

/// A firmware image for over-the-air updates; MySensors picks it by labels `ms_type_id`/`ms_version_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Firmware {
    pub id: String,
    pub description: String,
    pub file: FirmwareFile,
    pub labels: Labels,
    pub modified_on: Option<DateTime<Utc>>,
}
