use super::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct TokenSecret {
    pub id: String,
    /// Hash of the raw token; the raw token is shown to the user once.
    pub token: String,
}

/// A long-lived credential for scripts and other programs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceToken {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub description: String,
    pub token: TokenSecret,
    pub never_expire: bool,
    pub expires_on: Option<DateTime<Utc>>,
    pub labels: Labels,
    pub created_on: Option<DateTime<Utc>>,
}
