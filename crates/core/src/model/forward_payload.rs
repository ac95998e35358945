use super::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Copies every new value of one field to another field, on any gateway. Ids are field quick-ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ForwardPayload {
    pub id: String,
    pub description: String,
    pub enabled: bool,
    pub src_field_id: String,
    pub dst_field_id: String,
    /// Optional change of the value on the way: `{type: template|javascript, source: "…"}`.
    pub transform: ForwardTransform,
    pub labels: Labels,
    pub modified_on: Option<DateTime<Utc>>,
}

/// How a forwarded value is changed: a minijinja template or a JavaScript expression, both seeing
/// `value` (the new value), `previousValue` and `field` (the source field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ForwardTransform {
    /// empty (no change), `template` or `javascript`.
    #[serde(rename = "type")]
    pub transform_type: String,
    pub source: String,
}

/// The chain of field quick-ids that `candidate` would close into a cycle with the enabled
/// forward payloads in `existing` (A→B→A, or longer), or `None`. A payload to itself is a cycle.
pub fn find_cycle(existing: &[ForwardPayload], candidate: &ForwardPayload) -> Option<Vec<String>> {
    use std::collections::{BTreeMap, BTreeSet};
    if !candidate.enabled {
        return None;
    }
    let key = |s: &str| s.trim().to_string();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for fp in existing
        .iter()
        .filter(|fp| fp.enabled && fp.id != candidate.id)
    {
        edges
            .entry(key(&fp.src_field_id))
            .or_default()
            .insert(key(&fp.dst_field_id));
    }
    let (src, dst) = (key(&candidate.src_field_id), key(&candidate.dst_field_id));
    // A path dst → … → src plus the new edge src → dst closes a cycle.
    let mut parent: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([dst.clone()]);
    let mut seen = BTreeSet::from([dst.clone()]);
    while let Some(at) = queue.pop_front() {
        if at == src {
            let mut path = vec![src.clone()];
            let mut cur = src.clone();
            while let Some(p) = parent.get(&cur) {
                path.push(p.clone());
                cur = p.clone();
            }
            path.reverse();
            path.insert(0, src.clone());
            return Some(path);
        }
        for next in edges.get(&at).into_iter().flatten() {
            if seen.insert(next.clone()) {
                parent.insert(next.clone(), at.clone());
                queue.push_back(next.clone());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(id: &str, src: &str, dst: &str) -> ForwardPayload {
        ForwardPayload {
            id: id.into(),
            enabled: true,
            src_field_id: src.into(),
            dst_field_id: dst.into(),
            ..Default::default()
        }
    }

    #[test]
    fn finds_cycles_of_any_length() {
        let existing = vec![fp("1", "a", "b"), fp("2", "b", "c")];
        assert_eq!(
            find_cycle(&existing, &fp("3", "c", "a")),
            Some(vec!["c".to_string(), "a".into(), "b".into(), "c".into()])
        );
        assert_eq!(
            find_cycle(&existing[..1], &fp("3", "b", "a")),
            Some(vec!["b".to_string(), "a".into(), "b".into()])
        );
        assert!(find_cycle(&existing, &fp("3", "a", "c")).is_none());
        assert!(find_cycle(&[], &fp("3", "a", "a")).is_some());
        // Replacing an edge by its own id is not a cycle with itself.
        assert!(find_cycle(&[fp("1", "b", "a")], &fp("1", "a", "b")).is_none());
        let mut disabled = fp("3", "c", "a");
        disabled.enabled = false;
        assert!(find_cycle(&existing, &disabled).is_none());
    }
}
