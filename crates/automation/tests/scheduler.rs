use crate::common::*;
use chrono::Timelike;
use serde_json::{Value, json};
use std::time::Duration;
use switchyard_automation::SchedulerService;
use switchyard_core::model::{Schedule, ScheduleValidity, Settings};
use switchyard_core::topics;

fn schedule(id: &str, kind: &str, spec: Value) -> Schedule {
    Schedule {
        id: id.into(),
        enabled: true,
        schedule_type: kind.into(),
        spec: spec.as_object().cloned().unwrap(),
        handlers: vec!["h".into()],
        handler_parameters: json!({"p": {"type": "noop", "at": "{{ now() }}"}})
            .as_object()
            .cloned()
            .unwrap(),
        ..Default::default()
    }
}

async fn fire_times(
    h: &Harness,
    sub: &mut switchyard_core::bus::Subscription,
    n: usize,
    wait: Duration,
) -> Vec<chrono::DateTime<chrono::Utc>> {
    let mut out = Vec::new();
    for _ in 0..n {
        if next_json(sub, wait).await.is_none() {
            break;
        }
        out.push(h.clock.now());
    }
    out
}

#[tokio::test(start_paused = true)]
async fn cron_with_seconds_fires_on_time_and_shows_the_next_run() {
    let h = Harness::new(utc("2026-01-01T00:00:03Z")).await;
    h.put(&schedule(
        "c",
        "cron",
        json!({"cronExpression": "*/10 * * * * *"}),
    ))
    .await;
    let mut notify = h.sub(topics::HANDLER_NOTIFY).await;
    tokio::spawn(SchedulerService::new(h.context("UTC")).run(h.cancel.clone()));
    settle().await;
    let s = h.store.get::<Schedule>("c").await.unwrap().unwrap();
    assert_eq!(s.state.next_run, Some(utc("2026-01-01T00:00:10Z")));
    let times = fire_times(&h, &mut notify, 3, Duration::from_secs(60)).await;
    assert_eq!(
        times,
        [
            utc("2026-01-01T00:00:10Z"),
            utc("2026-01-01T00:00:20Z"),
            utc("2026-01-01T00:00:30Z")
        ]
    );
    let s = h.store.get::<Schedule>("c").await.unwrap().unwrap();
    assert_eq!(s.state.executed_count, 3);
    assert_eq!(s.state.last_run, Some(utc("2026-01-01T00:00:30Z")));
}

/// London, 2024-06-21: sunrise 04:43 BST (03:43 UTC) per HM Nautical Almanac Office data
/// (as published by timeanddate.com). The schedule fires within a minute of it.
#[tokio::test(start_paused = true)]
async fn a_sunrise_schedule_fires_at_the_almanac_time() {
    let h = Harness::new(utc("2024-06-20T22:00:00Z")).await;
    h.store
        .upsert(&Settings {
            id: Settings::SYSTEM.into(),
            spec: json!({"geoLocation": {"latitude": 51.5074, "longitude": -0.1278}})
                .as_object()
                .cloned()
                .unwrap(),
            modified_on: None,
        })
        .await
        .unwrap();
    h.put(&schedule("sun", "sunrise", json!({"frequency": "daily"})))
        .await;
    let mut notify = h.sub(topics::HANDLER_NOTIFY).await;
    tokio::spawn(SchedulerService::new(h.context("Europe/London")).run(h.cancel.clone()));
    let t = fire_times(&h, &mut notify, 1, Duration::from_secs(86400)).await;
    let local = t[0].with_timezone(&chrono_tz::Europe::London);
    let minutes = (local.hour() * 60 + local.minute()) as i64;
    assert!((minutes - (4 * 60 + 43)).abs() <= 1, "{local}");
    assert_eq!(local.date_naive().to_string(), "2024-06-21");
}

