use super::{Labels, Others, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A device on a gateway. Its storage id is `<gatewayId>.<nodeId>` (see [`crate::quick_id`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Node {
    pub id: String,
    pub gateway_id: String,
    pub node_id: String,
    pub name: String,
    pub labels: Labels,
    pub others: Others,
    pub state: State,
    #[serde(with = "crate::timestamp::opt")]
    pub last_seen: Option<DateTime<Utc>>,
    #[serde(with = "crate::timestamp::opt")]
    pub modified_on: Option<DateTime<Utc>>,
}

/// Node labels with a meaning to the system (MyController's reserved labels).
pub mod node_labels {
    pub const SLEEP_NODE: &str = "sleep_node";
    pub const SLEEP_QUEUE_DISABLED: &str = "sleep_queue_disabled";
    pub const SLEEP_MESSAGE_VALIDITY: &str = "sleep_message_validity";
    pub const VERSION: &str = "version";
    pub const LIBRARY_VERSION: &str = "library_version";
    pub const ASSIGNED_FIRMWARE: &str = "assigned_firmware";
    pub const OTA_BLOCK_ORDER: &str = "ota_block_order";
    pub const INACTIVE_DURATION: &str = "inactive_duration";
    pub const TIMEZONE: &str = "timezone";
    pub const READ_ONLY: &str = "read_only";
    /// `ignore_<key>=true` keeps a user-given property from being overwritten by a provider.
    pub const IGNORE_PREFIX: &str = "ignore_";
}
