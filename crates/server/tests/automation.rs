//! Automation end to end with the real binary and real peers: Tasmota devices played on the
//! local Mosquitto (`mosquitto_pub` / `mosquitto_sub`), a webhook receiver on loopback. A
//! reading triggers a rule task whose webhook handler delivers the templated body; the same kind
//! of task with a resource handler switches a Tasmota relay (`cmnd/<topic>/POWER`); a forward
//! payload copies a value from one gateway to another; a delayed resource action survives a
//! restart of the binary and fires once; a JavaScript task computes a variable that an email
//! handler carries to an SMTP sink (aiosmtpd) on loopback.

use crate::support::{Api, HttpPeer, Watch, eventually, peers_missing, publish, skip, unique};
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A rule task: when field `field` (gw.node.source.field) is updated above 25, the handlers get
/// `parameters`. The field is the variable `temp`.
fn hot_task(id: &str, field: &str, handlers: &[&str], parameters: Value) -> Value {
    json!({
        "id": id, "enabled": true,
        "triggerOnEvent": true,
        "eventFilter": {"eventTypes": ["created", "updated"], "entityTypes": ["field"],
                        "filters": {"id": field}},
        "variables": {"temp": {"type": "resource_by_quick_id", "quickId": format!("field:{field}")}},
        "evaluationType": "rule",
        "evaluationConfig": {"rule": {"matchAll": true, "conditions": [
            {"variable": "temp.current.value", "operator": "gt", "value": "25"}]}},
        "handlers": handlers,
        "handlerParameters": parameters,
    })
}

/// Publishes the reading `temperature` of `device` every two seconds until `kind`/`id` passes
/// `check` (a task the service has not loaded yet misses a reading).
async fn until(
    api: &Api,
    kind: &str,
    id: &str,
    device: &str,
    temperature: f64,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let check = &check;
    let mut n = 0u32;
    eventually(&format!("{kind} {id}"), || {
        n += 1;
        async move {
            if let Some(r) = api.resource(kind, id).await.filter(|r| check(r)) {
                return Some(r);
            }
            if n % 20 == 1 {
                publish(&format!("tele/{device}/SENSOR"), &sensor(temperature)).await;
            }
            None
        }
    })
    .await
}

fn sensor(temperature: f64) -> String {
    json!({"Time": "2026-11-24T22:00:00", "AM2301": {"Temperature": temperature, "Humidity": 40.0}, "TempUnit": "C"})
        .to_string()
}

