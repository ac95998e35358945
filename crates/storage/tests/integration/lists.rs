//! The embedded backend answers lists from the file, narrowing them by the id parts of nodes,
//! sources and fields; the memory backend filters every document in memory, the plain reading of
//! the query model. Both must return the same pages for the same data, whatever the documents'
//! ids look like.

use crate::Dirs;
use serde_json::{Value, json};
use std::sync::Arc;
use switchyard_core::EntityKind::{self, Field, Node};
use switchyard_core::filter::{Filter, Operator, Query, SortOrder};
use switchyard_core::storage::{Storage, WriteOp};
use switchyard_storage::{EmbeddedConfig, EmbeddedStorage, MemoryConfig, MemoryStorage};

fn field(g: &str, n: &str, s: &str, f: &str, name: &str) -> Value {
    json!({
        "id": format!("{g}.{n}.{s}.{f}"),
        "gatewayId": g, "nodeId": n, "sourceId": s, "fieldId": f,
        "name": name, "current": {"value": name.len()},
    })
}

/// Regular documents under look-alike ids (`1`, `01`, `1-x`, `10`), and irregular ones: parts
/// that differ from the id, a number for a part, an id of the wrong shape.
fn documents() -> Vec<WriteOp> {
    let mut docs = Vec::new();
    for g in ["gw", "gw-b", "05", "5"] {
        for n in ["1", "01", "1-x", "10", "2"] {
            docs.push(WriteOp::Upsert(
                Node,
                json!({"id": format!("{g}.{n}"), "gatewayId": g, "nodeId": n, "name": format!("{n}{g}")}),
            ));
            for s in ["1", "2"] {
                for f in ["t", "h"] {
                    let name = format!("{f}{s}{n}{g}");
                    docs.push(WriteOp::Upsert(Field, field(g, n, s, f, &name)));
                }
            }
        }
    }
    let mut moved = field("gw", "1", "1", "moved", "moved");
    moved["gatewayId"] = json!("gw-b");
    let mut numeric = field("gw", "7", "1", "t", "numeric");
    numeric["nodeId"] = json!(1);
    let mut short = field("gw", "1", "1", "x", "short");
    short["id"] = json!("gw.1.1");
    let mut long = field("gw", "1", "1", "x", "long");
    long["id"] = json!("gw.1.1.x.y");
    for doc in [
        moved,
        numeric,
        short,
        long,
        json!({"id": "lonely", "name": "lonely"}),
    ] {
        docs.push(WriteOp::Upsert(Field, doc));
    }
    docs.push(WriteOp::Upsert(
        Node,
        json!({"id": "gw", "gatewayId": "gw", "nodeId": "1"}),
    ));
    docs
}

fn queries() -> Vec<Query> {
    let eq = |k: &str, v: Value| Filter::eq(k, v);
    let mut out = vec![
        Query::all(),
        Query::all().page(7, 3),
        Query::all().sort("name", SortOrder::Desc).page(10, 5),
    ];
    let gateways = [
        json!("gw"),
        json!("gw-b"),
        json!("5"),
        json!(5),
        json!("05"),
        json!("none"),
        Value::Null,
    ];
    let nodes = [
        json!("1"),
        json!(1),
        json!("01"),
        json!("1-x"),
        json!("10"),
        json!("2"),
        json!("zz"),
    ];
    for g in &gateways {
        out.push(Query::all().filter(eq("gatewayId", g.clone())));
        for n in &nodes {
            let q = Query::all()
                .filter(eq("gatewayId", g.clone()))
                .filter(eq("nodeId", n.clone()));
            out.push(q.clone());
            out.push(q.clone().page(3, 2));
            out.push(q.clone().filter(eq("sourceId", json!("1"))));
            out.push(
                q.clone()
                    .filter(eq("sourceId", json!("1")))
                    .filter(eq("fieldId", json!("t"))),
            );
            out.push(q.clone().sort("name", SortOrder::Asc).page(4, 1));
            out.push(q.filter(Filter::new("name", Operator::Regex, "^t")));
        }
    }
    out.push(Query::all().filter(eq("nodeId", json!("1"))));
    out.push(Query::all().filter(eq("id", json!("gw.1.1.t"))));
    out.push(Query::all().filter(eq("id", json!("gw.1"))));
    out.push(Query::all().filter(eq("id", json!("lonely"))));
    out.push(
        Query::all()
            .filter(eq("gatewayId", json!("gw")))
            .filter(eq("gatewayId", json!("gw-b"))),
    );
    out.push(
        Query::all()
            .filter(Filter::new("gatewayId", Operator::In, json!(["gw", "5"])))
            .sort("current.value", SortOrder::Desc)
            .sort("name", SortOrder::Asc),
    );
    out
}

async fn compare(embedded: &dyn Storage, memory: &dyn Storage, when: &str) {
    for kind in [Field, Node, EntityKind::Source] {
        for q in queries() {
            let want = memory.find(kind, &q).await.unwrap();
            let got = embedded.find(kind, &q).await.unwrap();
            assert_eq!(got, want, "{when}: {kind} {q:?}");
        }
    }
}

#[tokio::test]
async fn lists_match_the_in_memory_backend() {
    lists_match().await;
}

/// Long scans leave the runtime worker (`block_in_place`), which only a multi-threaded runtime
/// allows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_match_on_many_threads() {
    lists_match().await;
}

async fn lists_match() {
    let dirs = Dirs::new();
    let embedded_dir = dirs.fresh();
    let config = EmbeddedConfig::default();
    let open = || EmbeddedStorage::open(&embedded_dir, &config);
    let embedded: Arc<dyn Storage> = Arc::new(open().await.unwrap());
    let memory = MemoryStorage::open(&dirs.fresh(), &MemoryConfig::default())
        .await
        .unwrap();
    for s in [&*embedded, &memory as &dyn Storage] {
        s.apply(documents()).await.unwrap();
    }
    compare(&*embedded, &memory, "written").await;

    // A regular document turns irregular and back; one goes away.
    let mut changed = field("gw", "2", "1", "t", "t12gw");
    changed["gatewayId"] = json!("gw-b");
    let ops = vec![
        WriteOp::Upsert(Field, changed),
        WriteOp::Upsert(Field, field("gw", "1", "1", "moved", "moved")),
        WriteOp::Delete(Field, "gw.7.1.t".into()),
    ];
    for s in [&*embedded, &memory as &dyn Storage] {
        s.apply(ops.clone()).await.unwrap();
    }
    compare(&*embedded, &memory, "changed").await;

    embedded.close().await.unwrap();
    drop(embedded);
    let embedded = open().await.unwrap();
    compare(&embedded, &memory, "reopened").await;

    let snapshot = memory.export().await.unwrap();
    embedded.import(snapshot).await.unwrap();
    compare(&embedded, &memory, "imported").await;
}
