//! Automation end to end with the real binary and real peers: Tasmota devices played on the
//! local Mosquitto (`mosquitto_pub` / `mosquitto_sub`), a webhook receiver on loopback. A
//! reading triggers a rule task whose webhook handler delivers the templated body; the same kind
//! of task with a resource handler switches a Tasmota relay (`cmnd/<topic>/POWER`); a forward
//! payload copies a value from one gateway to another; a delayed resource action survives a
//! restart of the binary and fires once; a JavaScript task computes a variable that an email
//! handler carries to an SMTP sink (aiosmtpd) on loopback.

use crate::server::Server;
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::future::Future;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// Upper bound for anything waited for; a passing test waits only as long as it takes.
const WAIT: Duration = Duration::from_secs(60);
const BROKER: &str = "tcp://127.0.0.1:1883";

/// The local Mosquitto and its command-line clients, or why the test cannot run: under
/// `CI=true` a missing peer fails the test, elsewhere it is skipped with a note.
fn peers_missing() -> bool {
    let why = if std::net::TcpStream::connect(("127.0.0.1", 1883)).is_err() {
        Some("no MQTT broker (Mosquitto) on 127.0.0.1:1883")
    } else if std::process::Command::new("mosquitto_pub")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        Some("mosquitto_pub / mosquitto_sub (mosquitto-clients) not installed")
    } else {
        None
    };
    let Some(why) = why else { return false };
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why} (CI=true: the test script must provide it)");
    }
    println!("SKIPPED: {why}");
    true
}

async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A unique Tasmota `%topic%` (or topic prefix) so parallel tests on one broker stay apart.
fn unique(prefix: &str) -> String {
    format!("{prefix}{:08x}", rand::random::<u32>())
}

/// Publishes one message, as a device would.
async fn publish(topic: &str, payload: &str) {
    let status = Command::new("mosquitto_pub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            "1883",
            "-q",
            "1",
            "-t",
            topic,
            "-m",
            payload,
        ])
        .status()
        .await
        .expect("run mosquitto_pub");
    assert!(status.success(), "mosquitto_pub {topic}");
}

/// Everything published under a topic filter, as `topic payload` lines.
struct Watch {
    _child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Watch {
    /// Subscribes to `filter` and returns once the subscription demonstrably works (a probe
    /// published under `probe_topic`, which the filter must match, has come back).
    async fn start(filter: &str, probe_topic: &str) -> Watch {
        let mut child = Command::new("mosquitto_sub")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                "1883",
                "-q",
                "1",
                "-v",
                "-t",
                filter,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("run mosquitto_sub");
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let keep = lines.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                keep.lock().push(line);
            }
        });
        let watch = Watch {
            _child: child,
            lines,
        };
        let mut n = 0;
        let w = &watch;
        eventually(&format!("the subscription to {filter}"), || {
            n += 1;
            let probe = format!("probe-{n}");
            async move {
                publish(probe_topic, &probe).await;
                tokio::time::sleep(Duration::from_millis(200)).await;
                self_seen(w, &probe)
            }
        })
        .await;
        watch
    }

    fn matching(&self, prefix: &str) -> Vec<String> {
        self.lines
            .lock()
            .iter()
            .filter(|l| l.starts_with(prefix))
            .cloned()
            .collect()
    }

    async fn wait(&self, prefix: &str) -> String {
        eventually(&format!("a publish `{prefix}…`"), || {
            let found = self.matching(prefix).into_iter().next();
            async move { found }
        })
        .await
    }
}

fn self_seen(watch: &Watch, payload: &str) -> Option<()> {
    watch
        .lines
        .lock()
        .iter()
        .any(|l| l.ends_with(&format!(" {payload}")))
        .then_some(())
}

/// A webhook receiver on loopback keeping the body of every request.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<(String, String)>>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let keep = bodies.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let keep = keep.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        let Ok(n) = stream.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                            continue;
                        };
                        let head = String::from_utf8_lossy(&buf[..end]).to_string();
                        let length = head
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if buf.len() < end + 4 + length {
                            continue;
                        }
                        let body =
                            String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).to_string();
                        let line = head.lines().next().unwrap_or("").to_string();
                        keep.lock().push((line, body));
                        let _ = stream
                            .write_all(
                                b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                            )
                            .await;
                        return;
                    }
                });
            }
        });
        Receiver { url, bodies }
    }
}

/// A logged-in client of the running binary.
struct Api {
    server: Server,
    token: String,
}

impl Api {
    async fn start(dir: &Path) -> Api {
        let server = Server::start(dir, &[], &[]).await;
        let token = server.login().await;
        Api { server, token }
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .server
            .client
            .get(self.server.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let r = self
            .server
            .client
            .post(self.server.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    /// A Tasmota gateway on the local broker; `full_topic` as Tasmota's FullTopic.
    async fn tasmota(&self, id: &str, full_topic: &str) {
        self.post(
            "/api/gateway",
            json!({
                "id": id, "enabled": true, "reconnectDelay": "1s",
                "provider": {"type": "tasmota",
                             "protocol": {"type": "mqtt", "broker": BROKER},
                             "fullTopic": full_topic,
                             "discoveryPrefix": "",
                             "discoverOnStart": false}
            }),
        )
        .await;
        eventually(&format!("gateway {id} up"), || async {
            let (code, g) = self.get(&format!("/api/gateway/{id}")).await;
            (code == 200 && g["state"]["status"] == "up").then_some(())
        })
        .await;
    }

    async fn resource(&self, kind: &str, id: &str) -> Option<Value> {
        let (code, body) = self.get(&format!("/api/{kind}/{id}")).await;
        (code == 200).then_some(body)
    }

    async fn wait_resource(&self, kind: &str, id: &str, check: impl Fn(&Value) -> bool) -> Value {
        eventually(&format!("{kind} {id}"), || async {
            self.resource(kind, id).await.filter(|r| check(r))
        })
        .await
    }
}

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
    let hook = Receiver::start().await;
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
    assert!(hook.bodies.lock().is_empty());

    publish(&format!("tele/{device}/SENSOR"), &sensor(30.5)).await;
    let (line, body) = eventually("the webhook delivery", || {
        let got = hook.bodies.lock().first().cloned();
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
        let missing = |why: &str| {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{why} (CI=true: the test script must provide it)");
            }
            println!("SKIPPED: {why}");
        };
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
