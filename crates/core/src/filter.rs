//! Filters, sorting and pagination over JSON documents: the query model of every list in the API
//! and of every storage backend (a backend may push them down, but must answer as [`CompiledQuery`]).

use crate::CoreError;
use crate::key_path;
use chrono::{DateTime, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    #[default]
    #[serde(alias = "")]
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    Nin,
    /// Inclusive range `[low, high]`.
    RangeIn,
    RangeNotIn,
    /// Case-insensitive regular expression on the value's text.
    Regex,
    /// `v: true` (default) when the key is present and not null; `v: false` for the opposite.
    Exists,
}

/// `{k: keyPath, o: operator, v: value}` as in MyController's API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    #[serde(rename = "k")]
    pub key: String,
    #[serde(rename = "o", default)]
    pub op: Operator,
    #[serde(rename = "v", default)]
    pub value: Value,
}

impl Filter {
    pub fn new(key: impl Into<String>, op: Operator, value: impl Into<Value>) -> Self {
        Filter {
            key: key.into(),
            op,
            value: value.into(),
        }
    }

    pub fn eq(key: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::new(key, Operator::Eq, value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    #[default]
    #[serde(alias = "")]
    Asc,
    Desc,
}

/// `{f: keyPath, o: asc|desc}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SortBy {
    #[serde(rename = "f")]
    pub field: String,
    #[serde(rename = "o", default)]
    pub order: SortOrder,
}

/// A list request: every filter must hold; results sorted by each key in turn, then paged.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Query {
    pub filters: Vec<Filter>,
    pub sort_by: Vec<SortBy>,
    /// `None` returns everything after `offset`.
    pub limit: Option<u64>,
    pub offset: u64,
}

impl Query {
    pub fn all() -> Self {
        Query::default()
    }

    pub fn filter(mut self, f: Filter) -> Self {
        self.filters.push(f);
        self
    }

    pub fn sort(mut self, field: impl Into<String>, order: SortOrder) -> Self {
        self.sort_by.push(SortBy {
            field: field.into(),
            order,
        });
        self
    }

    pub fn page(mut self, limit: u64, offset: u64) -> Self {
        self.limit = Some(limit);
        self.offset = offset;
        self
    }

    /// Validates the filters (regexes compile, ranges have two bounds, lists are lists).
    pub fn compile(&self) -> Result<CompiledQuery, CoreError> {
        let filters = self
            .filters
            .iter()
            .map(CompiledFilter::new)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CompiledQuery {
            filters,
            sort_by: self.sort_by.clone(),
            limit: self.limit,
            offset: self.offset,
        })
    }
}

/// A page of results with the count of all matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub count: u64,
    /// `-1` when no limit was given (MyController's convention).
    pub limit: i64,
    pub offset: u64,
    pub data: Vec<T>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            count: self.count,
            limit: self.limit,
            offset: self.offset,
            data: self.data.into_iter().map(f).collect(),
        }
    }
}

#[derive(Debug, Clone)]
enum Expected {
    One(Value),
    List(Vec<Value>),
    Range(Value, Value),
    Pattern(Regex),
    Exists(bool),
}

#[derive(Debug, Clone)]
pub struct CompiledFilter {
    key: String,
    op: Operator,
    expected: Expected,
}

