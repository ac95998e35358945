//! Which [`Filter`]s a storage backend can decide exactly as [`crate::filter`] does, so that it
//! may push them down to its database and leave only the rest to be evaluated in process.
//!
//! Exact: `eq`, `ne`, `in`, `nin` whose values are plain text (not a number, a boolean word, a
//! date-time, empty, or JSON text) or JSON booleans; and `exists`. In core these reduce to "the
//! value at the path is this string" (or "is this boolean, or the text true/false in any case")
//! and "the value at the path is present" (JSON null counting as missing). Numbers, ranges,
//! comparisons, dates and regular expressions compare across representations (`"21"` = `21`,
//! time zones, Rust's regex dialect): a backend leaves those to core, on the candidates its
//! pushed-down conditions return.
//!
//! A backend says how it writes one [`Exact`] test as its own condition; [`split`] collects the
//! conditions and says whether they were all the filters.

use crate::filter::{Filter, Operator, value_text};
use serde_json::Value;

/// One expected value of an equality-type filter whose loose equality in core is plain
/// equality with a string, or with a boolean and the text true/false in any case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plain {
    Text(String),
    Bool(bool),
}

/// What an exactly decidable filter asks of the value at its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exact {
    /// The value is present (`true`) or missing (`false`); JSON null counts as missing.
    Exists(bool),
    /// The value loosely equals one of `values` (`eq`, `in`; an empty list matches nothing), or,
    /// `negated`, none of them (`ne`, `nin`; a missing value included).
    OneOf { values: Vec<Plain>, negated: bool },
}

/// The exact test `f` stands for, or `None` when only core can decide it.
pub fn exact(f: &Filter) -> Option<Exact> {
    match f.op {
        Operator::Exists => {
            let want = match &f.value {
                Value::Null => true,
                Value::Bool(b) => *b,
                other => crate::value::parse_bool(&value_text(other))?,
            };
            Some(Exact::Exists(want))
        }
        Operator::Eq | Operator::Ne => Some(Exact::OneOf {
            values: vec![plain(&f.value)?],
            negated: f.op == Operator::Ne,
        }),
        Operator::In | Operator::Nin => Some(Exact::OneOf {
            values: list(&f.value)
                .iter()
                .map(plain)
                .collect::<Option<Vec<_>>>()?,
            negated: f.op == Operator::Nin,
        }),
        _ => None,
    }
}

/// The conditions a backend pushes down, in filter order, joined with AND.
#[derive(Debug, Clone, PartialEq)]
pub struct Split<C> {
    pub conditions: Vec<C>,
    /// Every filter is in `conditions`: the database's answer needs no second look by core.
    pub exact: bool,
}

/// Each filter that `condition` writes as the backend's own condition; the rest are left to core
/// (and `exact` is false). `condition` is asked once a filter, in order.
pub fn split<C>(filters: &[Filter], mut condition: impl FnMut(&Filter) -> Option<C>) -> Split<C> {
    let mut out = Split {
        conditions: Vec::with_capacity(filters.len()),
        exact: true,
    };
    for f in filters {
        match condition(f) {
            Some(c) => out.conditions.push(c),
            None => out.exact = false,
        }
    }
    out
}

/// Lists as core reads them: a JSON array, a string holding one, or comma-separated text.
fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.clone(),
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Array(items)) => items,
            _ => s.split(',').map(|p| Value::from(p.trim())).collect(),
        },
        other => vec![other.clone()],
    }
}