#[tokio::test(start_paused = true)]
async fn runs_outside_the_validity_window_are_skipped() {
    let h = Harness::new(utc("2026-01-01T07:00:00Z")).await;
    let mut s = schedule("v", "cron", json!({"cronExpression": "0 0 * * * *"}));
    s.validity = ScheduleValidity {
        enabled: true,
        date: Default::default(),
        time: json!({"from": "09:00", "to": "10:30"})
            .as_object()
            .cloned()
            .unwrap(),
        validate_time_everyday: true,
    };
    h.put(&s).await;
    let mut notify = h.sub(topics::HANDLER_NOTIFY).await;
    tokio::spawn(SchedulerService::new(h.context("UTC")).run(h.cancel.clone()));
    let t = fire_times(&h, &mut notify, 2, Duration::from_secs(6 * 3600)).await;
    assert_eq!(
        t,
        [utc("2026-01-01T09:00:00Z"), utc("2026-01-01T10:00:00Z")]
    );
    let t = fire_times(&h, &mut notify, 1, Duration::from_secs(24 * 3600)).await;
    assert_eq!(t, [utc("2026-01-02T09:00:00Z")]);
}

#[tokio::test(start_paused = true)]
async fn repeat_count_disables_and_a_bad_cron_is_an_error_on_state() {
    let h = Harness::new(utc("2026-01-01T00:00:00Z")).await;
    h.put(&schedule(
        "r",
        "repeat",
        json!({"interval": "1m", "repeatCount": 2}),
    ))
    .await;
    h.put(&schedule(
        "bad",
        "cron",
        json!({"cronExpression": "not a cron"}),
    ))
    .await;
    let mut notify = h.sub(topics::HANDLER_NOTIFY).await;
    tokio::spawn(SchedulerService::new(h.context("UTC")).run(h.cancel.clone()));
    let t = fire_times(&h, &mut notify, 3, Duration::from_secs(600)).await;
    assert_eq!(
        t,
        [utc("2026-01-01T00:01:00Z"), utc("2026-01-01T00:02:00Z")]
    );
    assert!(!h.store.get::<Schedule>("r").await.unwrap().unwrap().enabled);
    let bad = h.store.get::<Schedule>("bad").await.unwrap().unwrap();
    assert!(
        bad.state.message.contains("cron expression `not a cron`"),
        "{:?}",
        bad.state
    );
}

