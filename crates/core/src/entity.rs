use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Every kind of stored resource. The string form is the collection name (MyController's entity names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Gateway,
    Node,
    Source,
    Field,
    Firmware,
    Task,
    Schedule,
    Handler,
    ForwardPayload,
    Dashboard,
    DataRepository,
    User,
    ServiceToken,
    Settings,
}

impl EntityKind {
    pub const ALL: [EntityKind; 14] = [
        EntityKind::Gateway,
        EntityKind::Node,
        EntityKind::Source,
        EntityKind::Field,
        EntityKind::Firmware,
        EntityKind::Task,
        EntityKind::Schedule,
        EntityKind::Handler,
        EntityKind::ForwardPayload,
        EntityKind::Dashboard,
        EntityKind::DataRepository,
        EntityKind::User,
        EntityKind::ServiceToken,
        EntityKind::Settings,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Gateway => "gateway",
            EntityKind::Node => "node",
            EntityKind::Source => "source",
            EntityKind::Field => "field",
            EntityKind::Firmware => "firmware",
            EntityKind::Task => "task",
            EntityKind::Schedule => "schedule",
            EntityKind::Handler => "handler",
            EntityKind::ForwardPayload => "forward_payload",
            EntityKind::Dashboard => "dashboard",
            EntityKind::DataRepository => "data_repository",
            EntityKind::User => "user",
            EntityKind::ServiceToken => "service_token",
            EntityKind::Settings => "settings",
        }
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntityKind {
    type Err = crate::CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EntityKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| crate::CoreError::UnknownEntity(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in EntityKind::ALL {
            assert_eq!(kind.as_str().parse::<EntityKind>().unwrap(), kind);
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert!("nonsense".parse::<EntityKind>().is_err());
    }
}
