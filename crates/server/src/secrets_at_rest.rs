//! Secrets in provider, handler, task and schedule configs (the keys the API masks: passwords,
//! tokens, keys) are encrypted before they reach the storage backend, so the database file,
//! PostgreSQL rows and memory dumps never hold them in clear, sealed with the server's
//! `<data_dir>/secret.key` ([`switchyard_core::secret_key`]: AES-256-GCM, a random nonce per
//! value, made on first start). A stored value reads `sy-enc:v1:<hex nonce+ciphertext+tag>`.
//!
//! Reads decrypt, so the services and the API (which masks them again) see what was written.
//! Values stored in clear (before this existed, or by an older `storage` tool) are read as they
//! are, and [`Sealed::seal_clear_in_place`] encrypts them at every server start (one pass, logged
//! with a count; a store already sealed is left as it is). `storage migrate` and
//! `storage import-mycontroller` write through [`Sealed`] with the target data directory's key.
//! A value that does not decrypt (another data directory's key) is returned unchanged and
//! logged. Filters on a secret's value cannot match.

use anyhow::Context;
use async_trait::async_trait;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use switchyard_api::secrets::{is_secret_key, provider_secret_keys, secret_roots};
use switchyard_core::EntityKind;
use switchyard_core::filter::{Filter, Page, Query};
use switchyard_core::secret_key::SecretKey;
use switchyard_core::storage::{Snapshot, Storage, StorageError, WriteOp};

pub use switchyard_core::secret_key::KEY_FILE;
use switchyard_core::secret_key::PREFIX;

pub struct Sealed {
    inner: Arc<dyn Storage>,
    key: SecretKey,
}

/// Reads `<data_dir>/secret.key`, or makes one.
pub fn load_or_create_key(data_dir: &Path) -> anyhow::Result<[u8; 32]> {
    Ok(switchyard_core::secret_key::load_or_create_bytes(data_dir)?)
}

/// Reads `<data_dir>/secret.key` if it is there: a source store without one holds no sealed
/// secrets, and reading it must not leave a key behind.
pub fn load_key(data_dir: &Path) -> anyhow::Result<Option<[u8; 32]>> {
    Ok(switchyard_core::secret_key::load_bytes(data_dir)?)
}

/// `storage` opened with the key of `data_dir` (made there if missing; the directory too).
pub fn seal(storage: Arc<dyn Storage>, data_dir: &Path) -> anyhow::Result<Arc<Sealed>> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let key = load_or_create_key(data_dir)?;
    Ok(Sealed::new(storage, &key))
}

impl Sealed {
    pub fn new(inner: Arc<dyn Storage>, key: &[u8; 32]) -> Arc<Self> {
        Arc::new(Sealed {
            inner,
            key: SecretKey::from_bytes(key),
        })
    }

    fn seal_text(&self, plain: &str) -> Result<String, StorageError> {
        self.key
            .seal_text(plain)
            .map_err(|e| StorageError::Backend(format!("encrypting a secret: {e}")))
    }

    fn open_text(&self, stored: &str) -> Option<String> {
        self.key.open_text(stored)
    }

    /// Walks the secret parts of `doc`, encrypting (`seal`) or decrypting each secret string;
    /// answers how many values it encrypted.
    fn walk(&self, kind: EntityKind, doc: &mut Value, seal: bool) -> Result<u64, StorageError> {
        let Some(obj) = doc.as_object_mut() else {
            return Ok(0);
        };
        let mut sealed = 0;
        for root in secret_roots(kind) {
            if let Some(v) = obj.get_mut(*root) {
                sealed += self.walk_value(v, seal)?;
            }
        }
        // Keys secret only in one provider's config (a Hue bridge's `username`), walked as if
        // they had a secret's name.
        if let Some(Value::Object(p)) = obj.get_mut("provider") {
            for key in provider_secret_keys(kind, p) {
                if let Some(v) = p.get_mut(*key) {
                    let mut one = serde_json::json!({ "secret": v.take() });
                    let n = self.walk_value(&mut one, seal);
                    *v = one["secret"].take();
                    sealed += n?;
                }
            }
        }
        Ok(sealed)
    }

