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

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::Path;
use switchyard_core::storage::Snapshot;

use crate::secrets::{is_secret_key, provider_secret_keys, secret_roots};

pub const PREFIX: &str = "sy-enc:v1:";
/// What the manifest says about how secrets are carried.
pub const ENCRYPTION: &str = "sy-enc:v1";
pub const KEY_FILE: &str = "secret.key";

pub struct ArchiveKey {
    key: LessSafeKey,
    id: String,
    rng: SystemRandom,
}

impl ArchiveKey {
    pub fn new(bytes: &[u8; 32]) -> ArchiveKey {
        let mut h = Sha256::new();
        h.update(b"switchyard secret.key id\0");
        h.update(bytes);
        let id = h.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        // A 32-byte key is what AES-256 takes; `new` cannot fail on it.
        let key = match UnboundKey::new(&AES_256_GCM, bytes) {
            Ok(k) => LessSafeKey::new(k),
            Err(_) => unreachable!("AES-256 takes a 32-byte key"),
        };
        ArchiveKey {
            key,
            id,
            rng: SystemRandom::new(),
        }
    }

    /// The server's key from `<data_dir>/secret.key`; made (as the server does at its first
    /// start) when there is none yet.
    pub fn load_or_create(data_dir: &Path) -> Result<ArchiveKey, String> {
        let path = data_dir.join(KEY_FILE);
        for _ in 0..2 {
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    let bytes = decode_hex(text.trim())
                        .filter(|b| b.len() == 32)
                        .ok_or_else(|| format!("{}: expected 64 hex digits", path.display()))?;
                    let mut key = [0u8; 32];
                    key.copy_from_slice(&bytes);
                    return Ok(ArchiveKey::new(&key));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let mut key = [0u8; 32];
                    SystemRandom::new()
                        .fill(&mut key)
                        .map_err(|_| "no random numbers for the secret key".to_string())?;
                    match write_private(&path, &encode_hex(&key)) {
                        Ok(()) => return Ok(ArchiveKey::new(&key)),
                        // Made by someone else meanwhile: read theirs.
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                        Err(e) => return Err(format!("writing {}: {e}", path.display())),
                    }
                }
                Err(e) => return Err(format!("reading {}: {e}", path.display())),
            }
        }
        Err(format!("{}: could not be read or made", path.display()))
    }

    /// Names the key without revealing it.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn seal_text(&self, plain: &str) -> Result<String, String> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| "no random numbers to encrypt a secret".to_string())?;
        let mut data = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data)
            .map_err(|_| "encrypting a secret failed".to_string())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(format!("{PREFIX}{}", encode_hex(&out)))
    }

    fn open_text(&self, stored: &str) -> Option<String> {
        let bytes = decode_hex(stored.strip_prefix(PREFIX)?)?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut data = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut data)
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
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

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
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
