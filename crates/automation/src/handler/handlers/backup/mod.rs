//! `backup`: makes a backup archive — the same as `POST /api/backup` makes: every resource,
//! the firmware files, optionally the metric history, secrets sealed with the server's
//! `secret.key` — in `<data_dir>/backups/<targetDirectory>/`, and keeps the newest
//! `retentionCount` archives of its prefix there.
//!
//! Spec and parameter (the parameter's fields win): `{type: backup, prefix (default
//! `scheduled_backup`), targetDirectory (relative, inside the backups folder; empty: the
//! folder itself, where the console lists and restores archives), retentionCount (default 10),
//! includeMetrics (default false), storageExportType}`. The archive is
//! `<prefix>_<YYYYMMDD_HHMMSS>_<6 hex>.zip` ([`switchyard_api::backup::make`]). Its documents are
//! JSON; `storageExportType` (MyController's json|yaml choice) is accepted for imported
//! handlers, and `yaml` is logged as not applied.

use crate::context::Context;
use crate::error::AutomationError;
use crate::handler::plugin::{get, text};
use crate::handler::{HandlerPlugin, Param};
use async_trait::async_trait;
use serde_json::{Map, Value};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use switchyard_api::backup::make::{self, Sources};

/// The archive names' default start.
const DEFAULT_PREFIX: &str = "scheduled_backup";

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
            p if p.trim().is_empty() => DEFAULT_PREFIX.to_string(),
            p => safe_prefix(p.trim())?,
        };
        match text(&m, "storageExportType").to_ascii_lowercase().as_str() {
            "" | "json" => {}
            "yaml" => tracing::warn!(
                "backup: storageExportType yaml is not applied; archives hold JSON documents"
            ),
            other => {
                return Err(AutomationError::config(format!(
                    "backup: storageExportType `{other}`: json or yaml"
                )));
            }
        }
        let flag = |key: &str| {
            get(&m, key).is_some_and(|v| {
                v.as_bool()
                    .unwrap_or_else(|| v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true")))
            })
        };
        let include_metrics = flag("includeMetrics");
        let keep = get(&m, "retentionCount")
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(10)
            .max(1) as usize;
        let backups = self.ctx.data_dir.join("backups");
        let dir = backups.join(safe_relative(&text(&m, "targetDirectory"))?);
        let sources = Sources {
            storage: self.ctx.store.backend().clone(),
            metrics: self.ctx.metrics.as_deref(),
            data_dir: &self.ctx.data_dir,
            firmware_dir: &self.ctx.data_dir.join("firmware"),
        };
        let fail = |e: make::MakeError| AutomationError::Handler(format!("backup: {e}"));
        make::make(sources, &dir, &prefix, include_metrics)
            .await
            .map_err(fail)?;
        make::prune(&dir, &prefix, keep).await.map_err(fail)?;
        Ok(())
    }
}

/// A prefix that makes a plain file name (what the API accepts as an archive id).
fn safe_prefix(prefix: &str) -> Result<String, AutomationError> {
    let cleaned: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.len() > 64 {
        return Err(AutomationError::config(format!(
            "backup: prefix `{prefix}` is longer than 64 characters"
        )));
    }
    Ok(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_directories_stay_plain_and_inside() {
        assert_eq!(safe_prefix("nightly run/1").unwrap(), "nightly_run_1");
        assert!(safe_prefix(&"x".repeat(65)).is_err());
        assert!(safe_relative("../etc").is_err());
        assert!(safe_relative("/abs").is_err());
        assert_eq!(
            safe_relative("weekly/a").unwrap(),
            PathBuf::from("weekly/a")
        );
    }
}
