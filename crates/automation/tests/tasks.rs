use crate::common::*;
use serde_json::{Value, json};
use std::time::Duration;
use switchyard_automation::TaskService;
use switchyard_automation::task::evaluate::rule_holds;
use switchyard_core::model::{Dampening, EventFilter, Field, FieldValue, Task};
use switchyard_core::topics;

fn field(value: Value) -> Field {
    Field {
        id: "gw.1.2.temp".into(),
        gateway_id: "gw".into(),
        node_id: "1".into(),
        source_id: "2".into(),
        field_id: "temp".into(),
        current: FieldValue {
            value,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A task on field events whose rule is `temp.current.value > 25`.
fn rule_task(id: &str) -> Task {
    Task {
        id: id.into(),
        enabled: true,
        trigger_on_event: true,
        event_filter: EventFilter {
            event_types: vec!["created".into(), "updated".into()],
            entity_types: vec!["field".into()],
            filters: [("fieldId".to_string(), json!("temp"))].into(),
        },
        variables:
            json!({"temp": {"type": "resource_by_quick_id", "quickId": "field:gw.1.2.temp"}})
                .as_object()
                .cloned()
                .unwrap(),
        evaluation_type: "rule".into(),
        evaluation_config: json!({"rule": {"matchAll": true, "conditions": [
            {"variable": "temp.current.value", "operator": "gt", "value": "25"}
        ]}})
        .as_object()
        .cloned()
        .unwrap(),
        handlers: vec!["h1".into()],
        handler_parameters: json!({"msg": {"type": "webhook", "data": "{{ temp.current.value }}"}})
            .as_object()
            .cloned()
            .unwrap(),
        ..Default::default()
    }
}

#[tokio::test]
async fn rule_conditions_with_every_operator() {
    let h = Harness::new(utc("2026-01-01T00:00:00Z")).await;
    let ctx = h.context("UTC");
    let vars =
        json!({"t": {"v": 21.5, "name": "Kitchen sensor", "on": true, "list": "b"}, "limit": 20})
            .as_object()
            .cloned()
            .unwrap();
    let cases = [
        ("t.v", "eq", json!("21.5"), true),
        ("t.v", "ne", json!(21.5), false),
        ("t.v", "gt", json!("{{ limit }}"), true),
        ("t.v", "gte", json!(21.5), true),
        ("t.v", "lt", json!(21.5), false),
        ("t.v", "lte", json!(22), true),
        ("t.list", "in", json!("[\"a\",\"b\"]"), true),
        ("t.list", "nin", json!(["a", "b"]), false),
        ("t.v", "range_in", json!([20, 22]), true),
        ("t.v", "range_not_in", json!([20, 22]), false),
        ("t.name", "regex", json!("^kitchen"), true),
        ("t.missing", "exists", json!(false), true),
        ("t.on", "eq", json!("true"), true),
    ];
    for (var, op, value, want) in cases {
        let rule = json!({"conditions": [{"variable": var, "operator": op, "value": value}]});
        assert_eq!(
            rule_holds(&ctx, &rule, &vars).await.unwrap(),
            want,
            "{var} {op} {value}"
        );
    }
    let any = json!({"matchAll": false, "conditions": [
        {"variable": "t.v", "operator": "lt", "value": 0},
        {"variable": "t.v", "operator": "gt", "value": 0}]});
    assert!(rule_holds(&ctx, &any, &vars).await.unwrap());
    let all = json!({"matchAll": true, "conditions": [
        {"variable": "t.v", "operator": "lt", "value": 0},
        {"variable": "t.v", "operator": "gt", "value": 0}]});
    assert!(!rule_holds(&ctx, &all, &vars).await.unwrap());
    let bad = json!({"conditions": [{"variable": "t.v", "operator": "regex", "value": "(open"}]});
    assert!(rule_holds(&ctx, &bad, &vars).await.is_err());
    let bad = json!({"conditions": [{"variable": "t.v", "operator": "around", "value": 1}]});
    assert!(rule_holds(&ctx, &bad, &vars).await.is_err());
}

async fn start_tasks(h: &Harness) {
    let svc = TaskService::new(h.context("UTC"));
    tokio::spawn(svc.run(h.cancel.clone()));
    settle().await;
}

async fn count_notifications(sub: &mut switchyard_core::bus::Subscription) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(v) = next_json(sub, Duration::from_millis(50)).await {
        out.push(v);
    }
    out
}

#[tokio::test(start_paused = true)]
async fn a_rule_task_notifies_its_handlers_with_variables() {
    let h = Harness::new(utc("2026-01-01T00:00:00Z")).await;
    h.put(&rule_task("t1")).await;
    let mut notify = h.sub(topics::HANDLER_NOTIFY).await;
    start_tasks(&h).await;
    h.put(&field(json!(21.0))).await;
    settle().await;
    h.put(&field(json!(26.5))).await;
    let got = count_notifications(&mut notify).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["handlerId"], "h1");
    assert_eq!(got[0]["source"], "task:t1");
    assert_eq!(got[0]["variables"]["temp"]["current"]["value"], 26.5);
    assert_eq!(
        got[0]["variables"]["taskEvent"]["entityQuickId"],
        "field:gw.1.2.temp"
    );
    let t = h.store.get::<Task>("t1").await.unwrap().unwrap();
    assert_eq!(t.state.executed_count, 1);
    assert!(t.state.last_status);
    assert_eq!(t.state.message, "triggered");
}

#[tokio::test(start_paused = true)]
async fn ignore_duplicate_fires_only_on_false_to_true() {
    let h = Harness::new(utc("2026-01-01T00:00:00Z")).await;
    let mut t = rule_task("t1");
    t.ignore_duplicate = true;
    h.put(&t).await;
    let mut notify = h.sub(topics::HANDLER_NOTIFY).await;
    start_tasks(&h).await;
    for v in [26, 27, 28, 20, 30] {
        h.put(&field(json!(v))).await;
        settle().await;
    }
    assert_eq!(count_notifications(&mut notify).await.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn dampening_consecutive_and_n_of_m() {
    for (damp, values, expected) in [
        (
            Dampening {
                dampening_type: "consecutive".into(),
                occurrences: 3,
                ..Default::default()
            },
            vec![26, 26, 20, 26, 26, 26],
            1,
        ),
        (
            Dampening {
                dampening_type: "evaluation".into(),
                occurrences: 2,
                evaluation: 3,
                ..Default::default()
            },
            vec![26, 20, 20, 26, 20, 26],
            1,
        ),
    ] {
        let h = Harness::new(utc("2026-01-01T00:00:00Z")).await;
        let mut t = rule_task("t1");
        t.dampening = damp.clone();
        h.put(&t).await;
        let mut notify = h.sub(topics::HANDLER_NOTIFY).await;
        start_tasks(&h).await;
        for v in values {
            h.put(&field(json!(v))).await;
            settle().await;
        }
        assert_eq!(
            count_notifications(&mut notify).await.len(),
            expected,
            "{damp:?}"
        );
        let t = h.store.get::<Task>("t1").await.unwrap().unwrap();
        assert_eq!(
            t.state.executions_history.len(),
            3,
            "history is bounded by the dampening"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn active_duration_fires_after_the_condition_held_long_enough() {
    let h = Harness::new(utc("2026-01-01T00:00:00Z")).await;
    let mut t = rule_task("t1");
    t.dampening = Dampening {
        dampening_type: "active_duration".into(),
        active_duration: "1m".into(),
        ..Default::default()
    };
    h.put(&t).await;
    let mut notify = h.sub(topics::HANDLER_NOTIFY).await;
    start_tasks(&h).await;
    h.put(&field(json!(26))).await;
    // Broken by a false reading at 30 s: the clock starts again.
    tokio::time::sleep(Duration::from_secs(30)).await;
    h.put(&field(json!(20))).await;
    settle().await;
    h.put(&field(json!(27))).await;
    tokio::time::sleep(Duration::from_secs(59)).await;
    assert!(count_notifications(&mut notify).await.is_empty());
    // No new reading needed: the task re-checks when the minute is up.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = count_notifications(&mut notify).await;
    assert_eq!(got.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn auto_disable_and_re_enable_survive_a_restart() {
    let h = Harness::new(utc("2026-01-01T00:00:00Z")).await;
    let mut t = rule_task("t1");
    t.auto_disable = true;
    t.re_enable = true;
    t.re_enable_duration = "10m".into();
    h.put(&t).await;
    let mut notify = h.sub(topics::HANDLER_NOTIFY).await;
    let first = CancellationTokenExt::child(&h.cancel);
    tokio::spawn(TaskService::new(h.context("UTC")).run(first.clone()));
    settle().await;
    h.put(&field(json!(26))).await;
    h.put(&field(json!(27))).await;
    assert_eq!(count_notifications(&mut notify).await.len(), 1);
    let stored = h.store.get::<Task>("t1").await.unwrap().unwrap();
    assert!(!stored.enabled);
    assert_eq!(stored.state.re_enable_at, Some(utc("2026-01-01T00:10:00Z")));
    // Restart in the middle of the wait.
    tokio::time::sleep(Duration::from_secs(300)).await;
    first.cancel();
    settle().await;
    tokio::spawn(TaskService::new(h.context("UTC")).run(h.cancel.clone()));
    tokio::time::sleep(Duration::from_secs(301)).await;
    let stored = h.store.get::<Task>("t1").await.unwrap().unwrap();
    assert!(stored.enabled, "{:?}", stored.state);
    settle().await;
    h.put(&field(json!(28))).await;
    assert_eq!(count_notifications(&mut notify).await.len(), 1);
}

struct CancellationTokenExt;
impl CancellationTokenExt {
    fn child(t: &tokio_util::sync::CancellationToken) -> tokio_util::sync::CancellationToken {
        t.child_token()
    }
}

#[tokio::test(start_paused = true)]
async fn javascript_returns_a_boolean_or_an_object_with_variables() {
    let h = Harness::new(utc("2026-01-01T00:00:00Z")).await;
    let mut t = rule_task("js1");
    t.evaluation_type = "javascript".into();
    t.evaluation_config = json!({"javascript":
        "let level = temp.current.value > 30 ? 'hot' : 'warm'; ({isTriggered: temp.current.value > 25, level})"})
        .as_object().cloned().unwrap();
    h.put(&t).await;
    let mut t2 = rule_task("js2");
    t2.evaluation_type = "javascript".into();
    t2.evaluation_config = json!({"javascript": "taskEvent.entity.current.value > 25"})
        .as_object()
        .cloned()
        .unwrap();
    h.put(&t2).await;
    let mut notify = h.sub(topics::HANDLER_NOTIFY).await;
    start_tasks(&h).await;
    h.put(&field(json!(31))).await;
    let mut got = Vec::new();
    for _ in 0..2 {
        got.push(
            next_json(&mut notify, Duration::from_secs(10))
                .await
                .unwrap(),
        );
    }
    got.sort_by_key(|v| v["source"].as_str().unwrap_or("").to_string());
    assert_eq!(got[0]["source"], "task:js1");
    assert_eq!(got[0]["variables"]["level"], "hot");
    assert_eq!(got[1]["source"], "task:js2");
}

#[tokio::test(start_paused = true)]
async fn a_runaway_script_is_an_error_on_the_task_and_other_tasks_go_on() {
    let h = Harness::new(utc("2026-01-01T00:00:00Z")).await;
    let mut bad = rule_task("loop");
    bad.evaluation_type = "javascript".into();
    bad.evaluation_config = json!({"javascript": "while (true) {}"})
        .as_object()
        .cloned()
        .unwrap();
    h.put(&bad).await;
    let mut hog = rule_task("hog");
    hog.evaluation_type = "javascript".into();
    hog.evaluation_config =
        json!({"javascript": "let a = []; while (true) a.push('x'.repeat(4096));"})
            .as_object()
            .cloned()
            .unwrap();
    h.put(&hog).await;
    h.put(&rule_task("good")).await;
    let mut notify = h.sub(topics::HANDLER_NOTIFY).await;
    start_tasks(&h).await;
    h.put(&field(json!(26))).await;
    let n = next_json(&mut notify, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(n["source"], "task:good");
    let check = |id: &'static str, want: &'static str| {
        let store = h.store.clone();
        async move {
            eventually(Duration::from_secs(120), || {
                let store = store.clone();
                async move {
                    store
                        .get::<Task>(id)
                        .await
                        .unwrap()
                        .unwrap()
                        .state
                        .message
                        .contains(want)
                }
            })
            .await
        }
    };
    assert!(check("loop", "ran longer than").await);
    assert!(check("hog", "memory").await);
}
