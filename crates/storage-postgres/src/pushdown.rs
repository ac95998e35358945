//! Which filters PostgreSQL can decide exactly as `switchyard_core::filter` does, and their SQL.
//!
//! Pushed down (exact): `eq`, `ne`, `in`, `nin` whose values are plain text (not a number, a
//! boolean word, a date-time, empty, or JSON text) or JSON booleans; and `exists`. Their meaning
//! in core reduces there to "the value at the path is this JSON string" (or "is this boolean, or
//! the text true/false in any case"), which SQL says exactly. Numbers, ranges, comparisons, dates
//! and regular expressions compare across representations (`"21"` = `21`, time zones, Rust's
//! regex dialect): those are evaluated by Switchyard on the rows the pushed-down filters leave.
//! Sorting uses core's natural order (`node2` < `node10`), so it is done by Switchyard as well;
//! paging is pushed down when every filter is and no sort is asked for.

use serde_json::Value;
use switchyard_core::filter::{Filter, Operator};

/// A bind parameter of the generated SQL, in order (`$1`, `$2`, …).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    TextArray(Vec<String>),
}

/// The SQL for the filters it can decide; the rest are left for [`switchyard_core::filter`].
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Pushdown {
    /// Conditions joined with AND; empty means TRUE.
    pub conditions: Vec<String>,
    pub params: Vec<Param>,
    /// Every filter is in `conditions`: the database's answer needs no second look.
    pub exact: bool,
}

impl Pushdown {
    pub fn where_clause(&self) -> String {
        if self.conditions.is_empty() {
            "TRUE".into()
        } else {
            self.conditions.join(" AND ")
        }
    }
}

/// One expected value of an equality-type filter that SQL can match exactly.
enum Plain {
    Text(String),
    Bool(bool),
}

/// `key_columns`: (column, document key) pairs of the table, which equal the lookup of that key.
pub(crate) fn plan(filters: &[Filter], get_fn: &str, key_columns: &[(&str, &str)]) -> Pushdown {
    let mut out = Pushdown {
        exact: true,
        ..Default::default()
    };
    for f in filters {
        match condition(f, get_fn, key_columns, &mut out.params) {
            Some(sql) => out.conditions.push(sql),
            None => out.exact = false,
        }
    }
    out
}

fn condition(
    f: &Filter,
    get_fn: &str,
    key_columns: &[(&str, &str)],
    params: &mut Vec<Param>,
) -> Option<String> {
    // The value at the path, JSON null counting as missing (as core does).
    let mut value = || -> String {
        let lookup = if f.key == "id" {
            // `id` is always an exact key holding the primary key.
            "to_jsonb(id)".to_string()
        } else if let Some((column, _)) = key_columns.iter().find(|(_, key)| *key == f.key) {
            (*column).to_string()
        } else {
            let segments: Vec<String> = f.key.split('.').map(str::to_string).collect();
            params.push(Param::TextArray(segments));
            format!("{get_fn}(doc, ${}::text[])", params.len())
        };
        format!("NULLIF({lookup}, 'null'::jsonb)")
    };
    match f.op {
        Operator::Exists => {
            let want = match &f.value {
                Value::Null => true,
                Value::Bool(b) => *b,
                other => switchyard_core::value::parse_bool(&text(other))?,
            };
            let v = value();
            Some(if want {
                format!("({v} IS NOT NULL)")
            } else {
                format!("({v} IS NULL)")
            })
        }
        Operator::Eq | Operator::Ne => {
            let expected = plain(&f.value)?;
            let v = value();
            let matches = equals(&v, &[expected], params);
            Some(if f.op == Operator::Eq {
                format!("COALESCE({matches}, false)")
            } else {
                format!("NOT COALESCE({matches}, false)")
            })
        }
        Operator::In | Operator::Nin => {
            let items = list(&f.value);
            let expected = items.iter().map(plain).collect::<Option<Vec<_>>>()?;
            let v = value();
            let matches = if expected.is_empty() {
                "false".to_string()
            } else {
                equals(&v, &expected, params)
            };
            Some(if f.op == Operator::In {
                format!("COALESCE({matches}, false)")
            } else {
                format!("NOT COALESCE({matches}, false)")
            })
        }
        _ => None,
    }
}

/// `v` loosely equals one of `expected` (all plain).
fn equals(v: &str, expected: &[Plain], params: &mut Vec<Param>) -> String {
    let mut texts = Vec::new();
    let mut parts = Vec::new();
    for e in expected {
        match e {
            Plain::Text(s) => texts.push(s.clone()),
            Plain::Bool(b) => parts.push(format!(
                "({v} = '{b}'::jsonb OR (jsonb_typeof({v}) = 'string' AND \
                 translate({v} #>> '{{}}', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') = '{b}'))"
            )),
        }
    }
    if !texts.is_empty() {
        params.push(Param::TextArray(texts));
        parts.push(format!(
            "(jsonb_typeof({v}) = 'string' AND ({v} #>> '{{}}') = ANY(${}::text[]))",
            params.len()
        ));
    }
    format!("({})", parts.join(" OR "))
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

/// A value whose loose equality is plain JSON equality of a string, or a boolean (see module doc).
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
        plan(&[f], "g", &[]).exact
    }

    #[test]
    fn pushes_down_only_what_sql_decides_exactly() {
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
            Filter::new("a", Operator::In, json!(["x", 1])),
            Filter::new("n", Operator::Gt, "b"),
            Filter::new("n", Operator::Regex, "^a"),
            Filter::new("n", Operator::RangeIn, json!([1, 2])),
        ] {
            assert!(!exact(not_exact.clone()), "{not_exact:?}");
        }
    }

    #[test]
    fn key_columns_and_id_use_their_column() {
        let p = plan(
            &[Filter::eq("gatewayId", "gw1"), Filter::eq("id", "n1")],
            "g",
            &[("gateway_id", "gatewayId")],
        );
        assert!(p.conditions[0].contains("NULLIF(gateway_id,"), "{p:?}");
        assert!(p.conditions[1].contains("to_jsonb(id)"), "{p:?}");
        // Any other spelling of the key goes through the lookup function.
        let p = plan(
            &[Filter::eq("GatewayId", "gw1")],
            "g",
            &[("gateway_id", "gatewayId")],
        );
        assert!(p.conditions[0].contains("g(doc, $1::text[])"), "{p:?}");
        assert_eq!(p.params[0], Param::TextArray(vec!["GatewayId".into()]));
    }
}
