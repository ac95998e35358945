//! Making a backup archive: the storage export (read off the runtime's workers), the firmware
//! files, optionally the metric history, the secrets sealed with the server's `secret.key`;
//! written to a temporary name, synced, then renamed into place. The API's `POST /api/backup`
//! and the scheduled `backup` handler both make their archives here, so both can be restored.

use super::archive::{self, ArchiveError, Manifest, SecretsInfo};
use super::metrics as backup_metrics;
use super::secrets::{ArchiveKey, ENCRYPTION};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use switchyard_core::metrics::MetricStore;
use switchyard_core::storage::{Snapshot, Storage, StorageError};

/// Where an archive's parts come from.
pub struct Sources<'a> {
    pub storage: Arc<dyn Storage>,
    /// Needed only when metrics are included.
    pub metrics: Option<&'a dyn MetricStore>,
    /// Holds `secret.key`.
    pub data_dir: &'a Path,
    pub firmware_dir: &'a Path,
}

/// An archive made.
#[derive(Debug)]
pub struct Made {
    pub id: String,
    pub path: PathBuf,
    pub size: u64,
    pub manifest: Manifest,
}

#[derive(Debug, thiserror::Error)]
pub enum MakeError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// The metric history could not be read (or is past its bound).
    #[error("metric history: {0}")]
    Metrics(String),
    #[error("{0}")]
    Io(String),
}

fn io(what: &str, e: impl std::fmt::Display) -> MakeError {
    MakeError::Io(format!("{what}: {e}"))
}

/// The archive name for `prefix`: `<prefix>_<YYYYMMDD_HHMMSS>_<6 hex>.zip`, so names sort by age.
pub fn new_id(prefix: &str) -> String {
    let now = chrono::Utc::now();
    format!(
        "{prefix}_{}_{}{}",
        now.format("%Y%m%d_%H%M%S"),
        &uuid::Uuid::new_v4().simple().to_string()[..6],
        archive::SUFFIX
    )
}

/// The storage export on a blocking thread: the embedded backend reads its whole snapshot
/// synchronously, which would otherwise hold a runtime worker (and the ingest tasks queued on
/// it) for the export's length. `benches/backup_pause.rs` measures the difference.
async fn export_off_the_workers(storage: Arc<dyn Storage>) -> Result<Snapshot, MakeError> {
    let runtime = tokio::runtime::Handle::current();
    Ok(
        tokio::task::spawn_blocking(move || runtime.block_on(storage.export()))
            .await
            .map_err(|e| io("export", e))??,
    )
}

/// The firmware files worth carrying: plain names, regular files.
async fn firmware_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    if let Ok(mut entries) = tokio::fs::read_dir(dir).await {
        while let Ok(Some(e)) = entries.next_entry().await {
            let name = e.file_name().to_string_lossy().to_string();
            if crate::routes::is_safe_file_name(&name)
                && e.file_type().await.is_ok_and(|t| t.is_file())
            {
                out.push((name, e.path()));
            }
        }
    }
    out.sort();
    out
}

/// Makes an archive named after `prefix` in `dir` (created if missing).
pub async fn make(
    src: Sources<'_>,
    dir: &Path,
    prefix: &str,
    include_metrics: bool,
) -> Result<Made, MakeError> {
    let backend_name = src.storage.name();
    let mut snapshot = export_off_the_workers(src.storage.clone()).await?;
    let series = match (include_metrics, src.metrics) {
        (false, _) => None,
        (true, None) => {
            return Err(MakeError::Metrics(
                "no metric store runs in this process".into(),
            ));
        }
        (true, Some(m)) => Some(
            backup_metrics::collect(m, &snapshot, backup_metrics::MAX_POINTS)
                .await
                .map_err(MakeError::Metrics)?,
        ),
    };
    let metric_backend = src.metrics.map(|m| m.name()).unwrap_or_default();
    let data_dir = src.data_dir.to_path_buf();
    let key = tokio::task::spawn_blocking(move || ArchiveKey::load_or_create(&data_dir))
        .await
        .map_err(|e| io("secret key", e))?
        .map_err(|e| io("secret key", e))?;
    let firmware = firmware_files(src.firmware_dir).await;
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| io("creating the backup directory", e))?;
    let id = new_id(prefix);
    let path = dir.join(&id);
    let tmp = dir.join(format!(".{id}.tmp"));
    let tmp2 = tmp.clone();
    let written = tokio::task::spawn_blocking(move || -> Result<Manifest, MakeError> {
        key.seal(&mut snapshot)
            .map_err(|e| io("sealing secrets", e))?;
        let file = std::fs::File::create(&tmp2).map_err(|e| io("creating the archive", e))?;
        let backup = archive::Backup {
            snapshot: &snapshot,
            firmware: &firmware,
            backend: backend_name,
            secrets: Some(SecretsInfo {
                encryption: ENCRYPTION.into(),
                key_id: key.id().to_string(),
            }),
            metrics: series.as_deref().map(|s| (metric_backend, s)),
        };
        let manifest = archive::write(std::io::BufWriter::new(&file), &backup)?;
        file.sync_all().map_err(|e| io("writing the archive", e))?;
        Ok(manifest)
    })
    .await
    .map_err(|e| io("writing the archive", e))
    .and_then(|r| r);
    let manifest = match written {
        Ok(m) => m,
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e);
        }
    };
    tokio::fs::rename(&tmp, &path)
        .await
        .map_err(|e| io("storing the archive", e))?;
    let size = tokio::fs::metadata(&path)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    tracing::info!(backup = %id, size, dir = %dir.display(), "backup made");
    Ok(Made {
        id,
        path,
        size,
        manifest,
    })
}

/// Removes the oldest archives in `dir` named `<prefix>_<date>…` ([`new_id`]), keeping `keep`
/// (at least one). Names end in a sortable time, so name order is age order. Returns the removed.
pub async fn prune(dir: &Path, prefix: &str, keep: usize) -> Result<Vec<String>, MakeError> {
    let start = format!("{prefix}_");
    let mut ours = Vec::new();
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ours),
        Err(e) => return Err(io("reading the backup directory", e)),
    };
    while let Some(e) = entries
        .next_entry()
        .await
        .map_err(|e| io("reading the backup directory", e))?
    {
        let name = e.file_name().to_string_lossy().to_string();
        // `<prefix>_<date>…`: another prefix that merely starts with this one (`a` and `a_b`)
        // is not ours.
        let ours_by_name = name
            .strip_prefix(&start)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
        if ours_by_name && name.ends_with(archive::SUFFIX) {
            ours.push(name);
        }
    }
    ours.sort();
    let excess = ours.len().saturating_sub(keep.max(1));
    let mut removed = Vec::new();
    for old in ours.drain(..excess) {
        if tokio::fs::remove_file(dir.join(&old)).await.is_ok() {
            removed.push(old);
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn prune_keeps_the_newest_of_its_own_prefix_only() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "a_20260101_000000_aaaaaa.zip",
            "a_20260102_000000_aaaaaa.zip",
            "a_20260103_000000_aaaaaa.zip",
            "a_b_20260101_000000_aaaaaa.zip",
            "a_20260101_000000_aaaaaa.txt",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let removed = prune(dir.path(), "a", 2).await.unwrap();
        assert_eq!(removed, vec!["a_20260101_000000_aaaaaa.zip".to_string()]);
        assert!(dir.path().join("a_b_20260101_000000_aaaaaa.zip").exists());
        assert!(dir.path().join("a_20260101_000000_aaaaaa.txt").exists());
        assert!(new_id("a").starts_with("a_2"));
    }
}
