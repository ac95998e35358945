use super::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A person who logs in. `password` holds a hash and is never sent by the API (the API strips it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub password: String,
    pub full_name: String,
    /// Roles granted to the user (`admin`, `operator`, `viewer`).
    pub roles: Vec<String>,
    pub labels: Labels,
    pub modified_on: Option<DateTime<Utc>>,
}
