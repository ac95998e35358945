//! Secrets in backup archives. The storage wrapper of the server decrypts secrets when the
//! backup exports the storage; before they go into an archive they are sealed again with the
//! server's own key, `<data_dir>/secret.key`, in the form the server keeps them at rest
//! (`sy-enc:v1:<hex nonce+ciphertext+tag>`, AES-256-GCM, a random nonce per value). The archive
//! thus holds nothing in clear, and its manifest names the key by [`ArchiveKey::id`] (a hash, not
//! the key).
//!
//! A restore opens them with the same key before anything is replaced: on a server with another
//! `secret.key` the restore is refused (the data untouched) with an error that says to put the
//! old server's `secret.key` in the data directory. Keep `secret.key` with your backups.

use serde_json::Value;
use std::path::Path;
use switchyard_core::secret_key::SecretKey;
use switchyard_core::storage::Snapshot;

use crate::secrets::{is_secret_key, provider_secret_keys, secret_roots};

pub use switchyard_core::secret_key::{KEY_FILE, PREFIX};
/// What the manifest says about how secrets are carried.
pub const ENCRYPTION: &str = "sy-enc:v1";

/// The server's key ([`SecretKey`]) applied to the secrets of a whole snapshot.
pub struct ArchiveKey {
    key: SecretKey,
}

impl ArchiveKey {
    pub fn new(bytes: &[u8; 32]) -> ArchiveKey {
        ArchiveKey {
            key: SecretKey::from_bytes(bytes),
        }
    }

    /// The server's key from `<data_dir>/secret.key`; made (as the server does at its first
    /// start) when there is none yet.
    pub fn load_or_create(data_dir: &Path) -> Result<ArchiveKey, String> {
        SecretKey::load_or_create(data_dir)
            .map(|key| ArchiveKey { key })
            .map_err(|e| e.to_string())
    }

    /// Names the key without revealing it.
    pub fn id(&self) -> &str {
        self.key.id()
    }

    fn seal_text(&self, plain: &str) -> Result<String, String> {
        self.key.seal_text(plain).map_err(|e| e.to_string())
    }

    fn open_text(&self, stored: &str) -> Option<String> {
        self.key.open_text(stored)
    }

    /// Encrypts every secret of `snapshot` (values already in `sy-enc:v1:` form — ones the
    /// storage could not decrypt — stay as they are). Returns how many it encrypted.
    pub fn seal(&self, snapshot: &mut Snapshot) -> Result<usize, String> {
        let mut n = 0;
        for (kind, docs) in snapshot.iter_mut() {
            for doc in docs.iter_mut() {
                each_secret(*kind, doc, &mut |s| {
                    if !s.starts_with(PREFIX) {
                        *s = self.seal_text(s)?;
                        n += 1;
                    }
                    Ok(())
                })?;
            }
        }
        Ok(n)
    }

    /// Decrypts every secret of `snapshot`. Returns how many it decrypted, or the number of
    /// values that do not decrypt with this key (nothing is changed then).
    pub fn open(&self, snapshot: &mut Snapshot) -> Result<usize, usize> {
        let mut opened = snapshot.clone();
        let (mut n, mut bad) = (0, 0);
        for (kind, docs) in opened.iter_mut() {
            for doc in docs.iter_mut() {
                let _ = each_secret(*kind, doc, &mut |s| {
                    if s.starts_with(PREFIX) {
                        match self.open_text(s) {
                            Some(plain) => {
                                *s = plain;
                                n += 1;
                            }
                            None => bad += 1,
                        }
                    }
                    Ok(())
                });
            }
        }
        if bad > 0 {
            return Err(bad);
        }
        *snapshot = opened;
        Ok(n)
    }
}

/// Calls `f` on every non-empty secret string of `doc`: what the API masks and the server
/// seals at rest (secret key names below the secret roots, and keys secret only in one
/// provider's config).
fn each_secret(
    kind: switchyard_core::EntityKind,
    doc: &mut Value,
    f: &mut dyn FnMut(&mut String) -> Result<(), String>,
) -> Result<(), String> {
    let Some(obj) = doc.as_object_mut() else {
        return Ok(());
    };
    for root in secret_roots(kind) {
        if let Some(v) = obj.get_mut(*root) {
            walk(v, f)?;
        }
    }
    if let Some(Value::Object(p)) = obj.get_mut("provider") {
        let keys = provider_secret_keys(kind, p);
        for key in keys {
            if let Some(Value::String(s)) = p.get_mut(*key)
                && !s.is_empty()
            {
                f(s)?;
            }
        }
    }
    Ok(())
}

/// Calls `f` on every non-empty secret string below `v`.
fn walk(v: &mut Value, f: &mut dyn FnMut(&mut String) -> Result<(), String>) -> Result<(), String> {
    match v {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                match v {
                    Value::String(s) if is_secret_key(k) && !s.is_empty() => f(s)?,
                    _ => walk(v, f)?,
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, f)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchyard_core::EntityKind;

    fn snapshot() -> Snapshot {
        let mut s = Snapshot::new();
        s.insert(
            EntityKind::Gateway,
            vec![
                json!({"id": "g", "provider": {"type": "mysensors", "protocol": {
                "broker": "tcp://b:1883", "password": "hunter2"}, "list": [{"apiKey": "k-123"}]}}),
            ],
        );
        s.insert(
            EntityKind::Schedule,
            vec![json!({"id": "s", "customVariableConfig": {"token": "t-9"}})],
        );
        s.get_mut(&EntityKind::Gateway)
            .unwrap()
            .push(json!({"id": "hue",
            "provider": {"type": "philips_hue", "username": "hue-app-key", "host": "10.0.0.2"}}));
        s.insert(
            EntityKind::Node,
            vec![json!({"id": "n", "password": "not-a-config-secret"})],
        );
        s
    }

    #[test]
    fn seals_every_secret_and_opens_them_with_the_same_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let key = ArchiveKey::load_or_create(dir.path()).unwrap();
        let again = ArchiveKey::load_or_create(dir.path()).unwrap();
        assert_eq!(key.id(), again.id(), "the key file is kept");
        let mut s = snapshot();
        assert_eq!(key.seal(&mut s).unwrap(), 4);
        let text = serde_json::to_string(&s).unwrap();
        for secret in ["hunter2", "k-123", "t-9", "hue-app-key"] {
            assert!(!text.contains(secret), "{secret}: {text}");
        }
        assert!(text.contains("tcp://b:1883") && text.contains("not-a-config-secret"));
        // Sealing twice does not seal twice.
        let mut twice = s.clone();
        assert_eq!(key.seal(&mut twice).unwrap(), 0);
        assert_eq!(twice, s);

        let other = ArchiveKey::new(&[7u8; 32]);
        assert_ne!(other.id(), key.id());
        let mut refused = s.clone();
        assert_eq!(other.open(&mut refused), Err(4));
        assert_eq!(refused, s, "untouched when it does not open");

        assert_eq!(again.open(&mut s), Ok(4));
        assert_eq!(s, snapshot());
    }

    #[test]
    fn a_malformed_key_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(KEY_FILE), "nothex").unwrap();
        let err = ArchiveKey::load_or_create(dir.path()).err().unwrap();
        assert!(err.contains("64 hex digits"), "{err}");
    }
}
