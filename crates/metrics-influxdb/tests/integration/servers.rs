//! Starting real servers for the tests: each on free loopback ports with its data in a
//! temporary directory, stopped when dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// `None` after printing why, when `program` is missing and this is not CI (where it panics).
pub fn require(program: &str, test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{test}: `{program}` is required in CI (scripts/lib/test-deps.sh installs it)");
        }
        println!("SKIPPED: {test}: `{program}` is not installed");
    }
    found
}

pub struct Server {
    pub url: String,
    pub dir: tempfile::TempDir,
    program: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
    ready_path: &'static str,
}

impl Server {
    /// InfluxDB 1.x with its meta, data and WAL in a temporary directory.
    pub async fn influxd(program: PathBuf) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let (http, rpc) = (free_port(), free_port());
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
        std::fs::write(&path, config).unwrap();
        let mut s = Server {
            url: format!("http://127.0.0.1:{http}"),
            dir,
            program,
            args: vec!["-config".into(), path.display().to_string()],
            child: None,
            ready_path: "/ping",
        };
        s.start().await;
        s
    }

    /// VictoriaMetrics with its storage in a temporary directory.
    pub async fn victoria(program: PathBuf) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let http = free_port();
        let mut s = Server {
            url: format!("http://127.0.0.1:{http}"),
            args: vec![
                format!("-storageDataPath={}", dir.path().join("vm").display()),
                format!("-httpListenAddr=127.0.0.1:{http}"),
                "-retentionPeriod=100y".into(),
                "-search.latencyOffset=0s".into(),
                "-loggerLevel=ERROR".into(),
            ],
            dir,
            program,
            child: None,
            ready_path: "/health",
        };
        s.start().await;
        s
    }

    pub async fn start(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("server.log")).unwrap();
        let child = Command::new(&self.program)
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.program.display()));
        self.child = Some(child);
        let client = reqwest_client();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ok = client
                .get(format!("{}{}", self.url, self.ready_path))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not answer within 30 s; log: {}",
                self.program.display(),
                read(&self.dir.path().join("server.log"))
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

pub fn reqwest_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
