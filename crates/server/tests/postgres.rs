//! A private schema on the local PostgreSQL for one test, dropped when the test ends.
//!
//! Server: `SWITCHYARD_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`
//! (the one the storage-postgres tests use). Without it (or without `psql`, used to drop the
//! schema) a test prints `SKIPPED: …`; under `CI=true` it fails instead.

use std::process::{Command, Stdio};

pub fn url() -> String {
    std::env::var("SWITCHYARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub struct Schema {
    pub name: String,
    pub url: String,
}

impl Schema {
    /// A fresh schema name (created by the server on open), or `None` after printing why.
    pub fn create(test: &str) -> Option<Schema> {
        let url = url();
        if let Err(why) = psql(&url, "select 1") {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{test}: PostgreSQL at {url} (and psql) is required in CI: {why}");
            }
            println!("SKIPPED: {test}: no PostgreSQL at {url} reachable with psql ({why})");
            return None;
        }
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("syfault_{}_{n}", std::process::id());
        Some(Schema { name, url })
    }

    /// The server's environment for PostgreSQL storage in this schema at `url`.
    pub fn env_for(&self, url: &str) -> Vec<(&'static str, String)> {
        vec![
            ("SWITCHYARD__STORAGE__TYPE", "postgres".into()),
            ("SWITCHYARD__STORAGE__URL", url.to_string()),
            ("SWITCHYARD__STORAGE__SCHEMA", self.name.clone()),
        ]
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = psql(
            &self.url,
            &format!("drop schema if exists {} cascade", self.name),
        );
    }
}

fn psql(url: &str, sql: &str) -> Result<(), String> {
    let out = Command::new("psql")
        .arg(url)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("psql: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}
