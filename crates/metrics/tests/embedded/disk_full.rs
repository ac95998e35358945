//! The data directory's disk fills up: flushes fail with a clear error and the points are
//! counted as dropped, queries keep answering what was committed, and once space returns the
//! store writes again without being reopened by its owner. The directory is a small tmpfs of the
//! test's own (mounting needs root: without it the test prints `SKIPPED`, and fails under
//! `CI=true`, which runs as root).

use crate::support::{manual_flush_config, number, open, raw_query, rows};
use chrono::{TimeDelta, Utc};
use std::io::Write;
use std::path::Path;
use std::process::Command;
use switchyard_core::metrics::MetricStore;

struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs(dir)),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
                    Err(e) => e.to_string(),
                };
                let why = format!("cannot mount a small tmpfs (needs root): {why}");
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("{why} (CI=true runs as root, so this must work)");
                }
                println!("SKIPPED: {why}");
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

/// Fills the file system of `path` with one file; returns its size.
fn fill(path: &Path) -> u64 {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    let mut n = 0u64;
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(k) => n += k as u64,
            Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
    let _ = f.sync_all();
    n
}

#[tokio::test]
async fn a_full_disk_fails_flushes_clearly_and_the_store_recovers_when_space_returns() {
    let Some(fs) = Tmpfs::mount("8m") else { return };
    let store = open(fs.0.path(), &manual_flush_config()).await;
    let t0 = Utc::now() - TimeDelta::hours(1);
    let at = |i: i64| t0 + TimeDelta::milliseconds(i * 10);
    store.write(vec![number("kept", at(0), 1.0)]).await.unwrap();
    store.flush().await.unwrap();

    let filler = fs.0.path().join("filler");
    fill(&filler);
    // Enough points that their pages cannot fit in what is left.
    let mut failed = None;
    for round in 0..50 {
        let batch = (0..2000)
            .map(|i| number("lost", at(round * 2000 + i), i as f64))
            .collect();
        store.write(batch).await.unwrap();
        if let Err(e) = store.flush().await {
            failed = Some(e.to_string());
            break;
        }
    }
    let message = failed.expect("a flush fails on a full disk");
    assert!(
        message.to_lowercase().contains("space") || message.contains("os error 28"),
        "the error names the cause: {message}"
    );
    assert!(store.stats().dropped > 0, "the lost batch is counted");
    // What was committed before stays readable.
    let q = raw_query("kept", at(0), at(1));
    assert_eq!(rows(&store, &q).await.len(), 1);
    // Still full: the next flushes fail too (reopening the file may fail as well), and keep
    // trying rather than giving up on the store.
    for i in 0..2 {
        store
            .write(vec![number("still-full", at(i), 1.0)])
            .await
            .unwrap();
        let _ = store.flush().await;
    }

    // Space returns: the next flush reopens the file and writes.
    std::fs::remove_file(&filler).unwrap();
    let t1 = Utc::now() - TimeDelta::minutes(1);
    store.write(vec![number("after", t1, 7.0)]).await.unwrap();
    store.flush().await.unwrap();
    let q = raw_query("after", t1, t1 + TimeDelta::seconds(1));
    assert_eq!(
        rows(&store, &q).await.len(),
        1,
        "written after the disk had room"
    );
    let q = raw_query("kept", at(0), at(1));
    assert_eq!(
        rows(&store, &q).await.len(),
        1,
        "the earlier point survived"
    );
    store.close().await.unwrap();

    // And the file opens cleanly afterwards with both points.
    let store = open(fs.0.path(), &manual_flush_config()).await;
    let q = raw_query("after", t1, t1 + TimeDelta::seconds(1));
    assert_eq!(rows(&store, &q).await.len(), 1);
    store.close().await.unwrap();
}
