//! Any list query (`GET /api/<resource>?filter=[…]&sortBy=[…]&limit=&offset=&key=value`), one
//! `key=value` parameter per line, then after a NUL byte any JSON documents to run it over:
//! parsing never panics, and a query that parses filters, sorts and pages without panicking
//! (sorting needs a total order) and gives a page no larger than its limit.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use switchyard_api::list_query;

fn documents() -> Vec<Value> {
    vec![
        json!({"id": "node2", "name": "kitchen", "labels": {"room": "1"}, "value": 21.5}),
        json!({"id": "node10", "name": "Kitchen", "value": "21.5", "on": "true"}),
        json!({"id": "a", "value": -1, "on": true, "at": "2026-01-01T00:00:00Z"}),
        json!({"id": "b", "value": null, "at": "2025-12-31T23:59:59+01:00"}),
        json!({"id": "c", "value": [1, 2], "labels": {}, "name": "x09"}),
        json!({"id": "d", "value": {"k": 1}, "name": "x9", "on": "TRUE"}),
        json!({"id": "e", "value": "abc", "name": "x009y"}),
        json!({"id": "f", "value": 1e300, "name": ""}),
        json!({"id": "g", "value": "1e999", "name": "00"}),
        json!({"id": "h", "value": 18446744073709551615u64, "name": "0"}),
    ]
}

fuzz_target!(|data: &[u8]| {
    let (query, docs) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(query) = std::str::from_utf8(query) else {
        return;
    };
    let params: Vec<(String, String)> = query
        .lines()
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect();
    let Ok(q) = list_query(params) else { return };
    let compiled = q.compile().expect("list_query only returns queries that compile");
    let mut all = documents();
    if let Ok(Value::Array(more)) = serde_json::from_slice::<Value>(docs) {
        all.extend(more);
    }
    let page = compiled.apply(all.iter(), |d| *d);
    assert!(page.data.len() as u64 <= page.count);
    if let Some(limit) = q.limit {
        assert!(page.data.len() as u64 <= limit);
    }
});
