//! `switchyard storage import-mycontroller <zip>`: a MyController 2.x backup (spec §7) into
//! Switchyard's storage, in one atomic import, secrets encrypted with the data directory's key. The reading and mapping (and its bounds) are in
//! `switchyard_server::mycontroller_backup`.

use anyhow::{Context, bail};
use std::path::Path;
use switchyard_server::mycontroller_backup::{Report, read};

/// Imports `zip` into the storage of `cfg`. With `replace` false, refuses a storage that holds
/// anything; the import itself is atomic (all or nothing).
pub async fn run(cfg: &crate::config::Config, zip: &Path, replace: bool) -> anyhow::Result<Report> {
    let backup = read(zip)?;
    let storage = crate::backends::open_storage(&cfg.storage, &cfg.data_dir).await?;
    // Secrets are stored encrypted with this data directory's key, as the server stores them.
    let storage: std::sync::Arc<dyn switchyard_core::storage::Storage> =
        crate::secrets_at_rest::seal(storage, &cfg.data_dir)?;
    let result = async {
        if !replace && !storage.export().await?.is_empty() {
            bail!("the storage already holds resources; add --replace to replace them all");
        }
        let dir = cfg.data_dir.join("firmware");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for (id, bytes) in &backup.firmware {
            // Firmware ids are written by users: keep the file inside the directory.
            if id.contains(['/', '\\']) || id.starts_with('.') {
                bail!("firmware id `{id}` cannot be a file name");
            }
            std::fs::write(dir.join(id), bytes)
                .with_context(|| format!("writing firmware {id}"))?;
        }
        storage.import(backup.snapshot).await?;
        storage.flush().await?;
        Ok(())
    }
    .await;
    let closed = storage.close().await;
    result?;
    closed?;
    Ok(backup.report)
}
