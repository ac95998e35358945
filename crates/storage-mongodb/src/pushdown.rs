//! The filters MongoDB can decide exactly as `switchyard_core::filter` does, as conditions on
//! the stored [`shadow`](crate::shadow) keys.
//!
//! Which those are is [`switchyard_core::pushdown`]'s call (`eq`, `ne`, `in`, `nin` on plain text
//! or booleans, and `exists`); in core they reduce to "the value at the path is this string" (or
//! "is this boolean, or the text true/false in any case") and "the value at the path is not
//! null", which the shadow lists. Switchyard evaluates the rest on the documents the pushed-down
//! conditions leave. Only `$in`/`$nin` on arrays of strings are used, the operators every
//! MongoDB-compatible server tested here answers correctly.

use crate::shadow::{self, bool_entry, text_entry};
use mongodb::bson::{Bson, Document, doc};
use switchyard_core::filter::Filter;
use switchyard_core::pushdown::{self, Exact, Plain};

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
    let split = pushdown::split(filters, condition);
    Pushdown {
        conditions: split.conditions,
        exact: split.exact,
    }
}

fn condition(f: &Filter) -> Option<Document> {
    let path = shadow::filter_path(&f.key)?;
    Some(match pushdown::exact(f)? {
        Exact::Exists(want) => {
            let op = if want { "$in" } else { "$nin" };
            doc! { PATHS: { op: [path] } }
        }
        Exact::OneOf { values, negated } => {
            let entries = values.iter().map(|v| Bson::from(entry(v, &path)));
            let op = if negated { "$nin" } else { "$in" };
            doc! { VALUES: { op: Bson::Array(entries.collect()) } }
        }
    })
}

/// The shadow entry that lists `path` holding a value loosely equal to `v`.
fn entry(v: &Plain, path: &str) -> String {
    match v {
        Plain::Text(t) => text_entry(path, t),
        Plain::Bool(b) => bool_entry(path, *b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use switchyard_core::filter::Operator;

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
