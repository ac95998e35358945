//! Quick-ids name any resource in one string: `field:<gw>.<node>.<src>.<field>[.<key.path>]`,
//! `node:<gw>.<node>`, `task:<id>`, … The storage id of a node, source or field is the dotted part
//! without the key path, so a quick-id resolves with one lookup.

use crate::{CoreError, EntityKind};
use std::fmt;
use std::str::FromStr;

/// The longest id segment we accept.
pub const MAX_ID_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuickId {
    pub kind: EntityKind,
    /// The storage id (`gw.node.src.field` for a field).
    pub id: String,
    /// Dotted path into the resource's JSON (`current.value`), if any.
    pub key_path: Option<String>,
}

/// How many dotted segments make up the id of a kind.
pub fn id_segments(kind: EntityKind) -> usize {
    match kind {
        EntityKind::Node => 2,
        EntityKind::Source => 3,
        EntityKind::Field => 4,
        _ => 1,
    }
}

/// Checks one id segment (a gateway id, node id, …): non-empty, at most [`MAX_ID_LEN`] bytes, and
/// free of the characters that separate quick-ids and bus subjects (`.`, `*`, `>`, white space).
pub fn validate_id_segment(id: &str) -> Result<(), CoreError> {
    let reason = if id.is_empty() {
        Some("must not be empty")
    } else if id.len() > MAX_ID_LEN {
        Some("longer than 128 bytes")
    } else if id
        .chars()
        .any(|c| c == '.' || c == '*' || c == '>' || c.is_whitespace() || c.is_control())
    {
        Some("must not contain '.', '*', '>', white space or control characters")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(CoreError::InvalidId {
            id: id.chars().take(MAX_ID_LEN).collect(),
            reason: reason.into(),
        }),
        None => Ok(()),
    }
}

impl QuickId {
    pub fn new(kind: EntityKind, id: impl Into<String>) -> Self {
        QuickId {
            kind,
            id: id.into(),
            key_path: None,
        }
    }

    /// The storage id of a node, source or field, built from its parts.
    pub fn compose(parts: &[&str]) -> String {
        parts.join(".")
    }

    pub fn node(gateway: &str, node: &str) -> Self {
        Self::new(EntityKind::Node, Self::compose(&[gateway, node]))
    }

    pub fn source(gateway: &str, node: &str, source: &str) -> Self {
        Self::new(EntityKind::Source, Self::compose(&[gateway, node, source]))
    }

    pub fn field(gateway: &str, node: &str, source: &str, field: &str) -> Self {
        Self::new(
            EntityKind::Field,
            Self::compose(&[gateway, node, source, field]),
        )
    }

    pub fn with_key_path(mut self, key_path: impl Into<String>) -> Self {
        let kp = key_path.into();
        self.key_path = if kp.is_empty() { None } else { Some(kp) };
        self
    }
}

impl fmt::Display for QuickId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)?;
        if let Some(kp) = &self.key_path {
            write!(f, ".{kp}")?;
        }
        Ok(())
    }
}

impl FromStr for QuickId {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| CoreError::InvalidQuickId {
            id: s.chars().take(256).collect(),
            reason: reason.into(),
        };
        let (kind, rest) = s
            .split_once(':')
            .ok_or_else(|| err("expected `<type>:<id>`"))?;
        let kind: EntityKind = kind
            .trim()
            .parse()
            .map_err(|_| err("unknown resource type"))?;
        let n = id_segments(kind);
        let segments: Vec<&str> = rest.splitn(n + 1, '.').collect();
        if segments.len() < n {
            return Err(err(&format!("a {kind} quick-id needs {n} dotted parts")));
        }
        for seg in &segments[..n] {
            validate_id_segment(seg).map_err(|e| err(&e.to_string()))?;
        }
        let key_path = segments.get(n).map(|s| s.to_string());
        if key_path.as_deref() == Some("") {
            return Err(err("empty key path"));
        }
        Ok(QuickId {
            kind,
            id: segments[..n].join("."),
            key_path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_each_kind() {
        let q: QuickId = "field:gw1.12.3.V_TEMP".parse().unwrap();
        assert_eq!(q, QuickId::field("gw1", "12", "3", "V_TEMP"));
        let q: QuickId = "field:gw1.12.3.V_TEMP.current.value".parse().unwrap();
        assert_eq!(q.key_path.as_deref(), Some("current.value"));
        assert_eq!(q.id, "gw1.12.3.V_TEMP");
        let q: QuickId = "node:gw1.12".parse().unwrap();
        assert_eq!(q.kind, EntityKind::Node);
        let q: QuickId = "task:t1.state.lastStatus".parse().unwrap();
        assert_eq!(q.id, "t1");
        assert_eq!(q.to_string(), "task:t1.state.lastStatus");
    }

    #[test]
    fn rejects_bad_ids() {
        for bad in [
            "field:gw1.12.3",
            "nope:x",
            "gw1.12",
            "node:gw1.",
            "node:gw 1.2",
            "task:a.",
        ] {
            assert!(bad.parse::<QuickId>().is_err(), "{bad} should fail");
        }
    }

    proptest! {
        #[test]
        fn round_trips(parts in prop::collection::vec("[A-Za-z0-9_:-]{1,12}", 4), kp in proptest::option::of("[a-z]{1,5}(\\.[a-z]{1,5}){0,2}")) {
            let mut q = QuickId::field(&parts[0], &parts[1], &parts[2], &parts[3]);
            if let Some(kp) = kp { q = q.with_key_path(kp); }
            let back: QuickId = q.to_string().parse().unwrap();
            prop_assert_eq!(back, q);
        }
    }
}
