//! Starting and talking to a real `switchyard serve` process.

use serde_json::{Value, json};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct Server {
    pub child: Child,
    pub base: String,
    pub client: reqwest::Client,
    /// Every line the process logged so far (stderr), for tests that look for or at messages.
    pub log: std::sync::Arc<parking_lot::Mutex<Vec<String>>>,
}

impl Server {
    /// Starts the binary on a free loopback port with `data_dir`, extra env and args; waits for
    /// its "ready" log line.
    pub async fn start(data_dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchyard"));
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--http")
            .arg("127.0.0.1:0")
            .args(args)
            .env("SWITCHYARD_ADMIN_PASSWORD", PASSWORD)
            .env("RUST_LOG", "info")
            .env_remove("SWITCHYARD_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn switchyard");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let log = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
        let address = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                eprintln!("[switchyard] {line}");
                log.lock().push(line.clone());
                if line.contains("switchyard is ready") {
                    let addr = line
                        .split_whitespace()
                        .find_map(|w| w.strip_prefix("address="))
                        .expect("address in ready line");
                    return addr.to_string();
                }
            }
            panic!("switchyard exited before it was ready");
        })
        .await
        .expect("switchyard ready within 60 s");
        // Keep draining the log so the process never blocks on a full pipe.
        let kept = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("[switchyard] {line}");
                kept.lock().push(line);
            }
        });
        // reqwest is built with rustls and no provider of its own (the workspace's one TLS stack).
        switchyard_gateway::transport::install_crypto_provider();
        Server {
            child,
            base: format!("http://{address}"),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn login(&self) -> String {
        let r = self
            .client
            .post(self.url("/api/user/login"))
            .json(&json!({"username": "admin", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("running") as i32;
        let status = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .unwrap();
        assert!(status.success());
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("exits within 30 s of SIGTERM")
            .unwrap()
    }
}
