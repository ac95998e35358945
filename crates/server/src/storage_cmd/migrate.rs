//! `switchyard storage migrate --from a.yaml --to b.yaml`: every entity from one backend into
//! another (which is replaced), then the counts per entity compared.

use crate::backends::open_storage;
use crate::config;
use anyhow::{Context, bail};
use std::collections::BTreeMap;
use std::path::Path;
use switchyard_core::EntityKind;
use switchyard_core::filter::Query;
use switchyard_core::storage::Storage;

/// Entities per kind in the source and the target after the copy.
pub type Counts = BTreeMap<EntityKind, (u64, u64)>;

pub async fn run(from: &Path, to: &Path) -> anyhow::Result<Counts> {
    let from_cfg = config::load(Some(from), std::iter::empty())?;
    let to_cfg = config::load(Some(to), std::iter::empty())?;
    if from_cfg.storage == to_cfg.storage && from_cfg.data_dir == to_cfg.data_dir {
        bail!("--from and --to name the same storage");
    }
    let source = open_storage(&from_cfg.storage, &from_cfg.data_dir)
        .await
        .with_context(|| format!("opening the source storage of {}", from.display()))?;
    let target = open_storage(&to_cfg.storage, &to_cfg.data_dir)
        .await
        .with_context(|| format!("opening the target storage of {}", to.display()))?;
    let result = copy(&*source, &*target).await;
    let closed = (source.close().await, target.close().await);
    let counts = result?;
    closed.0.context("closing the source")?;
    closed.1.context("closing the target")?;
    Ok(counts)
}

/// Export (one consistent snapshot where the backend offers it), import (all or nothing), then
/// count both sides per entity kind.
pub async fn copy(source: &dyn Storage, target: &dyn Storage) -> anyhow::Result<Counts> {
    let snapshot = source.export().await.context("reading the source")?;
    let exported: BTreeMap<EntityKind, u64> = snapshot
        .iter()
        .map(|(kind, docs)| (*kind, docs.len() as u64))
        .collect();
    target
        .import(snapshot)
        .await
        .context("writing the target")?;
    target.flush().await.context("flushing the target")?;
    let mut counts = Counts::new();
    let mut mismatch = Vec::new();
    for kind in EntityKind::ALL {
        let want = exported.get(&kind).copied().unwrap_or(0);
        let got = target.find(kind, &Query::all()).await?.count;
        if want != got {
            mismatch.push(format!("{kind}: {want} exported, {got} in the target"));
        }
        counts.insert(kind, (want, got));
    }
    if !mismatch.is_empty() {
        bail!("counts differ after the copy: {}", mismatch.join("; "));
    }
    Ok(counts)
}