    fn walk_value(&self, v: &mut Value, seal: bool) -> Result<u64, StorageError> {
        let mut sealed = 0;
        match v {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    match v {
                        Value::String(s) if is_secret_key(k) && !s.is_empty() => {
                            if seal && !s.starts_with(PREFIX) {
                                *s = self.seal_text(s)?;
                                sealed += 1;
                            } else if !seal && s.starts_with(PREFIX) {
                                match self.open_text(s) {
                                    Some(plain) => *s = plain,
                                    None => tracing::warn!(
                                        key = %k,
                                        "a stored secret does not decrypt with {KEY_FILE}; left as stored"
                                    ),
                                }
                            }
                        }
                        _ => sealed += self.walk_value(v, seal)?,
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    sealed += self.walk_value(item, seal)?;
                }
            }
            _ => {}
        }
        Ok(sealed)
    }

    /// Encrypts, in the backend, every secret value still stored in clear (written before
    /// sealing existed, or by a tool that bypassed it); answers how many values it sealed. Run
    /// once at start, before any service writes: each document is replaced as read, one batch
    /// per kind (atomic where the backend is). Sealed values are skipped, so a second pass
    /// seals nothing.
    pub async fn seal_clear_in_place(&self) -> Result<u64, StorageError> {
        let mut total = 0;
        for kind in EntityKind::ALL {
            if secret_roots(kind).is_empty() {
                continue;
            }
            let mut ops = Vec::new();
            for mut doc in self.inner.find(kind, &Query::all()).await?.data {
                let n = self.walk(kind, &mut doc, true)?;
                if n > 0 {
                    total += n;
                    ops.push(WriteOp::Update(kind, doc));
                }
            }
            if !ops.is_empty() {
                self.inner.apply(ops).await?;
            }
        }
        Ok(total)
    }

    fn opened(&self, kind: EntityKind, mut doc: Value) -> Value {
        // Decrypting never fails the read (see the module docs).
        let _ = self.walk(kind, &mut doc, false);
        doc
    }
}

#[async_trait]
impl Storage for Sealed {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn apply(&self, ops: Vec<WriteOp>) -> Result<(), StorageError> {
        let mut sealed = Vec::with_capacity(ops.len());
        for op in ops {
            sealed.push(match op {
                WriteOp::Insert(k, mut d) => {
                    self.walk(k, &mut d, true)?;
                    WriteOp::Insert(k, d)
                }
                WriteOp::Upsert(k, mut d) => {
                    self.walk(k, &mut d, true)?;
                    WriteOp::Upsert(k, d)
                }
                WriteOp::Update(k, mut d) => {
                    self.walk(k, &mut d, true)?;
                    WriteOp::Update(k, d)
                }
                delete @ WriteOp::Delete(..) => delete,
            });
        }
        self.inner.apply(sealed).await
    }

    async fn get(&self, kind: EntityKind, id: &str) -> Result<Option<Value>, StorageError> {
        Ok(self
            .inner
            .get(kind, id)
            .await?
            .map(|d| self.opened(kind, d)))
    }

    async fn find(&self, kind: EntityKind, query: &Query) -> Result<Page<Value>, StorageError> {
        let mut page = self.inner.find(kind, query).await?;
        page.data = std::mem::take(&mut page.data)
            .into_iter()
            .map(|d| self.opened(kind, d))
            .collect();
        Ok(page)
    }

    async fn delete(&self, kind: EntityKind, filters: &[Filter]) -> Result<u64, StorageError> {
        self.inner.delete(kind, filters).await
    }

    async fn clear(&self) -> Result<(), StorageError> {
        self.inner.clear().await
    }

    async fn export(&self) -> Result<Snapshot, StorageError> {
        let mut snapshot = self.inner.export().await?;
        for (kind, docs) in snapshot.iter_mut() {
            for d in docs.iter_mut() {
                let _ = self.walk(*kind, d, false);
            }
        }
        Ok(snapshot)
    }

    async fn import(&self, mut snapshot: Snapshot) -> Result<(), StorageError> {
        for (kind, docs) in snapshot.iter_mut() {
            for d in docs.iter_mut() {
                self.walk(*kind, d, true)?;
            }
        }
        self.inner.import(snapshot).await
    }

    async fn flush(&self) -> Result<(), StorageError> {
        self.inner.flush().await
    }

