//! `switchyard storage migrate --from a.yaml --to b.yaml`: every entity from one backend into
//! another (which is replaced), then the counts per entity compared. Secrets are decrypted with
//! the source data directory's key and stored encrypted with the target's (`secret.key`, made
//! there if missing).

use crate::backends::open_storage;
use crate::config;
use crate::secrets_at_rest::{Sealed, load_key, seal};
use anyhow::{Context, bail};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
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
    // Secrets are read with the source's key (if it has one) and written sealed with the
    // target's, so the target holds none in clear and its server can read them.
    let source: Arc<dyn Storage> = match load_key(&from_cfg.data_dir)? {
        Some(key) => Sealed::new(source, &key),
        None => source,
    };
    let target = open_storage(&to_cfg.storage, &to_cfg.data_dir)
        .await
        .with_context(|| format!("opening the target storage of {}", to.display()))?;
    let target: Arc<dyn Storage> = seal(target, &to_cfg.data_dir)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets_at_rest::load_or_create_key;
    use serde_json::json;

    /// The source holds a secret sealed with its own key and one in clear (written before
    /// sealing); the target gets both sealed with its key, and reads them back in clear.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn secrets_are_sealed_with_the_target_key() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let (from, to) = (dir.path().join("from.yaml"), dir.path().join("to.yaml"));
        std::fs::write(&from, format!("data_dir: {}\n", a.display())).unwrap();
        std::fs::write(
            &to,
            format!("data_dir: {}\nstorage:\n  type: memory\n", b.display()),
        )
        .unwrap();
        let cfg = config::load(Some(&from), std::iter::empty()).unwrap();
        std::fs::create_dir_all(&a).unwrap();
        let raw = open_storage(&cfg.storage, &a).await.unwrap();
        let source = Sealed::new(raw.clone(), &load_or_create_key(&a).unwrap());
        let gateway = json!({"id": "g", "provider": {"protocol": {"password": "sealed-in-a"}}});
        let handler = json!({"id": "h", "spec": {"password": "clear-in-a"}});
        source
            .upsert(EntityKind::Gateway, gateway.clone())
            .await
            .unwrap();
        raw.upsert(EntityKind::Handler, handler.clone())
            .await
            .unwrap();
        raw.close().await.unwrap();

        run(&from, &to).await.unwrap();

        let cfg = config::load(Some(&to), std::iter::empty()).unwrap();
        let raw = open_storage(&cfg.storage, &b).await.unwrap();
        let stored = serde_json::to_string(&raw.export().await.unwrap()).unwrap();
        for clear in ["sealed-in-a", "clear-in-a"] {
            assert!(
                !stored.contains(clear),
                "{clear} in clear in the target: {stored}"
            );
        }
        assert_eq!(stored.matches("sy-enc:v1:").count(), 2, "{stored}");
        let key = load_key(&b).unwrap().expect("the target has a key");
        assert_ne!(Some(key), load_key(&a).unwrap());
        let target = Sealed::new(raw.clone(), &key);
        assert_eq!(
            target.get(EntityKind::Gateway, "g").await.unwrap(),
            Some(gateway)
        );
        assert_eq!(
            target.get(EntityKind::Handler, "h").await.unwrap(),
            Some(handler)
        );
        raw.close().await.unwrap();
    }
}

/// Migration with MongoDB on either side, against the server at `MONGODB_URL` (default
/// `mongodb://127.0.0.1:27017`, started by scripts/lib/test-deps.sh). Without one the test prints
/// `SKIPPED: …`, except under `CI=true`, where it fails.
#[cfg(all(test, feature = "storage-mongodb"))]
mod mongodb_tests {
    use super::*;
    use serde_json::json;
    use switchyard_core::storage::WriteOp;

    fn write_config(path: &Path, data_dir: &Path, storage: &str) {
        let text = format!("data_dir: {}\nstorage:\n{storage}", data_dir.display());
        std::fs::write(path, text).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn embedded_to_mongodb_and_back_keeps_every_entity() {
        let dir = tempfile::tempdir().unwrap();
        let url =
            std::env::var("MONGODB_URL").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".into());
        let database = format!("sytest_migrate_{}", std::process::id());
        let (embedded, mongo, back) = (
            dir.path().join("embedded.yaml"),
            dir.path().join("mongodb.yaml"),
            dir.path().join("back.yaml"),
        );
        write_config(&embedded, &dir.path().join("a"), "  type: embedded\n");
        write_config(
            &mongo,
            &dir.path().join("b"),
            &format!(
                "  type: mongodb\n  url: {url}\n  database: {database}\n  connect_timeout: 3s\n"
            ),
        );
        write_config(&back, &dir.path().join("c"), "  type: embedded\n");

        let target_cfg = config::load(Some(&mongo), std::iter::empty()).unwrap();
        let target = match open_storage(&target_cfg.storage, &target_cfg.data_dir).await {
            Ok(t) => t,
            Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("a MongoDB server at {url} is required in CI: {e:#}")
            }
            Err(e) => {
                println!(
                    "SKIPPED: embedded_to_mongodb_and_back_keeps_every_entity: no MongoDB at {url} ({e:#})"
                );
                return;
            }
        };
        // Something stale in the target, which the migration replaces.
        target
            .upsert(EntityKind::Node, json!({"id": "stale"}))
            .await
            .unwrap();
        target.close().await.unwrap();

        let source_cfg = config::load(Some(&embedded), std::iter::empty()).unwrap();
        let source = open_storage(&source_cfg.storage, &source_cfg.data_dir)
            .await
            .unwrap();
        let mut ops = Vec::new();
        for (kind, n) in [
            (EntityKind::Gateway, 2),
            (EntityKind::Node, 30),
            (EntityKind::Field, 250),
            (EntityKind::User, 3),
        ] {
            for i in 0..n {
                ops.push(WriteOp::Insert(
                    kind,
                    json!({"id": format!("{kind}-{i}"), "labels": {"room": "hall"}, "n": i}),
                ));
            }
        }
        source.apply(ops).await.unwrap();
        let before = source.export().await.unwrap();
        source.close().await.unwrap();

        let counts = run(&embedded, &mongo).await.unwrap();
        for (kind, want) in [
            (EntityKind::Gateway, 2),
            (EntityKind::Node, 30),
            (EntityKind::Field, 250),
            (EntityKind::User, 3),
            (EntityKind::Task, 0),
        ] {
            assert_eq!(counts[&kind], (want, want), "{kind}");
        }

        // And back out of MongoDB: the same documents.
        let counts = run(&mongo, &back).await.unwrap();
        assert_eq!(counts[&EntityKind::Field], (250, 250));
        let back_cfg = config::load(Some(&back), std::iter::empty()).unwrap();
        let copy = open_storage(&back_cfg.storage, &back_cfg.data_dir)
            .await
            .unwrap();
        assert_eq!(copy.export().await.unwrap(), before);
        copy.close().await.unwrap();

        let target = open_storage(&target_cfg.storage, &target_cfg.data_dir)
            .await
            .unwrap();
        assert_eq!(target.get(EntityKind::Node, "stale").await.unwrap(), None);
        target.clear().await.unwrap();
        target.close().await.unwrap();
    }
}
