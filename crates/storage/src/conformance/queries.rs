//! Finding documents: every filter operator over nested paths and labels, sorting, paging.
//! The expected answers follow `switchyard_core::filter`, which a backend that pushes queries
//! down (SQL) must reproduce.

use super::{id_set, ids};
use serde_json::{Value, json};
use std::sync::Arc;
use switchyard_core::EntityKind::{Field, Node};
use switchyard_core::filter::{Filter, Operator, Query, SortOrder};
use switchyard_core::storage::{Storage, StorageError};

type Backend = Arc<dyn Storage>;

async fn nodes(s: &dyn Storage) {
    let docs = [
        json!({"id": "n1", "name": "node2", "gatewayId": "gw1",
               "labels": {"room": "kitchen", "floor": "1"},
               "state": {"battery": {"level": 80}}, "lastSeen": "2026-03-01T10:00:00Z"}),
        json!({"id": "n2", "name": "node10", "gatewayId": "gw1", "labels": {"room": "Hall"},
               "state": {"battery": {"level": 15}}, "lastSeen": "2026-03-02T10:00:00Z"}),
        json!({"id": "n3", "name": "Node3", "gatewayId": "gw2", "labels": {},
               "state": {"battery": {"level": "50"}}}),
        json!({"id": "n4", "name": "sensor", "gatewayId": "gw2", "labels": {"room": "kitchen"},
               "state": {}, "lastSeen": null}),
    ];
    for doc in docs {
        s.insert(Node, doc).await.unwrap();
    }
    // A field with matching values must never show up in a node query.
    s.insert(
        Field,
        json!({"id": "f1", "state": {"battery": {"level": 80}}}),
    )
    .await
    .unwrap();
}

pub async fn every_filter_operator(s: Backend) {
    nodes(&*s).await;
    let level = "state.battery.level";
    let cases: Vec<(Filter, &[&str])> = vec![
        (Filter::new(level, Operator::Eq, 80), &["n1"]),
        (Filter::new(level, Operator::Eq, 50), &["n3"]),
        (Filter::new(level, Operator::Ne, 80), &["n2", "n3", "n4"]),
        (Filter::new(level, Operator::Gt, 15), &["n1", "n3"]),
        (Filter::new(level, Operator::Gte, 50), &["n1", "n3"]),
        (Filter::new(level, Operator::Lt, 50), &["n2"]),
        (Filter::new(level, Operator::Lte, 50), &["n2", "n3"]),
        (
            Filter::new(level, Operator::In, json!([15, 80])),
            &["n1", "n2"],
        ),
        (
            Filter::new(level, Operator::Nin, json!([15, 80])),
            &["n3", "n4"],
        ),
        (
            Filter::new(level, Operator::RangeIn, json!([15, 50])),
            &["n2", "n3"],
        ),
        (
            Filter::new(level, Operator::RangeNotIn, json!([15, 50])),
            &["n1", "n4"],
        ),
        (
            Filter::new("labels.room", Operator::Regex, "^K"),
            &["n1", "n4"],
        ),
        (
            Filter::new("labels.room", Operator::Exists, true),
            &["n1", "n2", "n4"],
        ),
        (Filter::new("labels.room", Operator::Exists, false), &["n3"]),
        (
            Filter::new("lastSeen", Operator::Exists, false),
            &["n3", "n4"],
        ),
        (Filter::new("labels.floor", Operator::Eq, 1), &["n1"]),
        (
            Filter::new("lastSeen", Operator::Gt, "2026-03-01T12:00:00+01:00"),
            &["n2"],
        ),
        (Filter::eq("gatewayId", "gw2"), &["n3", "n4"]),
    ];
    for (filter, expected) in cases {
        let found = id_set(&*s, Node, Query::all().filter(filter.clone())).await;
        assert_eq!(found, expected, "{filter:?}");
    }
    let both = Query::all()
        .filter(Filter::eq("gatewayId", "gw2"))
        .filter(Filter::new("labels.room", Operator::Exists, true));
    assert_eq!(
        id_set(&*s, Node, both).await,
        ["n4"],
        "filters combine with and"
    );
    s.close().await.unwrap();
}

pub async fn invalid_queries_are_rejected(s: Backend) {
    nodes(&*s).await;
    let bad = [
        Filter::new("name", Operator::Regex, "(unclosed"),
        Filter::new("name", Operator::RangeIn, json!([1])),
    ];
    for filter in bad {
        let err = s.find(Node, &Query::all().filter(filter.clone())).await;
        assert!(
            matches!(err, Err(StorageError::Query(_))),
            "{filter:?}: {err:?}"
        );
        let err = s.delete(Node, &[filter]).await;
        assert!(matches!(err, Err(StorageError::Query(_))), "{err:?}");
    }
    assert_eq!(
        s.find(Node, &Query::all()).await.unwrap().count,
        4,
        "deleted nothing"
    );
    s.close().await.unwrap();
}

pub async fn sorts_by_several_keys(s: Backend) {
    nodes(&*s).await;
    let by = |keys: &[(&str, SortOrder)]| {
        keys.iter()
            .fold(Query::all(), |q, (key, order)| q.sort(*key, *order))
    };
    use SortOrder::{Asc, Desc};
    let cases: Vec<(Query, &[&str])> = vec![
        (by(&[("name", Asc)]), &["n1", "n3", "n2", "n4"]),
        (by(&[("name", Desc)]), &["n4", "n2", "n3", "n1"]),
        (
            by(&[("gatewayId", Asc), ("name", Desc)]),
            &["n2", "n1", "n4", "n3"],
        ),
        (
            by(&[("gatewayId", Desc), ("name", Asc)]),
            &["n3", "n4", "n1", "n2"],
        ),
        (
            by(&[("labels.room", Asc), ("id", Desc)]),
            &["n3", "n2", "n4", "n1"],
        ),
    ];
    for (query, expected) in cases {
        assert_eq!(
            ids(&*s, Node, query.clone()).await,
            expected,
            "{:?}",
            query.sort_by
        );
    }
    s.close().await.unwrap();
}

pub async fn pages_with_the_total_count(s: Backend) {
    let docs: Vec<Value> = (0..25)
        .map(|i| json!({"id": format!("p{i:02}"), "i": i}))
        .collect();
    for doc in docs {
        s.upsert(Node, doc).await.unwrap();
    }
    let by_i = || Query::all().sort("i", SortOrder::Asc);
    let page = s.find(Node, &by_i().page(10, 20)).await.unwrap();
    assert_eq!((page.count, page.limit, page.offset), (25, 10, 20));
    let is: Vec<i64> = page.data.iter().map(|d| d["i"].as_i64().unwrap()).collect();
    assert_eq!(is, [20, 21, 22, 23, 24]);

    let filtered = by_i().filter(Filter::new("i", Operator::Gte, 5)).page(5, 5);
    let page = s.find(Node, &filtered).await.unwrap();
    assert_eq!(page.count, 20, "count is of all matches, not of the page");
    let is: Vec<i64> = page.data.iter().map(|d| d["i"].as_i64().unwrap()).collect();
    assert_eq!(is, [10, 11, 12, 13, 14]);

    let rest = Query {
        offset: 22,
        ..by_i()
    };
    let page = s.find(Node, &rest).await.unwrap();
    assert_eq!((page.count, page.limit, page.data.len()), (25, -1, 3));
    let past = s.find(Node, &by_i().page(10, 100)).await.unwrap();
    assert_eq!((past.count, past.data.len()), (25, 0));
    s.close().await.unwrap();
}
