//! `backup`: writes an export of the whole storage to `<data_dir>/backups/<targetDirectory>/`
//! and keeps the newest `retentionCount` files of that prefix.
//!
//! Spec and parameter (the parameter's fields win): `{type: backup, prefix, targetDirectory
//! (relative, inside the backups folder), retentionCount (default 10), storageExportType json|yaml}`.
//! The file is `<prefix>_switchyard_backup_<json|yaml>_<YYYYMMDD_HHMMSS>.<ext>` holding
//! `{createdOn, secrets: {encryption, keyId}, entities: {<kind>: [documents]}}`. Firmware files
//! are not included. The secrets in configs are sealed with the server's `secret.key` as in API
//! backup archives (`switchyard_api::backup::secrets`): the file holds none in clear.

use crate::context::Context;
use crate::error::AutomationError;
use crate::handler::plugin::{get, text};
use crate::handler::{HandlerPlugin, Param};
use async_trait::async_trait;
use serde_json::{Map, Value, json};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use switchyard_api::backup::secrets::{ArchiveKey, ENCRYPTION};
use switchyard_core::storage::Snapshot;

pub struct Backup {
    spec: Map<String, Value>,
    ctx: Arc<Context>,
}

impl Backup {
    pub fn build(spec: &Map<String, Value>, ctx: Arc<Context>) -> Result<Self, AutomationError> {
        Ok(Backup {
            spec: spec.clone(),
            ctx,
        })
    }
}

/// A relative path without `..`: backups stay inside the backups folder.
fn safe_relative(dir: &str) -> Result<PathBuf, AutomationError> {
    let p = Path::new(dir.trim());
    if p.components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        Ok(p.to_path_buf())
    } else {
        Err(AutomationError::config(format!(
            "backup: targetDirectory `{dir}` must be a relative path inside the backups folder"
        )))
    }
}

#[async_trait]
impl HandlerPlugin for Backup {
    fn accepts(&self, kind: &str) -> bool {
        kind == "backup"
    }

    async fn post(
        &mut self,
        param: &Param,
        _vars: &Map<String, Value>,
    ) -> Result<(), AutomationError> {
        let mut m = self.spec.clone();
        m.extend(param.fields.clone());
        let prefix = match text(&m, "prefix") {
            p if p.trim().is_empty() => "switchyard".to_string(),
            p => p.trim().replace(['/', '\\'], "_"),
        };
        let format = match text(&m, "storageExportType").to_ascii_lowercase().as_str() {
            "" | "json" => "json",
            "yaml" => "yaml",
            other => {
                return Err(AutomationError::config(format!(
                    "backup: storageExportType `{other}`: json or yaml"
                )));
            }
        };
        let keep = get(&m, "retentionCount")
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(10)
            .max(1) as usize;
        let dir = self
            .ctx
            .data_dir
            .join("backups")
            .join(safe_relative(&text(&m, "targetDirectory"))?);
        let now = self.ctx.clock.now().with_timezone(&self.ctx.tz);
        let snapshot = self.ctx.store.backend().export().await?;
        let data_dir = self.ctx.data_dir.clone();
        let doc = tokio::task::spawn_blocking(move || sealed_export(&data_dir, snapshot))
            .await
            .map_err(|e| AutomationError::Handler(format!("backup: {e}")))??;
        let doc = json!({"createdOn": now.to_rfc3339(), "secrets": doc.0, "entities": doc.1});
        let bytes = match format {
            "yaml" => serde_norway::to_string(&doc)
                .map_err(|e| AutomationError::Handler(format!("backup: {e}")))?
                .into_bytes(),
            _ => serde_json::to_vec_pretty(&doc)
                .map_err(|e| AutomationError::Handler(format!("backup: {e}")))?,
        };
        let name = format!(
            "{prefix}_switchyard_backup_{format}_{}.{format}",
            now.format("%Y%m%d_%H%M%S")
        );
        let start = format!("{prefix}_switchyard_backup_");
        tokio::task::spawn_blocking(move || write_and_prune(&dir, &name, &bytes, &start, keep))
            .await
            .map_err(|e| AutomationError::Handler(format!("backup: {e}")))?
    }
}

/// The export with its secrets sealed, and what says how.
fn sealed_export(
    data_dir: &Path,
    mut snapshot: Snapshot,
) -> Result<(Value, Snapshot), AutomationError> {
    let key = ArchiveKey::load_or_create(data_dir)
        .map_err(|e| AutomationError::Handler(format!("backup: {e}")))?;
    key.seal(&mut snapshot)
        .map_err(|e| AutomationError::Handler(format!("backup: {e}")))?;
    Ok((
        json!({"encryption": ENCRYPTION, "keyId": key.id()}),
        snapshot,
    ))
}

fn write_and_prune(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    start: &str,
    keep: usize,
) -> Result<(), AutomationError> {
    let io =
        |what: &str, e: std::io::Error| AutomationError::Handler(format!("backup: {what}: {e}"));
    std::fs::create_dir_all(dir).map_err(|e| io(&dir.display().to_string(), e))?;
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).map_err(|e| io("writing", e))?;
    std::fs::rename(&tmp, dir.join(name)).map_err(|e| io("renaming", e))?;
    let mut ours: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| io("listing", e))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with(start))
        .collect();
    // Names end in a sortable timestamp, so name order is age order.
    ours.sort();
    let excess = ours.len().saturating_sub(keep);
    for old in &ours[..excess] {
        std::fs::remove_file(dir.join(old)).map_err(|e| io("pruning", e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::EntityKind;

    #[test]
    fn the_export_holds_no_secret_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let mut snapshot = Snapshot::new();
        snapshot.insert(
            EntityKind::Handler,
            vec![json!({"id": "mail", "spec": {"host": "h", "password": "s3cret-handler"}})],
        );
        let (info, sealed) = sealed_export(dir.path(), snapshot.clone()).unwrap();
        let text = serde_json::to_string(&sealed).unwrap();
        assert!(
            !text.contains("s3cret-handler") && text.contains("sy-enc:v1:"),
            "{text}"
        );
        let key = ArchiveKey::load_or_create(dir.path()).unwrap();
        assert_eq!(info["keyId"], key.id());
        let mut opened = sealed;
        assert_eq!(key.open(&mut opened), Ok(1));
        assert_eq!(opened, snapshot);
    }
}