fn plain(v: &Value) -> Option<Plain> {
    match v {
        Value::Bool(b) => Some(Plain::Bool(*b)),
        Value::String(s) => {
            let number_like = s.trim().parse::<f64>().is_ok_and(f64::is_finite);
            let bool_like = s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false");
            // core's time test: at least 10 bytes with `-` at byte 4, parsed as RFC 3339.
            let time_like = s.len() >= 10
                && s.as_bytes()[4] == b'-'
                && chrono::DateTime::parse_from_rfc3339(s).is_ok();
            // Empty text equals a missing value's text; `{…}`/`[…]` may equal a nested value's.
            let json_like = s.is_empty() || s.starts_with(['{', '[']);
            (!(number_like || bool_like || time_like || json_like)).then(|| Plain::Text(s.clone()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::Query;
    use serde_json::json;

    /// Each filter with the exact test it stands for, or `None` where only core decides.
    #[test]
    fn exact_only_where_core_reduces_to_plain_equality() {
        let text = |s: &str| Plain::Text(s.into());
        let one_of = |values: Vec<Plain>, negated: bool| Some(Exact::OneOf { values, negated });
        let cases = [
            (
                Filter::eq("gatewayId", "gw1"),
                one_of(vec![text("gw1")], false),
            ),
            (
                Filter::eq("on", true),
                one_of(vec![Plain::Bool(true)], false),
            ),
            (
                Filter::new("a", Operator::Ne, "x"),
                one_of(vec![text("x")], true),
            ),
            (
                Filter::new("a", Operator::In, json!(["x", "y", false])),
                one_of(vec![text("x"), text("y"), Plain::Bool(false)], false),
            ),
            (
                Filter::new("a", Operator::In, "[\"x\", true]"),
                one_of(vec![text("x"), Plain::Bool(true)], false),
            ),
            (
                Filter::new("a", Operator::Nin, "x, y"),
                one_of(vec![text("x"), text("y")], true),
            ),
            (
                Filter::new("a", Operator::Exists, false),
                Some(Exact::Exists(false)),
            ),
            (
                Filter::new("a", Operator::Exists, "TRUE"),
                Some(Exact::Exists(true)),
            ),
            (
                Filter::new("a", Operator::Exists, Value::Null),
                Some(Exact::Exists(true)),
            ),
            // Numbers, boolean words, times, empty and JSON-looking text compare loosely in core.
            (Filter::eq("n", 21), None),
            (Filter::eq("n", "21"), None),
            (Filter::eq("n", " 2.5e3 "), None),
            (Filter::eq("b", "TRUE"), None),
            (Filter::eq("t", "2026-01-01T00:00:00Z"), None),
            (Filter::eq("x", ""), None),
            (Filter::eq("x", Value::Null), None),
            (Filter::eq("x", "{\"a\":1}"), None),
            (Filter::new("a", Operator::In, json!(["x", 1])), None),
            (Filter::new("a", Operator::Exists, "maybe"), None),
            (Filter::new("n", Operator::Gt, "b"), None),
            (Filter::new("n", Operator::Regex, "^a"), None),
            (Filter::new("n", Operator::RangeIn, json!([1, 2])), None),
        ];
        for (f, want) in cases {
            assert_eq!(exact(&f), want, "{f:?}");
        }
    }

    /// Read as a backend would, the exact tests answer as core's own filter does.
    #[test]
    fn exact_tests_agree_with_core() {
        let loosely = |a: &Value, p: &Plain| match (a, p) {
            (Value::String(s), Plain::Text(t)) => s == t,
            (Value::Bool(b), Plain::Bool(w)) => b == w,
            (Value::String(s), Plain::Bool(w)) => s.eq_ignore_ascii_case(&w.to_string()),
            _ => false,
        };
        let docs = [
            json!({}),
            json!({"a": null}),
            json!({"a": "x"}),
            json!({"a": "X"}),
            json!({"a": true}),
            json!({"a": "True"}),
            json!({"a": 1}),
            json!({"a": ["x"]}),
        ];
        let filters = [
            Filter::eq("a", "x"),
            Filter::new("a", Operator::Ne, "x"),
            Filter::eq("a", true),
            Filter::new("a", Operator::Ne, false),
            Filter::new("a", Operator::In, json!(["y", "x"])),
            Filter::new("a", Operator::Nin, json!([])),
            Filter::new("a", Operator::In, json!([])),
            Filter::new("a", Operator::Exists, true),
            Filter::new("a", Operator::Exists, "false"),
        ];
        for f in filters {
            let test = exact(&f).expect("exact");
            let core = Query::all().filter(f.clone()).compile().expect("compiles");
            for d in &docs {
                let a = d.get("a").filter(|v| !v.is_null());
                let ours = match &test {
                    Exact::Exists(want) => a.is_some() == *want,
                    Exact::OneOf { values, negated } => {
                        let found = a.is_some_and(|a| values.iter().any(|p| loosely(a, p)));
                        found != *negated
                    }
                };
                assert_eq!(ours, core.matches(d), "{f:?} on {d}");
            }
        }
    }

    #[test]
    fn split_keeps_order_and_says_when_all_went_down() {
        let filters = [
            Filter::eq("a", "x"),
            Filter::new("n", Operator::Gt, 1),
            Filter::eq("b", "y"),
        ];
        let s = split(&filters, |f| exact(f).map(|_| f.key.clone()));
        assert_eq!(s.conditions, vec!["a".to_string(), "b".to_string()]);
        assert!(!s.exact);
        let s = split(&filters[..1], |f| exact(f).map(|_| f.key.clone()));
        assert!(s.exact);
        let s = split(&[], |f: &Filter| Some(f.key.clone()));
        assert!(s.exact && s.conditions.is_empty());
    }
}
