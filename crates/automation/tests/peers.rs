//! Handlers against real peers: an SMTP sink (aiosmtpd), Mosquitto, a Bot API speaking server.

use crate::common::*;
use crate::handlers::{handler, send, wait_state};
use serde_json::json;
use std::process::Stdio;
use std::time::Duration;
use switchyard_automation::HandlerService;
use switchyard_core::model::Status;
use tokio::io::{AsyncBufReadExt, BufReader};

/// Without the peer: a failure on CI, a visible skip elsewhere.
fn missing(what: &str) -> bool {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{what} is required on CI");
    }
    println!("SKIPPED: {what}");
    true
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn email_reaches_an_smtp_sink_with_the_script_variable() {
    let port = free_port();
    let child = tokio::process::Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let Ok(mut child) = child else {
        missing("python3 with aiosmtpd (tests/python-requirements.txt)");
        return;
    };
    let up = eventually(Duration::from_secs(10), || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
    })
    .await;
    if !up {
        let _ = child.kill().await;
        missing("aiosmtpd (pip install -r tests/python-requirements.txt)");
        return;
    }
    let h = Harness::new(chrono::Utc::now()).await;
    h.put(&handler(
        "mail",
        "email",
        json!({"host": "127.0.0.1", "port": port, "security": "none",
               "fromEmail": "switchyard@example.org", "toEmails": "owner@example.org"}),
    ))
    .await;
    tokio::spawn(HandlerService::new(h.context("UTC")).run(h.cancel.clone()));
    settle().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The variable `level` is what a JavaScript task computed (see the task tests).
    send(
        &h,
        "mail",
        json!({"m": {"type": "email", "subject": "Hall is {{ level }}", "body": "Temperature {{ temp }} is {{ level }}."}}),
        json!({"level": "hot", "temp": 31}),
    )
    .await;
    wait_state(&h, "mail", Status::Ok, Duration::from_secs(20)).await;
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(line)) = out.next_line().await {
            seen.push_str(&line);
            seen.push('\n');
            if line.contains("Temperature 31 is hot.") {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(found, "the sink printed:\n{seen}");
    assert!(seen.contains("Subject: Hall is hot"), "{seen}");

    // A server that refuses: a clear error on the handler's state.
    h.put(&handler(
        "mail2",
        "email",
        json!({"host": "127.0.0.1", "port": free_port(), "security": "none",
               "fromEmail": "a@example.org", "toEmails": "b@example.org", "timeout": "2s"}),
    ))
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    send(
        &h,
        "mail2",
        json!({"m": {"type": "email", "subject": "x", "body": "y"}}),
        json!({}),
    )
    .await;
    let st = wait_state(&h, "mail2", Status::Error, Duration::from_secs(20)).await;
    assert!(st.state.message.contains("SMTP"), "{:?}", st.state);
    let _ = child.kill().await;
}

#[tokio::test]
async fn mqtt_handler_publishes_to_mosquitto() {
    if tokio::net::TcpStream::connect("127.0.0.1:1883")
        .await
        .is_err()
    {
        missing("Mosquitto on 127.0.0.1:1883");
        return;
    }
    let topic = format!("switchyard/test/{}", std::process::id());
    let mut opts =
        rumqttc::MqttOptions::new(format!("sy-test-{}", std::process::id()), "127.0.0.1", 1883);
    opts.set_keep_alive(Duration::from_secs(10));
    let (client, mut events) = rumqttc::AsyncClient::new(opts, 10);
    client
        .subscribe(&topic, rumqttc::QoS::AtLeastOnce)
        .await
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match events.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_))) => {
                    let _ = tx.send(None);
                }
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    let _ = tx.send(Some(String::from_utf8_lossy(&p.payload).into_owned()));
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    });
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap(),
        Some(None)
    );
    let h = Harness::new(chrono::Utc::now()).await;
    h.put(&handler(
        "mq",
        "mqtt",
        json!({"broker": "tcp://127.0.0.1:1883", "topic": topic}),
    ))
    .await;
    tokio::spawn(HandlerService::new(h.context("UTC")).run(h.cancel.clone()));
    settle().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    send(
        &h,
        "mq",
        json!({"p": {"type": "mqtt", "data": "relay {{ state }}"}}),
        json!({"state": "on"}),
    )
    .await;
    let got = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap();
    assert_eq!(got, Some(Some("relay on".into())));
    wait_state(&h, "mq", Status::Ok, Duration::from_secs(10)).await;
}

/// Telegram's servers cannot be reached here; a local server answers as the Bot API does.
#[tokio::test]
async fn telegram_posts_send_message_and_reports_api_errors() {
    use axum::routing::post;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/{bot}/sendMessage",
        post(
            move |axum::extract::Path(bot): axum::extract::Path<String>,
                  axum::Json(body): axum::Json<serde_json::Value>| {
                let tx = tx.clone();
                async move {
                    if bot != "botSECRET" {
                        return axum::Json(
                            json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
                        );
                    }
                    let _ = tx.send(body);
                    axum::Json(json!({"ok": true, "result": {"message_id": 1}}))
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let h = Harness::new(chrono::Utc::now()).await;
    let base = format!("http://{addr}");
    h.put(&handler(
        "tg",
        "telegram",
        json!({"token": "SECRET", "chatIds": ["42"], "baseUrl": base}),
    ))
    .await;
    h.put(&handler(
        "tg_bad",
        "telegram",
        json!({"token": "WRONG", "chatIds": "42", "baseUrl": base}),
    ))
    .await;
    tokio::spawn(HandlerService::new(h.context("UTC")).run(h.cancel.clone()));
    settle().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let p = json!({"t": {"type": "telegram", "parseMode": "HTML", "text": "<b>{{ msg }}</b>"}});
    send(&h, "tg", p.clone(), json!({"msg": "door open"})).await;
    let body = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        body,
        json!({"chat_id": "42", "text": "<b>door open</b>", "parse_mode": "HTML"})
    );
    send(&h, "tg_bad", p, json!({"msg": "x"})).await;
    let st = wait_state(&h, "tg_bad", Status::Error, Duration::from_secs(10)).await;
    assert!(st.state.message.contains("Unauthorized"), "{:?}", st.state);
    assert!(
        !st.state.message.contains("WRONG"),
        "the token never shows: {:?}",
        st.state
    );
}
