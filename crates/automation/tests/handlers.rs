use crate::common::*;
use axum::routing::post;
use serde_json::{Value, json};
use std::time::Duration;
use switchyard_automation::HandlerService;
use switchyard_automation::notify::notify_handlers;
use switchyard_core::model::{Field, FieldValue, Handler, Node, Status};
use tokio::sync::mpsc;

pub fn handler(id: &str, kind: &str, spec: Value) -> Handler {
    Handler {
        id: id.into(),
        enabled: true,
        handler_type: kind.into(),
        spec: spec.as_object().cloned().unwrap_or_default(),
        ..Default::default()
    }
}

pub async fn send(h: &Harness, handler: &str, params: Value, vars: Value) {
    notify_handlers(
        h.bus.as_ref(),
        "task:test",
        &[handler.to_string()],
        params.as_object().unwrap(),
        vars.as_object().unwrap(),
    )
    .await
    .unwrap();
}

pub async fn wait_state(h: &Harness, id: &str, status: Status, wait: Duration) -> Handler {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let got = h.store.get::<Handler>(id).await.unwrap();
        if let Some(x) = &got
            && x.state.status == status
            && x.state.since.is_some()
        {
            return x.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "handler {id} never reached {status:?}: {:?}",
            got.map(|g| g.state)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A local HTTP server recording request bodies; `/fail` answers 500, `/hang` never answers.
pub async fn http_sink() -> (String, mpsc::UnboundedReceiver<(String, String)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let t1 = tx.clone();
    let app = axum::Router::new()
        .route(
            "/hook",
            post(move |headers: axum::http::HeaderMap, body: String| {
                let tx = t1.clone();
                async move {
                    let ct = headers
                        .get("x-test")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    let _ = tx.send((ct, body));
                    "ok"
                }
            }),
        )
        .route(
            "/fail",
            post(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route(
            "/hang",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                "late"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), rx)
}

#[tokio::test]
async fn webhook_delivers_a_templated_body_and_errors_stay_on_their_own_handler() {
    let h = Harness::new(chrono::Utc::now()).await;
    let (base, mut rx) = http_sink().await;
    h.put(&handler(
        "hook",
        "webhook",
        json!({"url": format!("{base}/hook"), "method": "POST", "headers": {"x-test": "yes"}}),
    ))
    .await;
    h.put(&handler(
        "fail",
        "webhook",
        json!({"url": format!("{base}/fail"), "method": "POST"}),
    ))
    .await;
    h.put(&handler(
        "hang",
        "webhook",
        json!({"url": format!("{base}/hang"), "method": "POST", "timeout": "300ms"}),
    ))
    .await;
    tokio::spawn(HandlerService::new(h.context("UTC")).run(h.cancel.clone()));
    settle().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let params = json!({"p": {"type": "webhook", "data": "{{ temp.current.value }} °C in {{ temp.labels.room }}"}});
    let vars = json!({"temp": {"current": {"value": 26.5}, "labels": {"room": "hall"}}});
    send(&h, "hang", params.clone(), vars.clone()).await;
    send(&h, "fail", params.clone(), vars.clone()).await;
    send(&h, "hook", params.clone(), vars.clone()).await;
    let (header, body) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(body, "26.5 °C in hall");
    assert_eq!(header, "yes");
    let ok = wait_state(&h, "hook", Status::Ok, Duration::from_secs(10)).await;
    assert!(
        ok.state.message.contains("from task:test"),
        "{:?}",
        ok.state
    );
    let fail = wait_state(&h, "fail", Status::Error, Duration::from_secs(10)).await;
    assert!(
        fail.state.message.contains("answered 500"),
        "{:?}",
        fail.state
    );
    let hang = wait_state(&h, "hang", Status::Error, Duration::from_secs(10)).await;
    assert!(
        hang.state.message.contains("within 300ms"),
        "{:?}",
        hang.state
    );
    // A template that does not compile is an error on the handler, with the reason.
    send(
        &h,
        "hook",
        json!({"p": {"type": "webhook", "data": "{{ temp.current.value "}}),
        vars,
    )
    .await;
    let bad = wait_state(&h, "hook", Status::Error, Duration::from_secs(10)).await;
    assert!(
        bad.state.message.contains("template does not compile"),
        "{:?}",
        bad.state
    );
}

fn relay_field(value: bool) -> Field {
    Field {
        id: "gw.1.2.relay".into(),
        gateway_id: "gw".into(),
        node_id: "1".into(),
        source_id: "2".into(),
        field_id: "relay".into(),
        current: FieldValue {
            value: json!(value),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[tokio::test(start_paused = true)]
async fn resource_handler_sets_toggles_and_disables() {
    let h = Harness::new(utc("2026-01-01T00:00:00Z")).await;
    h.put(&relay_field(true)).await;
    let mut node = Node {
        id: "gw.1".into(),
        gateway_id: "gw".into(),
        node_id: "1".into(),
        ..Default::default()
    };
    node.labels.insert("sleep_node".into(), "true".into());
    h.store.upsert(&node).await.unwrap();
    h.put(&handler("res", "resource", json!({}))).await;
    h.put(&handler("victim", "noop", json!({}))).await;
    let mut to_gw = h.sub("message.to_gateway.>").await;
    tokio::spawn(HandlerService::new(h.context("UTC")).run(h.cancel.clone()));
    settle().await;
    send(
        &h,
        "res",
        json!({
            "a": {"type": "resource_by_quick_id", "quickId": "field:gw.1.2.relay", "payload": "toggle"},
            "b": {"type": "resource_by_quick_id", "quickId": "handler:victim", "payload": "disable"},
        }),
        json!({}),
    )
    .await;
    let m = next_json(&mut to_gw, Duration::from_secs(5)).await.unwrap();
    assert_eq!(m["type"], "set");
    assert_eq!(m["payloads"][0]["key"], "relay");
    assert_eq!(m["payloads"][0]["value"], "0");
    assert_eq!(m["isSleepNode"], true);
    assert!(
        eventually(Duration::from_secs(5), || {
            let s = h.store.clone();
            async move { !s.get::<Handler>("victim").await.unwrap().unwrap().enabled }
        })
        .await
    );
    wait_state(&h, "res", Status::Ok, Duration::from_secs(5)).await;
}

/// A 60 s delayed action: the service is dropped after 30 s and a new one started on the same
/// storage; the action fires once, at 60 s.
#[tokio::test(start_paused = true)]
async fn a_delayed_action_survives_a_restart_and_fires_once_on_time() {
    let start = utc("2026-01-01T00:00:00Z");
    let h = Harness::new(start).await;
    h.put(&relay_field(false)).await;
    h.put(&handler("res", "resource", json!({}))).await;
    let mut to_gw = h.sub("message.to_gateway.gw").await;
    let first = h.cancel.child_token();
    let svc = tokio::spawn(HandlerService::new(h.context("UTC")).run(first.clone()));
    settle().await;
    let delayed = |payload: &str| json!({"later": {"type": "resource_by_quick_id", "quickId": "field:gw.1.2.relay", "payload": payload, "preDelay": "60s"}});
    send(&h, "res", delayed("off"), json!({})).await;
    settle().await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    // Debounce: a newer action of the same name replaces the pending one (and its time).
    send(&h, "res", delayed("on"), json!({})).await;
    settle().await;
    tokio::time::sleep(Duration::from_secs(20)).await;
    first.cancel();
    svc.await.unwrap();
    assert!(
        next_json(&mut to_gw, Duration::from_millis(1))
            .await
            .is_none()
    );
    tokio::spawn(HandlerService::new(h.context("UTC")).run(h.cancel.clone()));
    settle().await;
    let m = next_json(&mut to_gw, Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(m["payloads"][0]["value"], "on");
    assert_eq!(
        h.clock.now(),
        utc("2026-01-01T00:01:10Z"),
        "fired 60 s after the newer action"
    );
    assert!(
        next_json(&mut to_gw, Duration::from_secs(600))
            .await
            .is_none(),
        "fired once"
    );
    let left = switchyard_automation::state::pending::load(&h.store, "res")
        .await
        .unwrap();
    assert!(left.is_empty());
}

#[tokio::test]
async fn backup_writes_an_archive_and_keeps_n() {
    let h = Harness::new(chrono::Utc::now()).await;
    h.put(&relay_field(true)).await;
    h.put(&handler(
        "bk",
        "backup",
        json!({"prefix": "nightly", "retentionCount": 2}),
    ))
    .await;
    let svc = HandlerService::new(h.context("UTC"));
    tokio::spawn(svc.run(h.cancel.clone()));
    settle().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let dir = h.dir.path().join("backups");
    for i in 0..3 {
        send(&h, "bk", json!({"b": {"type": "backup"}}), json!({})).await;
        wait_state(&h, "bk", Status::Ok, Duration::from_secs(10)).await;
        // Names carry the second; let each backup get its own.
        if i < 2 {
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
        switchyard_automation::state::write_state(
            &h.store,
            h.bus.as_ref(),
            switchyard_core::EntityKind::Handler,
            "bk",
            &switchyard_core::model::State::default(),
        )
        .await
        .unwrap();
    }
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(
        files
            .iter()
            .all(|f| f.starts_with("nightly_") && f.ends_with(".zip")),
        "{files:?}"
    );
    // The same archive the API makes, so the API's reader (restore's first step) takes it.
    let file = std::fs::File::open(dir.join(&files[1])).unwrap();
    let contents = switchyard_api::backup::archive::read(file, 64 << 20).unwrap();
    assert_eq!(
        contents.snapshot[&switchyard_core::EntityKind::Field][0]["id"],
        "gw.1.2.relay"
    );
    assert!(contents.manifest.secrets.is_some());
    assert!(contents.manifest.metrics.is_none());
    // The history cannot be included where no metric store runs: a clear error.
    h.put(&handler("bk3", "backup", json!({"includeMetrics": true})))
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    send(&h, "bk3", json!({"b": {"type": "backup"}}), json!({})).await;
    let st = wait_state(&h, "bk3", Status::Error, Duration::from_secs(10)).await;
    assert!(
        st.state.message.contains("no metric store"),
        "{}",
        st.state.message
    );
    let refused =
        crate::handlers::handler("bk2", "backup", json!({"targetDirectory": "../escape"}));
    h.put(&refused).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    send(&h, "bk2", json!({"b": {"type": "backup"}}), json!({})).await;
    let st = wait_state(&h, "bk2", Status::Error, Duration::from_secs(10)).await;
    assert!(st.state.message.contains("inside the backups folder"));
}