impl CompiledFilter {
    fn new(f: &Filter) -> Result<Self, CoreError> {
        let err = |reason: String| CoreError::InvalidFilter {
            key: f.key.clone(),
            reason,
        };
        // Lists may come as JSON arrays or as strings holding one (MyController's form).
        let as_list = |v: &Value| -> Result<Vec<Value>, CoreError> {
            match v {
                Value::Array(items) => Ok(items.clone()),
                Value::String(s) => match serde_json::from_str::<Value>(s) {
                    Ok(Value::Array(items)) => Ok(items),
                    _ => Ok(s.split(',').map(|p| Value::from(p.trim())).collect()),
                },
                other => Ok(vec![other.clone()]),
            }
        };
        let expected = match f.op {
            Operator::Eq
            | Operator::Ne
            | Operator::Gt
            | Operator::Gte
            | Operator::Lt
            | Operator::Lte => Expected::One(f.value.clone()),
            Operator::In | Operator::Nin => Expected::List(as_list(&f.value)?),
            Operator::RangeIn | Operator::RangeNotIn => {
                let items = as_list(&f.value)?;
                match <[Value; 2]>::try_from(items) {
                    Ok([low, high]) => Expected::Range(low, high),
                    Err(_) => {
                        return Err(err("a range needs exactly two values [low, high]".into()));
                    }
                }
            }
            Operator::Regex => {
                let text = value_text(&f.value);
                let re = regex::RegexBuilder::new(&text)
                    .case_insensitive(true)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| err(format!("bad regular expression: {e}")))?;
                Expected::Pattern(re)
            }
            Operator::Exists => Expected::Exists(match &f.value {
                Value::Null => true,
                Value::Bool(b) => *b,
                other => crate::value::parse_bool(&value_text(other))
                    .ok_or_else(|| err("exists takes true or false".into()))?,
            }),
        };
        Ok(CompiledFilter {
            key: f.key.clone(),
            op: f.op,
            expected,
        })
    }

    pub fn matches(&self, doc: &Value) -> bool {
        let actual = key_path::get(doc, &self.key).filter(|v| !v.is_null());
        match (&self.expected, actual) {
            (Expected::Exists(want), a) => a.is_some() == *want,
            (Expected::One(e), None) => match self.op {
                Operator::Eq => e.is_null(),
                Operator::Ne => !e.is_null(),
                _ => false,
            },
            (Expected::One(e), Some(a)) => {
                let ord = compare(a, e);
                match self.op {
                    Operator::Eq => loose_eq(a, e),
                    Operator::Ne => !loose_eq(a, e),
                    Operator::Gt => ord == Some(Ordering::Greater),
                    Operator::Gte => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                    Operator::Lt => ord == Some(Ordering::Less),
                    Operator::Lte => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                    _ => false,
                }
            }
            (Expected::List(items), a) => {
                let found = a.is_some_and(|a| items.iter().any(|e| loose_eq(a, e)));
                (self.op == Operator::In) == found
            }
            (Expected::Range(low, high), a) => {
                let inside = a.is_some_and(|a| {
                    matches!(compare(a, low), Some(Ordering::Greater | Ordering::Equal))
                        && matches!(compare(a, high), Some(Ordering::Less | Ordering::Equal))
                });
                (self.op == Operator::RangeIn) == inside
            }
            (Expected::Pattern(re), a) => a.is_some_and(|a| re.is_match(&value_text(a))),
        }
    }
}

/// A validated [`Query`], ready to run over documents.
#[derive(Debug, Clone)]
pub struct CompiledQuery {
    pub filters: Vec<CompiledFilter>,
    pub sort_by: Vec<SortBy>,
    pub limit: Option<u64>,
    pub offset: u64,
}

impl CompiledQuery {
    pub fn matches(&self, doc: &Value) -> bool {
        self.filters.iter().all(|f| f.matches(doc))
    }

