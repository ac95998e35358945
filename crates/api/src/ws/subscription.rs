//! What a websocket client asked to receive: `{"subscribe": {"entityTypes": [...], "ids": [...],
//! "quickIds": ["field:gw.*"], "eventTypes": [...]}}`. Each list that is given must match (an
//! empty or missing list matches everything); a quick-id pattern's `*` stands for any run of
//! characters. No subscription at all means every event, as MyController's websocket sends.

use serde::{Deserialize, Serialize};

/// Most entries across the lists of one subscription, and the longest pattern.
pub const MAX_ENTRIES: usize = 1000;
pub const MAX_PATTERN_LEN: usize = 512;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Subscription {
    pub entity_types: Vec<String>,
    pub event_types: Vec<String>,
    pub ids: Vec<String>,
    pub quick_ids: Vec<String>,
}

/// The parts of an event a subscription looks at.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventHead {
    #[serde(rename = "type")]
    pub event_type: String,
    pub entity_type: String,
    pub entity_id: String,
    pub entity_quick_id: String,
}

impl Subscription {
    pub fn validate(&self) -> Result<(), String> {
        let n = self.entity_types.len()
            + self.event_types.len()
            + self.ids.len()
            + self.quick_ids.len();
        if n > MAX_ENTRIES {
            return Err(format!("at most {MAX_ENTRIES} entries in a subscription"));
        }
        if let Some(p) = self.quick_ids.iter().find(|p| p.len() > MAX_PATTERN_LEN) {
            return Err(format!(
                "quick-id pattern longer than {MAX_PATTERN_LEN} bytes: {}…",
                p.chars().take(32).collect::<String>()
            ));
        }
        if let Some(t) = self
            .entity_types
            .iter()
            .find(|t| t.parse::<switchyard_core::EntityKind>().is_err())
        {
            return Err(format!("unknown entity type `{t}`"));
        }
        Ok(())
    }

    pub fn matches(&self, e: &EventHead) -> bool {
        (self.entity_types.is_empty() || self.entity_types.contains(&e.entity_type))
            && (self.event_types.is_empty() || self.event_types.contains(&e.event_type))
            && (self.ids.is_empty() || self.ids.contains(&e.entity_id))
            && (self.quick_ids.is_empty()
                || self.quick_ids.iter().any(|p| glob(p, &e.entity_quick_id)))
    }
}

/// `*` matches any run of characters (dots too); everything else matches itself. Linear in
/// practice: the classic two-pointer glob with one backtrack point.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(kind: &str, id: &str) -> EventHead {
        EventHead {
            event_type: "updated".into(),
            entity_type: kind.into(),
            entity_id: id.into(),
            entity_quick_id: format!("{kind}:{id}"),
        }
    }

    #[test]
    fn globs() {
        assert!(glob("field:gw.*", "field:gw.1.2.V_TEMP"));
        assert!(!glob("field:gw.*", "field:gw2.1.2.V_TEMP"));
        assert!(glob("*V_TEMP", "field:gw.1.2.V_TEMP"));
        assert!(glob("field:*.1.*.V_*", "field:gw.1.2.V_TEMP"));
        assert!(!glob("field:*.1.*.V_*", "field:gw.3.2.V_TEMP"));
        assert!(glob("exact", "exact") && !glob("exact", "exactly"));
        assert!(glob("*", "") && glob("**", "x"));
    }

    #[test]
    fn every_given_list_must_match() {
        let all = Subscription::default();
        assert!(all.matches(&head("node", "gw.1")));
        let s = Subscription {
            entity_types: vec!["field".into()],
            quick_ids: vec!["field:gw.1.*".into()],
            ..Default::default()
        };
        assert!(s.matches(&head("field", "gw.1.2.V_TEMP")));
        assert!(!s.matches(&head("field", "gw.2.2.V_TEMP")));
        assert!(!s.matches(&head("node", "gw.1")));
        let ids = Subscription {
            ids: vec!["t1".into()],
            ..Default::default()
        };
        assert!(ids.matches(&head("task", "t1")) && !ids.matches(&head("task", "t2")));
        assert!(
            Subscription {
                entity_types: vec!["nope".into()],
                ..Default::default()
            }
            .validate()
            .is_err()
        );
    }
}
