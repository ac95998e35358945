//! Filters the backend pushes down to MongoDB answer exactly as core's in-memory evaluation over
//! the same documents, including the awkward cases (case-insensitive keys, keys equal ignoring
//! case in one document, text that looks like a number or a boolean, JSON null, arrays, missing
//! keys, keys holding a dot), with and without paging.

use crate::Server;
use serde_json::{Value, json};
use switchyard_core::EntityKind::{Field, Node};
use switchyard_core::filter::{Filter, Operator, Query, SortOrder};

fn corpus() -> Vec<Value> {
    vec![
        json!({"id": "a", "gatewayId": "gw1", "nodeId": "1", "name": "Kitchen", "on": true,
               "labels": {"room": "kitchen"}, "tags": ["x", "y"]}),
        json!({"id": "b", "gatewayId": "gw1", "nodeId": "2", "name": "kitchen", "on": "TRUE",
               "Labels": {"Room": "Hall"}, "tags": ["y"]}),
        json!({"id": "c", "gatewayId": "gw2", "nodeId": "10", "name": "21", "on": "no",
               "labels": {"room": null}}),
        json!({"id": "d", "GATEWAYID": "gw1", "nodeId": 2, "name": 21, "on": false,
               "labels": {"room": ""}}),
        json!({"id": "e", "gatewayId": null, "name": "x,y", "on": "False", "labels": {}}),
        json!({"id": "f", "gatewayId": "gw3", "name": {"a": 1}, "on": 1}),
        json!({"id": "A10", "gatewayId": "gw1", "nodeId": "1", "name": "node10", "tags": []}),
        json!({"id": "g", "labels.room": "kitchen", "tags": [["x"]], "": {"name": "kitchen"}}),
    ]
}

/// Documents whose keys collide ignoring case: which one a filter reaches depends on its spelling.
fn ambiguous() -> Vec<Value> {
    vec![
        json!({"id": "h", "gatewayId": "gw2", "GATEWAYID": "gw1", "labels": {"Room": "hall", "room": "kitchen"}}),
    ]
}

fn filters() -> Vec<Filter> {
    vec![
        Filter::eq("gatewayId", "gw1"),
        Filter::eq("gatewayid", "gw1"),
        Filter::new("gatewayId", Operator::Ne, "gw1"),
        Filter::eq("name", "kitchen"),
        Filter::eq("NAME", "Kitchen"),
        Filter::eq("on", true),
        Filter::eq("on", false),
        Filter::new("on", Operator::Ne, true),
        Filter::eq("labels.room", "kitchen"),
        Filter::eq("labels.room", "Hall"),
        Filter::new("labels.room", Operator::Exists, true),
        Filter::new("labels.room", Operator::Exists, false),
        Filter::new("gatewayId", Operator::Exists, "false"),
        Filter::new("gatewayId", Operator::In, json!(["gw2", "gw3"])),
        Filter::new("gatewayId", Operator::In, "gw2, gw3"),
        Filter::new("gatewayId", Operator::Nin, json!(["gw1"])),
        Filter::new("gatewayId", Operator::In, json!([])),
        Filter::new("tags.0", Operator::Eq, "x"),
        Filter::new("tags.+0", Operator::Eq, "y"),
        Filter::new("tags.1", Operator::Exists, true),
        Filter::eq("id", "c"),
        Filter::new("id", Operator::In, json!(["a", "e", "zz"])),
        Filter::eq(".name", "kitchen"),
        Filter::new("tags.0.0", Operator::Eq, "x"),
        // Not pushed down; the backend must still answer as core does.
        Filter::eq("name", 21),
        Filter::eq("name", "x,y"),
        Filter::eq("name", ""),
        Filter::eq("nodeId", "2"),
        Filter::new("nodeId", Operator::Gt, 1),
        Filter::new("name", Operator::Regex, "^k"),
        Filter::eq("name", "{\"a\":1}"),
    ]
}

fn expected(docs: &[Value], query: &Query) -> Vec<String> {
    let compiled = query.compile().unwrap();
    compiled
        .apply(docs.iter(), |d| d)
        .data
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_down_filters_answer_as_core_does() {
    let Some(server) = Server::connect("pushed_down_filters_answer_as_core_does").await else {
        return;
    };
    for (table, docs) in [(Node, corpus()), (Field, [corpus(), ambiguous()].concat())] {
        let s = server.fresh().await;
        for doc in docs.clone() {
            s.insert(table, doc).await.unwrap();
        }
        let mut stored = docs;
        stored.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
        assert_eq!(s.export().await.unwrap()[&table], stored, "kept as given");
        for f in filters() {
            for query in [
                Query::all().filter(f.clone()),
                Query::all().filter(f.clone()).page(2, 1),
                Query::all().filter(f.clone()).sort("name", SortOrder::Desc),
            ] {
                let page = s.find(table, &query).await.unwrap();
                let got: Vec<String> = page
                    .data
                    .iter()
                    .map(|d| d["id"].as_str().unwrap().to_string())
                    .collect();
                let all = Query {
                    limit: None,
                    offset: 0,
                    ..query.clone()
                };
                assert_eq!(got, expected(&stored, &query), "{table}: {query:?}");
                assert_eq!(
                    page.count,
                    expected(&stored, &all).len() as u64,
                    "count, {table}: {query:?}"
                );
            }
        }
        s.close().await.unwrap();
    }
    server.cleanup().await;
}
