use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Free labels on every resource. Keys are normalised by [`normalize_label_key`].
pub type Labels = BTreeMap<String, String>;
/// Provider-specific extra properties.
pub type Others = serde_json::Map<String, serde_json::Value>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Up,
    Down,
    Error,
    #[default]
    Unavailable,
}

/// Runtime state of a gateway, node, handler, …: what it is, why, and since when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct State {
    pub status: Status,
    pub message: String,
    #[serde(with = "crate::timestamp::opt")]
    pub since: Option<DateTime<Utc>>,
}

impl State {
    pub fn new(status: Status, message: impl Into<String>, since: DateTime<Utc>) -> Self {
        State {
            status,
            message: message.into(),
            since: Some(since),
        }
    }
}

/// Lower-cases a label key, turns `.` into `/` and drops characters outside `[a-z0-9_/]`
/// (MyController's normalisation, so labels written by either system compare equal).
pub fn normalize_label_key(key: &str) -> String {
    key.chars()
        .filter_map(|c| match c {
            '.' => Some('/'),
            c if c.is_ascii_alphanumeric() || c == '_' || c == '/' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_keys_are_normalised() {
        assert_eq!(normalize_label_key("Sleep Node"), "sleepnode");
        assert_eq!(normalize_label_key("a.b-c_D"), "a/bc_d");
    }
}
