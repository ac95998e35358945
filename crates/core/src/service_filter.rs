//! Which resources a process runs (MyController's `ServiceFilter`): in distributed mode each
//! process's config names the gateways (or handlers, …) it owns, by id, label or type, so a
//! gateway process on a Raspberry Pi runs only its serial gateway.

use crate::model::Labels;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Empty (the default) means every resource. Otherwise a resource is this process's when every
/// non-empty criterion holds: its id is in `ids`, its type in `types`, and each of `labels` is
/// among its labels. `disabled` runs none.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", default, deny_unknown_fields)]
pub struct ServiceFilter {
    pub disabled: bool,
    pub ids: Vec<String>,
    pub types: Vec<String>,
    pub labels: BTreeMap<String, String>,
}

impl ServiceFilter {
    /// Whether the resource `id` of type `kind` (the provider or handler type) with `labels` is
    /// this process's.
    pub fn owns(&self, id: &str, kind: &str, labels: &Labels) -> bool {
        if self.disabled {
            return false;
        }
        (self.ids.is_empty() || self.ids.iter().any(|i| i == id))
            && (self.types.is_empty() || self.types.iter().any(|t| t == kind))
            && self
                .labels
                .iter()
                .all(|(k, v)| labels.get(k).is_some_and(|l| l == v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn empty_owns_everything_and_disabled_nothing() {
        let all = ServiceFilter::default();
        assert!(all.owns("gw1", "mysensors", &labels(&[])));
        let none = ServiceFilter {
            disabled: true,
            ..Default::default()
        };
        assert!(!none.owns("gw1", "mysensors", &labels(&[])));
    }

    #[test]
    fn every_given_criterion_must_hold() {
        let pi = ServiceFilter {
            types: vec!["mysensors".into()],
            labels: [("location".to_string(), "pi".to_string())].into(),
            ..Default::default()
        };
        assert!(pi.owns(
            "gw1",
            "mysensors",
            &labels(&[("location", "pi"), ("x", "y")])
        ));
        assert!(!pi.owns("gw1", "tasmota", &labels(&[("location", "pi")])));
        assert!(!pi.owns("gw1", "mysensors", &labels(&[("location", "core")])));
        assert!(!pi.owns("gw1", "mysensors", &labels(&[])));
        let by_id = ServiceFilter {
            ids: vec!["gw2".into()],
            ..Default::default()
        };
        assert!(by_id.owns("gw2", "any", &labels(&[])));
        assert!(!by_id.owns("gw1", "any", &labels(&[])));
    }
}
