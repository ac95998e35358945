//! Dampening: how many true evaluations it takes to fire. Pure functions over the task's state.
//!
//! - `none`: every true evaluation.
//! - `consecutive`: the last `occurrences` evaluations were all true.
//! - `evaluation`: at least `occurrences` of the last `evaluation` evaluations were true.
//! - `active_duration`: the condition has been true, without a false in between, for
//!   `activeDuration` (checked again when that time comes, even without a new event).

use chrono::{DateTime, Utc};
use serde_json::json;
use switchyard_core::model::{Dampening, TaskState};

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The dampened result: the condition holds as dampening wants it.
    pub holds: bool,
    /// When to evaluate again without an event (active duration not yet reached).
    pub recheck_at: Option<DateTime<Utc>>,
}

/// How many past evaluations the history keeps for this dampening.
pub fn history_len(d: &Dampening, max: usize) -> usize {
    (d.occurrences.max(d.evaluation).max(1) as usize).min(max.max(1))
}

/// Records an evaluation `result` at `now` in `state` and decides.
pub fn apply(
    d: &Dampening,
    state: &mut TaskState,
    result: bool,
    now: DateTime<Utc>,
    max_history: usize,
) -> Result<Outcome, String> {
    state
        .executions_history
        .push(json!({"triggered": result, "timestamp": now}));
    let keep = history_len(d, max_history);
    let excess = state.executions_history.len().saturating_sub(keep);
    state.executions_history.drain(..excess);
    let outcomes: Vec<bool> = state
        .executions_history
        .iter()
        .map(|e| {
            e.get("triggered")
                .and_then(|t| t.as_bool())
                .unwrap_or(false)
        })
        .collect();
    if result {
        state.active_since.get_or_insert(now);
    } else {
        state.active_since = None;
    }
    let none = Outcome {
        holds: result,
        recheck_at: None,
    };
    Ok(match d.dampening_type.as_str() {
        "" | "none" => none,
        "consecutive" => {
            let n = d.occurrences.max(1) as usize;
            Outcome {
                holds: outcomes.len() >= n && outcomes[outcomes.len() - n..].iter().all(|b| *b),
                recheck_at: None,
            }
        }
        "evaluation" => {
            let (n, m) = (d.occurrences.max(1) as usize, d.evaluation.max(1) as usize);
            if n > m {
                return Err(format!(
                    "dampening: occurrences ({n}) cannot exceed evaluation ({m})"
                ));
            }
            let window = &outcomes[outcomes.len().saturating_sub(m)..];
            Outcome {
                holds: window.iter().filter(|b| **b).count() >= n,
                recheck_at: None,
            }
        }
        "active_duration" => {
            let dur = switchyard_core::value::parse_duration(&d.active_duration)
                .map_err(|e| format!("dampening.activeDuration: {e}"))?;
            match state.active_since {
                Some(since) if now - since >= dur => Outcome {
                    holds: true,
                    recheck_at: None,
                },
                Some(since) => Outcome {
                    holds: false,
                    recheck_at: Some(since + dur),
                },
                None => Outcome {
                    holds: false,
                    recheck_at: None,
                },
            }
        }
        other => {
            return Err(format!(
                "dampening type `{other}`: none, consecutive, evaluation or active_duration"
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(t: &str, occ: u32, eval: u32, dur: &str) -> Dampening {
        Dampening {
            dampening_type: t.into(),
            occurrences: occ,
            evaluation: eval,
            active_duration: dur.into(),
        }
    }

    fn run(damp: &Dampening, results: &[bool]) -> Vec<bool> {
        let mut s = TaskState::default();
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        results
            .iter()
            .enumerate()
            .map(|(i, r)| {
                apply(
                    damp,
                    &mut s,
                    *r,
                    t0 + chrono::Duration::seconds(i as i64),
                    100,
                )
                .unwrap()
                .holds
            })
            .collect()
    }

    #[test]
    fn consecutive_needs_n_in_a_row() {
        let c = d("consecutive", 3, 0, "");
        assert_eq!(
            run(&c, &[true, true, false, true, true, true, true]),
            [false, false, false, false, false, true, true]
        );
    }

    #[test]
    fn n_of_m() {
        let e = d("evaluation", 2, 3, "");
        assert_eq!(
            run(&e, &[true, false, false, true, false, true, true]),
            [false, false, false, false, false, true, true]
        );
        let mut s = TaskState::default();
        assert!(apply(&d("evaluation", 4, 3, ""), &mut s, true, Utc::now(), 100).is_err());
    }

    #[test]
    fn history_is_bounded_and_keeps_the_newest() {
        let mut s = TaskState::default();
        let e = d("evaluation", 2, 5, "");
        for i in 0..20 {
            apply(&e, &mut s, i % 2 == 0, Utc::now(), 100).unwrap();
        }
        assert_eq!(s.executions_history.len(), 5);
        assert_eq!(s.executions_history[4]["triggered"], false);
    }

    #[test]
    fn active_duration_holds_after_the_duration_and_resets_on_false() {
        let a = d("active_duration", 0, 0, "1m");
        let mut s = TaskState::default();
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let o = apply(&a, &mut s, true, t0, 100).unwrap();
        assert!(!o.holds);
        assert_eq!(o.recheck_at, Some(t0 + chrono::Duration::minutes(1)));
        let o = apply(&a, &mut s, true, t0 + chrono::Duration::seconds(60), 100).unwrap();
        assert!(o.holds);
        let o = apply(&a, &mut s, false, t0 + chrono::Duration::seconds(61), 100).unwrap();
        assert!(!o.holds && s.active_since.is_none());
    }
}
