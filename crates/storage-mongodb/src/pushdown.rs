//! Which filters MongoDB can decide exactly as `switchyard_core::filter` does, as conditions on
//! the stored [`shadow`](crate::shadow) keys.
//!
//! Pushed down (exact): `eq`, `ne`, `in`, `nin` whose values are plain text (not a number, a
//! boolean word, a date-time, empty, or JSON text) or JSON booleans; and `exists`. In core these
//! reduce to "the value at the path is this string" (or "is this boolean, or the text true/false
//! in any case") and "the value at the path is not null", which the shadow lists. Numbers,
//! ranges, comparisons, dates and regular expressions compare across representations (`"21"` =
//! `21`, time zones, Rust's regex dialect): Switchyard evaluates those on the documents the
//! pushed-down conditions leave. Only `$in`/`$nin` on arrays of strings are used, the operators
//! every MongoDB-compatible server tested here answers correctly.

use crate::shadow::{self, bool_entry, text_entry};
use mongodb::bson::{Bson, Document, doc};
use serde_json::Value;
use switchyard_core::filter::{Filter, Operator};

/// Stored field names.
pub(crate) const PATHS: &str = "paths";
pub(crate) const VALUES: &str = "values";
pub(crate) const AMBIGUOUS: &str = "ambiguous";

#[derive(Debug, Default, PartialEq)]
pub(crate) struct Pushdown {
    /// Conditions joined with AND.
    pub conditions: Vec<Document>,
    /// Every filter is in `conditions`: for documents that are not ambiguous, MongoDB's answer
    /// needs no second look.
    pub exact: bool,
}

impl Pushdown {
    /// The MongoDB filter for candidates: documents meeting every condition, and every ambiguous
    /// document (core decides those).
    pub fn candidates(&self) -> Document {
        if self.conditions.is_empty() {
            return Document::new();
        }
        doc! { "$or": [ self.all_conditions(), { AMBIGUOUS: true } ] }
    }

    /// The conditions alone, for when no ambiguous document exists.
    pub fn all_conditions(&self) -> Document {
        match self.conditions.len() {
            0 => Document::new(),
            1 => self.conditions[0].clone(),
            _ => doc! { "$and": self.conditions.clone() },
        }
    }
}

pub(crate) fn plan(filters: &[Filter]) -> Pushdown {
    let mut out = Pushdown {
        exact: true,
        ..Default::default()
    };
    for f in filters {
        match condition(f) {
            Some(c) => out.conditions.push(c),
            None => out.exact = false,
        }
    }
    out
}

fn condition(f: &Filter) -> Option<Document> {
    let path = shadow::filter_path(&f.key)?;
    let strings = |entries: Vec<String>| Bson::Array(entries.into_iter().map(Bson::from).collect());
    match f.op {
        Operator::Exists => {
            let want = match &f.value {
                Value::Null => true,
                Value::Bool(b) => *b,
                other => switchyard_core::value::parse_bool(&text(other))?,
            };
            let op = if want { "$in" } else { "$nin" };
            Some(doc! { PATHS: { op: [path] } })
        }
        Operator::Eq | Operator::Ne => {
            let entry = plain(&f.value)?.entry(&path);
            let op = if f.op == Operator::Eq { "$in" } else { "$nin" };
            Some(doc! { VALUES: { op: strings(vec![entry]) } })
        }
        Operator::In | Operator::Nin => {
            let entries = list(&f.value)
                .iter()
                .map(|v| plain(v).map(|p| p.entry(&path)))
                .collect::<Option<Vec<_>>>()?;
            let op = if f.op == Operator::In { "$in" } else { "$nin" };
            Some(doc! { VALUES: { op: strings(entries) } })
        }
        _ => None,
    }
}

/// One expected value of an equality-type filter that the shadow matches exactly.
enum Plain {
    Text(String),
    Bool(bool),
}

impl Plain {
    fn entry(&self, path: &str) -> String {
        match self {
            Plain::Text(t) => text_entry(path, t),
            Plain::Bool(b) => bool_entry(path, *b),
        }
    }
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

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A value whose loose equality (core's `loose_eq`) is plain equality with a string, or with a
/// boolean and the text true/false in any case.
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
    use serde_json::json;

    fn exact(f: Filter) -> bool {
        plan(&[f]).exact
    }

    #[test]
    fn pushes_down_only_what_the_shadow_decides_exactly() {
        assert!(exact(Filter::eq("gatewayId", "gw1")));
        assert!(exact(Filter::eq("on", true)));
        assert!(exact(Filter::new(
            "a",
            Operator::In,
            json!(["x", "y", false])
        )));
        assert!(exact(Filter::new("a", Operator::Nin, "x, y")));
        assert!(exact(Filter::new("a", Operator::Exists, false)));
        for not_exact in [
            Filter::eq("n", 21),
            Filter::eq("n", "21"),
            Filter::eq("n", " 2.5e3 "),
            Filter::eq("b", "TRUE"),
            Filter::eq("t", "2026-01-01T00:00:00Z"),
            Filter::eq("x", ""),
            Filter::eq("x", Value::Null),
            Filter::eq("x", "{\"a\":1}"),
            Filter::eq("tags.+0", "x"),
            Filter::eq("", "x"),
            Filter::new("a", Operator::In, json!(["x", 1])),
            Filter::new("n", Operator::Gt, "b"),
            Filter::new("n", Operator::Regex, "^a"),
            Filter::new("n", Operator::RangeIn, json!([1, 2])),
        ] {
            assert!(!exact(not_exact.clone()), "{not_exact:?}");
        }
    }

    #[test]
    fn conditions_name_the_lower_cased_path() {
        let p = plan(&[
            Filter::eq("Labels.Room", "Hall"),
            Filter::new("On", Operator::Exists, true),
        ]);
        assert_eq!(
            p.conditions,
            vec![
                doc! { VALUES: { "$in": ["labels.room\u{1}sHall"] } },
                doc! { PATHS: { "$in": ["on"] } },
            ]
        );
        assert_eq!(
            p.candidates(),
            doc! { "$or": [ { "$and": p.conditions.clone() }, { AMBIGUOUS: true } ] }
        );
        assert_eq!(plan(&[]).candidates(), Document::new());
    }
}