#[tokio::test]
async fn a_reading_on_mosquitto_triggers_a_webhook_and_switches_a_tasmota_relay() {
    if peers_missing() {
        return;
    }
    let device = unique("sy_auto_");
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(dir.path()).await;
    let hook = HttpPeer::answering(|_| (200, Vec::new(), "ok".into())).await;
    let cmnd = Watch::start(&format!("cmnd/{device}/#"), &format!("cmnd/{device}/probe")).await;
    api.tasmota("tas", "%prefix%/%topic%/").await;

    // The relay's field exists once the device has reported its state.
    publish(&format!("tele/{device}/STATE"), r#"{"POWER":"OFF"}"#).await;
    let relay = format!("tas.{device}.Control.POWER");
    api.wait_resource("field", &relay, |_| true).await;

    api.post(
        "/api/handler",
        json!({"id": "hook", "type": "webhook", "enabled": true,
               "spec": {"url": format!("{}/alert", hook.url), "method": "POST",
                        "headers": {"Content-Type": "text/plain"}}}),
    )
    .await;
    api.post(
        "/api/handler",
        json!({"id": "relay", "type": "resource", "enabled": true}),
    )
    .await;
    let temp = format!("tas.{device}.AM2301.Temperature");
    api.post(
        "/api/task",
        hot_task(
            "hot-hook",
            &temp,
            &["hook"],
            json!({"alert": {"type": "webhook",
                             "data": "{{ temp.current.value }} °C at {{ temp.nodeId }}"}}),
        ),
    )
    .await;
    api.post(
        "/api/task",
        hot_task(
            "hot-relay",
            &temp,
            &["relay"],
            json!({"fan": {"type": "resource_by_quick_id",
                           "quickId": format!("field:{relay}"), "payload": "on"}}),
        ),
    )
    .await;

    // Below the threshold: evaluated, nothing fires. (The task service loads new tasks from
    // their events, so the reading is repeated until both tasks have seen one.)
    for id in ["hot-hook", "hot-relay"] {
        let task = until(&api, "task", id, &device, 21.5, |t| {
            t["state"]["lastEvaluation"].is_string()
        })
        .await;
        assert_eq!(task["state"]["message"], "condition false", "{task}");
        assert_eq!(task["state"]["executedCount"], 0, "{task}");
    }
    assert!(hook.requests().is_empty());

    publish(&format!("tele/{device}/SENSOR"), &sensor(30.5)).await;
    let (line, body) = eventually("the webhook delivery", || {
        let got = hook
            .requests()
            .first()
            .map(|r| (r.line.clone(), r.body.clone()));
        async move { got }
    })
    .await;
    assert!(line.starts_with("POST /alert"), "{line}");
    assert_eq!(body, format!("30.5 °C at {device}"));
    let on = cmnd.wait(&format!("cmnd/{device}/POWER ")).await;
    assert_eq!(on, format!("cmnd/{device}/POWER ON"));
    let task = api
        .wait_resource("task", "hot-relay", |t| {
            t["state"]["lastTriggered"].is_string()
        })
        .await;
    assert_eq!(task["state"]["lastStatus"], true, "{task}");
    api.wait_resource("handler", "hook", |h| {
        h["state"]["status"].as_str().is_some_and(|s| s == "ok")
    })
    .await;

    // The device answers; the relay's field follows what the device did.
    publish(&format!("stat/{device}/RESULT"), r#"{"POWER":"ON"}"#).await;
    api.wait_resource("field", &relay, |f| {
        f["current"]["value"] == json!(true)
            || f["current"]["value"] == json!(1)
            || f["current"]["value"] == json!("1")
    })
    .await;
    api.server.terminate().await;
}

#[tokio::test]
async fn a_forward_payload_copies_a_value_between_two_gateways() {
    if peers_missing() {
        return;
    }
    let (a, b) = (unique("sy_fwa_"), unique("sy_fwb_"));
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(dir.path()).await;
    let cmnd = Watch::start(&format!("{b}/cmnd/#"), &format!("{b}/cmnd/probe/x")).await;
    // Two gateways, each with its own FullTopic, so each sees only its own devices.
    api.tasmota("gwa", &format!("{a}/%prefix%/%topic%/")).await;
    api.tasmota("gwb", &format!("{b}/%prefix%/%topic%/")).await;
    publish(&format!("{a}/tele/sensor/SENSOR"), &sensor(20.0)).await;
    publish(
        &format!("{b}/tele/display/STATE"),
        r#"{"POWER":"ON","Dimmer":10}"#,
    )
    .await;
    api.wait_resource("field", "gwa.sensor.AM2301.Temperature", |_| true)
        .await;
    api.wait_resource("field", "gwb.display.Control.Dimmer", |_| true)
        .await;

    api.post(
        "/api/forwardpayload",
        json!({"id": "temp-to-dimmer", "enabled": true,
               "srcFieldId": "field:gwa.sensor.AM2301.Temperature",
               "dstFieldId": "field:gwb.display.Control.Dimmer"}),
    )
    .await;
    // The way back would close a cycle: refused by the running server too.
    let r = api
        .server
        .client
        .post(api.server.url("/api/forwardpayload"))
        .bearer_auth(&api.token)
        .json(&json!({"id": "back", "enabled": true,
                      "srcFieldId": "field:gwb.display.Control.Dimmer",
                      "dstFieldId": "field:gwa.sensor.AM2301.Temperature"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "forward_cycle", "{body}");

    // The forward service picks the new payload up from its event; until it has, a reading is
    // not forwarded, so readings are repeated until one is.
    let prefix = format!("{b}/cmnd/display/Dimmer ");
    let mut n = 0u32;
    let line = eventually("the forwarded set", || {
        n += 1;
        let (a, prefix) = (a.clone(), prefix.clone());
        let seen = cmnd.matching(&prefix).into_iter().next();
        async move {
            if seen.is_some() {
                return seen;
            }
            if n % 20 == 1 {
                publish(&format!("{a}/tele/sensor/SENSOR"), &sensor(42.0)).await;
            }
            None
        }
    })
    .await;
    let value: f64 = line[prefix.len()..].trim().parse().expect("a number");
    assert_eq!(value, 42.0, "{line}");
    // The display reports the value it took; the destination field holds it.
    publish(&format!("{b}/stat/display/RESULT"), r#"{"Dimmer":42}"#).await;
    api.wait_resource("field", "gwb.display.Control.Dimmer", |f| {
        f["current"]["value"].as_f64() == Some(42.0)
    })
    .await;
    api.server.terminate().await;
}

#[tokio::test]
async fn a_delayed_resource_action_survives_a_restart_and_fires_once() {
    if peers_missing() {
        return;
    }
    let device = unique("sy_delay_");
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(dir.path()).await;
    let cmnd = Watch::start(&format!("cmnd/{device}/#"), &format!("cmnd/{device}/probe")).await;
    api.tasmota("tas", "%prefix%/%topic%/").await;
    publish(&format!("tele/{device}/STATE"), r#"{"POWER":"OFF"}"#).await;
    let relay = format!("tas.{device}.Control.POWER");
    api.wait_resource("field", &relay, |_| true).await;
    api.post(
        "/api/handler",
        json!({"id": "relay", "type": "resource", "enabled": true}),
    )
    .await;
    let temp = format!("tas.{device}.AM2301.Temperature");
    api.post(
        "/api/task",
        hot_task(
            "hot-later",
            &temp,
            &["relay"],
            json!({"fan": {"type": "resource_by_quick_id", "quickId": format!("field:{relay}"),
                           "payload": "on", "preDelay": "20s"}}),
        ),
    )
    .await;
    let pending = until(
        &api,
        "datarepository",
        "_pending_actions_relay",
        &device,
        31.0,
        |d| d["data"]["pending"]["fan"].is_object(),
    )
    .await;
    let fan = &pending["data"]["pending"]["fan"];
    assert_eq!(fan["payload"], "on", "{pending}");
    assert_eq!(fan["quickId"], format!("field:{relay}"), "{pending}");
    let power = format!("cmnd/{device}/POWER ");
    assert!(
        cmnd.matching(&power).is_empty(),
        "fired before its delay: {:?}",
        cmnd.matching(&power)
    );

    let status = api.server.terminate().await;
    assert!(status.success(), "{status:?}");
    assert!(
        cmnd.matching(&power).is_empty(),
        "fired before the restart: {:?}",
        cmnd.matching(&power)
    );

    // Same data directory: the action is still pending and fires once, after the restart.
    let api = Api::start(dir.path()).await;
    let on = cmnd.wait(&power).await;
    assert_eq!(on, format!("cmnd/{device}/POWER ON"));
    api.wait_resource("datarepository", "_pending_actions_relay", |d| {
        d["data"]["pending"]
            .as_object()
            .is_none_or(|p| p.is_empty())
    })
    .await;
    // Nothing else is due; give a duplicate every chance to show up, then count.
    api.wait_resource("gateway", "tas", |g| g["state"]["status"] == "up")
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        cmnd.matching(&power).len(),
        1,
        "{:?}",
        cmnd.matching(&power)
    );
    api.server.terminate().await;
}

/// An SMTP sink on loopback (`python3 -m aiosmtpd`, from tests/python-requirements.txt) that
/// keeps every line it prints, which includes each message it receives.
struct SmtpSink {
    _child: Child,
    port: u16,
    lines: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    /// The running sink, or `None` (after a note, or a panic under `CI=true`) without aiosmtpd.
    async fn start() -> Option<SmtpSink> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let missing = |why: &str| skip(why);
        let Ok(mut child) = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
        else {
            missing("python3 not found (the SMTP sink is aiosmtpd)");
            return None;
        };
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let keep = lines.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                keep.lock().push(line);
            }
        });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if tokio::time::Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
                missing("aiosmtpd did not start (pip install -r tests/python-requirements.txt)");
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Some(SmtpSink {
            _child: child,
            port,
            lines,
        })
    }

    fn text(&self) -> String {
        self.lines.lock().join("\n")
    }
}

#[tokio::test]
async fn a_javascript_task_computes_a_variable_that_an_email_carries_to_an_smtp_sink() {
    if peers_missing() {
        return;
    }
    let Some(sink) = SmtpSink::start().await else {
        return;
    };
    let device = unique("sy_mail_");
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(dir.path()).await;
    api.tasmota("tas", "%prefix%/%topic%/").await;
    api.post(
        "/api/handler",
        json!({"id": "mail", "type": "email", "enabled": true,
               "spec": {"host": "127.0.0.1", "port": sink.port, "security": "none",
                        "fromEmail": "switchyard@example.org",
                        "toEmails": "owner@example.org", "timeout": "10s"}}),
    )
    .await;
    let temp = format!("tas.{device}.AM2301.Temperature");
    // The script decides (above 25) and computes `level`, which only the script knows; the
    // email's subject and body are templates over it and over the field.
    let mut task = hot_task(
        "hot-mail",
        &temp,
        &["mail"],
        json!({"alert": {"type": "email",
                         "subject": "Hall is {{ level }}",
                         "body": "{{ temp.current.value }} degrees at {{ temp.nodeId }}: {{ level }} ({{ delta }} over)."}}),
    );
    task["evaluationType"] = json!("javascript");
    task["evaluationConfig"] = json!({"javascript":
        "const v = temp.current.value; \
         ({isTriggered: v > 25, level: v > 30 ? 'hot' : 'warm', delta: Math.round((v - 25) * 10) / 10})"});
    api.post("/api/task", task).await;

    // Below the threshold: evaluated by the script, nothing sent.
    let below = until(&api, "task", "hot-mail", &device, 21.5, |t| {
        t["state"]["lastEvaluation"].is_string()
    })
    .await;
    assert_eq!(below["state"]["executedCount"], 0, "{below}");
    assert!(
        !sink.text().contains("Subject:"),
        "mail sent below the threshold:\n{}",
        sink.text()
    );

    publish(&format!("tele/{device}/SENSOR"), &sensor(31.5)).await;
    let body = format!("31.5 degrees at {device}: hot (6.5 over).");
    eventually("the email at the SMTP sink", || {
        let got = sink.text().contains(&body).then_some(());
        async move { got }
    })
    .await;
    let text = sink.text();
    assert!(text.contains("Subject: Hall is hot"), "{text}");
    assert!(text.contains("owner@example.org"), "{text}");
    let handler = api
        .wait_resource("handler", "mail", |h| h["state"]["status"] == "ok")
        .await;
    assert!(handler["state"]["since"].is_string(), "{handler}");
    let task = api
        .wait_resource("task", "hot-mail", |t| {
            t["state"]["lastTriggered"].is_string()
        })
        .await;
    assert_eq!(task["state"]["executedCount"], 1, "{task}");
    api.server.terminate().await;
}
