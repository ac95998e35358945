//! S5's backends: PostgreSQL (the local server, database `test`, tables of their own per run)
//! and InfluxDB 1.x (an `influxd` started here on free ports with its data in a temporary
//! directory, as the metric backend's tests do).

use anyhow::{Context, bail};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Influxd {
    pub url: String,
    child: Child,
    _dir: tempfile::TempDir,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Influxd {
    pub async fn start() -> anyhow::Result<Influxd> {
        let dir = tempfile::tempdir()?;
        let (http, rpc) = (free_port()?, free_port()?);
        let d = dir.path().display();
        let config = format!(
            "reporting-disabled = true\nbind-address = \"127.0.0.1:{rpc}\"\n\
             [meta]\n  dir = \"{d}/meta\"\n\
             [data]\n  dir = \"{d}/data\"\n  wal-dir = \"{d}/wal\"\n  query-log-enabled = false\n\
             [http]\n  bind-address = \"127.0.0.1:{http}\"\n  log-enabled = false\n\
             [monitor]\n  store-enabled = false\n\
             [continuous_queries]\n  enabled = false\n"
        );
        let path = dir.path().join("influxdb.conf");
        std::fs::write(&path, config)?;
        let child = Command::new("influxd")
            .arg("-config")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting influxd (InfluxDB 1.x; scripts/lib/test-deps.sh installs it)")?;
        let influx = Influxd {
            url: format!("http://127.0.0.1:{http}"),
            child,
            _dir: dir,
        };
        let ping = format!("{}/ping", influx.url);
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::get(&ping).await.is_err() {
            if Instant::now() > deadline {
                bail!("influxd not answering /ping within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(influx)
    }
}

impl Drop for Influxd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server's configuration for PostgreSQL storage (tables `<prefix>…`) and InfluxDB metrics.
pub fn env(postgres_url: &str, table_prefix: &str, influx: &Influxd) -> Vec<(String, String)> {
    [
        ("SWITCHYARD__STORAGE__TYPE", "postgres"),
        ("SWITCHYARD__STORAGE__URL", postgres_url),
        ("SWITCHYARD__STORAGE__TABLE_PREFIX", table_prefix),
        ("SWITCHYARD__METRICS__TYPE", "influxdb"),
        ("SWITCHYARD__METRICS__URL", &influx.url),
        ("SWITCHYARD__METRICS__DATABASE", "switchyard"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}
