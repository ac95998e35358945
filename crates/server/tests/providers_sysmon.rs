//! System monitoring through the real binary: the machine running the test is the device. Its
//! readings become a node with sources and fields, numeric ones with metric points; it keeps
//! reporting on its intervals with the gateway and node up (it cannot lose its host); the node
//! action `refresh_node_info` from the API reads every group at once; a set is refused (nothing
//! here can be written) and counted as a failed send.

use crate::support::{Api, eventually};
use serde_json::{Value, json};

fn timestamp(field: &Value) -> String {
    field["current"]["timestamp"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn the_host_reports_keeps_reporting_and_refreshes_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(dir.path()).await;
    // CPU every second; memory and host info only when asked (an hour is beyond any test).
    api.gateway(
        "sys",
        json!({"type": "system_monitoring", "nodeId": "host",
               "intervals": {"cpu": "1s", "memory": "1h", "host": "1h", "network": "1h",
                             "disk": "1h", "process": "1h", "temperature": "1h"},
               "processes": {"switchyard": "switchyard"}}),
    )
    .await;

    let node = api
        .wait_resource("node", "sys.host", |n| {
            n["state"]["status"] == "up" && n["others"]["cpu_count"].is_number()
        })
        .await;
    assert!(!node["name"].as_str().unwrap_or("").is_empty(), "{node}");
    for source in ["cpu", "memory", "process_switchyard"] {
        api.wait_resource("source", &format!("sys.host.{source}"), |_| true)
            .await;
    }
    let total = api
        .wait_resource("field", "sys.host.memory.total", |f| {
            f["current"]["value"].as_f64().is_some_and(|v| v > 0.0)
        })
        .await;
    assert_eq!(total["unit"], "MiB", "{total}");
    // The binary under test is one of the processes it counts.
    api.wait_resource("field", "sys.host.process_switchyard.count", |f| {
        f["current"]["value"].as_f64().is_some_and(|v| v >= 1.0)
    })
    .await;
    let cpu = api
        .wait_resource("field", "sys.host.cpu.total", |f| {
            f["current"]["value"]
                .as_f64()
                .is_some_and(|v| (0.0..=100.0).contains(&v))
        })
        .await;

    // It keeps reporting: the CPU field moves on and its metric series grows, the gateway and
    // the node stay up.
    let first = timestamp(&cpu);
    api.wait_resource("field", "sys.host.cpu.total", |f| timestamp(f) != first)
        .await;
    eventually("two metric points of cpu.total", || async {
        let points = api.metric_values("field:sys.host.cpu.total").await;
        (points.len() >= 2 && points.iter().all(|p| p.as_f64().is_some())).then_some(())
    })
    .await;
    let gw = api.resource("gateway", "sys").await.unwrap();
    assert_eq!(gw["state"]["status"], "up", "{gw}");
    let n = api.resource("node", "sys.host").await.unwrap();
    assert_eq!(n["state"]["status"], "up", "{n}");

    // Memory is read hourly here, so a newer reading can only come from the action.
    let read = timestamp(
        &api.resource("field", "sys.host.memory.total")
            .await
            .unwrap(),
    );
    api.action("node:sys.host", "refresh_node_info").await;
    api.wait_resource("field", "sys.host.memory.total", |f| timestamp(f) != read)
        .await;

    // A set is refused by the provider: counted as a failed send, the value untouched.
    let failed = api.gateway_counters("sys").await["sendFailed"]
        .as_u64()
        .unwrap_or(0);
    api.action("field:sys.host.memory.total", "1").await;
    eventually("the refused set counted", || async {
        let now = api.gateway_counters("sys").await["sendFailed"].as_u64()?;
        (now > failed).then_some(())
    })
    .await;
    let total = api
        .resource("field", "sys.host.memory.total")
        .await
        .unwrap();
    assert_ne!(total["current"]["value"], json!(1.0), "{total}");
    let gw = api.resource("gateway", "sys").await.unwrap();
    assert_eq!(gw["state"]["status"], "up", "{gw}");
    api.server.terminate().await;
}
