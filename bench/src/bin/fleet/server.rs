//! The real `switchyard` binary as a separate process, its API, and its CPU and memory from
//! /proc.

use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const PASSWORD: &str = "fleet benchmark password";

pub struct Server {
    child: Child,
    pub pid: u32,
    base: String,
    http: reqwest::Client,
    token: String,
    pub started_in: Duration,
}

impl Server {
    /// Starts `binary serve` on a free loopback port in `data_dir` and logs in; `env` adds
    /// configuration (`SWITCHYARD__STORAGE__TYPE`, …).
    pub async fn start(
        binary: &Path,
        data_dir: &Path,
        show_log: bool,
        env: &[(String, String)],
    ) -> anyhow::Result<Server> {
        let started = Instant::now();
        let mut child = Command::new(binary)
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--http")
            .arg("127.0.0.1:0")
            .env("SWITCHYARD_ADMIN_PASSWORD", PASSWORD)
            .env("RUST_LOG", "info")
            .env_remove("SWITCHYARD_CONFIG")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let pid = child.id().context("no pid")?;
        let mut lines = BufReader::new(child.stderr.take().context("no stderr")?).lines();
        let address = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if show_log {
                    eprintln!("[switchyard] {line}");
                }
                if line.contains("switchyard is ready")
                    && let Some(a) = line
                        .split_whitespace()
                        .find_map(|w| w.strip_prefix("address="))
                {
                    return Ok(a.to_string());
                }
            }
            bail!("switchyard exited before it was ready")
        })
        .await
        .context("switchyard not ready within 60 s")??;
        let started_in = started.elapsed();
        // Keep draining the log so the server never blocks on a full pipe.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if show_log {
                    eprintln!("[switchyard] {line}");
                }
            }
        });
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        let base = format!("http://{address}");
        let login: Value = http
            .post(format!("{base}/api/user/login"))
            .json(&json!({"username": "admin", "password": PASSWORD}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = login["token"].as_str().context("no token")?.to_string();
        Ok(Server {
            child,
            pid,
            base,
            http,
            token,
            started_in,
        })
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?;
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("GET {path}: {status} {body}");
        }
        Ok(body)
    }

    /// `GET path` and the time the answer took (status checked, body read).
    pub async fn timed_get(&self, path: &str) -> anyhow::Result<(Duration, Value)> {
        let sent = Instant::now();
        let body = self.get(path).await?;
        Ok((sent.elapsed(), body))
    }

    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let status = r.status();
        let answer: Value = r.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("POST {path}: {status} {answer}");
        }
        Ok(answer)
    }

    /// Creates a MySensors MQTT gateway and waits until it is up.
    /// `max_in_flight`: the provider's `maxInFlight`, or its default.
    pub async fn mysensors_gateway(
        &self,
        id: &str,
        prefix: &str,
        max_in_flight: Option<u64>,
    ) -> anyhow::Result<()> {
        let mut provider = json!({"type": "mysensors", "discoveryInterval": "0s",
            "protocol": {"type": "mqtt", "broker": "tcp://127.0.0.1:1883",
                         "subscribe": format!("{prefix}-out/#"),
                         "publish": format!("{prefix}-in"), "qos": 0}});
        if let Some(n) = max_in_flight {
            provider["maxInFlight"] = json!(n);
        }
        self.post(
            "/api/gateway",
            json!({"id": id, "enabled": true, "reconnectDelay": "1s", "provider": provider}),
        )
        .await?;
        self.wait_gateway_up(id).await
    }

    /// Waits until gateway `id` is up (and its subscription has had time to land).
    pub async fn wait_gateway_up(&self, id: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let g = self.get(&format!("/api/gateway/{id}")).await?;
            if g["state"]["status"] == "up" {
                // The provider subscribes right after connecting; let the SUBACK land.
                tokio::time::sleep(Duration::from_millis(500)).await;
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("gateway {id} not up within 30 s: {}", g["state"]);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// How many fields `gateway` has.
    pub async fn field_count(&self, gateway: &str) -> anyhow::Result<u64> {
        let page = self
            .get(&format!("/api/field?gatewayId={gateway}&limit=1"))
            .await?;
        page["count"].as_u64().context("no count in the list page")
    }

    /// Every field of `gateway`: id → current value.
    pub async fn field_values(
        &self,
        gateway: &str,
    ) -> anyhow::Result<std::collections::HashMap<String, f64>> {
        let list = self
            .get(&format!("/api/field?gatewayId={gateway}&limit=-1"))
            .await?;
        Ok(list["data"]
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|f| {
                let value = &f["current"]["value"];
                let v = value
                    .as_f64()
                    .or_else(|| value.as_str().and_then(|s| s.parse().ok()))?;
                Some((f["id"].as_str()?.to_string(), v))
            })
            .collect())
    }

    pub fn stats(&self) -> ProcStats {
        ProcStats::read(self.pid)
    }

    pub async fn stop(mut self) {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status();
        if tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// CPU time and memory of a process, from /proc/<pid>/stat and /proc/<pid>/status.
#[derive(Clone, Copy, Default)]
pub struct ProcStats {
    pub at: Option<Instant>,
    /// utime + stime in clock ticks (100 a second on Linux).
    pub cpu_ticks: u64,
    pub rss_kib: u64,
    pub peak_rss_kib: u64,
}

impl ProcStats {
    pub fn read(pid: u32) -> ProcStats {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Fields after the command name, which is in parentheses and may hold spaces.
        let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let fields: Vec<&str> = after.split_whitespace().collect();
        let tick = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        // utime and stime are fields 14 and 15 of the whole line, 11 and 12 after the name.
        let cpu_ticks = tick(11) + tick(12);
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let kib = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        ProcStats {
            at: Some(Instant::now()),
            cpu_ticks,
            rss_kib: kib("VmRSS:"),
            peak_rss_kib: kib("VmHWM:"),
        }
    }

    /// CPU use between `earlier` and `self`, in % of one core.
    pub fn cpu_percent_since(&self, earlier: &ProcStats) -> f64 {
        match (self.at, earlier.at) {
            (Some(now), Some(then)) => {
                let secs = now.duration_since(then).as_secs_f64().max(1e-3);
                (self.cpu_ticks.saturating_sub(earlier.cpu_ticks)) as f64 / 100.0 / secs * 100.0
            }
            _ => 0.0,
        }
    }
}
