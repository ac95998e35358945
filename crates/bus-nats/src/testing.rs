//! A real `nats-server` for tests: started on a free loopback port with JetStream and a store
//! directory of its own, restartable on the same port and store, killed when dropped. When the
//! binary is missing, tests skip with a `SKIPPED:` line, except under `CI=true`, where they fail.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    store: tempfile::TempDir,
    extra: Vec<String>,
}

/// The server binary, or `None` (after printing why) when tests should skip.
pub fn binary() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
            .map(|dir| dir.join("nats-server"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let why = "nats-server is not installed (apt-get install nats-server)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        println!("SKIPPED: {why}");
    }
    found
}

impl NatsServer {
    /// Starts a server, or returns `None` when tests should skip (see [`binary`]).
    pub fn start() -> Option<NatsServer> {
        NatsServer::start_with(&[])
    }

    /// With extra command-line arguments (`--auth`, `--user`, …).
    pub fn start_with(extra: &[&str]) -> Option<NatsServer> {
        binary()?;
        let port = free_port();
        let mut server = NatsServer {
            child: None,
            port,
            store: tempfile::tempdir().expect("a temporary directory"),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        server.run();
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn store(&self) -> &Path {
        self.store.path()
    }

    fn run(&mut self) {
        let bin = binary().expect("nats-server");
        let child = Command::new(bin)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.store.path())
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        self.child = Some(child);
        wait_for_port(self.port);
    }

    /// Kills the server (SIGKILL: nothing is flushed on the way out).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port with the same store.
    pub fn restart(&mut self) {
        self.kill();
        self.run();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn wait_for_port(port: u16) {
    for _ in 0..600 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nats-server did not listen on {port} within 30 s");
}
