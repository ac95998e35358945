//! The data directory's disk fills up under write load. The data directory is a 16 MiB tmpfs
//! of the test's own (mounting needs root; without it the test prints `SKIPPED` — and fails
//! under CI=true, which runs as root). Writes must fail with a clear error (503
//! `storage_unavailable` naming the cause, logged, `/api/status` storage `degraded`), nothing
//! acknowledged may be lost, and once space returns writes work again without a restart, and a
//! restart opens the store with every acknowledged write.

use crate::server::Server;
use crate::support::{Api, lost_writes, status};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A size-limited tmpfs mounted on a temporary directory, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(test: &str, size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs { dir }),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
                    Err(e) => e.to_string(),
                };
                let why = format!("{test}: cannot mount a small tmpfs (needs root): {why}");
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("{why} (CI=true runs as root, so this must work)");
                }
                println!("SKIPPED: {why}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Writes zeros to `path` until the disk is full; returns the bytes written.
fn fill(path: &Path) -> u64 {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
    // The last partial page too.
    while let Ok(n) = f.write(&chunk[..512]) {
        if n == 0 {
            break;
        }
        written += n as u64;
    }
    written
}

async fn post(api: &Api, id: &str) -> (u16, Value) {
    // 2 KiB a document, so the store needs new pages often.
    let body = json!({"id": id, "data": {"filler": "x".repeat(2048)}});
    api.post_status("/api/datarepository", body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_writes_clearly_and_recovers_when_space_returns() {
    let Some(fs) = Tmpfs::mount("a_full_disk_fails_writes_clearly", "16m") else {
        return;
    };
    let data: PathBuf = fs.path().join("data");
    let api = Api::start(&data).await;
    let mut acked = Vec::new();
    for i in 0..50 {
        let id = format!("before-{i}");
        let (code, body) = post(&api, &id).await;
        assert_eq!(code, 200, "{body}");
        acked.push(id);
    }
    assert_eq!(
        status(&api.server).await["services"]["storage"]["health"]["health"],
        "ok"
    );

    let filler = fs.path().join("filler");
    let filled = fill(&filler);
    // Writes go on until the store needs space it cannot get.
    let mut refused = None;
    for i in 0..2000 {
        let id = format!("full-{i}");
        match post(&api, &id).await {
            (200, _) => acked.push(id),
            (code, body) => {
                refused = Some((code, body));
                break;
            }
        }
    }
    let (code, body) = refused.expect("a write failed on the full disk");
    assert_eq!(code, 503, "{body}");
    assert_eq!(body["code"], "storage_unavailable", "{body}");
    let message = body["message"].as_str().unwrap_or_default().to_lowercase();
    assert!(message.contains("no space left"), "names the cause: {body}");
    let st = status(&api.server).await;
    let health = &st["services"]["storage"]["health"];
    assert_eq!(health["health"], "degraded", "{st}");
    assert!(health["errors"].as_u64().unwrap() >= 1, "{st}");
    assert!(
        health["lastError"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("no space left"),
        "{st}"
    );
    assert!(
        api.server
            .log
            .lock()
            .iter()
            .any(|l| l.contains("storage commit failed")),
        "the failure is logged"
    );
    // Reads still work from memory while writes cannot.
    let (code, _) = api.get(&format!("/api/datarepository/{}", acked[0])).await;
    assert_eq!(code, 200);

    // Space returns: the next write works without a restart, and the health with it.
    std::fs::remove_file(&filler).unwrap();
    let (code, body) = post(&api, "after-0").await;
    assert_eq!(code, 200, "write after space returned: {body}");
    acked.push("after-0".into());
    for i in 1..20 {
        let id = format!("after-{i}");
        assert_eq!(post(&api, &id).await.0, 200);
        acked.push(id);
    }
    let st = status(&api.server).await;
    assert_eq!(st["services"]["storage"]["health"]["health"], "ok", "{st}");
    assert!(
        api.server.terminate().await.success(),
        "clean exit after a full disk"
    );

    // A restart opens the store and finds every acknowledged write.
    let s = Server::start(&data, &[], &[]).await;
    let token = s.login().await;
    let lost = lost_writes(&s, &token, &acked).await;
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    println!(
        "filled {filled} bytes; {} writes acknowledged ({} while filling), refused with: {message}",
        acked.len(),
        acked.iter().filter(|i| i.starts_with("full-")).count()
    );
    assert!(s.terminate().await.success());
}