#[tokio::test(start_paused = true)]
async fn a_missed_run_follows_the_schedules_policy() {
    let h = Harness::new(utc("2026-01-01T12:00:00Z")).await;
    for (id, policy) in [("skip", ""), ("once", "run_once")] {
        let mut s = schedule(id, "cron", json!({"cronExpression": "0 0 6 * * *"}));
        s.missed_run = policy.into();
        // It was due at 06:00 while the server was down.
        s.state.next_run = Some(utc("2026-01-01T06:00:00Z"));
        h.store.upsert(&s).await.unwrap();
    }
    let mut notify = h.sub(topics::HANDLER_NOTIFY).await;
    tokio::spawn(SchedulerService::new(h.context("UTC")).run(h.cancel.clone()));
    let first = next_json(&mut notify, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(first["source"], "schedule:once");
    assert!(
        next_json(&mut notify, Duration::from_secs(3600))
            .await
            .is_none()
    );
    let skip = h.store.get::<Schedule>("skip").await.unwrap().unwrap();
    assert!(skip.state.message.contains("missed"), "{:?}", skip.state);
    assert_eq!(skip.state.next_run, Some(utc("2026-01-02T06:00:00Z")));
}

/// The clock is set back two hours just after an hourly schedule's 06:00 run: the 05:00 and
/// 06:00 runs, already done, do not run again; the next run is at 07:00 by the clock.
#[tokio::test(start_paused = true)]
async fn a_clock_set_back_does_not_run_a_schedule_twice() {
    let h = Harness::new(utc("2026-01-01T05:59:00Z")).await;
    h.put(&schedule(
        "d",
        "cron",
        json!({"cronExpression": "0 0 * * * *"}),
    ))
    .await;
    let mut notify = h.sub(topics::HANDLER_NOTIFY).await;
    tokio::spawn(SchedulerService::new(h.context("UTC")).run(h.cancel.clone()));
    let t = fire_times(&h, &mut notify, 1, Duration::from_secs(120)).await;
    assert_eq!(t, [utc("2026-01-01T06:00:00Z")]);
    h.clock.set_by(chrono::Duration::hours(-2));
    // The clock reads about 04:00 again: nothing runs until it reads 07:00.
    let t = fire_times(&h, &mut notify, 1, Duration::from_secs(4 * 3600)).await;
    assert_eq!(t, [utc("2026-01-01T07:00:00Z")]);
    let s = h.store.get::<Schedule>("d").await.unwrap().unwrap();
    assert_eq!(s.state.executed_count, 2);
}

/// The clock is set forward from 05:00 to 08:00: the 06:00 run it jumped over runs once, as
/// soon as the jump is noticed (within 30 s), and the next run is the next day's.
#[tokio::test(start_paused = true)]
async fn a_clock_set_forward_runs_a_skipped_run_once() {
    let h = Harness::new(utc("2026-01-01T05:00:00Z")).await;
    h.put(&schedule(
        "d",
        "cron",
        json!({"cronExpression": "0 0 6 * * *"}),
    ))
    .await;
    let mut notify = h.sub(topics::HANDLER_NOTIFY).await;
    tokio::spawn(SchedulerService::new(h.context("UTC")).run(h.cancel.clone()));
    tokio::time::sleep(Duration::from_secs(60)).await;
    h.clock.set_by(chrono::Duration::hours(3));
    let t = fire_times(&h, &mut notify, 1, Duration::from_secs(60)).await;
    assert_eq!(t.len(), 1, "the jumped-over run ran");
    assert!(
        t[0] - utc("2026-01-01T08:01:00Z") <= chrono::Duration::seconds(31),
        "{t:?}"
    );
    // Once: nothing more until the next day.
    let more = fire_times(&h, &mut notify, 1, Duration::from_secs(12 * 3600)).await;
    assert!(more.is_empty(), "ran again: {more:?}");
    let s = h.store.get::<Schedule>("d").await.unwrap().unwrap();
    assert_eq!(s.state.executed_count, 1);
    assert_eq!(s.state.last_run, Some(utc("2026-01-01T06:00:00Z")));
    assert_eq!(s.state.next_run, Some(utc("2026-01-02T06:00:00Z")));
}

/// Europe/Berlin through both changes of 2026, a daily 02:30 schedule run by the service:
/// 29 March has no 02:30 (02:00 CET → 03:00 CEST), so it runs at 03:00 CEST; 25 October has
/// 02:30 twice (03:00 CEST → 02:00 CET), and it runs once, at the first.
#[tokio::test(start_paused = true)]
async fn daylight_saving_changes_run_a_daily_schedule_once_a_day() {
    for (start, expected) in [
        (
            "2026-03-27T12:00:00Z",
            [
                "2026-03-28T01:30:00Z", // 02:30 CET
                "2026-03-29T01:00:00Z", // the gap: 03:00 CEST
                "2026-03-30T00:30:00Z", // 02:30 CEST
            ],
        ),
        (
            "2026-10-23T12:00:00Z",
            [
                "2026-10-24T00:30:00Z", // 02:30 CEST
                "2026-10-25T00:30:00Z", // the first 02:30 (CEST); not again at 01:30Z (CET)
                "2026-10-26T01:30:00Z", // 02:30 CET
            ],
        ),
    ] {
        let h = Harness::new(utc(start)).await;
        h.put(&schedule(
            "dst",
            "simple",
            json!({"frequency": "daily", "time": "02:30:00"}),
        ))
        .await;
        let mut notify = h.sub(topics::HANDLER_NOTIFY).await;
        tokio::spawn(SchedulerService::new(h.context("Europe/Berlin")).run(h.cancel.clone()));
        let t = fire_times(&h, &mut notify, 3, Duration::from_secs(30 * 3600)).await;
        let expected: Vec<_> = expected.iter().map(|e| utc(e)).collect();
        assert_eq!(t, expected, "from {start}");
        h.cancel.cancel();
    }
}