    async fn close(&self) -> Result<(), StorageError> {
        self.inner.close().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchyard_storage::MemoryStorage;

    #[tokio::test]
    async fn secrets_are_encrypted_below_and_clear_above() {
        let dir = tempfile::tempdir().unwrap();
        let backend: Arc<dyn Storage> = Arc::new(
            MemoryStorage::open(dir.path(), &Default::default())
                .await
                .unwrap(),
        );
        let key = load_or_create_key(dir.path()).unwrap();
        assert_eq!(load_or_create_key(dir.path()).unwrap(), key, "kept");
        let sealed = Sealed::new(backend.clone(), &key);
        let gw = json!({"id": "g", "provider": {"type": "mysensors", "protocol": {
            "type": "mqtt", "broker": "tcp://b:1883", "password": "hunter2"},
            "list": [{"apiKey": "k-123"}]}});
        sealed
            .upsert(EntityKind::Gateway, gw.clone())
            .await
            .unwrap();
        let below = backend
            .get(EntityKind::Gateway, "g")
            .await
            .unwrap()
            .unwrap();
        let stored = below["provider"]["protocol"]["password"].as_str().unwrap();
        assert!(stored.starts_with(PREFIX), "{below}");
        assert!(!below.to_string().contains("hunter2") && !below.to_string().contains("k-123"));
        assert_eq!(below["provider"]["protocol"]["broker"], "tcp://b:1883");
        assert_eq!(
            sealed.get(EntityKind::Gateway, "g").await.unwrap().unwrap(),
            gw
        );
        let page = sealed
            .find(EntityKind::Gateway, &Query::default())
            .await
            .unwrap();
        assert_eq!(page.data, vec![gw.clone()]);
        assert_eq!(
            sealed.export().await.unwrap()[&EntityKind::Gateway],
            vec![gw.clone()]
        );
        // Two writes of one secret differ (random nonce); saving again does not double-seal.
        sealed
            .upsert(EntityKind::Gateway, gw.clone())
            .await
            .unwrap();
        let again = backend
            .get(EntityKind::Gateway, "g")
            .await
            .unwrap()
            .unwrap();
        assert_ne!(
            again["provider"]["protocol"]["password"],
            below["provider"]["protocol"]["password"]
        );
        // Plain values from before are read as they are; another key's are left as stored.
        backend
            .upsert(
                EntityKind::Handler,
                json!({"id": "h", "spec": {"password": "old"}}),
            )
            .await
            .unwrap();
        assert_eq!(
            sealed.get(EntityKind::Handler, "h").await.unwrap().unwrap()["spec"]["password"],
            "old"
        );
        let other = Sealed::new(backend.clone(), &[7u8; 32]);
        let seen = other.get(EntityKind::Gateway, "g").await.unwrap().unwrap();
        assert!(
            seen["provider"]["protocol"]["password"]
                .as_str()
                .unwrap()
                .starts_with(PREFIX)
        );
        // Other kinds are not touched.
        sealed
            .upsert(EntityKind::Node, json!({"id": "n", "password": "visible"}))
            .await
            .unwrap();
        assert_eq!(
            backend.get(EntityKind::Node, "n").await.unwrap().unwrap()["password"],
            "visible"
        );
    }

    /// What a store written before sealing existed holds: clear secrets in every kind that has
    /// them, beside sealed ones. One pass seals exactly the clear ones, reads give them back,
    /// and a second pass finds nothing to do.
    #[tokio::test]
    async fn clear_secrets_are_sealed_in_place_once() {
        let dir = tempfile::tempdir().unwrap();
        let backend: Arc<dyn Storage> = Arc::new(
            MemoryStorage::open(dir.path(), &Default::default())
                .await
                .unwrap(),
        );
        let sealed = Sealed::new(backend.clone(), &load_or_create_key(dir.path()).unwrap());
        let docs = [
            (
                EntityKind::Gateway,
                json!({"id": "g", "provider": {"protocol": {"password": "clear-gw"}},
                       "messageLogger": {"token": "clear-log"}}),
            ),
            (
                EntityKind::Handler,
                json!({"id": "h", "spec": {"password": "clear-h", "host": "smtp"}}),
            ),
            (
                EntityKind::Task,
                json!({"id": "t", "evaluationConfig": {"apiKey": "clear-t"}}),
            ),
            (
                EntityKind::Schedule,
                json!({"id": "s", "customVariableConfig": {"secret": "clear-s"}}),
            ),
        ];
        for (kind, doc) in &docs {
            backend.upsert(*kind, doc.clone()).await.unwrap();
        }
        // One already sealed, and one kind without secrets: neither is rewritten.
        sealed
            .upsert(
                EntityKind::Handler,
                json!({"id": "h2", "spec": {"password": "was-sealed"}}),
            )
            .await
            .unwrap();
        let h2 = backend
            .get(EntityKind::Handler, "h2")
            .await
            .unwrap()
            .unwrap();
        backend
            .upsert(EntityKind::Node, json!({"id": "n", "password": "node"}))
            .await
            .unwrap();

        assert_eq!(sealed.seal_clear_in_place().await.unwrap(), 5);
        let raw = serde_json::to_string(&backend.export().await.unwrap()).unwrap();
        for clear in [
            "clear-gw",
            "clear-log",
            "clear-h",
            "clear-t",
            "clear-s",
            "was-sealed",
        ] {
            assert!(!raw.contains(clear), "{clear} still in clear: {raw}");
        }
        assert!(
            raw.contains("\"host\":\"smtp\""),
            "other values kept: {raw}"
        );
        assert_eq!(
            backend.get(EntityKind::Handler, "h2").await.unwrap(),
            Some(h2),
            "a sealed value is not sealed again"
        );
        assert_eq!(
            backend.get(EntityKind::Node, "n").await.unwrap().unwrap()["password"],
            "node"
        );
        for (kind, doc) in &docs {
            let id = doc["id"].as_str().unwrap();
            assert_eq!(sealed.get(*kind, id).await.unwrap().as_ref(), Some(doc));
        }
        assert_eq!(sealed.seal_clear_in_place().await.unwrap(), 0, "idempotent");
        assert_eq!(
            serde_json::to_string(&backend.export().await.unwrap()).unwrap(),
            raw
        );
    }
}
