//! The SQL for the filters PostgreSQL can decide exactly as `switchyard_core::filter` does.
//!
//! Which those are is [`switchyard_core::pushdown`]'s call (`eq`, `ne`, `in`, `nin` on plain text
//! or booleans, and `exists`); each reduces to "the value at the path is this JSON string" (or
//! "is this boolean, or the text true/false in any case"), which SQL says exactly. The rest are
//! evaluated by Switchyard on the rows the pushed-down filters leave.
//! Sorting uses core's natural order (`node2` < `node10`), so it is done by Switchyard as well;
//! paging is pushed down when every filter is and no sort is asked for.

use switchyard_core::filter::Filter;
use switchyard_core::pushdown::{self, Exact, Plain};

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

/// `key_columns`: (column, document key) pairs of the table, which equal the lookup of that key.
pub(crate) fn plan(filters: &[Filter], get_fn: &str, key_columns: &[(&str, &str)]) -> Pushdown {
    let mut params = Vec::new();
    let split = pushdown::split(filters, |f| condition(f, get_fn, key_columns, &mut params));
    Pushdown {
        conditions: split.conditions,
        params,
        exact: split.exact,
    }
}

fn condition(
    f: &Filter,
    get_fn: &str,
    key_columns: &[(&str, &str)],
    params: &mut Vec<Param>,
) -> Option<String> {
    let test = pushdown::exact(f)?;
    // The value at the path, JSON null counting as missing (as core does).
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
    let v = format!("NULLIF({lookup}, 'null'::jsonb)");
    Some(match test {
        Exact::Exists(true) => format!("({v} IS NOT NULL)"),
        Exact::Exists(false) => format!("({v} IS NULL)"),
        Exact::OneOf { values, negated } => {
            let matches = if values.is_empty() {
                "false".to_string()
            } else {
                equals(&v, &values, params)
            };
            if negated {
                format!("NOT COALESCE({matches}, false)")
            } else {
                format!("COALESCE({matches}, false)")
            }
        }
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use switchyard_core::filter::Operator;

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
