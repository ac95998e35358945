//! The MQTT broker restarts in the middle of a stream of QoS 1 readings. A private Mosquitto
//! (persistence on, in a temporary directory, on a free loopback port) serves a MySensors MQTT
//! gateway with `qos: 1`, `cleanSession: false` and a fixed `clientId`; `mosquitto_pub -q 1`
//! plays the node and retries until the broker acknowledges each reading. The broker is
//! stopped with SIGTERM part-way: the gateway goes down, and readings published after the
//! broker is back but before the gateway has reconnected wait in its session on the broker.
//! Every reading must arrive: N children of one node, child i's V_TEMP = i.

use crate::support::{Api, WAIT, free_port, skip};
use serde_json::json;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::process::{Child, Command};

const READINGS: usize = 150;

pub fn tools_missing() -> bool {
    let missing = ["mosquitto", "mosquitto_pub"].into_iter().find(|tool| {
        std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .map_or(true, |s| !s.success())
    });
    let Some(tool) = missing else { return false };
    skip(&format!(
        "`{tool}` is not installed (scripts/lib/test-deps.sh installs it)"
    ))
}

/// A Mosquitto of this test's own, with its state in `dir`.
pub struct Broker {
    child: Option<Child>,
    pub port: u16,
    conf: std::path::PathBuf,
}

impl Broker {
    pub async fn start(dir: &Path) -> Broker {
        let port = free_port();
        let conf = dir.join("mosquitto.conf");
        // `user root`: started as root, Mosquitto would otherwise switch to its own user, who
        // cannot write the persistence file in our temporary directory.
        let user = if is_root() { "user root\n" } else { "" };
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n\
                 persistence_location {}/\nmax_queued_messages 100000\n{user}",
                dir.display()
            ),
        )
        .unwrap();
        let mut broker = Broker {
            child: None,
            port,
            conf,
        };
        broker.run().await;
        broker
    }

    async fn run(&mut self) {
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&self.conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start mosquitto");
        self.child = Some(child);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("mosquitto did not listen on {}", self.port);
    }

    /// SIGTERM (Mosquitto saves its sessions and queued messages) and wait for the exit.
    async fn stop(&mut self) {
        let mut child = self.child.take().expect("running");
        let pid = child.id().expect("running");
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
        tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .expect("mosquitto exits on SIGTERM")
            .unwrap();
    }
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qos1_readings_survive_a_broker_restart() {
    if tools_missing() {
        return;
    }
    let broker_dir = tempfile::tempdir().unwrap();
    let mut broker = Broker::start(broker_dir.path()).await;
    let prefix = format!("syfault{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(dir.path()).await;
    let (code, body) = api
        .post_status(
            "/api/gateway",
            json!({
                "id": "radio", "enabled": true, "reconnectDelay": "2s",
                "provider": {"type": "mysensors", "protocol": {
                    "type": "mqtt", "broker": format!("tcp://127.0.0.1:{}", broker.port),
                    "subscribe": format!("{prefix}-out/#"), "publish": format!("{prefix}-in"),
                    "qos": 1, "cleanSession": false, "clientId": format!("{prefix}-radio"),
                }}
            }),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    api.wait_status("radio", "up").await;

    // The node: one reading per child, each acknowledged by the broker (retried until it is).
    let sent = Arc::new(AtomicUsize::new(0));
    let retries = Arc::new(AtomicUsize::new(0));
    let publisher = {
        let (sent, retries, port, prefix) =
            (sent.clone(), retries.clone(), broker.port, prefix.clone());
        tokio::spawn(async move {
            for i in 0..READINGS {
                loop {
                    let ok = Command::new("mosquitto_pub")
                        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1"])
                        .args(["-t", &format!("{prefix}-out/1/{i}/1/0/0")])
                        .args(["-m", &i.to_string()])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()
                        .await
                        .is_ok_and(|s| s.success());
                    if ok {
                        break;
                    }
                    retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                sent.store(i + 1, Ordering::Relaxed);
            }
        })
    };
    while sent.load(Ordering::Relaxed) < READINGS / 3 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    broker.stop().await;
    api.wait_status("radio", "down").await;
    let at_stop = sent.load(Ordering::Relaxed);
    broker.run().await;
    api.wait_status("radio", "up").await;
    publisher.await.unwrap();
    assert!(
        retries.load(Ordering::Relaxed) > 0,
        "the publisher never met the stopped broker"
    );
    assert!(at_stop < READINGS, "the restart happened mid-stream");

    // Every reading arrives, once the stored state catches up.
    let deadline = tokio::time::Instant::now() + WAIT;
    let missing = loop {
        let page = api.try_get("/api/field?limit=-1").await.unwrap();
        let missing: Vec<usize> = (0..READINGS)
            .filter(|i| {
                !page["data"].as_array().unwrap().iter().any(|f| {
                    f["id"] == format!("radio.1.{i}.V_TEMP")
                        && f["current"]["value"].as_f64() == Some(*i as f64)
                })
            })
            .collect();
        if missing.is_empty() || tokio::time::Instant::now() > deadline {
            break missing;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        missing.is_empty(),
        "{} of {READINGS} readings lost (stopped after {at_stop}): {missing:?}",
        missing.len()
    );
    println!(
        "broker stopped after {at_stop} of {READINGS} readings; {} publish retries; none lost",
        retries.load(Ordering::Relaxed)
    );
    assert!(api.server.terminate().await.success());
}