    /// Orders two documents by the sort keys (missing values first in ascending order).
    pub fn order(&self, a: &Value, b: &Value) -> Ordering {
        for s in &self.sort_by {
            let (va, vb) = (key_path::get(a, &s.field), key_path::get(b, &s.field));
            let ord = sort_cmp(va, vb);
            let ord = if s.order == SortOrder::Desc {
                ord.reverse()
            } else {
                ord
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }

    /// Filters, sorts and pages `docs` (used by backends that keep documents in memory).
    pub fn apply<T, F>(&self, docs: impl Iterator<Item = T>, as_value: F) -> Page<T>
    where
        F: Fn(&T) -> &Value,
    {
        let mut hits: Vec<T> = docs.filter(|d| self.matches(as_value(d))).collect();
        let count = hits.len() as u64;
        if !self.sort_by.is_empty() {
            hits.sort_by(|a, b| self.order(as_value(a), as_value(b)));
        }
        let offset = usize::try_from(self.offset).unwrap_or(usize::MAX);
        let data: Vec<T> = match self.limit {
            Some(limit) => hits
                .into_iter()
                .skip(offset)
                .take(usize::try_from(limit).unwrap_or(usize::MAX))
                .collect(),
            None => hits.into_iter().skip(offset).collect(),
        };
        Page {
            count,
            limit: self.limit.map(|l| l as i64).unwrap_or(-1),
            offset: self.offset,
            data,
        }
    }
}

pub(crate) fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

fn as_time(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) if s.len() >= 10 && s.as_bytes()[4] == b'-' => {
            DateTime::parse_from_rfc3339(s).ok().map(|t| t.into())
        }
        _ => None,
    }
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Equality across representations: `"21"` equals `21`, `"true"` equals `true`.
fn loose_eq(a: &Value, e: &Value) -> bool {
    if a == e {
        return true;
    }
    if let (Some(x), Some(y)) = (as_number(a), as_number(e)) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (as_bool(a), as_bool(e)) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (as_time(a), as_time(e)) {
        return x == y;
    }
    match (a, e) {
        (Value::String(x), y) | (y, Value::String(x)) if !y.is_string() => *x == value_text(y),
        _ => false,
    }
}

/// Ordering for gt/lt: numbers, then times, then text.
fn compare(a: &Value, e: &Value) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (as_number(a), as_number(e)) {
        return x.partial_cmp(&y);
    }
    if let (Some(x), Some(y)) = (as_time(a), as_time(e)) {
        return Some(x.cmp(&y));
    }
    match (a, e) {
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn sort_rank(v: Option<&Value>) -> u8 {
    match v {
        None | Some(Value::Null) => 0,
        Some(Value::Bool(_)) => 1,
        Some(Value::Number(_)) => 2,
        Some(Value::String(_)) => 3,
        Some(_) => 4,
    }
}

fn sort_cmp(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let (ra, rb) = (sort_rank(a), sort_rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&y.as_f64().unwrap_or(0.0))
            .unwrap_or(Ordering::Equal),
        (Some(Value::String(x)), Some(Value::String(y))) => {
            natural_cmp(x, y).then_with(|| x.cmp(y))
        }
        (Some(x), Some(y)) => x.to_string().cmp(&y.to_string()),
        _ => Ordering::Equal,
    }
}

/// "node2" before "node10": digit runs compare by number, letters without regard to case.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut ai, mut bi) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (ai.peek().copied(), bi.peek().copied()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let take = |it: &mut std::iter::Peekable<std::str::Chars>| {
                    let mut s = String::new();
                    while let Some(c) = it.peek().copied().filter(|c| c.is_ascii_digit()) {
                        s.push(c);
                        it.next();
                    }
                    s
                };
                let (na, nb) = (take(&mut ai), take(&mut bi));
                let (ta, tb) = (na.trim_start_matches('0'), nb.trim_start_matches('0'));
                let ord = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            (Some(x), Some(y)) => {
                let (lx, ly) = (x.to_ascii_lowercase(), y.to_ascii_lowercase());
                if lx != ly {
                    return lx.cmp(&ly);
                }
                ai.next();
                bi.next();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn docs() -> Vec<Value> {
        vec![
            json!({"id": "a", "n": 5, "name": "node10", "labels": {"room": "hall"}, "t": "2026-01-01T00:00:00Z"}),
            json!({"id": "b", "n": 15, "name": "node2", "labels": {"room": "Kitchen"}, "t": "2026-01-02T00:00:00Z", "on": true}),
            json!({"id": "c", "n": "25", "name": "Node3", "t": "2026-01-03T00:00:00+01:00", "on": false}),
        ]
    }

    fn ids(q: Query) -> Vec<String> {
        let c = q.compile().unwrap();
        c.apply(docs().into_iter(), |d| d)
            .data
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn every_operator() {
        let q = |op, v: Value| Query::all().filter(Filter::new("n", op, v));
        assert_eq!(ids(q(Operator::Eq, json!("15"))), ["b"]);
        assert_eq!(ids(q(Operator::Ne, json!(15))), ["a", "c"]);
        assert_eq!(ids(q(Operator::Gt, json!(5))), ["b", "c"]);
        assert_eq!(ids(q(Operator::Gte, json!(15))), ["b", "c"]);
        assert_eq!(ids(q(Operator::Lt, json!(15))), ["a"]);
        assert_eq!(ids(q(Operator::Lte, json!(15))), ["a", "b"]);
        assert_eq!(ids(q(Operator::In, json!([5, 25]))), ["a", "c"]);
        assert_eq!(ids(q(Operator::In, json!("[5, 25]"))), ["a", "c"]);
        assert_eq!(ids(q(Operator::Nin, json!([5, 25]))), ["b"]);
        assert_eq!(ids(q(Operator::RangeIn, json!([5, 15]))), ["a", "b"]);
        assert_eq!(ids(q(Operator::RangeNotIn, json!([5, 15]))), ["c"]);
        let r = Query::all().filter(Filter::new("labels.room", Operator::Regex, "^k"));
        assert_eq!(ids(r), ["b"]);
        let e = Query::all().filter(Filter::new("labels.room", Operator::Exists, true));
        assert_eq!(ids(e), ["a", "b"]);
        let ne = Query::all().filter(Filter::new("labels.room", Operator::Exists, false));
        assert_eq!(ids(ne), ["c"]);
        let b = Query::all().filter(Filter::eq("on", "false"));
        assert_eq!(ids(b), ["c"]);
        let t = Query::all().filter(Filter::new("t", Operator::Gt, "2026-01-02T23:30:00Z"));
        assert_eq!(ids(t), Vec::<String>::new(), "c is 2026-01-02T23:00Z");
        let t = Query::all().filter(Filter::new("t", Operator::Gt, "2026-01-02T22:00:00Z"));
        assert_eq!(ids(t), ["c"]);
    }

    #[test]
    fn bad_filters_are_rejected() {
        let bad = [
            Filter::new("x", Operator::Regex, "(unclosed"),
            Filter::new("x", Operator::RangeIn, json!([1])),
            Filter::new("x", Operator::Exists, "perhaps"),
        ];
        for f in bad {
            assert!(Query::all().filter(f).compile().is_err());
        }
    }

    #[test]
    fn sorts_by_several_keys_and_pages() {
        assert_eq!(
            ids(Query::all().sort("name", SortOrder::Asc)),
            ["b", "c", "a"]
        );
        let q = Query::all()
            .sort("labels.room", SortOrder::Desc)
            .sort("id", SortOrder::Asc);
        assert_eq!(ids(q), ["b", "a", "c"]);
        let page = Query::all()
            .sort("id", SortOrder::Desc)
            .page(1, 1)
            .compile()
            .unwrap();
        let p = page.apply(docs().into_iter(), |d| d);
        assert_eq!(p.count, 3);
        assert_eq!(p.data.len(), 1);
        assert_eq!(p.data[0]["id"], "b");
    }

    #[test]
    fn natural_order() {
        assert_eq!(natural_cmp("node2", "node10"), Ordering::Less);
        assert_eq!(natural_cmp("a01", "a1"), Ordering::Equal);
        assert_eq!(natural_cmp("b", "a"), Ordering::Greater);
    }

    #[test]
    fn wire_form_matches_mycontroller() {
        let f: Vec<Filter> =
            serde_json::from_str(r#"[{"k":"gatewayId","o":"eq","v":"gw1"},{"k":"x","v":1}]"#)
                .unwrap();
        assert_eq!(f[0].op, Operator::Eq);
        assert_eq!(f[1].op, Operator::Eq);
        let s: Vec<SortBy> = serde_json::from_str(r#"[{"f":"name","o":"desc"}]"#).unwrap();
        assert_eq!(s[0].order, SortOrder::Desc);
    }
}
